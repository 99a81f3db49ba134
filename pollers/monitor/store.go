package monitor

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/sqlpage"
)

// Migrations create the monitor table (versions 700-719).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 700, Name: "monitors", SQL: []string{
		// rev orders changes: the runner reloads when the largest rev or
		// the count moves (a cheap question every few seconds).
		`CREATE TABLE monitors (id TEXT PRIMARY KEY, kind TEXT NOT NULL, node TEXT NOT NULL, scope TEXT NOT NULL,
			owner_role TEXT NOT NULL DEFAULT '', def TEXT NOT NULL, rev INTEGER NOT NULL)`,
		`CREATE INDEX monitors_node ON monitors (node)`,
		`CREATE INDEX monitors_scope ON monitors (scope)`,
	}}}
}

// Store is what monitors need of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Put creates or replaces a monitor (the caller has normalised it).
func Put(ctx context.Context, st Store, m Monitor) error {
	def, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = st.Exec(ctx, store.Statement{SQL: `INSERT INTO monitors (id, kind, node, scope, owner_role, def, rev)
		VALUES (?,?,?,?,?,?, (SELECT COALESCE(MAX(rev), 0) + 1 FROM monitors))
		ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, node = excluded.node, scope = excluded.scope,
			owner_role = excluded.owner_role, def = excluded.def, rev = excluded.rev`,
		Args: []any{m.ID, m.Kind, m.Node, m.Scope, m.OwnerRole, string(def)}})
	return err
}

// Delete removes a monitor.
func Delete(ctx context.Context, st Store, id string) error {
	_, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM monitors WHERE id = ?`, Args: []any{id}})
	return err
}

// Stored is a monitor with the scope it is in: its own, or its node's.
type Stored struct {
	Monitor
	// EffectiveScope is the scope the scope rule and the status view use.
	EffectiveScope string
}

// effective is the scope a monitor row is in.
const effective = `CASE WHEN m.scope != '' THEN m.scope ELSE COALESCE(n.scope, '') END`

// Get returns one monitor.
func Get(ctx context.Context, st Store, id string) (Stored, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT m.def, `+effective+` FROM monitors m LEFT JOIN nodes n ON n.id = m.node WHERE m.id = ?`, id)
	if err != nil {
		return Stored{}, err
	}
	if len(rows.Values) != 1 {
		return Stored{}, ErrNotFound
	}
	return scan(rows.Values[0])
}

// Filter selects monitors.
type Filter struct {
	Kind  string
	Scope string // in this scope (its own or its node's)
	// Node: runs on this node (names it, or is on its scope).
	Node string
	// Scopes are the caller's (nil: all).
	Scopes []string
	// After pages by id; Limit bounds the page (default and most 1000).
	After string
	Limit int
}

// List returns monitors by id after f.After, and whether more remain
// (the limit or the answer's byte bound cut the page).
func List(ctx context.Context, st Store, f Filter) ([]Stored, bool, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	where, args := `m.id > ?`, []any{f.After}
	add := func(cond string, a ...any) { where += ` AND ` + cond; args = append(args, a...) }
	if f.Kind != "" {
		add(`m.kind = ?`, f.Kind)
	}
	if f.Scope != "" {
		add(effective+` = ?`, f.Scope)
	}
	if f.Node != "" {
		add(`(m.node = ? OR (m.scope != '' AND m.scope = (SELECT scope FROM nodes WHERE id = ?)))`, f.Node, f.Node)
	}
	if f.Scopes != nil {
		b, _ := json.Marshal(f.Scopes)
		add(effective+` IN (SELECT value FROM json_each(?))`, string(b))
	}
	const cols = `m.def, ` + effective + ` AS eff, m.id AS id`
	q := `SELECT ` + cols + `, ` + sqlpage.Size(`m.def`) + ` AS _size FROM monitors m LEFT JOIN nodes n ON n.id = m.node WHERE ` + where + ` ORDER BY m.id LIMIT ?`
	args = append(args, f.Limit+1, 4<<20)
	rows, err := st.Query(ctx, store.Local, sqlpage.Wrap(q, "id"), args...)
	if err != nil {
		return nil, false, err
	}
	vals, more := sqlpage.Cut(rows.Values, f.Limit)
	out := make([]Stored, 0, len(vals))
	for _, v := range vals {
		s, err := scan(v)
		if err != nil {
			return nil, false, err
		}
		out = append(out, s)
	}
	return out, more, nil
}

func scan(v []any) (Stored, error) {
	def, _ := v[0].(string)
	sc, _ := v[1].(string)
	var m Monitor
	if err := json.Unmarshal([]byte(def), &m); err != nil {
		return Stored{}, fmt.Errorf("monitor row: %w", err)
	}
	return Stored{Monitor: m, EffectiveScope: sc}, nil
}

// Version is a cheap fingerprint of the monitor table: it changes when
// a monitor is added, replaced or removed.
func Version(ctx context.Context, st Store) (string, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT COUNT(*), COALESCE(MAX(rev), 0) FROM monitors`)
	if err != nil {
		return "", err
	}
	if len(rows.Values) != 1 {
		return "", nil
	}
	return fmt.Sprint(rows.Values[0]...), nil
}

// All reads every monitor, page by page.
func All(ctx context.Context, st Store) ([]Stored, error) {
	var out []Stored
	f := Filter{}
	for {
		page, more, err := List(ctx, st, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			return out, nil
		}
		f.After = page[len(page)-1].ID
	}
}

// Target is one monitor on one node: what the runner schedules.
type Target struct {
	Monitor *Stored
	Node    inventory.Node
}

// Key identifies a target.
func (t Target) Key() string { return t.Monitor.ID + "\x00" + t.Node.ID }

// Expand is every monitor on every node it runs on now: its node, or
// each node of its scope. Disabled monitors and monitors whose node is
// gone run nowhere.
func Expand(ms []Stored, nodes []inventory.Node) []Target {
	byID := make(map[string]inventory.Node, len(nodes))
	byScope := map[string][]inventory.Node{}
	for _, n := range nodes {
		byID[n.ID] = n
		byScope[n.Scope] = append(byScope[n.Scope], n)
	}
	var out []Target
	for i := range ms {
		m := &ms[i]
		if !m.Enabled {
			continue
		}
		if m.Node != "" {
			if n, ok := byID[m.Node]; ok {
				out = append(out, Target{Monitor: m, Node: n})
			}
			continue
		}
		for _, n := range byScope[m.Scope] {
			out = append(out, Target{Monitor: m, Node: n})
		}
	}
	return out
}
