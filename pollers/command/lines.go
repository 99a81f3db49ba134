package command

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/pollers/check"
)

// Item bounds: a command that prints a million lines gives the first
// maxItems; keys and text values are cut to their bounds.
const (
	maxItems = 1000
	maxKey   = 128
	maxText  = 1024
)

// parseLines reads `key,value` lines: the first comma splits; spaces
// around both are trimmed; a value that parses as a number is numeric,
// any other is text. Lines without a comma, with an empty key, with the
// reserved key exit_code, or repeating an earlier key are skipped (they
// stay in the raw output).
func parseLines(out []byte) []check.Item {
	var items []check.Item
	seen := map[string]bool{ExitCode: true}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(items) == maxItems {
			break
		}
		k, v, ok := strings.Cut(strings.ToValidUTF8(string(line), "\uFFFD"), ",")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || len(k) > maxKey || seen[k] {
			continue
		}
		seen[k] = true
		items = append(items, item(k, v))
	}
	return items
}

func item(k, v string) check.Item {
	if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
		return check.Num(k, n, "")
	}
	if len(v) > maxText {
		v = v[:maxText]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return check.Str(k, v)
}
