// Package golden compares a test's result with an expected.json file of a
// golden case folder, or rewrites that file when asked (-update), so the
// decoding tests of every protocol share one way of doing it.
package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check compares got, as indented JSON, with dir/expected.json; with
// update it writes the file instead (check it by eye before committing).
func Check(t testing.TB, dir string, got any, update bool) {
	t.Helper()
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "expected.json")
	if update {
		if err := os.WriteFile(exp, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(exp)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it, then check it by eye)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(out)) {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
