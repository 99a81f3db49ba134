// Package setup keeps the setup token: the secret that lets whoever can
// read the appliance's log or data directory (and no one else on the
// network) claim a fresh appliance through the web console, until it has
// an administrator.
package setup

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoToken: the appliance has no setup token (an administrator exists,
// or `mamori serve` has not run on this data directory yet).
var ErrNoToken = errors.New("no setup token")

// FileName is the token's file in the data directory (mode 0600).
const FileName = "setup-token"

var enc = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// Ensure returns the data directory's token, making one if there is none.
func Ensure(dataDir string) (string, error) {
	if tok, err := Read(dataDir); err == nil {
		return tok, nil
	} else if !errors.Is(err, ErrNoToken) {
		return "", err
	}
	var b [15]byte // 120 bits, 24 characters in four groups
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	s := enc.EncodeToString(b[:])
	tok := strings.Join([]string{s[0:6], s[6:12], s[12:18], s[18:24]}, "-")
	path := filepath.Join(dataDir, FileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	return tok, nil
}

// Read returns the data directory's token.
func Read(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNoToken
	}
	if err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Void removes the token (an administrator exists now).
func Void(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Matches compares a token typed by someone with the real one, forgiving
// case, spaces and dashes, in constant time.
func Matches(given, real string) bool {
	if real == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(normalize(given)), []byte(normalize(real))) == 1
}

func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t', '\n':
			return -1
		}
		return r
	}, strings.ToUpper(s))
}
