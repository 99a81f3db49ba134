package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBoxAndKeyFile(t *testing.T) {
	dir := t.TempDir()
	key, err := EnsureKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := EnsureKey(dir); string(again) != string(key) {
		t.Fatal("EnsureKey replaced an existing key")
	}
	if fi, _ := os.Stat(filepath.Join(dir, KeyFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	box, _ := NewBox(key)
	sealed, err := box.Seal("s3cret-priv-key", "credential:router")
	if err != nil || strings.Contains(sealed, "s3cret") {
		t.Fatalf("sealed %q %v", sealed, err)
	}
	if pt, err := box.Open(sealed, "credential:router"); err != nil || pt != "s3cret-priv-key" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := box.Open(sealed, "credential:other"); !errors.Is(err, ErrOpen) {
		t.Fatal("a sealed value opened under another name")
	}
	other, _ := NewBox(make([]byte, 32))
	if _, err := other.Open(sealed, "credential:router"); !errors.Is(err, ErrOpen) {
		t.Fatal("a sealed value opened with another key")
	}
	tampered := sealed[:len(sealed)-4] + "AAAA"
	if _, err := box.Open(tampered, "credential:router"); !errors.Is(err, ErrOpen) {
		t.Fatal("a tampered value opened")
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir); !errors.Is(err, ErrNoKey) {
		t.Fatalf("damaged key file: %v", err)
	}
}
