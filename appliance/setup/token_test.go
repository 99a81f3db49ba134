package setup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestToken(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, ErrNoToken) {
		t.Fatalf("read before ensure: %v", err)
	}
	tok, err := Ensure(dir)
	if err != nil || len(tok) != 27 {
		t.Fatalf("ensure: %q %v", tok, err)
	}
	again, _ := Ensure(dir)
	if again != tok {
		t.Fatalf("ensure made a new token: %q then %q", tok, again)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	for _, tc := range []struct {
		given string
		want  bool
	}{{tok, true}, {" " + tok + "\n", true}, {lower(tok), true}, {tok[:26] + "0", tok[26] == '0'}, {"", false}, {"x", false}} {
		if got := Matches(tc.given, tok); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.given, got, tc.want)
		}
	}
	if Matches("", "") {
		t.Error("an empty token matched an absent one")
	}
	if err := Void(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); !errors.Is(err, ErrNoToken) {
		t.Fatalf("read after void: %v", err)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
