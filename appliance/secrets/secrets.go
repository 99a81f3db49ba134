// Package secrets encrypts credentials at rest (SNMP keys, database and
// SMTP passwords): AES-256-GCM under a key kept in a 0600 file on each
// appliance, never in the store. Both appliances hold the same key (it is
// handed over at pairing, inside the pinned channel), so a credential
// stored on one opens on the other after a failover.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/fileutil"
)

var (
	// ErrNoKey: the key file is missing or damaged.
	ErrNoKey = errors.New("secrets key missing or damaged")
	// ErrOpen: a sealed value does not open with this key.
	ErrOpen = errors.New("sealed value does not open with this appliance's key")
	// ErrInvalid: a credential definition is wrong.
	ErrInvalid = errors.New("invalid credential")
	// ErrNotFound: no credential of that name.
	ErrNotFound = errors.New("no such credential")
)

// KeyFile is the key's file name inside the data directory.
const KeyFile = "secrets.key"

// Box seals and opens values.
type Box struct{ aead cipher.AEAD }

// EnsureKey creates the key file if it does not exist and returns the key.
func EnsureKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, KeyFile)
	if b, err := os.ReadFile(path); err == nil {
		return decodeKey(b)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := InstallKey(dataDir, key); err != nil {
		return nil, err
	}
	return key, nil
}

// InstallKey writes key as this appliance's key (used at pairing).
func InstallKey(dataDir string, key []byte) error {
	if len(key) != 32 {
		return ErrNoKey
	}
	return fileutil.WriteAtomic(filepath.Join(dataDir, KeyFile), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
}

// LoadKey reads the key file.
func LoadKey(dataDir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	return decodeKey(b)
}

func decodeKey(b []byte) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, ErrNoKey
	}
	return key, nil
}

// NewBox returns a box for key.
func NewBox(key []byte) (*Box, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext; aad binds it to its place (e.g. the credential
// name), so a sealed value copied to another row does not open there.
func (b *Box) Seal(plaintext, aad string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return "v1:" + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a sealed value.
func (b *Box) Open(sealed, aad string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}

// Credential is a named secret as the API shows it: never the secret.
type Credential struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Username  string    `json:"username,omitempty"`
	Scope     string    `json:"scope,omitempty"`
	SecretSet bool      `json:"secret_set"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Kinds of credential.
var kinds = map[string]bool{"snmpv3-auth": true, "snmpv3-priv": true, "database": true, "smtp": true, "password": true}

// Migrations create the credential store (versions 300-399).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 300, Name: "credentials", SQL: []string{
		`CREATE TABLE credentials (name TEXT PRIMARY KEY, kind TEXT NOT NULL, username TEXT NOT NULL, scope TEXT NOT NULL,
			sealed TEXT NOT NULL, updated_at TEXT NOT NULL)`,
	}}}
}

// Store is what the credential store needs.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Put seals and stores (or replaces) a credential.
func Put(ctx context.Context, st Store, box *Box, c Credential, secret string) error {
	if !nameRE.MatchString(c.Name) || !kinds[c.Kind] || secret == "" || len(secret) > 4096 {
		return fmt.Errorf("%w: name 1-64 letters/digits/._-, kind one of snmpv3-auth, snmpv3-priv, database, smtp, password, and a secret (at most 4096 bytes)", ErrInvalid)
	}
	if len(c.Username) > 256 || len(c.Scope) > 64 {
		return fmt.Errorf("%w: username is at most 256 bytes, scope at most 64", ErrInvalid)
	}
	sealed, err := box.Seal(secret, "credential:"+c.Name)
	if err != nil {
		return err
	}
	_, err = st.Exec(ctx, store.Statement{SQL: `INSERT INTO credentials (name, kind, username, scope, sealed, updated_at) VALUES (?,?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, username = excluded.username, scope = excluded.scope, sealed = excluded.sealed, updated_at = excluded.updated_at`,
		Args: []any{c.Name, c.Kind, c.Username, c.Scope, sealed, time.Now().UTC().Format(time.RFC3339Nano)}})
	return err
}

// List returns credentials without their secrets.
func List(ctx context.Context, st Store) ([]Credential, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT name, kind, username, scope, sealed != '', updated_at FROM credentials ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := []Credential{}
	for _, v := range rows.Values {
		out = append(out, scan(v))
	}
	return out, nil
}

// Get returns one credential without its secret.
func Get(ctx context.Context, st Store, name string) (Credential, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT name, kind, username, scope, sealed != '', updated_at FROM credentials WHERE name = ?`, name)
	if err != nil {
		return Credential{}, err
	}
	if len(rows.Values) != 1 {
		return Credential{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return scan(rows.Values[0]), nil
}

func scan(v []any) Credential {
	s := func(i int) string { x, _ := v[i].(string); return x }
	set, _ := v[4].(int64)
	at, _ := time.Parse(time.RFC3339Nano, s(5))
	return Credential{Name: s(0), Kind: s(1), Username: s(2), Scope: s(3), SecretSet: set == 1, UpdatedAt: at}
}

// Reveal opens a credential's secret for a feature that uses it (a poller,
// a mail notifier). It is never exposed through the API.
func Reveal(ctx context.Context, st Store, box *Box, name string) (string, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT sealed FROM credentials WHERE name = ?`, name)
	if err != nil {
		return "", err
	}
	if len(rows.Values) != 1 {
		return "", fmt.Errorf("%w: no credential %q", ErrInvalid, name)
	}
	sealed, _ := rows.Values[0][0].(string)
	return box.Open(sealed, "credential:"+name)
}
