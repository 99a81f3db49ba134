package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Migration is one versioned schema change. Versions are global across
// packages; each feature owns a range (see DESIGN.md).
type Migration struct {
	Version int
	Name    string
	SQL     []string
}

// Migrate applies, in version order, every migration not yet recorded in
// schema_migrations, each atomically with its record. Only the active calls
// it; the standby receives the schema through replication.
func (s *Store) Migrate(ctx context.Context, ms []Migration) error {
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rows, err := s.Query(ctx, Strong, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	done := map[int64]bool{}
	for _, v := range rows.Values {
		if n, ok := v[0].(int64); ok {
			done[n] = true
		}
	}
	sorted := append([]Migration(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Version < sorted[j].Version })
	for _, m := range sorted {
		if done[int64(m.Version)] {
			continue
		}
		stmts := make([]Statement, 0, len(m.SQL)+1)
		for _, q := range m.SQL {
			stmts = append(stmts, Statement{SQL: q})
		}
		// The time is computed here, never by SQL: statements are replicated
		// and re-evaluated on each node, so datetime('now') would differ.
		stmts = append(stmts, Statement{SQL: `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			Args: []any{m.Version, m.Name, time.Now().UTC().Format(time.RFC3339Nano)}})
		if _, err := s.Exec(ctx, stmts...); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}
