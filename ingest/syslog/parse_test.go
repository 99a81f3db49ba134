package syslog

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the expected.json of every golden case")

// TestGolden runs every folder under testdata/cases: input (raw bytes),
// optional received (RFC 3339), charset and zone (of RFC 3164 stamps,
// default UTC), and expected.json; a note file says why a case changed
// meaning. A new case needs no Go code.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "input"))
			if err != nil {
				t.Fatal(err)
			}
			received := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
			if b, err := os.ReadFile(filepath.Join(dir, "received")); err == nil {
				if received, err = time.Parse(time.RFC3339, strings.TrimSpace(string(b))); err != nil {
					t.Fatal(err)
				}
			}
			cs, loc := UTF8, time.UTC
			if b, err := os.ReadFile(filepath.Join(dir, "charset")); err == nil {
				cs = Charset(strings.TrimSpace(string(b)))
			}
			if b, err := os.ReadFile(filepath.Join(dir, "zone")); err == nil {
				if loc, err = time.LoadLocation(strings.TrimSpace(string(b))); err != nil {
					t.Fatal(err)
				}
			}
			m, perr := NewParser(loc, cs).Parse(in, received)
			got := struct {
				Message
				Unparsed bool `json:"unparsed"`
			}{m, errors.Is(perr, ErrUnparsed)}
			golden.Check(t, dir, got, *update)
		})
	}
}

// FuzzParse: no input crashes the parser, leaves facility or severity
// unset, reads a PRI other than the one sent, or loses text: every byte
// of the line that is not header ends up in the text.
func FuzzParse(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/cases/*/input")
	for _, d := range dirs {
		b, _ := os.ReadFile(d)
		f.Add(b)
	}
	p := NewParser(time.UTC, ShiftJIS)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := p.Parse(b, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
		line := strings.TrimRight(string(b), "\r\n\x00")
		switch {
		case (err != nil) != (m.Format == Raw):
			t.Fatalf("error %v with format %s", err, m.Format)
		case m.Facility < 0 || m.Facility > 23 || m.Severity < 0 || m.Severity > 7:
			t.Fatalf("facility %d severity %d for %q", m.Facility, m.Severity, b)
		case m.Format == Raw && line != "" && m.Text == "":
			t.Fatalf("raw message lost its text: %q", b)
		case utf8.ValidString(line) && !strings.HasSuffix(line, strings.TrimPrefix(m.Text, "\ufeff")):
			t.Fatalf("text %q is not the end of the line %q", m.Text, line)
		}
		if pri, ok := sentPRI(line); ok && pri != m.Facility*8+m.Severity {
			t.Fatalf("PRI %d read as %d.%d from %q", pri, m.Facility, m.Severity, b)
		}
	})
}

// sentPRI is the PRI a line starts with, when it is a valid one.
func sentPRI(line string) (int, bool) {
	end := strings.IndexByte(line, '>')
	if !strings.HasPrefix(line, "<") || end < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(line[1:end])
	return n, err == nil && n <= 191 && strings.Trim(line[1:end], "0123456789") == ""
}
