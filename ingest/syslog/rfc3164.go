package syslog

import (
	"bytes"
	"time"
)

// parse3164 reads the header as rsyslog's pmrfc3164 does: a timestamp
// if there is one, a host name if the next word is one, a tag up to ':'
// or a space; the rest is the text, without the one space that separates
// it. Where no timestamp is found the rest of the header is still read.
func (p *Parser) parse3164(b []byte, m *Message, received time.Time) {
	if headerless(b) {
		m.note(NoteNoTime)
		m.Text = p.text(dropSpace(b), m)
		return
	}
	if p.fortinet(b, m) {
		return
	}
	b, hostDone := p.header3164(b, m, received)
	if !hostDone {
		b = m.readHostname(b)
	}
	b, sep := p.readTag(b, m)
	if !sep {
		b = dropSpace(b)
	}
	m.Text = p.text(b, m)
}

// headerless: a JSON object or array right after the PRI.
func headerless(b []byte) bool {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i < len(b) && (b[i] == '{' || b[i] == '[')
}

func dropSpace(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}

// header3164 reads the timestamp: RFC 3339 or 3164, also after a space
// (HP ProCurve), also behind Cisco IOS counters. hostDone: the Cisco
// prefix named the host.
func (p *Parser) header3164(b []byte, m *Message, received time.Time) ([]byte, bool) {
	if rest, ok := p.stamp(b, m, received); ok {
		return rest, false
	}
	if len(b) > 1 && b[0] == ' ' {
		if rest, ok := p.stamp(b[1:], m, received); ok {
			return rest, false
		}
	}
	if rest, host, ok := p.cisco(b, m, received); ok {
		m.Hostname = host
		return rest, host != ""
	}
	m.note(NoteNoTime)
	return b, false
}

// stamp reads an RFC 3339 or RFC 3164 timestamp into m.
func (p *Parser) stamp(b []byte, m *Message, received time.Time) ([]byte, bool) {
	if t, rest, ok := read3339(b, p.loc); ok {
		m.Timestamp = t.UTC()
		return rest, true
	}
	if st, rest, ok := read3164(b); ok {
		m.Timestamp = st.time(p.loc, received).UTC()
		return rest, true
	}
	return b, false
}

// readHostname takes the next word as the host name if it is one:
// letters, digits, '.', '_', '-', ending in a letter or digit and
// followed by a space (or, for Snare, a tab), or ending the line.
func (m *Message) readHostname(b []byte) []byte {
	i := 0
	for i < len(b) && i < maxHostnameLen && isHostChar(b[i]) {
		i++
	}
	switch {
	case i == len(b):
		m.Hostname = string(b)
		return nil
	case i > 0 && isAlnum(b[i-1]) && (b[i] == ' ' || b[i] == '\t'):
		m.Hostname = string(b[:i])
		return b[i+1:]
	}
	return b
}

func isHostChar(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '-' }

// readTag reads the tag (up to ':', which it includes, a space, or a
// tab, which ends it like a space) and sets the program name and pid
// from it. A would-be program name with '=' is a key=value body, not a
// tag. sep: the separator after the tag was consumed.
func (p *Parser) readTag(b []byte, m *Message) ([]byte, bool) {
	i := 0
	for i < len(b) && b[i] != ':' && b[i] != ' ' && b[i] != '\t' && i < maxTagLen {
		i++
	}
	tag, rest, sep := b[:i], b[i:], false
	switch {
	case i < len(b) && b[i] == ':':
		tag, rest = b[:i+1], b[i+1:]
	case i < len(b) && b[i] == '\t':
		rest, sep = b[i+1:], true
	}
	prog := programName(tag)
	if bytes.IndexByte(prog, '=') >= 0 {
		return b, true
	}
	m.AppName = p.decode(prog)
	m.ProcID = procID(tag[len(prog):])
	return rest, sep
}

// programName is the tag up to ':', '[', '/' or a control character
// (rsyslog's programname; it also stops at non-ASCII bytes, mamori keeps
// them: DIFFERENCES.md).
func programName(tag []byte) []byte {
	for i, c := range tag {
		if c == ':' || c == '[' || c == '/' || c < 0x20 || c == 0x7f {
			return tag[:i]
		}
	}
	return tag
}

// procID is the pid in "[1234]" after the program name.
func procID(b []byte) string {
	i := bytes.IndexByte(b, '[')
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(b[i:], ']')
	if j <= 1 {
		return ""
	}
	return string(b[i+1 : i+j])
}
