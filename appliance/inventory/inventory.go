// Package inventory holds the managed nodes: their address, the scope
// they belong to (what roles see them), and how to reach them (SNMP
// settings per node, with keys referenced by name in the sealed credential
// store, never stored here). Monitors and jobs hang on these nodes.
package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/mamori-ops/mamori/appliance/store"
)

var (
	// ErrInvalid: a node definition is wrong.
	ErrInvalid = errors.New("invalid node")
	// ErrNotFound: no such node.
	ErrNotFound = errors.New("no such node")
	// ErrAddressTaken: another node has this address (see AddressTaken).
	ErrAddressTaken = errors.New("address taken")
)

// AddressTaken is the refusal of a node whose address another node has:
// addresses are unique within the pair, because received messages take
// the scope of the node whose address sent them.
type AddressTaken struct {
	Address string
	Holder  Node // the node that has it
}

func (e *AddressTaken) Error() string {
	return fmt.Sprintf("address %s is node %s's", e.Address, e.Holder.ID)
}

// Unwrap is ErrAddressTaken.
func (e *AddressTaken) Unwrap() error { return ErrAddressTaken }

// SNMP is a node's SNMP settings. Version 3 uses the USM user with keys
// from the credentials named here; version 2c uses a community credential.
type SNMP struct {
	Version        string `json:"version"` // "3" or "2c"
	Port           int    `json:"port,omitempty"`
	User           string `json:"user,omitempty"`
	SecurityLevel  string `json:"security_level,omitempty"` // authPriv, authNoPriv, noAuthNoPriv
	AuthProtocol   string `json:"auth_protocol,omitempty"`  // SHA, SHA-224, SHA-256, SHA-384, SHA-512
	AuthCredential string `json:"auth_credential,omitempty"`
	PrivProtocol   string `json:"priv_protocol,omitempty"` // AES, AES-192, AES-256
	PrivCredential string `json:"priv_credential,omitempty"`
	// CommunityCredential names the v2c community (a secret too).
	CommunityCredential string `json:"community_credential,omitempty"`
}

// Node is one managed host or device.
type Node struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Scope   string `json:"scope"`
	// OwnerRole, if set, is the role whose members (besides
	// administrators) may change or remove this node: an object privilege
	// on top of the function privilege inventory:modify.
	OwnerRole string `json:"owner_role,omitempty"`
	SNMP      *SNMP  `json:"snmp,omitempty"`
}

// Migrations create the node table (versions 400-499).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 400, Name: "nodes", SQL: []string{
		`CREATE TABLE nodes (id TEXT PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL, scope TEXT NOT NULL, snmp TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX nodes_scope ON nodes (scope)`,
	}}, {Version: 401, Name: "node owner role", SQL: []string{
		`ALTER TABLE nodes ADD COLUMN owner_role TEXT NOT NULL DEFAULT ''`,
	}}, {Version: 402, Name: "unique node addresses", SQL: []string{
		// Triggers rather than a unique index: a store may already hold
		// two nodes with one address (then neither gets that address's
		// messages, see the ingest); no new write may make another pair.
		`CREATE INDEX nodes_address ON nodes (address)`,
		`CREATE TRIGGER nodes_address_insert BEFORE INSERT ON nodes
			WHEN EXISTS (SELECT 1 FROM nodes WHERE address = NEW.address AND id != NEW.id)
			BEGIN SELECT RAISE(ABORT, '` + addressTakenMsg + `'); END`,
		`CREATE TRIGGER nodes_address_update BEFORE UPDATE OF address ON nodes
			WHEN EXISTS (SELECT 1 FROM nodes WHERE address = NEW.address AND id != NEW.id)
			BEGIN SELECT RAISE(ABORT, '` + addressTakenMsg + `'); END`,
	}}}
}

// addressTakenMsg is what the triggers abort a write with.
const addressTakenMsg = "node address taken"

// Store is what inventory needs of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

var (
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
)

// Field limits.
const (
	maxName  = 256
	maxScope = 64
)

// Validate checks a node definition.
func (n Node) Validate() error {
	switch {
	case !idRE.MatchString(n.ID):
		return fmt.Errorf("%w: id must be 1-64 letters, digits, . _ -", ErrInvalid)
	case net.ParseIP(n.Address) == nil && !hostRE.MatchString(n.Address):
		return fmt.Errorf("%w: address %q is neither an IP address nor a host name", ErrInvalid, n.Address)
	case len(n.Name) > maxName:
		return fmt.Errorf("%w: name is longer than %d bytes", ErrInvalid, maxName)
	case len(n.Scope) > maxScope || len(n.OwnerRole) > maxScope:
		return fmt.Errorf("%w: scope and owner_role are at most %d bytes", ErrInvalid, maxScope)
	}
	if n.SNMP != nil {
		return n.SNMP.validate()
	}
	return nil
}

func (s SNMP) validate() error {
	bad := func(f string, args ...any) error {
		return fmt.Errorf("%w: snmp: "+f, append([]any{ErrInvalid}, args...)...)
	}
	if s.Port < 0 || s.Port > 65535 {
		return bad("port %d is outside 1..65535", s.Port)
	}
	switch s.Version {
	case "2c":
		if s.CommunityCredential == "" {
			return bad("version 2c needs community_credential")
		}
		return nil
	case "3":
	default:
		return bad("version must be \"3\" or \"2c\"")
	}
	if s.User == "" || len(s.User) > 64 {
		return bad("version 3 needs a user (at most 64 bytes)")
	}
	needAuth, needPriv := false, false
	switch s.SecurityLevel {
	case "authPriv":
		needAuth, needPriv = true, true
	case "authNoPriv":
		needAuth = true
	case "noAuthNoPriv":
	default:
		return bad("security_level must be authPriv, authNoPriv or noAuthNoPriv")
	}
	if needAuth && (!slices.Contains([]string{"SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}, s.AuthProtocol) || s.AuthCredential == "") {
		return bad("auth_protocol (SHA, SHA-224, SHA-256, SHA-384, SHA-512) and auth_credential are needed")
	}
	if needPriv && (!slices.Contains([]string{"AES", "AES-192", "AES-256"}, s.PrivProtocol) || s.PrivCredential == "") {
		return bad("priv_protocol (AES, AES-192, AES-256) and priv_credential are needed")
	}
	return nil
}

// Normalize writes an address the way senders' addresses are compared:
// an IP address in its canonical form, a host name in lower case.
func Normalize(address string) string {
	if ip := net.ParseIP(address); ip != nil {
		return ip.String()
	}
	return strings.ToLower(address)
}

// Put stores (or replaces) a node; its address is normalised (Normalize).
// A node whose address another node has is refused with *AddressTaken.
func Put(ctx context.Context, st Store, n Node) error {
	if err := n.Validate(); err != nil {
		return err
	}
	n.Address = Normalize(n.Address)
	snmp := ""
	if n.SNMP != nil {
		b, _ := json.Marshal(n.SNMP)
		snmp = string(b)
	}
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO nodes (id, name, address, scope, snmp, owner_role) VALUES (?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET name = excluded.name, address = excluded.address, scope = excluded.scope, snmp = excluded.snmp, owner_role = excluded.owner_role`,
		Args: []any{n.ID, n.Name, n.Address, n.Scope, snmp, n.OwnerRole}})
	if err != nil && strings.Contains(err.Error(), addressTakenMsg) {
		holder, gerr := ByAddress(ctx, st, n.Address, n.ID)
		if gerr != nil {
			return fmt.Errorf("%w: %s", ErrAddressTaken, n.Address)
		}
		return &AddressTaken{Address: n.Address, Holder: holder}
	}
	return err
}

// ByAddress returns a node with address other than the node except.
func ByAddress(ctx context.Context, st Store, address, except string) (Node, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT id, name, address, scope, snmp, owner_role FROM nodes WHERE address = ? AND id != ? ORDER BY id LIMIT 1`,
		Normalize(address), except)
	if err != nil {
		return Node{}, err
	}
	if len(rows.Values) != 1 {
		return Node{}, ErrNotFound
	}
	return scan(rows.Values[0]), nil
}

// List returns the nodes in scopes (nil: all).
func List(ctx context.Context, st Store, scopes []string) ([]Node, error) {
	q, args := `SELECT id, name, address, scope, snmp, owner_role FROM nodes`, []any{}
	if scopes != nil {
		b, _ := json.Marshal(scopes)
		q += ` WHERE scope IN (SELECT value FROM json_each(?))`
		args = append(args, string(b))
	}
	rows, err := st.Query(ctx, store.Local, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(rows.Values))
	for _, v := range rows.Values {
		out = append(out, scan(v))
	}
	return out, nil
}

// Get returns one node.
func Get(ctx context.Context, st Store, id string) (Node, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT id, name, address, scope, snmp, owner_role FROM nodes WHERE id = ?`, id)
	if err != nil {
		return Node{}, err
	}
	if len(rows.Values) != 1 {
		return Node{}, ErrNotFound
	}
	return scan(rows.Values[0]), nil
}

func scan(v []any) Node {
	s := func(i int) string { x, _ := v[i].(string); return x }
	n := Node{ID: s(0), Name: s(1), Address: s(2), Scope: s(3), OwnerRole: s(5)}
	if raw := s(4); raw != "" {
		n.SNMP = &SNMP{}
		_ = json.Unmarshal([]byte(raw), n.SNMP)
	}
	return n
}
