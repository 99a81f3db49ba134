// Package syslogtest holds the corpus the syslog parser is measured on —
// the golden cases, lines collected from public sources and generated
// combinations of the variants devices send — and the differential
// comparison with rsyslog that the end-to-end suite runs (diff.go) and
// the benchmark parses (test/bench). It is test support: nothing in the
// appliance imports it.
package syslogtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// Line is one line of the corpus.
type Line struct {
	Bytes []byte // as sent
	// UTF8 is the same line in UTF-8 when Bytes is Shift_JIS or EUC-JP:
	// rsyslog keeps bytes, mamori decodes them, so rsyslog's reading of
	// this line is what mamori must report (DIFFERENCES.md R5).
	UTF8   []byte
	Origin string // case folder, file:line, or generated
}

// Load reads the corpus under testdata (ingest/syslog/testdata): the
// input of every golden case (one that is neither UTF-8 nor declares its
// charset is left out: the corpus files carry such lines, with their
// charset when they have one), every line of corpus/*.txt, and Generated. Duplicates are
// dropped.
func Load(testdata string) ([]Line, error) {
	golden, err := loadGolden(testdata)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(testdata, "corpus", "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no corpus files under %s: %v", testdata, err)
	}
	lines := golden
	for _, f := range files {
		ls, err := loadFile(f)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	return unique(append(lines, Generated()...)), nil
}

func loadGolden(testdata string) ([]Line, error) {
	dirs, err := filepath.Glob(filepath.Join(testdata, "cases", "*"))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("no golden cases under %s: %v", testdata, err)
	}
	var out []Line
	for _, d := range dirs {
		in, err := os.ReadFile(filepath.Join(d, "input"))
		if err != nil {
			return nil, err
		}
		l := Line{Bytes: bytes.TrimRight(in, "\n"), Origin: "case " + filepath.Base(d)}
		if cs, err := os.ReadFile(filepath.Join(d, "charset")); err == nil {
			if l.UTF8, err = decode(strings.TrimSpace(string(cs)), l.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %w", d, err)
			}
		} else if !utf8.Valid(l.Bytes) {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// loadFile reads a corpus file: one line per message; "# " comments and
// blank lines are skipped; `q "..."` is a Go-quoted line (tabs, CR,
// bytes); `sjis ...` and `eucjp ...` are sent in that encoding.
func loadFile(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		if s == "" || s == "#" || strings.HasPrefix(s, "# ") {
			continue
		}
		l, err := parseLine(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		l.Origin = fmt.Sprintf("%s:%d", filepath.Base(path), n)
		out = append(out, l)
	}
	return out, sc.Err()
}

func parseLine(s string) (Line, error) {
	switch word, rest, _ := strings.Cut(s, " "); word {
	case "q":
		u, err := strconv.Unquote(rest)
		return Line{Bytes: []byte(u)}, err
	case "sjis", "eucjp":
		b, err := encode(word, rest)
		return Line{Bytes: b, UTF8: []byte(rest)}, err
	}
	return Line{Bytes: []byte(s)}, nil
}

func charsetOf(name string) (encoding.Encoding, error) {
	switch name {
	case "sjis", "shift_jis":
		return japanese.ShiftJIS, nil
	case "eucjp", "euc-jp":
		return japanese.EUCJP, nil
	}
	return nil, fmt.Errorf("unknown charset %q", name)
}

func encode(charset, s string) ([]byte, error) {
	enc, err := charsetOf(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewEncoder().Bytes([]byte(s))
}

func decode(charset string, b []byte) ([]byte, error) {
	enc, err := charsetOf(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Bytes(b)
}

func unique(lines []Line) []Line {
	seen := map[string]bool{}
	out := lines[:0]
	for _, l := range lines {
		if !seen[string(l.Bytes)] {
			seen[string(l.Bytes)] = true
			out = append(out, l)
		}
	}
	return out
}
