package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/appliance/store"
)

// State is where an operator's handling of an event stands. Any state
// may follow any other: an operator takes an event (confirming), closes
// it (confirmed), or opens it again (unconfirmed).
type State string

// States, in the order an incident usually moves.
const (
	Unconfirmed State = "unconfirmed"
	Confirming  State = "confirming"
	Confirmed   State = "confirmed"
)

// States lists every state.
var States = []State{Unconfirmed, Confirming, Confirmed}

// ParseState checks a state's name.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w: state %q is not unconfirmed, confirming or confirmed", ErrInvalid, s)
}

// ErrNotFound: no such event, or not in the caller's scopes (the caller
// cannot tell which).
var ErrNotFound = errors.New("no such event")

// MaxCommentBytes bounds one comment.
const MaxCommentBytes = 4 << 10

// incidentMigration adds the handling state and comments, and the
// indexes that keep filtered, newest-first lists fast on large tables:
// each filterable column with id, so "WHERE col = ? AND id < ? ORDER BY
// id DESC LIMIT n" walks one index range backwards and stops after n.
// Comments go with their event: retention deletes events in batches by
// id, and the trigger deletes their comments in the same statement.
var incidentMigration = store.Migration{Version: 102, Name: "event states and comments", SQL: []string{
	`ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT 'unconfirmed'`,
	`ALTER TABLE events ADD COLUMN state_by TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE events ADD COLUMN state_at TEXT NOT NULL DEFAULT ''`,
	`CREATE INDEX events_state ON events (state, id)`,
	`CREATE INDEX events_severity ON events (severity, id)`,
	`CREATE INDEX events_node ON events (node, id)`,
	`CREATE INDEX events_kind ON events (kind, id)`,
	`CREATE TABLE event_comments (id INTEGER PRIMARY KEY AUTOINCREMENT, event_uid TEXT NOT NULL,
		at TEXT NOT NULL, user TEXT NOT NULL, text TEXT NOT NULL)`,
	`CREATE INDEX event_comments_uid ON event_comments (event_uid, id)`,
	`CREATE TRIGGER events_comments_gone AFTER DELETE ON events BEGIN
		DELETE FROM event_comments WHERE event_uid = old.uid; END`,
}}

// Filter narrows List and SetState. Zero fields do not filter.
type Filter struct {
	Kind string
	Node string
	// Scope keeps events of these scopes (nil: any; [""] is the
	// appliance's own events).
	Scope      []string
	Severities []Severity
	States     []State
	// Text is a substring of the message (case-insensitive for ASCII).
	Text         string
	Since, Until time.Time // at >= Since, at < Until
	IDs          []int64
	// Scopes limits the result to the caller's scopes; nil means all.
	Scopes []string
	// AfterID and BeforeID are keyset cursors (exclusive).
	AfterID, BeforeID int64
	// Desc lists newest first (before BeforeID) instead of oldest first.
	Desc  bool
	Limit int
	// MaxBytes bounds the events' size in one answer (0: 4 MiB).
	MaxBytes int
}

// where is the filter as an SQL condition on events, with its arguments.
func (f Filter) where() (string, []any) {
	conds := []string{"true"}
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.AfterID > 0 {
		add(`id > ?`, f.AfterID)
	}
	if f.BeforeID > 0 {
		add(`id < ?`, f.BeforeID)
	}
	if f.IDs != nil {
		add(`id IN (SELECT value FROM json_each(?))`, jsonList(f.IDs))
	}
	for _, eq := range []struct{ col, v string }{{"kind", f.Kind}, {"node", f.Node}} {
		if eq.v != "" {
			add(eq.col+` = ?`, eq.v)
		}
	}
	// One value is an equality, so the planner walks the (col, id) index.
	in := func(col string, vals []string) {
		switch {
		case vals == nil:
		case len(vals) == 1:
			add(col+` = ?`, vals[0])
		default:
			add(col+` IN (SELECT value FROM json_each(?))`, jsonList(vals))
		}
	}
	in("severity", strs(f.Severities))
	in("state", strs(f.States))
	in("scope", f.Scope)
	if f.Scopes != nil {
		add(`scope IN (SELECT value FROM json_each(?))`, jsonList(f.Scopes))
	}
	if f.Text != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Text)
		add(`message LIKE ? ESCAPE '\'`, "%"+esc+"%")
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		add(`at < ?`, f.Until.UTC().Format(time.RFC3339Nano))
	}
	return strings.Join(conds, " AND "), args
}

func strs[T ~string](xs []T) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func jsonList(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Change is one change of state of the events a filter selects (by ids,
// or by any filter), made by a user at a time.
type Change struct {
	State State
	By    string
	At    time.Time
	Where Filter
}

// SetState applies a change in one statement (one Raft entry) and
// returns how many events changed; events already in the state are
// left as they are and not counted. The caller limits Where.Scopes to
// its scopes, so events outside them are never touched.
func SetState(ctx context.Context, st Store, c Change) (int64, error) {
	if _, err := ParseState(string(c.State)); err != nil {
		return 0, err
	}
	where, args := c.Where.where()
	res, err := st.Exec(ctx, store.Statement{
		SQL:  `UPDATE events SET state = ?, state_by = ?, state_at = ? WHERE ` + where + ` AND state <> ?`,
		Args: append(append([]any{string(c.State), c.By, c.At.UTC().Format(time.RFC3339Nano)}, args...), string(c.State)),
	})
	if err != nil {
		return 0, err
	}
	return res[0].RowsAffected, nil
}

// Comment is one note an operator wrote on an event.
type Comment struct {
	ID   int64     `json:"id"`
	At   time.Time `json:"at"`
	User string    `json:"user"`
	Text string    `json:"text"`
}

// AddComment adds a comment to the event with id, if the event is in
// scopes (nil: all); else ErrNotFound.
func AddComment(ctx context.Context, st Store, id int64, scopes []string, c Comment) (Comment, error) {
	c.Text = strings.TrimSpace(c.Text)
	if c.Text == "" || len(c.Text) > MaxCommentBytes || !utf8.ValidString(c.Text) {
		return c, fmt.Errorf("%w: a comment is 1..%d bytes of UTF-8 text", ErrInvalid, MaxCommentBytes)
	}
	where, args := Filter{IDs: []int64{id}, Scopes: scopes}.where()
	res, err := st.Exec(ctx, store.Statement{
		SQL:  `INSERT INTO event_comments (event_uid, at, user, text) SELECT uid, ?, ?, ? FROM events WHERE ` + where,
		Args: append([]any{c.At.UTC().Format(time.RFC3339Nano), c.User, c.Text}, args...),
	})
	if err != nil {
		return c, err
	}
	if res[0].RowsAffected == 0 {
		return c, ErrNotFound
	}
	c.ID = res[0].LastInsertID
	return c, nil
}

// Get returns the event with id and its comments, oldest first, if it is
// in scopes (nil: all); else ErrNotFound.
func Get(ctx context.Context, st Store, id int64, scopes []string) (Event, []Comment, error) {
	evs, _, err := List(ctx, st, Filter{IDs: []int64{id}, Scopes: scopes, Limit: 1})
	if err != nil {
		return Event{}, nil, err
	}
	if len(evs) == 0 {
		return Event{}, nil, ErrNotFound
	}
	rows, err := st.Query(ctx, store.Local, `SELECT id, at, user, text FROM event_comments WHERE event_uid = ? ORDER BY id`, evs[0].UID)
	if err != nil {
		return Event{}, nil, err
	}
	cs := make([]Comment, 0, len(rows.Values))
	for _, v := range rows.Values {
		cid, _ := v[0].(int64)
		at, _ := v[1].(string)
		user, _ := v[2].(string)
		text, _ := v[3].(string)
		t, _ := time.Parse(time.RFC3339Nano, at)
		cs = append(cs, Comment{ID: cid, At: t, User: user, Text: text})
	}
	return evs[0], cs, nil
}

// Count returns how many events a filter selects (its cursors, limit and
// order aside from AfterID/BeforeID, which bound it like the other fields).
func Count(ctx context.Context, st Store, f Filter) (int64, error) {
	where, args := f.where()
	rows, err := st.Query(ctx, store.Local, `SELECT COUNT(*) FROM events WHERE `+where, args...)
	if err != nil {
		return 0, err
	}
	if len(rows.Values) != 1 {
		return 0, fmt.Errorf("count events: %d rows", len(rows.Values))
	}
	n, _ := rows.Values[0][0].(int64)
	return n, nil
}
