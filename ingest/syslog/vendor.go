package syslog

import (
	"bytes"
	"time"
)

// Formats of network devices that rsyslog's parser splits badly (both
// listed in DIFFERENCES.md).

// cisco reads what Cisco IOS puts before its timestamp: message
// counters ("123: ", or an empty ": "), an origin host name ("sw01: ")
// and a clock mark ('*' not synchronised, '.' synchronised once), as in
// "<189>123: sw01: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: ...".
// It reports false unless a prefix is followed by a readable timestamp.
func (p *Parser) cisco(b []byte, m *Message, received time.Time) ([]byte, string, bool) {
	rest, host := b, ""
	for range 4 {
		word, r, ok := ciscoWord(rest)
		if !ok {
			break
		}
		if !allDigits(word) {
			if host != "" || !isHostname(word) {
				return b, "", false
			}
			host = string(word)
		}
		rest = r
	}
	if len(rest) > 0 && (rest[0] == '*' || rest[0] == '.') {
		rest = rest[1:]
	}
	if len(rest) == len(b) {
		return b, "", false
	}
	st, after, ok := read3164(rest)
	if !ok {
		return b, "", false
	}
	m.Timestamp = st.time(p.loc, received).UTC()
	return after, host, true
}

// ciscoWord reads "word: " where word is digits, empty, or a host name.
func ciscoWord(b []byte) ([]byte, []byte, bool) {
	i := 0
	for i < len(b) && isHostChar(b[i]) {
		i++
	}
	if i+1 >= len(b) || b[i] != ':' || b[i+1] != ' ' {
		return nil, b, false
	}
	return b[:i], b[i+2:], true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// isHostname: what readHostname would take as a host name.
func isHostname(b []byte) bool {
	if len(b) == 0 || len(b) > maxHostnameLen || !isAlnum(b[len(b)-1]) {
		return false
	}
	for _, c := range b {
		if !isHostChar(c) {
			return false
		}
	}
	return true
}

// fortinet reads FortiGate's header-less key=value lines,
// `date=2026-03-15 time=10:00:00 devname="fw1" ... tz="+0900" ...`:
// the time from date, time and tz, the host from devname; the whole
// line is the text.
func (p *Parser) fortinet(b []byte, m *Message) bool {
	date, rest, ok := kvAt(b, "date=")
	if !ok || len(rest) == 0 {
		return false
	}
	clock, _, ok := kvAt(rest[1:], "time=")
	if !ok {
		return false
	}
	loc := p.loc
	if tz, ok := kvFind(b, "tz"); ok {
		if z, ok := numericZone(tz); ok {
			loc = z
		}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", string(date)+" "+string(clock), loc)
	if err != nil {
		return false
	}
	m.Timestamp = t.UTC()
	if dev, ok := kvFind(b, "devname"); ok && isHostname(dev) {
		m.Hostname = string(dev)
	}
	m.Text = p.text(b, m)
	return true
}

// kvAt reads key=value at the start of b (value unquoted).
func kvAt(b []byte, key string) ([]byte, []byte, bool) {
	if !bytes.HasPrefix(b, []byte(key)) {
		return nil, b, false
	}
	v, rest := kvValue(b[len(key):])
	return v, rest, len(v) > 0
}

// kvFind finds " key=value" in b.
func kvFind(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(" "+key+"="))
	if i < 0 {
		return nil, false
	}
	v, _ := kvValue(b[i+len(key)+2:])
	return v, len(v) > 0
}

// kvValue reads a value: "quoted" or up to a space.
func kvValue(b []byte) ([]byte, []byte) {
	if len(b) > 0 && b[0] == '"' {
		if j := bytes.IndexByte(b[1:], '"'); j >= 0 {
			return b[1 : j+1], b[j+2:]
		}
	}
	j := bytes.IndexByte(b, ' ')
	if j < 0 {
		return b, nil
	}
	return b[:j], b[j:]
}

// numericZone reads "+0900" or "-0530".
func numericZone(b []byte) (*time.Location, bool) {
	if len(b) != 5 || b[0] != '+' && b[0] != '-' || !allDigits(b[1:]) {
		return nil, false
	}
	sec := (int(b[1]-'0')*10+int(b[2]-'0'))*3600 + (int(b[3]-'0')*10+int(b[4]-'0'))*60
	if b[0] == '-' {
		sec = -sec
	}
	return time.FixedZone("", sec), true
}
