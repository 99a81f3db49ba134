// Package syslog receives and parses syslog: RFC 5424 and RFC 3164
// (including what real devices send: no year, odd host names, tags with
// a pid, missing fields), over UDP and TCP with octet-counting or
// non-transparent framing. A message that cannot be parsed is kept raw and
// counted, never dropped silently. go-syslog stays inside this package.
package syslog

import (
	"bytes"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	gosyslog "github.com/influxdata/go-syslog/v3"
	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// Format says how a message was understood.
type Format string

// Formats.
const (
	RFC5424 Format = "rfc5424"
	RFC3164 Format = "rfc3164"
	Raw     Format = "raw" // not parseable: the bytes are kept as text
)

// ErrUnparsed: the message was kept raw.
var ErrUnparsed = errors.New("syslog message not parseable; kept raw")

// Message is one received syslog message.
type Message struct {
	Format    Format    `json:"format"`
	Facility  int       `json:"facility"` // -1: unknown
	Severity  int       `json:"severity"` // -1: unknown
	Timestamp time.Time `json:"timestamp"`
	Hostname  string    `json:"hostname,omitempty"`
	AppName   string    `json:"app_name,omitempty"`
	ProcID    string    `json:"proc_id,omitempty"`
	MsgID     string    `json:"msg_id,omitempty"`
	Text      string    `json:"text"`
	// StructuredData of RFC 5424 messages.
	StructuredData map[string]map[string]string `json:"structured_data,omitempty"`
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
}

// NewParser returns a parser; loc is the time zone of RFC 3164
// timestamps (which carry none), charset the body encoding to try when a
// body is not valid UTF-8.
func NewParser(loc *time.Location, charset Charset) *Parser {
	if loc == nil {
		loc = time.Local
	}
	return &Parser{loc: loc, charset: charset}
}

// Parse parses one message received at received. It always returns a
// message; err is ErrUnparsed when the bytes could only be kept raw.
func (p *Parser) Parse(b []byte, received time.Time) (Message, error) {
	b = bytes.TrimRight(b, "\r\n\x00")
	raw := Message{Format: Raw, Facility: -1, Severity: -1, Timestamp: received.UTC(), Text: p.text(b)}
	if !validPRI(b) {
		return raw, ErrUnparsed
	}
	if isRFC5424(b) {
		if m, err := rfc5424.NewParser(rfc5424.WithBestEffort()).Parse(b); m != nil && (err == nil || m.Valid()) {
			return p.from5424(m.(*rfc5424.SyslogMessage), received), nil
		}
	}
	m, err := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithYear(rfc3164.Year{YYYY: received.In(p.loc).Year()}),
		rfc3164.WithTimezone(p.loc), rfc3164.WithRFC3339()).Parse(b)
	if m != nil && (err == nil || m.Valid()) {
		msg := p.from3164(m.(*rfc3164.SyslogMessage), received)
		// Best effort can stop early and drop the rest: never lose text.
		if msg.Text == "" && len(b) > 40 {
			return raw, ErrUnparsed
		}
		return msg, nil
	}
	return raw, ErrUnparsed
}

// validPRI checks "<N>" with N in 0..191 at the start.
func validPRI(b []byte) bool {
	if len(b) < 3 || b[0] != '<' {
		return false
	}
	n, i := 0, 1
	for ; i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	return i > 1 && i < len(b) && b[i] == '>' && n <= 191
}

// isRFC5424 looks for "<PRI>VERSION " with a non-zero version.
func isRFC5424(b []byte) bool {
	i := bytes.IndexByte(b, '>')
	if len(b) == 0 || b[0] != '<' || i < 2 || i > 4 || i+2 >= len(b) {
		return false
	}
	j := i + 1
	for j < len(b) && j < i+4 && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	return j > i+1 && b[i+1] != '0' && j < len(b) && b[j] == ' '
}

func (p *Parser) base(bm gosyslog.Base, f Format, received time.Time) Message {
	m := Message{Format: f, Facility: -1, Severity: -1, Timestamp: received.UTC()}
	if bm.Facility != nil {
		m.Facility = int(*bm.Facility)
	}
	if bm.Severity != nil {
		m.Severity = int(*bm.Severity)
	}
	if bm.Timestamp != nil && !bm.Timestamp.IsZero() {
		m.Timestamp = bm.Timestamp.UTC()
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = str(bm.Hostname), str(bm.Appname), str(bm.ProcID), str(bm.MsgID)
	m.Text = p.text([]byte(strings.TrimSpace(str(bm.Message))))
	return m
}

func (p *Parser) from5424(sm *rfc5424.SyslogMessage, received time.Time) Message {
	m := p.base(sm.Base, RFC5424, received)
	if sm.StructuredData != nil {
		m.StructuredData = *sm.StructuredData
	}
	return m
}

// from3164 also corrects the year of year-less timestamps: a message
// stamped "Dec 31" received on January 1 belongs to the previous year.
func (p *Parser) from3164(sm *rfc3164.SyslogMessage, received time.Time) Message {
	m := p.base(sm.Base, RFC3164, received)
	// Devices that send no host name (firewalls, many appliances) put
	// their tag where the host name goes: "%ASA-6-302013:".
	if strings.HasSuffix(m.Hostname, ":") && m.AppName == "" {
		m.AppName, m.Hostname = strings.TrimSuffix(m.Hostname, ":"), ""
	}
	if m.Timestamp.After(received.Add(48 * time.Hour)) {
		m.Timestamp = m.Timestamp.AddDate(-1, 0, 0)
	}
	return m
}

// text decodes a body: UTF-8 as is; otherwise the configured charset;
// bytes that still do not decode become U+FFFD rather than being lost.
func (p *Parser) text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var enc encoding.Encoding
	switch p.charset {
	case ShiftJIS:
		enc = japanese.ShiftJIS
	case EUCJP:
		enc = japanese.EUCJP
	}
	if enc != nil {
		if out, err := enc.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
			return string(out)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
