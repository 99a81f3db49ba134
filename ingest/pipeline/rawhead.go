package pipeline

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/ingest/syslog"
)

// The header of a syslog line (what comes before its text) is kept so that
// the line as received can always be given back. Most devices write their
// header in one of a few layouts from fields the row stores anyway (PRI,
// time stamp, host, program, process id, message id): then the row keeps
// only the layout's number in parse_flags and an empty raw_head, and the
// header is written again when the row is read. Whether a line's header is
// such a layout is decided by writing it from the stored columns and
// comparing byte for byte, so the line given back is always the line
// received. (Storing every header cost about 6 % of the burst capacity.)

// FlagRawBase64, in parse_flags: raw_head holds the whole line in base64.
const FlagRawBase64 = 1 << 16

// Layout numbers live in parse_flags bits 17-20 (0: raw_head is the
// header); the UTC offset the stamp was written in (the stored time is
// UTC), in minutes + 1024, in bits 21-31.
const (
	layoutShift = 17
	layoutMask  = 0xF << layoutShift
	offsetShift = 21
	offsetMask  = 0x7FF << offsetShift
)

// headLayouts are the layouts a header may be written again from; index 0
// is "none". stamp is the time layout; rfc5424 tells the header's shape.
var headLayouts = [...]struct {
	rfc5424 bool
	stamp   string
}{
	{},
	{true, "2006-01-02T15:04:05.000Z07:00"},
	{true, "2006-01-02T15:04:05.000000Z07:00"},
	{true, "2006-01-02T15:04:05Z07:00"},
	{true, time.RFC3339Nano},
	{false, "Jan _2 15:04:05"},
	{false, "Jan 02 15:04:05"},
	{false, "Jan _2 15:04:05.000"},
}

// HeadColumns are the stored columns a header is written from.
type HeadColumns struct {
	Facility, Severity       int64
	Timestamp                string // the ts column: RFC 3339 with nanoseconds
	Host, App, ProcID, MsgID string
	t                        time.Time // Timestamp read (when writing: the parsed time, the same instant)
}

func headColumns(p *syslog.Message, ts string) HeadColumns {
	return HeadColumns{Facility: int64(p.Facility), Severity: int64(p.Severity), Timestamp: ts,
		Host: p.Hostname, App: p.AppName, ProcID: p.ProcID, MsgID: p.MsgID, t: p.Timestamp}
}

// appendHead writes the header of layout l from c; ok is false when c
// cannot be written in l.
func appendHead(buf []byte, l int, c *HeadColumns, ts time.Time) ([]byte, bool) {
	lay := headLayouts[l]
	buf = append(buf, '<')
	buf = strconv.AppendInt(buf, c.Facility*8+c.Severity, 10)
	buf = append(buf, '>')
	if lay.rfc5424 {
		field := func(b []byte, s string) []byte {
			if s == "" {
				return append(b, '-', ' ')
			}
			return append(append(b, s...), ' ')
		}
		buf = append(buf, '1', ' ')
		buf = append(ts.AppendFormat(buf, lay.stamp), ' ')
		buf = field(field(field(field(buf, c.Host), c.App), c.ProcID), c.MsgID)
		return append(buf, '-', ' '), true
	}
	if c.Host == "" || c.App == "" {
		return buf, false
	}
	buf = append(ts.AppendFormat(buf, lay.stamp), ' ')
	buf = append(append(buf, c.Host...), ' ')
	buf = append(buf, c.App...)
	if c.ProcID != "" {
		buf = append(append(append(buf, '['), c.ProcID...), ']')
	}
	return append(buf, ':', ' '), true
}

// rawColumns keeps the received line (without its line end) byte for
// byte at little cost: the text of a UTF-8 line is its tail, so only the
// header before it is kept (line = header + text), and not even that when
// it is one of the headLayouts; a line whose text is not its tail (decoded
// from Shift_JIS or EUC-JP, invalid bytes) is stored whole in base64,
// which a TEXT column cannot corrupt.
// loc is the zone RFC 3164 stamps were read in.
func rawColumns(b []byte, text string, c HeadColumns, loc *time.Location) (string, int64) {
	b = bytes.TrimRight(b, "\r\n\x00")
	if !utf8.Valid(b) || !bytes.HasSuffix(b, []byte(text)) {
		return base64.StdEncoding.EncodeToString(b), FlagRawBase64
	}
	head := b[:len(b)-len(text)]
	if l, off := layoutOf(head, &c, loc); l > 0 {
		return "", int64(l)<<layoutShift | int64(off/60+1024)<<offsetShift
	}
	return string(head), 0
}

// layoutOf returns the layout head is written in and the UTC offset of
// its stamp in seconds, or 0. It tries the one layout the head's stamp
// can be in (by its fraction's length, its day's padding), so it costs
// one formatting.
func layoutOf(head []byte, c *HeadColumns, loc *time.Location) (int, int) {
	gt := bytes.IndexByte(head, '>')
	if len(head) < 16 || head[0] != '<' || gt < 2 || gt > 4 {
		return 0, 0
	}
	ts := c.t
	if ts.IsZero() {
		var err error
		if ts, err = time.Parse(time.RFC3339Nano, c.Timestamp); err != nil {
			return 0, 0
		}
	}
	rest := head[gt+1:]
	var l, off int
	if bytes.HasPrefix(rest, []byte("1 ")) {
		word, _, _ := bytes.Cut(rest[2:], []byte(" "))
		var ok bool
		if off, ok = stampOffset(word); !ok {
			return 0, 0
		}
		frac := 0
		if dot := bytes.IndexByte(word, '.'); dot > 0 {
			for _, ch := range word[dot+1:] {
				if ch < '0' || ch > '9' {
					break
				}
				frac++
			}
		}
		switch frac {
		case 0:
			l = 3
		case 3:
			l = 1
		case 6:
			l = 2
		default:
			l = 4
		}
	} else {
		if loc == nil || len(rest) < 16 {
			return 0, 0
		}
		_, off = ts.In(loc).Zone()
		switch {
		case rest[15] == '.':
			l = 7
		case rest[4] == ' ':
			l = 5
		default:
			l = 6
		}
	}
	if off%60 != 0 || off/60 < -1024 || off/60 >= 1024 {
		return 0, 0
	}
	var arr [128]byte
	if got, ok := appendHead(arr[:0], l, c, ts.In(time.FixedZone("", off))); ok && bytes.Equal(got, head) {
		return l, off
	}
	return 0, 0
}

// stampOffset reads the UTC offset at the end of an RFC 3339 stamp.
func stampOffset(w []byte) (int, bool) {
	switch {
	case len(w) > 0 && (w[len(w)-1] == 'Z' || w[len(w)-1] == 'z'):
		return 0, true
	case len(w) < 6:
		return 0, false
	}
	z := w[len(w)-6:]
	if (z[0] != '+' && z[0] != '-') || z[3] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(string(z[1:3]))
	m, err2 := strconv.Atoi(string(z[4:6]))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	off := (h*60 + m) * 60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

// SyslogReader reads back what a stored syslog row keeps beyond its
// plain columns; one per request (it holds a parser).
type SyslogReader struct{ p *syslog.Parser }

// NewSyslogReader returns a reader.
func NewSyslogReader() *SyslogReader {
	return &SyslogReader{p: syslog.NewParser(time.UTC, syslog.UTF8)}
}

// SyslogDetail is the line as received, what the parser assumed and the
// RFC 5424 structured data (read again from the line) of a stored row;
// all empty for rows stored before they were kept.
type SyslogDetail struct {
	Raw            []byte
	Partial        []string
	StructuredData string
}

// Detail decodes a row's raw_head, text and parse_flags (with the columns
// a header may be written again from).
func (r *SyslogReader) Detail(head, text string, flags int64, c HeadColumns) SyslogDetail {
	if flags < 0 {
		return SyslogDetail{}
	}
	d := SyslogDetail{Raw: []byte(head + text), Partial: syslog.NotesOf(flags)}
	switch l := int(flags&layoutMask) >> layoutShift; {
	case flags&FlagRawBase64 != 0:
		d.Raw, _ = base64.StdEncoding.DecodeString(head)
	case l > 0 && l < len(headLayouts):
		if ts, err := time.Parse(time.RFC3339Nano, c.Timestamp); err == nil {
			off := (int(flags&offsetMask>>offsetShift) - 1024) * 60
			if h, ok := appendHead(nil, l, &c, ts.In(time.FixedZone("", off))); ok {
				d.Raw = append(h, text...)
			}
		}
	}
	if m, _ := r.p.Parse(d.Raw, time.Time{}); m.Format == syslog.RFC5424 {
		d.StructuredData = m.StructuredData
	}
	return d
}
