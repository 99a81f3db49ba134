package main

import (
	"regexp"
	"strings"
	"testing"
)

// compatibleSince is the last migration written before the rolling-upgrade
// rule (issue 13); those before it may remove what they replaced.
const compatibleSince = 870

var (
	additive = regexp.MustCompile(`^(CREATE (TABLE|INDEX|UNIQUE INDEX|VIEW|TRIGGER)|INSERT|UPDATE|ALTER TABLE \S+ ADD COLUMN)\b`)
	notNull  = regexp.MustCompile(`\bNOT NULL\b`)
	hasDef   = regexp.MustCompile(`\bDEFAULT\b`)
)

// During a rolling upgrade the previous release runs on a store this one
// migrated: as standby (it applies the new tables and columns through
// Raft) and as active again after a switch back. So a migration may only
// add: new tables, indexes, nullable columns or columns with a default,
// rows. It never drops, renames or deletes what the previous release
// reads or writes, and a new NOT NULL column has a default (the previous
// release's INSERTs do not name it).
func TestMigrationsOnlyAdd(t *testing.T) {
	seen := map[int]string{}
	for _, m := range allMigrations() {
		if other, dup := seen[m.Version]; dup {
			t.Errorf("migration %d is both %q and %q", m.Version, other, m.Name)
		}
		seen[m.Version] = m.Name
		if m.Version <= compatibleSince {
			continue
		}
		for _, q := range m.SQL {
			sql := strings.ToUpper(strings.Join(strings.Fields(q), " "))
			switch {
			case !additive.MatchString(sql):
				t.Errorf("migration %d (%s) does not only add, which the previous release running on the migrated store during a rolling upgrade needs: %s", m.Version, m.Name, q)
			case strings.HasPrefix(sql, "ALTER TABLE") && notNull.MatchString(sql) && !hasDef.MatchString(sql):
				t.Errorf("migration %d (%s) adds a NOT NULL column without a default: the previous release's INSERTs would fail: %s", m.Version, m.Name, q)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no migrations")
	}
}

// The rule itself: what it lets through and what it refuses.
func TestAdditiveRule(t *testing.T) {
	for q, ok := range map[string]bool{
		"CREATE TABLE IF NOT EXISTS x (a INTEGER)":            true,
		"create index if not exists i on x(a)":                true,
		"ALTER TABLE x ADD COLUMN b TEXT":                     true,
		"ALTER TABLE x ADD COLUMN b TEXT NOT NULL DEFAULT ''": true,
		"DROP TABLE x":                false,
		"ALTER TABLE x RENAME TO y":   false,
		"ALTER TABLE x DROP COLUMN b": false,
		"DELETE FROM x":               false,
	} {
		if got := additive.MatchString(strings.ToUpper(q)); got != ok {
			t.Errorf("%q: additive %v, want %v", q, got, ok)
		}
	}
}
