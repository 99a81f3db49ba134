package syslog

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the expected.json of every golden case")

// TestGolden runs every folder under testdata/cases: input (raw bytes),
// optional received (RFC 3339) and charset, and expected.json. A new case
// needs no Go code.
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
			cs := UTF8
			if b, err := os.ReadFile(filepath.Join(dir, "charset")); err == nil {
				cs = Charset(strings.TrimSpace(string(b)))
			}
			m, perr := NewParser(time.UTC, cs).Parse(in, received)
			got := struct {
				Message
				Unparsed bool `json:"unparsed"`
			}{m, errors.Is(perr, ErrUnparsed)}
			golden.Check(t, dir, got, *update)
		})
	}
}

// FuzzParse: no input crashes the parser or loses the message.
func FuzzParse(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/cases/*/input")
	for _, d := range dirs {
		b, _ := os.ReadFile(d)
		f.Add(b)
	}
	p := NewParser(time.UTC, ShiftJIS)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := p.Parse(b, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
		if err != nil && m.Format != Raw {
			t.Fatalf("error %v with format %s", err, m.Format)
		}
		if m.Format == Raw && len(strings.TrimRight(string(b), "\r\n\x00")) > 0 && m.Text == "" {
			t.Fatalf("raw message lost its text: %q", b)
		}
	})
}
