package tcp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The text protocols (SMTP, FTP, POP3, IMAP) share a line reader that
// bounds what a hostile server can make the monitor hold: a line of at
// most maxLine bytes, a reply of at most maxLines lines.

const (
	maxLine  = 4096
	maxLines = 100
)

var errProto = errors.New("unexpected reply")

// transcript records the dialogue for Raw.
type transcript struct{ bytes.Buffer }

func (t *transcript) server(line string) { fmt.Fprintf(t, "S: %s\n", line) }
func (t *transcript) client(line string) { fmt.Fprintf(t, "C: %s\n", line) }

// lineReader reads CRLF (or LF) terminated lines.
type lineReader struct {
	r *bufio.Reader
	t *transcript
}

func newLineReader(r io.Reader, t *transcript) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, maxLine), t: t}
}

func (l *lineReader) line() (string, error) {
	b, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("%w: a line longer than %d bytes", errProto, maxLine)
	}
	if err != nil {
		if len(b) > 0 {
			l.t.server(printable(b))
		}
		return "", err
	}
	s := printable(bytes.TrimRight(b, "\r\n"))
	l.t.server(s)
	return s, nil
}

// printable keeps control bytes out of Raw and items.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '.'
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD"))
}

// codeReply reads an SMTP/FTP reply: "250-first", …, "250 last". FTP
// lets the lines between carry no code; both end at "ddd ".
func (l *lineReader) codeReply() (int, []string, error) {
	first, err := l.line()
	if err != nil {
		return 0, nil, err
	}
	code, more, ok := replyCode(first)
	if !ok {
		return 0, nil, fmt.Errorf("%w: %q is not a numbered reply", errProto, clip(first))
	}
	lines := []string{first}
	for more {
		if len(lines) == maxLines {
			return 0, nil, fmt.Errorf("%w: a reply longer than %d lines", errProto, maxLines)
		}
		s, err := l.line()
		if err != nil {
			return 0, nil, err
		}
		lines = append(lines, s)
		c, m, ok := replyCode(s)
		more = !ok || c != code || m
	}
	return code, lines, nil
}

// replyCode reads "ddd " (last line) or "ddd-" (more follow).
func replyCode(s string) (code int, more, ok bool) {
	if len(s) < 3 {
		return 0, false, false
	}
	c, err := strconv.Atoi(s[:3])
	if err != nil || c < 100 || c > 599 || s[0] == '+' {
		return 0, false, false
	}
	if len(s) == 3 {
		return c, false, true
	}
	switch s[3] {
	case ' ':
		return c, false, true
	case '-':
		return c, true, true
	}
	return 0, false, false
}

// expectCode reads a reply and requires its code.
func (l *lineReader) expectCode(want int, what string) ([]string, error) {
	code, lines, err := l.codeReply()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if code != want {
		return lines, fmt.Errorf("%s: %w %q, expected %d", what, errProto, clip(lines[0]), want)
	}
	return lines, nil
}

// prefixed reads one line that must start with one of the prefixes.
func (l *lineReader) prefixed(what string, prefixes ...string) (string, error) {
	s, err := l.line()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	for _, p := range prefixes {
		if strings.HasPrefix(strings.ToUpper(s), p) {
			return s, nil
		}
	}
	return s, fmt.Errorf("%s: %w %q, expected %s", what, errProto, clip(s), strings.Join(prefixes, " or "))
}

// untilTag reads IMAP lines until the tagged completion.
func (l *lineReader) untilTag(tag, what string) error {
	for range maxLines {
		s, err := l.line()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if rest, ok := strings.CutPrefix(s, tag+" "); ok {
			if !strings.HasPrefix(strings.ToUpper(rest), "OK") {
				return fmt.Errorf("%s: %w %q", what, errProto, clip(s))
			}
			return nil
		}
	}
	return fmt.Errorf("%s: %w: no completion within %d lines", what, errProto, maxLines)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
