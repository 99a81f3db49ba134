// Package status keeps the latest result of every monitor on every node
// (and item): what the status view shows, rolled up per scope. A result
// expires: a row nobody refreshed in time is shown as stale, so a runner
// that stopped cannot pass for a healthy one. See pollers/DESIGN.md for
// when rows are written (the replicated store's write budget).
package status

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/sqlpage"
	"github.com/mamori-ops/mamori/pollers/judge"
)

// Row is the latest result of a monitor on a node, for one item ("" for
// a monitor judged as a whole).
type Row struct {
	Monitor     string         `json:"monitor"`
	MonitorName string         `json:"monitor_name"`
	Kind        string         `json:"kind"`
	Node        string         `json:"node"`
	NodeName    string         `json:"node_name"`
	Scope       string         `json:"scope"`
	Item        string         `json:"item"`
	Priority    judge.Priority `json:"priority"`
	Message     string         `json:"message"`
	Value       string         `json:"value"`
	CheckedAt   time.Time      `json:"checked_at"`
	ExpiresAt   time.Time      `json:"expires_at"`
	Stale       bool           `json:"stale"`
	// ChangedAt is when the priority became what it is, Previous what it
	// was, and EventUID the event that recorded the change ("" for a
	// first result of info): a new active hands recent changes to
	// notifications again, under the same key, so none is lost with the
	// old active's queue.
	ChangedAt time.Time      `json:"changed_at"`
	Previous  judge.Priority `json:"previous,omitempty"`
	EventUID  string         `json:"event_uid,omitempty"`
}

// Key identifies a row.
type Key struct{ Monitor, Node, Item string }

// Key is the row's key.
func (r Row) Key() Key { return Key{r.Monitor, r.Node, r.Item} }

// Expiry is how long a result of a monitor checked every interval
// stays fresh: three intervals, so one late or lost check is not stale.
func Expiry(interval time.Duration) time.Duration { return 3 * interval }

// Refresh is how old a stored row may grow before an unchanged result
// is written again: one interval, but at least a minute, so that fast
// monitors cost the replicated store one row a minute while they do not
// change. Stored rows expire after three refresh periods (StoredExpiry).
func Refresh(interval time.Duration) time.Duration { return max(interval, time.Minute) }

// StoredExpiry is the expiry written with a stored row.
func StoredExpiry(interval time.Duration) time.Duration { return 3 * Refresh(interval) }

// Migrations create the status table (versions 720-739).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 720, Name: "monitor status", SQL: []string{
		`CREATE TABLE monitor_status (monitor TEXT NOT NULL, node TEXT NOT NULL, item TEXT NOT NULL,
			monitor_name TEXT NOT NULL, kind TEXT NOT NULL, node_name TEXT NOT NULL, scope TEXT NOT NULL,
			priority TEXT NOT NULL, message TEXT NOT NULL, value TEXT NOT NULL,
			checked_at TEXT NOT NULL, expires_at TEXT NOT NULL, PRIMARY KEY (monitor, node, item))`,
		`CREATE INDEX monitor_status_scope ON monitor_status (scope)`,
		`CREATE INDEX monitor_status_node ON monitor_status (node)`,
	}}, {Version: 721, Name: "monitor status changes", SQL: []string{
		`ALTER TABLE monitor_status ADD COLUMN changed_at TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE monitor_status ADD COLUMN previous TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE monitor_status ADD COLUMN event_uid TEXT NOT NULL DEFAULT ''`,
	}}}
}

// Store is what status needs of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// timeFormat has a fixed width, so stored times compare as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// Upsert is the statement that stores r.
func Upsert(r Row) store.Statement {
	return store.Statement{SQL: `INSERT INTO monitor_status (monitor, node, item, monitor_name, kind, node_name, scope, priority, message, value, checked_at, expires_at,
		changed_at, previous, event_uid)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(monitor, node, item) DO UPDATE SET monitor_name = excluded.monitor_name, kind = excluded.kind,
		node_name = excluded.node_name, scope = excluded.scope, priority = excluded.priority, message = excluded.message, value = excluded.value,
		checked_at = excluded.checked_at, expires_at = excluded.expires_at, changed_at = excluded.changed_at, previous = excluded.previous,
		event_uid = excluded.event_uid
		WHERE excluded.checked_at >= monitor_status.checked_at`, // a late write of an older result loses
		Args: []any{r.Monitor, r.Node, r.Item, r.MonitorName, r.Kind, r.NodeName, r.Scope, string(r.Priority), r.Message, r.Value,
			r.CheckedAt.UTC().Format(timeFormat), r.ExpiresAt.UTC().Format(timeFormat), r.ChangedAt.UTC().Format(timeFormat), string(r.Previous), r.EventUID}}
}

// Remove is the statement that drops a target's rows (a monitor gone
// from a node).
func Remove(monitor, node string) store.Statement {
	return store.Statement{SQL: `DELETE FROM monitor_status WHERE monitor = ? AND node = ?`, Args: []any{monitor, node}}
}

// Filter selects rows.
type Filter struct {
	Scope, Node, Monitor string
	Priority             judge.Priority
	Scopes               []string // the caller's (nil: all)
	After                Key      // pages by key
	Limit                int      // default and most 10000
}

// Match says whether r passes f (the scope list aside).
func (f Filter) Match(r Row) bool {
	return (f.Scope == "" || r.Scope == f.Scope) && (f.Node == "" || r.Node == f.Node) && (f.Monitor == "" || r.Monitor == f.Monitor) &&
		(f.Priority == "" || r.Priority == f.Priority)
}

const columns = `monitor, node, item, monitor_name, kind, node_name, scope, priority, message, value, checked_at, expires_at, changed_at, previous, event_uid`

// List reads stored rows by key, bounded; more says the page was cut.
func List(ctx context.Context, st Store, f Filter, now time.Time) ([]Row, bool, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	where, args := `(monitor, node, item) > (?, ?, ?)`, []any{f.After.Monitor, f.After.Node, f.After.Item}
	add := func(cond string, a any) { where += ` AND ` + cond; args = append(args, a) }
	for _, c := range []struct{ col, v string }{{"scope", f.Scope}, {"node", f.Node}, {"monitor", f.Monitor}, {"priority", string(f.Priority)}} {
		if c.v != "" {
			add(c.col+` = ?`, c.v)
		}
	}
	if f.Scopes != nil {
		b, _ := json.Marshal(f.Scopes)
		add(`scope IN (SELECT value FROM json_each(?))`, string(b))
	}
	order := `monitor, node, item`
	q := `SELECT ` + columns + `, ` + sqlpage.Size(`message, value`) + `+ 200 AS _size FROM monitor_status WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, f.Limit+1, 4<<20)
	rows, err := st.Query(ctx, store.Local, sqlpage.Wrap(q, order), args...)
	if err != nil {
		return nil, false, err
	}
	vals, more := sqlpage.Cut(rows.Values, f.Limit)
	out := make([]Row, 0, len(vals))
	for _, v := range vals {
		out = append(out, scan(v, now))
	}
	return out, more, nil
}

func scan(v []any, now time.Time) Row {
	s := func(i int) string { x, _ := v[i].(string); return x }
	r := Row{Monitor: s(0), Node: s(1), Item: s(2), MonitorName: s(3), Kind: s(4), NodeName: s(5), Scope: s(6),
		Priority: judge.Priority(s(7)), Message: s(8), Value: s(9)}
	r.CheckedAt, _ = time.Parse(timeFormat, s(10))
	r.ExpiresAt, _ = time.Parse(timeFormat, s(11))
	r.ChangedAt, _ = time.Parse(timeFormat, s(12))
	r.Previous, r.EventUID = judge.Priority(s(13)), s(14)
	r.Stale = now.After(r.ExpiresAt)
	return r
}

// All reads every stored row, page by page (a new active's starting point).
func All(ctx context.Context, st Store, now time.Time) ([]Row, error) {
	var out []Row
	f := Filter{}
	for {
		page, more, err := List(ctx, st, f, now)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			return out, nil
		}
		f.After = page[len(page)-1].Key()
	}
}

// ScopeRollup counts a scope's rows by priority.
type ScopeRollup struct {
	Scope    string `json:"scope"`
	Nodes    int    `json:"nodes"`
	Critical int    `json:"critical"`
	Unknown  int    `json:"unknown"`
	Warning  int    `json:"warning"`
	Info     int    `json:"info"`
	Stale    int    `json:"stale"`
}

// Rollup counts rows per scope; a stale row counts as stale only (its
// priority is no longer known).
func Rollup(rows []Row) []ScopeRollup {
	by := map[string]*ScopeRollup{}
	nodes := map[string]map[string]bool{}
	for _, r := range rows {
		s := by[r.Scope]
		if s == nil {
			s = &ScopeRollup{Scope: r.Scope}
			by[r.Scope], nodes[r.Scope] = s, map[string]bool{}
		}
		nodes[r.Scope][r.Node] = true
		switch {
		case r.Stale:
			s.Stale++
		case r.Priority == judge.Critical:
			s.Critical++
		case r.Priority == judge.Unknown:
			s.Unknown++
		case r.Priority == judge.Warning:
			s.Warning++
		default:
			s.Info++
		}
	}
	out := make([]ScopeRollup, 0, len(by))
	for sc, s := range by {
		s.Nodes = len(nodes[sc])
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scope < out[j].Scope })
	return out
}

// Live is the runner's latest rows in memory on the active: fresher than
// the stored ones (which are written on change and refreshed slowly).
// Rows are kept by target, so dropping a target's rows costs its own.
type Live struct {
	mu   sync.RWMutex
	rows map[[2]string]map[string]Row // by monitor and node, then item
}

// NewLive returns an empty set.
func NewLive() *Live { return &Live{rows: map[[2]string]map[string]Row{}} }

// Set keeps r.
func (l *Live) Set(r Row) {
	k := [2]string{r.Monitor, r.Node}
	l.mu.Lock()
	if l.rows[k] == nil {
		l.rows[k] = map[string]Row{}
	}
	l.rows[k][r.Item] = r
	l.mu.Unlock()
}

// Drop forgets a target's rows.
func (l *Live) Drop(monitor, node string) {
	l.mu.Lock()
	delete(l.rows, [2]string{monitor, node})
	l.mu.Unlock()
}

// DropKey forgets one row.
func (l *Live) DropKey(k Key) {
	l.mu.Lock()
	delete(l.rows[[2]string{k.Monitor, k.Node}], k.Item)
	l.mu.Unlock()
}

// RemoveKey is the statement that drops one row.
func RemoveKey(k Key) store.Statement {
	return store.Statement{SQL: `DELETE FROM monitor_status WHERE monitor = ? AND node = ? AND item = ?`, Args: []any{k.Monitor, k.Node, k.Item}}
}

// Reset forgets everything (the runner stopped: this appliance is no
// longer the one checking).
func (l *Live) Reset() {
	l.mu.Lock()
	l.rows = map[[2]string]map[string]Row{}
	l.mu.Unlock()
}

// Rows returns the rows f selects, with Stale set for now.
func (l *Live) Rows(f Filter, now time.Time) []Row {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Row
	for _, items := range l.rows {
		for _, r := range items {
			if f.Match(r) {
				r.Stale = now.After(r.ExpiresAt)
				out = append(out, r)
			}
		}
	}
	return out
}

// Merge overlays live rows on stored ones (the newer check wins) and
// returns them sorted by key.
func Merge(stored, live []Row) []Row {
	by := make(map[Key]Row, len(stored)+len(live))
	for _, r := range stored {
		by[r.Key()] = r
	}
	for _, r := range live {
		if old, ok := by[r.Key()]; !ok || r.CheckedAt.After(old.CheckedAt) {
			by[r.Key()] = r
		}
	}
	out := make([]Row, 0, len(by))
	for _, r := range by {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key(), out[j].Key()
		if a.Monitor != b.Monitor {
			return a.Monitor < b.Monitor
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.Item < b.Item
	})
	return out
}
