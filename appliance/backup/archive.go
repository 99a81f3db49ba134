// Package backup reads and writes mamori's backup archives: a tar of a
// manifest, a consistent SQLite snapshot of the store and the files that
// make an appliance itself (its CA and keys, the secrets key, the
// configuration), gzip-compressed and encrypted with a passphrase by age
// (scrypt recipient). age authenticates every chunk, so a wrong
// passphrase, a modified byte and a truncated file are each refused; the
// manifest's SHA-256 of every file is checked on top, so a restore
// writes only what was backed up.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// Format is the archive format version this code writes and reads.
const Format = 1

// manifestName is the archive's first entry.
const manifestName = "manifest.json"

var (
	// ErrPassphrase: the archive does not open with this passphrase.
	ErrPassphrase = errors.New("wrong passphrase (or not a mamori backup)")
	// ErrDamaged: the archive opened but is truncated, modified or inconsistent.
	ErrDamaged = errors.New("backup file is damaged or truncated")
)

// Manifest describes an archive.
type Manifest struct {
	Format  int       `json:"format"`
	Version string    `json:"mamori_version"`
	NodeID  string    `json:"node_id"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	// Epoch is the pair epoch the appliance knew.
	Epoch         uint64 `json:"epoch"`
	CAFingerprint string `json:"ca_fingerprint"`
	// Tables are the snapshot's per-table checksums ("rows=N sha256=…",
	// as store.Checksums computes them).
	Tables map[string]string `json:"tables"`
	// Files lists every entry after the manifest (filled by Write).
	Files []File `json:"files"`
}

// File is one archived file.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is a file to archive: its name in the archive and its path on disk.
type Source struct{ Name, Path string }

// Key is the passphrase and the scrypt work factor (log2; 0: age's default, 18).
type Key struct {
	Passphrase string
	WorkFactor int
}

// Write archives srcs under m (whose Files it fills) to w and returns
// the manifest written.
func Write(w io.Writer, k Key, m Manifest, srcs []Source) (Manifest, error) {
	m.Format, m.Files = Format, nil
	for _, s := range srcs {
		if err := checkName(s.Name); err != nil {
			return m, err
		}
		f, err := hashFile(s)
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, f)
	}
	rcpt, err := age.NewScryptRecipient(k.Passphrase)
	if err != nil {
		return m, err
	}
	if k.WorkFactor > 0 {
		rcpt.SetWorkFactor(k.WorkFactor)
	}
	enc, err := age.Encrypt(w, rcpt)
	if err != nil {
		return m, err
	}
	zw := gzip.NewWriter(enc)
	tw := tar.NewWriter(zw)
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := writeEntry(tw, manifestName, int64(len(mb)), strings.NewReader(string(mb))); err != nil {
		return m, err
	}
	for i, s := range srcs {
		if err := copyEntry(tw, s, m.Files[i]); err != nil {
			return m, err
		}
	}
	for _, c := range []io.Closer{tw, zw, enc} {
		if err := c.Close(); err != nil {
			return m, err
		}
	}
	return m, nil
}

func hashFile(s Source) (File, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", s.Path, err)
	}
	return File{Name: s.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// copyEntry archives s, refusing a file that changed since it was hashed.
func copyEntry(tw *tar.Writer, s Source, want File) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if err := writeEntry(tw, s.Name, want.Size, io.TeeReader(f, h)); err != nil {
		return fmt.Errorf("archive %s: %w", s.Path, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != want.SHA256 {
		return fmt.Errorf("%s changed while it was archived: run the backup again", s.Path)
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := io.CopyN(tw, r, size)
	return err
}

// checkName refuses names that would leave the restore directory.
func checkName(name string) error {
	if name == "" || name == manifestName || path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "../") || name == ".." {
		return fmt.Errorf("%w: bad file name %q in the archive", ErrDamaged, name)
	}
	return nil
}

// Verify reads the whole archive, checking every file against the
// manifest, and returns the manifest; it writes nothing.
func Verify(r io.Reader, k Key) (Manifest, error) { return Extract(r, k, "") }

// Extract decrypts the archive r into dir (which must exist; "" checks
// without writing), checking every file against the manifest, and
// returns the manifest. On an error, dir may hold some files: the
// caller removes it.
func Extract(r io.Reader, k Key, dir string) (Manifest, error) {
	id, err := age.NewScryptIdentity(k.Passphrase)
	if err != nil {
		return Manifest{}, err
	}
	dec, err := age.Decrypt(r, id)
	if err != nil {
		return Manifest{}, ErrPassphrase
	}
	zr, err := gzip.NewReader(dec)
	if err != nil {
		return Manifest{}, damaged(err)
	}
	tr := tar.NewReader(zr)
	m, err := readManifest(tr)
	if err != nil {
		return m, err
	}
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, damaged(err)
		}
		if err := extractFile(tr, h, m, dir, seen); err != nil {
			return m, err
		}
	}
	for _, f := range m.Files {
		if !seen[f.Name] {
			return m, fmt.Errorf("%w: %s is missing", ErrDamaged, f.Name)
		}
	}
	// Read to the end of the encrypted stream: age authenticates its last chunk there.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return m, damaged(err)
	}
	if _, err := io.Copy(io.Discard, dec); err != nil {
		return m, damaged(err)
	}
	return m, nil
}

func damaged(err error) error { return fmt.Errorf("%w (%v)", ErrDamaged, err) }

func readManifest(tr *tar.Reader) (Manifest, error) {
	var m Manifest
	h, err := tr.Next()
	if err != nil {
		return m, damaged(err)
	}
	if h.Name != manifestName {
		return m, fmt.Errorf("%w: the archive does not start with %s", ErrDamaged, manifestName)
	}
	if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&m); err != nil {
		return m, damaged(err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("backup format %d: this mamori reads format %d: restore with the mamori version that wrote it (%s)", m.Format, Format, m.Version)
	}
	return m, nil
}

func extractFile(tr *tar.Reader, h *tar.Header, m Manifest, dir string, seen map[string]bool) error {
	if err := checkName(h.Name); err != nil {
		return err
	}
	want, ok := m.file(h.Name)
	if !ok || seen[h.Name] || h.Typeflag != tar.TypeReg {
		return fmt.Errorf("%w: %s is not in its manifest", ErrDamaged, h.Name)
	}
	seen[h.Name] = true
	out := io.Writer(io.Discard)
	if dir != "" {
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	hs := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, hs), tr)
	if c, ok := out.(io.Closer); ok && err == nil {
		err = c.Close()
	}
	if err != nil {
		return damaged(err)
	}
	if n != want.Size || hex.EncodeToString(hs.Sum(nil)) != want.SHA256 {
		return fmt.Errorf("%w: %s does not match its SHA-256 in the manifest", ErrDamaged, h.Name)
	}
	return nil
}

func (m Manifest) file(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}
