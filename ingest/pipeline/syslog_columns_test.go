package pipeline

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/syslog/syslogtest"
)

// A stored syslog row gives back the line as received, byte for byte
// (without its line end), what the parser assumed and the structured
// data; a row stored before these were kept gives back nothing.
func TestSyslogRawColumns(t *testing.T) {
	p := syslog.NewParser(time.UTC, syslog.UTF8)
	for _, tc := range []struct {
		name, line string
		sd         string
		base64     bool
	}{
		{"rfc3164", "<13>Mar 15 11:59:00 host app: text\r\n", "", false},
		{"rfc5424 with malformed SD", `<165>1 2003-10-11T22:14:15.003Z h app - ID47 [a@1 x= "y"] An application event`, `[a@1 x= "y"]`, false},
		{"no PRI, no header", "{\"json\":true}", "", false},
		{"shift_jis body", "<13>Mar 15 11:59:00 host app: \x83f\x83B\x83X\x83N", "", true},
		{"invalid bytes", "<13>Mar 15 11:59:00 host app: \xff\xfe", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := p.Parse([]byte(tc.line), time.Now())
			c := headColumns(&m, m.Timestamp.Format(time.RFC3339Nano))
			head, flags := rawColumns([]byte(tc.line), m.Text, c, time.UTC)
			d := NewSyslogReader().Detail(head, m.Text, flags|syslog.NoteBits(m.Partial), c)
			want := []byte(tc.line)
			for len(want) > 0 && (want[len(want)-1] == '\n' || want[len(want)-1] == '\r') {
				want = want[:len(want)-1]
			}
			if string(d.Raw) != string(want) || !slices.Equal(d.Partial, m.Partial) || d.StructuredData != tc.sd ||
				(flags&FlagRawBase64 != 0) != tc.base64 {
				t.Fatalf("got %q %q %q (flags %x), want %q %q %q", d.Raw, d.Partial, d.StructuredData, flags, want, m.Partial, tc.sd)
			}
		})
	}
	if d := NewSyslogReader().Detail("", "text", -1, HeadColumns{}); d.Raw != nil || d.Partial != nil {
		t.Fatalf("a row from before migration 504: %+v", d)
	}
}

// Every line of the parser's corpus comes back byte for byte from what a
// row stores, through the stored columns only (the ts column as stored,
// not the parsed time); the common header layouts are not stored at all.
func TestSyslogRawCorpusRoundTrip(t *testing.T) {
	lines, err := syslogtest.Load("../syslog/testdata")
	if err != nil {
		t.Fatal(err)
	}
	p := syslog.NewParser(time.FixedZone("JST", 9*3600), syslog.UTF8)
	rd := NewSyslogReader()
	var compact, headBytes, lineBytes int
	layouts := map[int]int{}
	for _, l := range lines {
		m, _ := p.Parse(l.Bytes, time.Date(2026, 12, 1, 4, 0, 0, 123456789, time.UTC))
		c := headColumns(&m, m.Timestamp.Format(time.RFC3339Nano))
		head, flags := rawColumns(l.Bytes, m.Text, c, p.Location())
		// What the store gives back: every column through its text form.
		back := HeadColumns{Facility: c.Facility, Severity: c.Severity, Timestamp: c.Timestamp, Host: c.Host, App: c.App, ProcID: c.ProcID, MsgID: c.MsgID}
		d := rd.Detail(head, m.Text, flags|syslog.NoteBits(m.Partial), back)
		want := bytes.TrimRight(l.Bytes, "\r\n\x00")
		if !bytes.Equal(d.Raw, want) {
			t.Fatalf("%s: got back %q, want %q (flags %x)", l.Origin, d.Raw, want, flags)
		}
		if lay := int(flags&layoutMask) >> layoutShift; lay > 0 {
			compact++
			layouts[lay]++
		}
		headBytes += len(head)
		lineBytes += len(want)
	}
	t.Logf("%d lines: %d with the header written again from the columns %v; raw_head holds %d bytes for %d bytes of lines",
		len(lines), compact, layouts, headBytes, lineBytes)
	if compact < len(lines)/10 {
		t.Fatalf("only %d of %d headers in a known layout: the layouts no longer match what the corpus sends", compact, len(lines))
	}
}
