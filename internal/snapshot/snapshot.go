// Package snapshot keeps an in-memory copy of configuration read from the
// replicated store, for lookups on hot paths (every check, every
// notification) that must not query the store each time.
//
// Why a revision counter rather than a change feed: the store is the only
// source of truth on both appliances, and a new active starts with nothing
// in memory. A counter row written in the same transaction as each change
// is replicated with it, so any process (the active, the standby, a new
// active after a failover) sees a change by reading one row, at most once
// per Every, and a write made through this process is seen at once
// (Invalidate).
package snapshot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Snapshot is a value loaded from the store and reloaded when its
// revision changes.
type Snapshot[T any] struct {
	load     func(ctx context.Context) (T, error)
	revision func(ctx context.Context) (int64, error)
	every    time.Duration
	mu       sync.Mutex // one loader at a time; others keep the old value
	cur      atomic.Pointer[state[T]]
	dirty    atomic.Bool
}

type state[T any] struct {
	v       T
	rev     int64
	checked time.Time
}

// New returns a snapshot that loads with load and checks revision at most
// every d (default 1 s). It does no I/O until the first Get.
func New[T any](d time.Duration, revision func(ctx context.Context) (int64, error), load func(ctx context.Context) (T, error)) *Snapshot[T] {
	if d <= 0 {
		d = time.Second
	}
	return &Snapshot[T]{load: load, revision: revision, every: d}
}

// Invalidate makes the next Get reload (this process just wrote a change).
func (s *Snapshot[T]) Invalidate() { s.dirty.Store(true) }

// Get returns the current value. The first call loads it (and fails if
// the store cannot be read); later calls return the cached value at once,
// except that one caller per interval reads the revision and reloads on a
// change. A failed refresh keeps the old value: configuration that was
// true a second ago is a better answer than none.
func (s *Snapshot[T]) Get(ctx context.Context) (T, error) {
	cur := s.cur.Load()
	if cur == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if cur = s.cur.Load(); cur == nil {
			return s.reload(ctx, -1)
		}
		return cur.v, nil
	}
	if (s.dirty.Load() || time.Since(cur.checked) >= s.every) && s.mu.TryLock() {
		defer s.mu.Unlock()
		if v, err := s.refresh(ctx, s.cur.Load()); err == nil {
			return v, nil
		}
	}
	return s.cur.Load().v, nil
}

// refresh reloads if the revision moved or the snapshot is dirty; else
// it only notes when it last checked.
func (s *Snapshot[T]) refresh(ctx context.Context, cur *state[T]) (T, error) {
	dirty := s.dirty.Swap(false)
	rev, err := s.revision(ctx)
	if err != nil {
		if dirty {
			s.dirty.Store(true)
		}
		return cur.v, err
	}
	if rev == cur.rev && !dirty {
		s.cur.Store(&state[T]{v: cur.v, rev: rev, checked: time.Now()})
		return cur.v, nil
	}
	v, err := s.reload(ctx, rev)
	if err != nil && dirty {
		s.dirty.Store(true)
	}
	return v, err
}

// reload loads the value; rev -1 reads the revision first. The revision
// is read before the rows, so a change written in between is loaded now
// and seen again (harmlessly) at the next check.
func (s *Snapshot[T]) reload(ctx context.Context, rev int64) (T, error) {
	var zero T
	if rev < 0 {
		r, err := s.revision(ctx)
		if err != nil {
			return zero, err
		}
		rev = r
	}
	v, err := s.load(ctx)
	if err != nil {
		return zero, err
	}
	s.cur.Store(&state[T]{v: v, rev: rev, checked: time.Now()})
	return v, nil
}

// Querier reads the store (appliance/store.Store).
type Querier interface {
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// RevisionTable is the SQL creating a revision counter table and its row.
func RevisionTable(table string) []string {
	return []string{`CREATE TABLE ` + table + ` (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)`,
		`INSERT INTO ` + table + ` (id, n) VALUES (1, 0)`}
}

// Bump is the statement to write with every change.
func Bump(table string) store.Statement {
	return store.Statement{SQL: `UPDATE ` + table + ` SET n = n + 1 WHERE id = 1`}
}

// Revision reads a revision counter from the local copy.
func Revision(ctx context.Context, st Querier, table string) (int64, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT n FROM `+table+` WHERE id = 1`)
	if err != nil {
		return 0, err
	}
	if len(rows.Values) != 1 {
		return 0, fmt.Errorf("%s: revision row missing", table)
	}
	n, _ := rows.Values[0][0].(int64)
	return n, nil
}
