package metrics

import "github.com/mamori-ops/mamori/appliance/store"

// Migrations creates the metric tables (versions 740–759 are this
// package's).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 740, Name: "metric blocks and series", SQL: []string{
		// One row per group of series, resolution and window (DESIGN.md).
		`CREATE TABLE metric_blocks (
			res INTEGER NOT NULL,    -- bucket width in ms; 0: raw points
			grp INTEGER NOT NULL,    -- hash of monitor and node, modulo the group count
			start INTEGER NOT NULL,  -- window start, unix ms
			seq INTEGER NOT NULL,    -- 0: the block; 1, 2, …: raw points appended since (DESIGN.md)
			points INTEGER NOT NULL,
			rolled INTEGER NOT NULL, -- raw: its rollups are written (segments: 1)
			data BLOB NOT NULL,
			PRIMARY KEY (res, grp, start, seq))`,
		`CREATE INDEX metric_blocks_age ON metric_blocks (res, start)`,
		`CREATE INDEX metric_blocks_unrolled ON metric_blocks (start) WHERE rolled = 0 AND res = 0`,
		// The series that exist, for pickers and for a read naming a monitor only.
		// Blocks name a series by its id (catalog.go).
		`CREATE TABLE metric_series (
			id INTEGER PRIMARY KEY,
			monitor TEXT NOT NULL, node TEXT NOT NULL, item TEXT NOT NULL,
			first_at INTEGER NOT NULL,
			UNIQUE (monitor, node, item))`,
	}}}
}
