package pairing

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/internal/fileutil"
)

var (
	// ErrBadCode: the text is not a pairing code.
	ErrBadCode = errors.New("not a pairing code: copy it exactly as `mamori pair init` printed it")
	// ErrCodeUnknown: no such code was issued (wrong or mistyped).
	ErrCodeUnknown = errors.New("pairing code refused: unknown code")
	// ErrCodeExpired: the code's validity ended.
	ErrCodeExpired = errors.New("pairing code refused: the code has expired")
	// ErrCodeUsed: the code was already redeemed.
	ErrCodeUsed = errors.New("pairing code refused: the code was already used")
)

// Code is a one-time pairing code: a secret and the first 16 bytes of the
// founder's CA fingerprint.
type Code struct {
	Secret [10]byte
	Pin    [16]byte
}

// Crockford's alphabet: no I, L, O, U, so codes read aloud unambiguously.
var codeEnc = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewCode makes a code pinning ca.
func NewCode(ca *CA) (Code, error) {
	var c Code
	if _, err := rand.Read(c.Secret[:]); err != nil {
		return c, err
	}
	fp := ca.Fingerprint()
	copy(c.Pin[:], fp[:16])
	return c, nil
}

// String renders the code in dash-separated groups of six.
func (c Code) String() string {
	s := codeEnc.EncodeToString(append(c.Secret[:], c.Pin[:]...))
	var groups []string
	for len(s) > 6 {
		groups, s = append(groups, s[:6]), s[6:]
	}
	return strings.Join(append(groups, s), "-")
}

// ParseCode reads a code, forgiving case, spaces and missing dashes.
func ParseCode(s string) (Code, error) {
	var c Code
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
	b, err := codeEnc.DecodeString(clean)
	if err != nil || len(b) != len(c.Secret)+len(c.Pin) {
		return c, ErrBadCode
	}
	copy(c.Secret[:], b)
	copy(c.Pin[:], b[len(c.Secret):])
	return c, nil
}

type codeEntry struct {
	Hash    string    `json:"sha256"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Used    time.Time `json:"used,omitzero"`
}

// CodeBook keeps issued codes (only their hashes) in a JSON file.
type CodeBook struct {
	path    string
	mu      sync.Mutex
	entries []codeEntry
}

// OpenCodeBook loads the book; a missing file is an empty book.
func OpenCodeBook(path string) (*CodeBook, error) {
	b := &CodeBook{path: path}
	if err := fileutil.ReadJSON(path, &b.entries); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return b, nil
}

func hashSecret(s [10]byte) string {
	h := sha256.Sum256(s[:])
	return hex.EncodeToString(h[:])
}

// Issue makes a new code valid for ttl and persists it.
func (b *CodeBook) Issue(ca *CA, ttl time.Duration, now time.Time) (Code, error) {
	c, err := NewCode(ca)
	if err != nil {
		return c, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.entries[:0:0]
	for _, e := range b.entries {
		if now.Sub(e.Expires) < 24*time.Hour {
			kept = append(kept, e)
		}
	}
	kept = append(kept, codeEntry{Hash: hashSecret(c.Secret), Issued: now, Expires: now.Add(ttl)})
	if err := fileutil.WriteJSON(b.path, kept); err != nil {
		return c, fmt.Errorf("save pairing code: %w", err)
	}
	b.entries = kept
	return c, nil
}

// Redeem marks a valid, unused, unexpired code used; any refusal changes nothing.
func (b *CodeBook) Redeem(secret [10]byte, now time.Time) error {
	want := hashSecret(secret)
	b.mu.Lock()
	defer b.mu.Unlock()
	idx := -1
	for i, e := range b.entries {
		if subtle.ConstantTimeCompare([]byte(e.Hash), []byte(want)) == 1 {
			idx = i
		}
	}
	switch {
	case idx < 0:
		return ErrCodeUnknown
	case !b.entries[idx].Used.IsZero():
		return ErrCodeUsed
	case !now.Before(b.entries[idx].Expires):
		return ErrCodeExpired
	}
	next := append([]codeEntry(nil), b.entries...)
	next[idx].Used = now
	if err := fileutil.WriteJSON(b.path, next); err != nil {
		return fmt.Errorf("save pairing code: %w", err)
	}
	b.entries = next
	return nil
}
