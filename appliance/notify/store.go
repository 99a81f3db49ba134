package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Store is what notify needs of the replicated store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Migrations create the channels, rules, the outbox and the notified
// state (versions 800-849).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 800, Name: "notify", SQL: []string{
		`CREATE TABLE notify_channels (id TEXT PRIMARY KEY, scope TEXT NOT NULL, owner_role TEXT NOT NULL,
			body TEXT NOT NULL, updated_at TEXT NOT NULL)`,
		`CREATE TABLE notify_rules (id TEXT PRIMARY KEY, scope TEXT NOT NULL, owner_role TEXT NOT NULL,
			body TEXT NOT NULL, updated_at TEXT NOT NULL)`,
		// The outbox: one row per notification per channel, recorded
		// before it is sent. status: recorded, held, sent, failed.
		`CREATE TABLE notify_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
			rule TEXT NOT NULL, channel TEXT NOT NULL, monitor TEXT NOT NULL, node TEXT NOT NULL, item TEXT NOT NULL,
			scope TEXT NOT NULL, kind TEXT NOT NULL, priority TEXT NOT NULL, status TEXT NOT NULL,
			window_id TEXT NOT NULL DEFAULT '', payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			next_at TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', recorded_at TEXT NOT NULL, sent_at TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX notify_outbox_due ON notify_outbox (status, next_at)`,
		// What each rule last notified per monitor × node × item: the
		// suppression survives a failover. seq is the state change
		// (event uid or result time) of that notification.
		`CREATE TABLE notify_state (rule TEXT NOT NULL, monitor TEXT NOT NULL, node TEXT NOT NULL, item TEXT NOT NULL,
			priority TEXT NOT NULL, at TEXT NOT NULL, seq TEXT NOT NULL, PRIMARY KEY (rule, monitor, node, item))`,
		`CREATE TABLE notify_cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
		`INSERT INTO notify_cursor (name, value) SELECT 'events', COALESCE(MAX(id), 0) FROM events`,
	}}}
}

const timeFmt = time.RFC3339Nano

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFmt)
}

func parseTime(s string) time.Time { t, _ := time.Parse(timeFmt, s); return t }

// PutChannel validates and stores (or replaces) a channel.
func PutChannel(ctx context.Context, st Store, c Channel, now time.Time) (Channel, error) {
	if err := ValidateChannel(&c); err != nil {
		return c, err
	}
	b, _ := json.Marshal(c)
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO notify_channels (id, scope, owner_role, body, updated_at) VALUES (?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, owner_role = excluded.owner_role, body = excluded.body, updated_at = excluded.updated_at`,
		Args: []any{c.ID, c.Scope, c.OwnerRole, string(b), fmtTime(now)}})
	return c, err
}

// PutRule validates and stores (or replaces) a rule.
func PutRule(ctx context.Context, st Store, r Rule, now time.Time) (Rule, error) {
	if err := ValidateRule(&r); err != nil {
		return r, err
	}
	b, _ := json.Marshal(r)
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO notify_rules (id, scope, owner_role, body, updated_at) VALUES (?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, owner_role = excluded.owner_role, body = excluded.body, updated_at = excluded.updated_at`,
		Args: []any{r.ID, r.Scope, r.OwnerRole, string(b), fmtTime(now)}})
	return r, err
}

// Channels lists the channels (in scopes, nil: all), by id.
func Channels(ctx context.Context, st Store, scopes []string) ([]Channel, error) {
	out := []Channel{}
	err := listBodies(ctx, st, "notify_channels", scopes, func(b []byte) error {
		var c Channel
		out = append(out, c)
		return json.Unmarshal(b, &out[len(out)-1])
	})
	return out, err
}

// Rules lists the rules (in scopes, nil: all), by id.
func Rules(ctx context.Context, st Store, scopes []string) ([]Rule, error) {
	out := []Rule{}
	err := listBodies(ctx, st, "notify_rules", scopes, func(b []byte) error {
		var r Rule
		out = append(out, r)
		return json.Unmarshal(b, &out[len(out)-1])
	})
	return out, err
}

func listBodies(ctx context.Context, st Store, table string, scopes []string, each func([]byte) error) error {
	q, args := `SELECT body FROM `+table, []any{}
	if scopes != nil {
		q += ` WHERE scope IN (` + placeholders(len(scopes)) + `)`
		for _, s := range scopes {
			args = append(args, s)
		}
	}
	rows, err := st.Query(ctx, store.Local, q+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	for _, v := range rows.Values {
		s, _ := v[0].(string)
		if err := each([]byte(s)); err != nil {
			return fmt.Errorf("%s: damaged row: %w", table, err)
		}
	}
	return nil
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// GetChannel returns one channel.
func GetChannel(ctx context.Context, st Store, id string) (Channel, error) {
	var c Channel
	return c, getBody(ctx, st, "notify_channels", "channel", id, &c)
}

// GetRule returns one rule.
func GetRule(ctx context.Context, st Store, id string) (Rule, error) {
	var r Rule
	return r, getBody(ctx, st, "notify_rules", "rule", id, &r)
}

func getBody(ctx context.Context, st Store, table, what, id string, into any) error {
	rows, err := st.Query(ctx, store.Local, `SELECT body FROM `+table+` WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if len(rows.Values) != 1 {
		return fmt.Errorf("%w: no %s %q", ErrNotFound, what, id)
	}
	s, _ := rows.Values[0][0].(string)
	return json.Unmarshal([]byte(s), into)
}

// DeleteChannel removes a channel.
func DeleteChannel(ctx context.Context, st Store, id string) error {
	_, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM notify_channels WHERE id = ?`, Args: []any{id}})
	return err
}

// DeleteRule removes a rule and what it last notified.
func DeleteRule(ctx context.Context, st Store, id string) error {
	_, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM notify_rules WHERE id = ?`, Args: []any{id}},
		store.Statement{SQL: `DELETE FROM notify_state WHERE rule = ?`, Args: []any{id}})
	return err
}

// Status of a notification in the outbox.
const (
	Recorded = "recorded" // to be sent
	Held     = "held"     // a maintenance window holds it: never sent
	Sent     = "sent"     // the receiver accepted it
	Failed   = "failed"   // every attempt failed
)

// Kinds of notification.
const (
	KindProblem  = "problem"  // a priority the rule covers
	KindRecovery = "recovery" // back to info after a notified problem
	KindEvent    = "event"    // an appliance event
	KindRelease  = "release"  // the state at the end of a maintenance window
	KindTest     = "test"     // "send test notification"
)

// Notification is one notification to one channel, as recorded.
type Notification struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Kind        string    `json:"kind"`
	Rule        string    `json:"rule"`
	Channel     string    `json:"channel"`
	Monitor     string    `json:"monitor,omitempty"`
	MonitorName string    `json:"monitor_name,omitempty"`
	MonitorKind string    `json:"monitor_kind,omitempty"`
	Node        string    `json:"node,omitempty"`
	NodeName    string    `json:"node_name,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	Item        string    `json:"item,omitempty"`
	Priority    string    `json:"priority"`
	Previous    string    `json:"previous,omitempty"`
	Message     string    `json:"message"`
	Value       string    `json:"value,omitempty"`
	At          time.Time `json:"at"`
	EventKind   string    `json:"event_kind,omitempty"`
	EventUID    string    `json:"event_uid,omitempty"`
	// Resolves is the key of the problem notification a recovery closes
	// (the PagerDuty dedup_key of the resolve).
	Resolves   string     `json:"resolves,omitempty"`
	Status     string     `json:"status"`
	Window     string     `json:"window,omitempty"`
	Attempts   int        `json:"attempts"`
	Error      string     `json:"error,omitempty"`
	RecordedAt time.Time  `json:"recorded_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
}

// Key is a notification's stable key: the same rule, channel, monitor,
// node, item and state change (event uid, or the result's sequence) give
// the same key on either appliance.
func Key(rule, channel, monitor, node, item, seq string) string {
	h := sha256.New()
	for _, s := range []string{rule, channel, monitor, node, item, seq} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// recordStmt inserts n unless its key is recorded already.
func recordStmt(n Notification) store.Statement {
	b, _ := json.Marshal(n)
	return store.Statement{SQL: `INSERT OR IGNORE INTO notify_outbox (key, rule, channel, monitor, node, item, scope, kind, priority,
		status, window_id, payload, next_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		Args: []any{n.Key, n.Rule, n.Channel, n.Monitor, n.Node, n.Item, n.Scope, n.Kind, n.Priority, n.Status, n.Window,
			string(b), fmtTime(n.RecordedAt), fmtTime(n.RecordedAt)}}
}

const outboxColumns = `id, key, status, window_id, payload, attempts, error, recorded_at, sent_at`

func scanOutbox(v []any) Notification {
	s := func(i int) string { x, _ := v[i].(string); return x }
	var n Notification
	_ = json.Unmarshal([]byte(s(4)), &n)
	n.ID, _ = v[0].(int64)
	n.Key, n.Status, n.Window, n.Error = s(1), s(2), s(3), s(6)
	a, _ := v[5].(int64)
	n.Attempts = int(a)
	n.RecordedAt = parseTime(s(7))
	if t := parseTime(s(8)); !t.IsZero() {
		n.SentAt = &t
	}
	return n
}

// due returns up to limit notifications to send now, oldest first.
func due(ctx context.Context, st Store, now time.Time, limit int) ([]Notification, error) {
	rows, err := st.Query(ctx, store.Strong, `SELECT `+outboxColumns+` FROM notify_outbox WHERE status = ? AND next_at <= ? ORDER BY id LIMIT ?`,
		Recorded, fmtTime(now), limit)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(rows.Values))
	for _, v := range rows.Values {
		out = append(out, scanOutbox(v))
	}
	return out, nil
}

// LogFilter selects notifications of the log.
type LogFilter struct {
	Status, Rule, Channel, Monitor, Node string
	Scopes                               []string // nil: every scope
	Before                               int64    // newest first before this id (0: from the newest)
	Limit                                int
}

// Log returns notifications, newest first, and whether more remain.
func Log(ctx context.Context, st Store, f LogFilter) ([]Notification, bool, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	where, args := []string{"1=1"}, []any{}
	for col, v := range map[string]string{"status": f.Status, "rule": f.Rule, "channel": f.Channel, "monitor": f.Monitor, "node": f.Node} {
		if v != "" {
			where, args = append(where, col+" = ?"), append(args, v)
		}
	}
	if f.Scopes != nil {
		where = append(where, "scope IN ("+placeholders(len(f.Scopes))+")")
		for _, s := range f.Scopes {
			args = append(args, s)
		}
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	rows, err := st.Query(ctx, store.Local, `SELECT `+outboxColumns+` FROM notify_outbox WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, false, err
	}
	out := []Notification{}
	for i, v := range rows.Values {
		if i == f.Limit {
			return out, true, nil
		}
		out = append(out, scanOutbox(v))
	}
	return out, false, nil
}

// RulesUsingCalendar lists the ids of rules that notify only inside a
// calendar's business time (at most 100).
func RulesUsingCalendar(ctx context.Context, st Store, calendarID string) ([]string, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT id FROM notify_rules WHERE body->>'calendar' = ? ORDER BY id LIMIT 100`, calendarID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, v := range rows.Values {
		s, _ := v[0].(string)
		out = append(out, s)
	}
	return out, nil
}
