// Package syslog receives and parses syslog: RFC 5424 and RFC 3164 as
// real devices send them, over UDP and TCP with octet-counting or
// non-transparent framing. The parser reads what rsyslog reads (its
// pmrfc5424 and pmrfc3164 parsers are the reference, checked by a
// differential test against Debian's rsyslogd) and a little more, each
// difference listed in DIFFERENCES.md. It keeps every part it could read:
// a line is never stored without facility and severity, and a body is
// never dropped; what it had to assume is listed in Message.Partial.
// go-syslog stays inside this package.
package syslog

import (
	"bytes"
	"errors"
	"slices"
	"time"

	gosyslog "github.com/influxdata/go-syslog/v3"
	"github.com/influxdata/go-syslog/v3/rfc5424"
)

// Format says how a message was understood.
type Format string

// Formats.
const (
	RFC5424 Format = "rfc5424"
	RFC3164 Format = "rfc3164"
	Raw     Format = "raw" // the PRI was not readable: the whole line is the text
)

// ErrUnparsed: the line's PRI was not readable, so the whole line was
// kept as text (with user.notice assumed).
var ErrUnparsed = errors.New("syslog PRI not readable; line kept whole")

// What a parser could not read and what it assumed instead
// (Message.Partial). The raw line is stored beside the message.
const (
	NoteNoPRI    = "no PRI: user.notice (13) assumed"
	NoteBadPRI   = "PRI not readable: user.notice (13) assumed, the whole line kept as text"
	NoteNoTime   = "no timestamp: receive time used"
	NoteBad5424  = "RFC 5424 timestamp not readable: receive time used, the rest kept as text"
	NoteNoSD     = "RFC 5424 structured data missing"
	NoteBadSD    = "RFC 5424 structured data malformed: kept as text"
	NoteBadBytes = "bytes neither UTF-8 nor Shift_JIS nor EUC-JP: replaced by U+FFFD"
)

const (
	defaultPRI     = 13 // RFC 3164 4.3.3: user.notice
	maxPRI         = 191
	maxHostnameLen = 511 // as rsyslog: CONF_HOSTNAME_MAXSIZE - 1
	maxTagLen      = 510 // as rsyslog: CONF_TAG_MAXSIZE - 2
)

// Message is one received syslog message.
type Message struct {
	Format    Format    `json:"format"`
	Facility  int       `json:"facility"` // 0..23, always set (1 when the line had no readable PRI)
	Severity  int       `json:"severity"` // 0..7, always set (5 when the line had no readable PRI)
	Timestamp time.Time `json:"timestamp"`
	Hostname  string    `json:"hostname,omitempty"`
	AppName   string    `json:"app_name,omitempty"` // the program name (rsyslog's programname)
	ProcID    string    `json:"proc_id,omitempty"`
	MsgID     string    `json:"msg_id,omitempty"`
	Text      string    `json:"text"`
	// StructuredData of RFC 5424 messages as sent ("" for "-"), also
	// when malformed (then noted in Partial).
	StructuredData string `json:"structured_data,omitempty"`
	// Partial lists what could not be read and what was assumed (Note…).
	Partial []string `json:"partial,omitempty"`
}

func (m *Message) note(n string) { m.Partial = append(m.Partial, n) }

// notes are the Note… strings in the order of their bits (NoteBits).
var notes = [...]string{NoteNoPRI, NoteBadPRI, NoteNoTime, NoteBad5424, NoteNoSD, NoteBadSD, NoteBadBytes}

// NoteBits encodes Partial as bits, for storage (one bit per Note…).
func NoteBits(partial []string) int64 {
	var bits int64
	for i, n := range notes {
		if slices.Contains(partial, n) {
			bits |= 1 << i
		}
	}
	return bits
}

// NotesOf decodes NoteBits (other bits are ignored).
func NotesOf(bits int64) []string {
	var out []string
	for i, n := range notes {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Charset is the encoding of message bodies that are not UTF-8.
type Charset string

// Charsets.
const (
	UTF8     Charset = "utf-8"
	ShiftJIS Charset = "shift_jis"
	EUCJP    Charset = "euc-jp"
)

// Parser parses messages; it is safe for one goroutine at a time.
type Parser struct {
	loc     *time.Location
	charset Charset
	sd      gosyslog.Machine // validates RFC 5424 structured data
}

// NewParser returns a parser; loc is the time zone of RFC 3164
// timestamps (which carry none), charset the Japanese encoding to try
// first when a body is not UTF-8 (see decode).
func NewParser(loc *time.Location, charset Charset) *Parser {
	if loc == nil {
		loc = time.Local
	}
	return &Parser{loc: loc, charset: charset, sd: rfc5424.NewParser()}
}

// Location is the time zone RFC 3164 timestamps are read in.
func (p *Parser) Location() *time.Location { return p.loc }

// Parse parses one message received at received. It always returns a
// message with facility and severity; err is ErrUnparsed when the PRI
// was not readable and the line was kept whole.
func (p *Parser) Parse(b []byte, received time.Time) (Message, error) {
	b = bytes.TrimRight(b, "\r\n\x00")
	m := Message{Format: RFC3164, Facility: defaultPRI / 8, Severity: defaultPRI % 8, Timestamp: received.UTC()}
	pri, rest, st := readPRI(b)
	switch st {
	case priBad:
		m.Format, m.Text = Raw, p.text(b, &m)
		m.note(NoteBadPRI)
		return m, ErrUnparsed
	case priNone:
		m.note(NoteNoPRI)
	default:
		m.Facility, m.Severity = pri/8, pri%8
	}
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		p.parse5424(rest[2:], &m)
	} else {
		p.parse3164(rest, &m, received)
	}
	return m, nil
}

type priState int

const (
	priOK priState = iota
	priNone
	priBad
)

// readPRI reads "<N>" as rsyslog does (leading zeros allowed, N at most
// 191), except that "<>" is not read as 0 (see DIFFERENCES.md).
func readPRI(b []byte) (int, []byte, priState) {
	if len(b) == 0 || b[0] != '<' {
		return 0, b, priNone
	}
	n, i := 0, 1
	for ; i < len(b) && isDigit(b[i]); i++ {
		if n <= maxPRI {
			n = n*10 + int(b[i]-'0')
		}
	}
	if i == 1 || i >= len(b) || b[i] != '>' || n > maxPRI {
		return 0, b, priBad
	}
	return n, b[i+1:], priOK
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
