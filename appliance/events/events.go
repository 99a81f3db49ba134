// Package events records what happened: failovers, fences, recoveries now;
// monitor results and incidents later. An event raised on a node that
// cannot write (a fenced or standby appliance) is kept pending and handed
// to the active when one is reachable, so the record survives the very
// failures it describes. Each event carries a unique id, so a pending event
// delivered twice is stored once.
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/sqlpage"
)

// Severity of an event.
type Severity string

// Severities, most severe first. Unknown is a monitor's result when its
// check failed (the target is gone, a timeout): graver than warning,
// since nobody knows what the target is doing.
const (
	Critical Severity = "critical"
	Unknown  Severity = "unknown"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Severities lists them, most severe first.
var Severities = []Severity{Critical, Unknown, Warning, Info}

// ValidSeverity says whether s is one of Severities.
func ValidSeverity(s Severity) bool { return slices.Contains(Severities, s) }

// Event is one recorded occurrence.
type Event struct {
	ID       int64     `json:"id,omitempty"`
	UID      string    `json:"uid"`
	At       time.Time `json:"at"`
	Severity Severity  `json:"severity"`
	Kind     string    `json:"kind"`
	Node     string    `json:"node"`
	// Scope places the event in the scope tree; roles see only their
	// scopes. Appliance events (failover, fencing) have the empty scope.
	Scope   string            `json:"scope,omitempty"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	// State is where an operator's handling of the event stands, and
	// StateBy and StateAt who put it there and when (empty while nobody
	// has). A posted event always starts unconfirmed: these fields are
	// read-only on input.
	State   State      `json:"state,omitempty"`
	StateBy string     `json:"state_by,omitempty"`
	StateAt *time.Time `json:"state_at,omitempty"`
	// Comments is how many comments the event has (lists only).
	Comments int `json:"comments,omitempty"`
}

// ErrInvalid: an event is missing a required field.
var ErrInvalid = errors.New("invalid event")

// Migrations create the minimal event model (versions 100-199).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 100, Name: "events", SQL: []string{
		`CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,
			at TEXT NOT NULL, severity TEXT NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
			message TEXT NOT NULL, attrs TEXT NOT NULL DEFAULT '{}')`,
		`CREATE INDEX events_at ON events (at)`,
	}}, {Version: 101, Name: "events scope", SQL: []string{
		`ALTER TABLE events ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX events_scope ON events (scope, id)`,
	}}, incidentMigration}
}

// Store is what the recorder needs of the store.
type Store interface {
	// Exec writes atomically; it fails with store.ErrNotLeader on a standby.
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	// Query reads rows.
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Recorder writes events, keeping those it cannot write yet.
type Recorder struct {
	st   Store
	node string
	mu   sync.Mutex
	pend []Event
}

// NewRecorder returns a recorder for events raised on node.
func NewRecorder(st Store, node string) *Recorder { return &Recorder{st: st, node: node} }

// Record stamps ev and stores it, or keeps it pending if this node cannot write.
func (r *Recorder) Record(ctx context.Context, ev Event) Event {
	ev = r.stamp(ev)
	if err := Insert(ctx, r.st, []Event{ev}); err != nil {
		r.mu.Lock()
		r.pend = append(r.pend, ev)
		r.mu.Unlock()
	}
	return ev
}

func (r *Recorder) stamp(ev Event) Event {
	if ev.UID == "" {
		ev.UID = NewUID()
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if ev.Node == "" {
		ev.Node = r.node
	}
	if ev.Severity == "" {
		ev.Severity = Info
	}
	return ev
}

// Flush hands pending events to send (the local store on the active, the
// active's API on a standby); those send accepts are dropped from pending.
func (r *Recorder) Flush(ctx context.Context, send func(context.Context, []Event) error) error {
	r.mu.Lock()
	batch := append([]Event(nil), r.pend...)
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := send(ctx, batch); err != nil {
		return err
	}
	r.mu.Lock()
	r.pend = r.pend[len(batch):]
	r.mu.Unlock()
	return nil
}

// PendingCount is the number of events not yet stored.
func (r *Recorder) PendingCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pend)
}

// Insert stores events in one transaction; an event already stored (same
// uid) is skipped.
func Insert(ctx context.Context, st Store, evs []Event) error {
	stmts := make([]store.Statement, 0, len(evs))
	for _, ev := range evs {
		stmt, err := InsertStatement(ev)
		if err != nil {
			return err
		}
		stmts = append(stmts, stmt)
	}
	_, err := st.Exec(ctx, stmts...)
	return err
}

// InsertStatement is the statement that stores ev (validated), for a
// caller that writes it in one unit with its own rows (the monitor
// runner: an event and the status row whose change it records).
func InsertStatement(ev Event) (store.Statement, error) {
	if err := Validate(ev); err != nil {
		return store.Statement{}, err
	}
	attrs, _ := json.Marshal(ev.Attrs)
	return store.Statement{
		SQL:  `INSERT OR IGNORE INTO events (uid, at, severity, kind, node, message, attrs, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{ev.UID, ev.At.UTC().Format(time.RFC3339Nano), string(ev.Severity), ev.Kind, ev.Node, ev.Message, string(attrs), ev.Scope},
	}, nil
}

// Validate checks the fields a caller must supply.
func Validate(ev Event) error {
	switch {
	case ev.UID == "" || len(ev.UID) > 128:
		return fmt.Errorf("%w: uid must be 1..128 characters", ErrInvalid)
	case ev.Kind == "" || len(ev.Kind) > 128:
		return fmt.Errorf("%w: kind must be 1..128 characters", ErrInvalid)
	case len(ev.Message) > 64<<10:
		return fmt.Errorf("%w: message is longer than 64 KiB", ErrInvalid)
	case len(ev.Node) > 256 || len(ev.Scope) > 64:
		return fmt.Errorf("%w: node is at most 256 bytes, scope at most 64", ErrInvalid)
	case len(ev.Attrs) > maxAttrs:
		return fmt.Errorf("%w: at most %d attrs", ErrInvalid, maxAttrs)
	}
	for k, v := range ev.Attrs {
		if len(k) > 128 || len(v) > 4<<10 {
			return fmt.Errorf("%w: attr names are at most 128 bytes, values at most 4 KiB", ErrInvalid)
		}
	}
	if ValidSeverity(ev.Severity) {
		return nil
	}
	return fmt.Errorf("%w: severity %q is not critical, unknown, warning or info", ErrInvalid, ev.Severity)
}

// maxAttrs bounds an event's attributes.
const maxAttrs = 64

const listColumns = `id, uid, at, severity, kind, node, message, attrs, scope, state, state_by, state_at`

// List returns events, read from this node's copy, oldest first after
// f.AfterID or newest first before f.BeforeID (f.Desc), and whether more
// remain after them (the limit or f.MaxBytes cut the list).
func List(ctx context.Context, st Store, f Filter) ([]Event, bool, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 1000
	}
	if f.MaxBytes <= 0 {
		f.MaxBytes = 4 << 20
	}
	where, args := f.where()
	order := "id ASC"
	if f.Desc {
		order = "id DESC"
	}
	// The page's ids first, then its rows: the ids alone often come from
	// an index without reading a row (a time range walks events_at and
	// keeps the top ids), and only the page's rows are read.
	q := `SELECT ` + listColumns + `, (SELECT COUNT(*) FROM event_comments c WHERE c.event_uid = events.uid) AS n_comments, ` +
		sqlpage.Size(listColumns) + ` AS _size FROM events WHERE id IN (SELECT id FROM events WHERE ` + where +
		` ORDER BY ` + order + ` LIMIT ?) ORDER BY ` + order
	args = append(args, f.Limit+1, f.MaxBytes)
	rows, err := st.Query(ctx, store.Local, sqlpage.Wrap(q, order), args...)
	if err != nil {
		return nil, false, err
	}
	vals, more := sqlpage.Cut(rows.Values, f.Limit)
	out := make([]Event, 0, len(vals))
	for _, v := range vals {
		ev := scan(v)
		n, _ := v[12].(int64)
		ev.Comments = int(n)
		out = append(out, ev)
	}
	return out, more, nil
}

func scan(v []any) Event {
	s := func(i int) string { x, _ := v[i].(string); return x }
	id, _ := v[0].(int64)
	at, _ := time.Parse(time.RFC3339Nano, s(2))
	ev := Event{ID: id, UID: s(1), At: at, Severity: Severity(s(3)), Kind: s(4), Node: s(5), Message: s(6), Scope: s(8),
		State: State(s(9)), StateBy: s(10)}
	if t, err := time.Parse(time.RFC3339Nano, s(11)); err == nil {
		ev.StateAt = &t
	}
	_ = json.Unmarshal([]byte(s(7)), &ev.Attrs)
	return ev
}

// NewUID returns a random event uid.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Latest returns the newest event of kind, or nil if there is none.
func Latest(ctx context.Context, st Store, kind string) (*Event, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT `+listColumns+` FROM events WHERE kind = ? ORDER BY id DESC LIMIT 1`, kind)
	if err != nil || len(rows.Values) == 0 {
		return nil, err
	}
	ev := scan(rows.Values[0])
	return &ev, nil
}
