package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// testKey keeps scrypt cheap in tests.
var testKey = Key{Passphrase: "correct horse battery staple", WorkFactor: 10}

func sources(t *testing.T) []Source {
	dir := t.TempDir()
	files := map[string]string{DBName: "SQLite format 3\x00 and some pages", "tls/ca.crt": "CA", keyName: "key\n"}
	var srcs []Source
	for _, name := range []string{DBName, "tls/ca.crt", keyName} {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, []byte(files[name]), 0o600); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, Source{name, p})
	}
	return srcs
}

const keyName = "secrets.key"

func archive(t *testing.T) []byte {
	var buf bytes.Buffer
	m := Manifest{NodeID: "a", Tables: map[string]string{"users": "rows=1 sha256=00"}}
	if _, err := Write(&buf, testKey, m, sources(t)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	b := archive(t)
	dir := t.TempDir()
	m, err := Extract(bytes.NewReader(b), testKey, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.NodeID != "a" || len(m.Files) != 3 || m.Tables["users"] != "rows=1 sha256=00" {
		t.Fatalf("manifest: %+v", m)
	}
	got, err := os.ReadFile(filepath.Join(dir, "tls", "ca.crt"))
	if err != nil || string(got) != "CA" {
		t.Fatalf("tls/ca.crt: %q %v", got, err)
	}
}

func TestRefused(t *testing.T) {
	b := archive(t)
	flipped := bytes.Clone(b)
	flipped[len(flipped)-40] ^= 1
	cases := []struct {
		name string
		in   []byte
		key  Key
		want error
	}{
		{"wrong passphrase", b, Key{Passphrase: "wrong", WorkFactor: 10}, ErrPassphrase},
		{"not an archive", []byte("hello, this is not a backup\n"), testKey, ErrPassphrase},
		{"truncated", b[:len(b)-20], testKey, ErrDamaged},
		{"truncated in the middle", b[:len(b)/2], testKey, ErrDamaged},
		{"modified byte", flipped, testKey, ErrDamaged},
		{"file not matching its manifest", forged(t, func(m *Manifest) { m.Files[0].SHA256 = "00" }), testKey, ErrDamaged},
		{"file missing", forged(t, func(m *Manifest) { m.Files = append(m.Files, File{Name: "tls/node.key"}) }), testKey, ErrDamaged},
		{"file not listed", forged(t, func(m *Manifest) { m.Files = nil }), testKey, ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Extract(bytes.NewReader(c.in), c.key, t.TempDir())
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// forged encrypts, with the right passphrase, an archive of one file
// whose manifest edit changed.
func forged(t *testing.T, edit func(*Manifest)) []byte {
	m := Manifest{Format: Format, Files: []File{{Name: DBName, Size: 4, SHA256: "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"}}}
	edit(&m)
	var buf bytes.Buffer
	r, _ := age.NewScryptRecipient(testKey.Passphrase)
	r.SetWorkFactor(testKey.WorkFactor)
	enc, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(enc)
	tw := tar.NewWriter(zw)
	mb, _ := json.Marshal(m)
	for _, e := range []struct {
		name string
		b    []byte
	}{{manifestName, mb}, {DBName, []byte("abcd")}} {
		_ = tw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.b)), Mode: 0o600, Typeflag: tar.TypeReg})
		_, _ = tw.Write(e.b)
	}
	tw.Close()
	zw.Close()
	enc.Close()
	return buf.Bytes()
}

func TestForgedIsSound(t *testing.T) {
	// The forgery helper itself makes an archive that opens: the refusals
	// above are the edits', not the helper's.
	if _, err := Extract(bytes.NewReader(forged(t, func(*Manifest) {})), testKey, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFresh(t *testing.T) {
	dir := t.TempDir()
	if err := CheckFresh(dir); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "mamori.lock"), nil, 0o600)
	if err := CheckFresh(dir); err != nil {
		t.Fatal(err)
	}
	_ = os.Mkdir(filepath.Join(dir, "store"), 0o700)
	if err := CheckFresh(dir); !errors.Is(err, ErrNotFresh) {
		t.Fatalf("got %v", err)
	}
}
