package syslog

import "bytes"

// parse5424 reads "VERSION SP" (already consumed) TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID STRUCTURED-DATA MSG as rsyslog's pmrfc5424 does:
// fields end at a space; structured data ends at the first "] " (an
// escaped "\]" does not end it) and is kept as sent, malformed or not;
// the MSG is what follows, never lost. A timestamp it cannot read leaves
// the rest of the line as the text.
func (p *Parser) parse5424(b []byte, m *Message) {
	m.Format = RFC5424
	switch {
	case len(b) >= 2 && b[0] == '-' && b[1] == ' ':
		b = b[2:]
	default:
		t, rest, ok := read3339(b, p.loc)
		if !ok {
			m.note(NoteBad5424)
			m.Text = p.text(b, m)
			return
		}
		m.Timestamp, b = t.UTC(), rest
	}
	var f [4][]byte
	for i := range f {
		f[i], b = field5424(b)
	}
	m.Hostname, m.ProcID, m.MsgID = nilValue(f[0]), nilValue(f[2]), nilValue(f[3])
	m.AppName = p.decode(programName([]byte(nilValue(f[1]))))
	sd, b, ok := structuredData(b)
	switch {
	case !ok:
		m.note(NoteNoSD)
	case string(sd) != "-":
		m.StructuredData = p.decode(sd)
		if !p.validSD(sd) {
			m.note(NoteBadSD)
		}
	}
	m.Text = p.text(bytes.TrimPrefix(b, bom), m)
}

var bom = []byte("\xef\xbb\xbf")

// field5424 reads up to a space and eats it.
func field5424(b []byte) ([]byte, []byte) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

func nilValue(b []byte) string {
	if len(b) == 1 && b[0] == '-' {
		return ""
	}
	return string(b)
}

// structuredData reads "-" or "[...]..." up to the first "] " and the
// space after it; ok is false when the field does not start with either
// (the text then starts there).
func structuredData(b []byte) ([]byte, []byte, bool) {
	if len(b) == 0 || b[0] != '[' && b[0] != '-' {
		return nil, b, false
	}
	i := 1
	if b[0] == '[' {
		i = sdEnd(b)
	}
	sd, rest := b[:i], b[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return sd, rest, true
}

// sdEnd is the index after the "]" that ends structured data, as
// rsyslog finds it; at the end of the line a last byte that is not "]"
// is left to the text.
func sdEnd(b []byte) int {
	i := 0
	for {
		switch {
		case len(b)-i < 2:
			if len(b)-i == 1 && b[i] == ']' {
				return i + 1
			}
			return i
		case b[i] == '\\' && b[i+1] == ']':
			i += 2
		case b[i] == ']' && b[i+1] == ' ':
			return i + 1
		default:
			i++
		}
	}
}

// validSD checks structured data against RFC 5424's grammar (go-syslog's).
func (p *Parser) validSD(sd []byte) bool {
	_, err := p.sd.Parse(append([]byte("<0>1 - - - - - "), sd...))
	return err == nil
}
