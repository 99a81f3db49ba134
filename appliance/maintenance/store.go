package maintenance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/snapshot"
)

// Migrations create the window tables (versions 850-869).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 850, Name: "maintenance windows", SQL: append([]string{
		`CREATE TABLE maintenance_windows (id TEXT PRIMARY KEY, scope TEXT NOT NULL, owner_role TEXT NOT NULL DEFAULT '',
			kind TEXT NOT NULL, calendar TEXT NOT NULL DEFAULT '', body TEXT NOT NULL)`,
		`CREATE INDEX maintenance_windows_scope ON maintenance_windows (scope)`,
		`CREATE INDEX maintenance_windows_calendar ON maintenance_windows (calendar)`,
		// A revision counter bumped in the transaction of every change:
		// caches compare it (internal/snapshot).
	}, snapshot.RevisionTable("maintenance_revision")...)}}
}

// Store is what windows need of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

var bump = snapshot.Bump("maintenance_revision")

// Put validates and stores (or replaces) a window.
func Put(ctx context.Context, st Store, w Window) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return put(ctx, st, w)
}

func put(ctx context.Context, st Store, w Window) error {
	for _, s := range []*[]string{&w.Nodes, &w.Scopes, &w.Monitors} {
		if *s == nil {
			*s = []string{}
		}
	}
	body, _ := json.Marshal(w)
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO maintenance_windows (id, scope, owner_role, kind, calendar, body) VALUES (?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, owner_role = excluded.owner_role, kind = excluded.kind, calendar = excluded.calendar, body = excluded.body`,
		Args: []any{w.ID, w.Scope, w.OwnerRole, string(w.Kind), w.CalendarID, string(body)}}, bump)
	return err
}

// End ends a window now: its To becomes now (a window not yet started
// never starts). It returns the window as it now is.
func End(ctx context.Context, st Store, id string, now time.Time) (Window, error) {
	w, err := Get(ctx, st, id)
	if err != nil {
		return w, err
	}
	if w.To == nil || w.To.After(now) {
		w.To = &now
	}
	if w.From != nil && w.From.After(*w.To) {
		w.From = w.To
	}
	return w, put(ctx, st, w)
}

// Delete removes a window.
func Delete(ctx context.Context, st Store, id string) error {
	res, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM maintenance_windows WHERE id = ?`, Args: []any{id}}, bump)
	if err == nil && res[0].RowsAffected == 0 {
		return ErrNotFound
	}
	return err
}

// Get returns one window.
func Get(ctx context.Context, st Store, id string) (Window, error) {
	ws, err := list(ctx, st, `WHERE id = ?`, id)
	if err != nil {
		return Window{}, err
	}
	if len(ws) != 1 {
		return Window{}, ErrNotFound
	}
	return ws[0], nil
}

// List returns the windows in scopes (nil: all).
func List(ctx context.Context, st Store, scopes []string) ([]Window, error) {
	if scopes == nil {
		return list(ctx, st, "")
	}
	b, _ := json.Marshal(scopes)
	return list(ctx, st, `WHERE scope IN (SELECT value FROM json_each(?))`, string(b))
}

// UsingCalendar lists the ids of windows that follow a calendar.
func UsingCalendar(ctx context.Context, st Store, calendarID string) ([]string, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT id FROM maintenance_windows WHERE calendar = ? ORDER BY id`, calendarID)
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

func list(ctx context.Context, st Store, where string, args ...any) ([]Window, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT body FROM maintenance_windows `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Window, 0, len(rows.Values))
	for _, v := range rows.Values {
		s, _ := v[0].(string)
		var w Window
		if err := json.Unmarshal([]byte(s), &w); err != nil {
			return nil, fmt.Errorf("maintenance window row: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// Revision is the counter every change bumps.
func Revision(ctx context.Context, st Store) (int64, error) {
	return snapshot.Revision(ctx, st, "maintenance_revision")
}
