package syslog

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// text decodes a body (see decode); bytes that decode in no charset
// become U+FFFD and are noted: the raw line keeps them.
func (p *Parser) text(b []byte, m *Message) string {
	s, ok := p.decodeOK(b)
	if !ok {
		m.note(NoteBadBytes)
	}
	return s
}

func (p *Parser) decode(b []byte) string {
	s, _ := p.decodeOK(b)
	return s
}

// decodeOK: UTF-8 as is. Otherwise Japanese devices send Shift_JIS or
// EUC-JP, often both at one site, so both are tried, the configured one
// first: the first that decodes every byte wins, unless it is Shift_JIS
// yielding half-width katakana while EUC-JP decodes too (EUC-JP text is
// nearly always valid Shift_JIS, read as half-width katakana; real text
// rarely uses them). Nothing decodes: invalid bytes become U+FFFD.
func (p *Parser) decodeOK(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), true
	}
	order := [2]encoding.Encoding{japanese.ShiftJIS, japanese.EUCJP}
	if p.charset == EUCJP {
		order[0], order[1] = order[1], order[0]
	}
	var fallback string
	for _, enc := range order {
		s, ok := decodeAll(enc, b)
		switch {
		case !ok:
		case enc == japanese.ShiftJIS && halfwidthKana(s):
			fallback = s
		default:
			return s, true
		}
	}
	if fallback != "" {
		return fallback, true
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), false
}

// decodeAll decodes b, reporting whether every byte was valid.
func decodeAll(enc encoding.Encoding, b []byte) (string, bool) {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	s := string(out)
	return s, !strings.ContainsRune(s, utf8.RuneError)
}

func halfwidthKana(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F })
}
