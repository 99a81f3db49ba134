package pipeline

import (
	"slices"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/ingest/syslog"
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
			head, flags := rawColumns([]byte(tc.line), m.Text)
			d := NewSyslogReader().Detail(head, m.Text, flags|syslog.NoteBits(m.Partial))
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
	if d := NewSyslogReader().Detail("", "text", -1); d.Raw != nil || d.Partial != nil {
		t.Fatalf("a row from before migration 504: %+v", d)
	}
}
