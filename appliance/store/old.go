package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver rqlite links (its fork): reads set-aside stores

	"github.com/mamori-ops/mamori/internal/fileutil"
)

// OldStore is a store directory set aside by a recovery.
type OldStore struct {
	Name  string    `json:"name"`
	Path  string    `json:"path"`
	At    time.Time `json:"set_aside_at"`
	Bytes int64     `json:"bytes"`
	// Merge is what was merged back from it ("" until done).
	Merge *MergeReport `json:"merge,omitempty"`
}

// MergeReport records, in the set-aside directory, what was merged back
// into the pair from it, so it is merged once and an operator can read it.
type MergeReport struct {
	At     time.Time `json:"at"`
	Events int       `json:"events"`
	Audit  int       `json:"audit"`
	// Settings lists settings rows that differ between this copy and the
	// pair's store: not merged, shown to the operator.
	Settings []string `json:"settings,omitempty"`
}

// mergeFile holds a MergeReport inside a set-aside directory.
const mergeFile = "merge.json"

// DBPath is the SQLite database inside a store directory.
func DBPath(dir string) string { return filepath.Join(dir, "db.sqlite") }

// OldStores lists the set-aside stores, oldest first.
func (s *Store) OldStores() []OldStore { return ListOld(s.oldDir()) }

// ListOld lists the set-aside stores under dir, oldest first.
func ListOld(dir string) []OldStore {
	ents, _ := os.ReadDir(dir)
	var out []OldStore
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		o := OldStore{Name: e.Name(), Path: filepath.Join(dir, e.Name())}
		stamp, _, _ := strings.Cut(e.Name(), "-")
		o.At, _ = time.Parse("20060102T150405.000Z", stamp)
		_ = filepath.WalkDir(o.Path, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					o.Bytes += fi.Size()
				}
			}
			return nil
		})
		var r MergeReport
		if err := fileutil.ReadJSON(filepath.Join(o.Path, mergeFile), &r); err == nil {
			o.Merge = &r
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b OldStore) int { return a.At.Compare(b.At) })
	return out
}

// MarkMerged records what was merged back from a set-aside store.
func MarkMerged(path string, r MergeReport) error {
	return fileutil.WriteJSON(filepath.Join(path, mergeFile), r)
}

// PruneOld deletes merged set-aside stores beyond the newest keep and
// those older than maxAge (0: no age limit). A store not merged yet is
// kept whatever its age: it may hold acknowledged writes. It returns the
// names it deleted.
func (s *Store) PruneOld(keep int, maxAge time.Duration, now time.Time) ([]string, error) {
	olds := s.OldStores()
	var gone []string
	var errs []error
	for i, o := range olds {
		tooMany := len(olds)-i > keep
		tooOld := maxAge > 0 && now.Sub(o.At) > maxAge
		if o.Merge == nil || (!tooMany && !tooOld) {
			continue
		}
		if err := os.RemoveAll(o.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, o.Name)
	}
	return gone, errors.Join(errs...)
}

// OldDB reads the database of a set-aside store.
type OldDB struct{ db *sql.DB }

// OpenOld opens the database of the set-aside store at path.
func OpenOld(path string) (*OldDB, error) {
	if _, err := os.Stat(DBPath(path)); err != nil {
		return nil, fmt.Errorf("set-aside store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", "file:"+DBPath(path)+"?_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &OldDB{db: db}, nil
}

// Close closes the database.
func (o *OldDB) Close() error { return o.db.Close() }

// Query runs one read statement.
func (o *OldDB) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	rs, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Rows{}, err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	out := Rows{Columns: cols}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return Rows{}, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok && !isBlobColumn(rs, i) {
				vals[i] = string(b)
			}
		}
		out.Values = append(out.Values, vals)
	}
	return out, rs.Err()
}

func isBlobColumn(rs *sql.Rows, i int) bool {
	ts, err := rs.ColumnTypes()
	return err == nil && i < len(ts) && strings.EqualFold(ts[i].DatabaseTypeName(), "BLOB")
}

// HasTable says whether the database has a table of that name.
func (o *OldDB) HasTable(ctx context.Context, name string) bool {
	r, err := o.Query(ctx, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, name)
	return err == nil && len(r.Values) == 1
}
