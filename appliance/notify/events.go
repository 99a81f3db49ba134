package notify

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Appliance events (failover, fencing, recovery, split brain...) notify
// through rules that name their kinds. The active tails the events table
// from a cursor kept in the store and moved in the same write as the
// notifications it records, so each event notifies once across failovers
// (and a key that is recorded already is not recorded again). The
// cursor starts where the events were when notify's schema was made
// (migration 800): older events are history, not news.

const eventsCursor = "events"

// eventBatch bounds the events read per tick.
const eventBatch = 500

type tailedEvent struct {
	id                                   int64
	uid, at, severity, kind, node, scope string
	message                              string
	attrs                                map[string]string
}

// lastEventID is the newest event's id (-1 if unreadable).
func (n *Notifier) lastEventID(ctx context.Context) int64 {
	rows, err := n.opts.Store.Query(ctx, store.Strong, `SELECT COALESCE(MAX(id), 0) FROM events`)
	if err != nil || len(rows.Values) == 0 {
		return -1
	}
	end, _ := rows.Values[0][0].(int64)
	return end
}

// tailEvents records the notifications of the events after the cursor.
// end is the newest event id read before the rules were: with no event
// rule the cursor moves up to it, never past an event stored after a
// rule the reload may not have seen.
func (n *Notifier) tailEvents(ctx context.Context, end int64) {
	cursor, ok, err := n.cursor(ctx)
	if err != nil {
		n.opts.Log.Warn("notify: cannot read the events cursor", "err", err)
		return
	}
	if !ok || !n.anyEventRule() {
		// Keep up, so that a rule made later notifies what follows it,
		// not the backlog of when there was none.
		if end > cursor || !ok {
			n.setCursor(ctx, end)
		}
		return
	}
	// A flood of events catches up a bounded number of batches per tick.
	for range 20 {
		next, more := n.tailBatch(ctx, cursor, end)
		if next <= cursor || !more {
			return
		}
		cursor = next
	}
}

// tailBatch records the notifications of the events after cursor, up to
// end, of the kinds the rules name, one batch; it returns the new cursor
// and whether events of those kinds may remain.
func (n *Notifier) tailBatch(ctx context.Context, cursor, end int64) (int64, bool) {
	q, args := `SELECT id, uid, at, severity, kind, node, scope, message, attrs FROM events WHERE id > ? AND id <= ?`, []any{cursor, end}
	if kinds := n.eventKinds(); kinds != nil {
		q += ` AND kind IN (` + placeholders(len(kinds)) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	rows, err := n.opts.Store.Query(ctx, store.Local, q+` ORDER BY id LIMIT ?`, append(args, eventBatch)...)
	if err != nil {
		n.opts.Log.Warn("notify: cannot read the events", "err", err)
		return cursor, false
	}
	next, more := end, len(rows.Values) == eventBatch
	var stmts []store.Statement
	for _, v := range rows.Values {
		ev := scanEvent(v)
		stmts = append(stmts, n.eventNotifications(ctx, ev)...)
		if more {
			next = ev.id
		}
	}
	if next <= cursor {
		return cursor, false
	}
	stmts = append(stmts, store.Statement{SQL: `UPDATE notify_cursor SET value = ? WHERE name = ?`, Args: []any{next, eventsCursor}})
	if _, err := n.opts.Store.Exec(ctx, stmts...); err != nil {
		n.opts.Log.Warn("notify: cannot record event notifications", "err", err)
		return cursor, false
	}
	if len(rows.Values) > 0 {
		n.kick()
	}
	return next, more
}

// eventKinds are the event kinds the enabled rules name; nil: every kind ("*").
func (n *Notifier) eventKinds() []string {
	var kinds []string
	for _, r := range n.rules {
		if !r.Enabled {
			continue
		}
		for _, k := range r.Events {
			if k == "*" {
				return nil
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

func (n *Notifier) anyEventRule() bool {
	for _, r := range n.rules {
		if r.Enabled && len(r.Events) > 0 {
			return true
		}
	}
	return false
}

func (n *Notifier) cursor(ctx context.Context) (int64, bool, error) {
	rows, err := n.opts.Store.Query(ctx, store.Local, `SELECT value FROM notify_cursor WHERE name = ?`, eventsCursor)
	if err != nil || len(rows.Values) == 0 {
		return 0, false, err
	}
	v, _ := rows.Values[0][0].(int64)
	return v, true, nil
}

func (n *Notifier) setCursor(ctx context.Context, to int64) {
	if to < 0 {
		return
	}
	_, err := n.opts.Store.Exec(ctx, store.Statement{SQL: `INSERT INTO notify_cursor (name, value) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)`, Args: []any{eventsCursor, to}})
	if err != nil {
		n.opts.Log.Warn("notify: cannot move the events cursor", "err", err)
	}
}

func scanEvent(v []any) tailedEvent {
	s := func(i int) string { x, _ := v[i].(string); return x }
	id, _ := v[0].(int64)
	ev := tailedEvent{id: id, uid: s(1), at: s(2), severity: s(3), kind: s(4), node: s(5), scope: s(6), message: s(7)}
	_ = json.Unmarshal([]byte(s(8)), &ev.attrs)
	return ev
}

// eventNotifications are the records of one event for every rule naming its kind.
func (n *Notifier) eventNotifications(ctx context.Context, ev tailedEvent) []store.Statement {
	at, _ := time.Parse(time.RFC3339Nano, ev.at)
	window := ev.attrs["maintenance"]
	if window == "" && n.opts.Maintenance != nil && ev.node != "" {
		window, _ = n.opts.Maintenance.Active(ctx, ev.node, ev.scope, "", at)
	}
	now := n.opts.Now()
	var stmts []store.Statement
	for _, r := range n.sortedRules() {
		if !r.Enabled || !(slices.Contains(r.Events, ev.kind) || slices.Contains(r.Events, "*")) {
			continue
		}
		for _, ch := range r.Channels {
			nt := Notification{Key: Key(r.ID, ch, "event:"+ev.kind, ev.node, "", ev.uid), Kind: KindEvent, Rule: r.ID, Channel: ch,
				Monitor: "event:" + ev.kind, Node: ev.node, NodeName: ev.node, Scope: ev.scope, Priority: ev.severity,
				Message: ev.message, At: at, EventKind: ev.kind, EventUID: ev.uid, Status: Recorded, RecordedAt: now}
			if window != "" {
				nt.Status, nt.Window = Held, window
			}
			stmts = append(stmts, recordStmt(nt))
		}
	}
	return stmts
}

func (n *Notifier) sortedRules() []Rule {
	out := make([]Rule, 0, len(n.rules))
	for _, r := range n.rules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out
}
