package calendar

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/snapshot"
)

// Migrations create the calendar tables (versions 870-889).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 870, Name: "calendars", SQL: append([]string{
		// The definition is one JSON column: calendars are read whole
		// into memory (Cache), never queried by their rules.
		`CREATE TABLE calendars (id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL, owner_role TEXT NOT NULL DEFAULT '', body TEXT NOT NULL)`,
		`CREATE INDEX calendars_scope ON calendars (scope)`,
		// A revision counter bumped in the transaction of every change:
		// caches compare it (internal/snapshot).
	}, snapshot.RevisionTable("calendar_revision")...)}}
}

// Store is what calendars need of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

var bump = snapshot.Bump("calendar_revision")

// Put validates and stores (or replaces) a calendar.
func Put(ctx context.Context, st Store, c Calendar) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	body, _ := json.Marshal(c)
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO calendars (id, name, scope, owner_role, body) VALUES (?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET name = excluded.name, scope = excluded.scope, owner_role = excluded.owner_role, body = excluded.body`,
		Args: []any{c.ID, c.Name, c.Scope, c.OwnerRole, string(body)}}, bump)
	return err
}

// Delete removes a calendar.
func Delete(ctx context.Context, st Store, id string) error {
	res, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM calendars WHERE id = ?`, Args: []any{id}}, bump)
	if err == nil && res[0].RowsAffected == 0 {
		return ErrNotFound
	}
	return err
}

// Get returns one calendar.
func Get(ctx context.Context, st Store, id string) (Calendar, error) {
	cs, err := list(ctx, st, `WHERE id = ?`, id)
	if err != nil {
		return Calendar{}, err
	}
	if len(cs) != 1 {
		return Calendar{}, ErrNotFound
	}
	return cs[0], nil
}

// List returns the calendars in scopes (nil: all).
func List(ctx context.Context, st Store, scopes []string) ([]Calendar, error) {
	if scopes == nil {
		return list(ctx, st, "")
	}
	b, _ := json.Marshal(scopes)
	return list(ctx, st, `WHERE scope IN (SELECT value FROM json_each(?))`, string(b))
}

func list(ctx context.Context, st Store, where string, args ...any) ([]Calendar, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT body FROM calendars `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Calendar, 0, len(rows.Values))
	for _, v := range rows.Values {
		s, _ := v[0].(string)
		var c Calendar
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return nil, fmt.Errorf("calendar row: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Revision is the counter every change bumps.
func Revision(ctx context.Context, st Store) (int64, error) {
	return snapshot.Revision(ctx, st, "calendar_revision")
}
