package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// Attached statements are written with the first successful Exec of the
// context, once, and not when that Exec fails on a statement.
func TestAttachedStatements(t *testing.T) {
	s := newTestStore(t, "n1")
	if err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, s)
	ctx := context.Background()
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE t (v TEXT NOT NULL)`}, Statement{SQL: `CREATE TABLE k (key TEXT PRIMARY KEY)`}); err != nil {
		t.Fatal(err)
	}
	actx, a := Attach(ctx, Statement{SQL: `INSERT INTO k VALUES ('key1')`})
	if _, err := s.Exec(actx, Statement{SQL: `INSERT INTO t VALUES (NULL)`}); !errors.Is(err, ErrStatement) {
		t.Fatalf("bad statement: %v, want ErrStatement", err)
	}
	if a.Written() || a.Carried() {
		t.Fatal("attachment counted as written by a failed Exec")
	}
	res, err := s.Exec(actx, Statement{SQL: `INSERT INTO t VALUES ('x')`})
	if err != nil || len(res) != 1 || !a.Written() {
		t.Fatalf("exec with attachment: %+v %v written=%v", res, err, a.Written())
	}
	if _, err := s.Exec(actx, Statement{SQL: `INSERT INTO t VALUES ('y')`}); err != nil {
		t.Fatal(err) // the attachment is not written twice (key1 would conflict)
	}
	rows, _ := s.Query(ctx, Local, `SELECT (SELECT COUNT(*) FROM t), (SELECT COUNT(*) FROM k)`)
	if rows.Values[0][0] != int64(2) || rows.Values[0][1] != int64(1) {
		t.Fatalf("rows t, k = %v", rows.Values[0])
	}
}

// Errors say whether a failed write may still have been applied.
func TestErrorsTellTheOutcome(t *testing.T) {
	for _, tc := range []struct {
		in   error
		want error
	}{
		{raft.ErrLeadershipLost, ErrOutcomeUnknown},
		{raft.ErrRaftShutdown, ErrOutcomeUnknown},
		{raft.ErrNotLeader, ErrNotLeader},
		{raft.ErrEnqueueTimeout, ErrNotLeader},
	} {
		if got := mapErr(tc.in); !errors.Is(got, tc.want) {
			t.Errorf("%v maps to %v, want %v", tc.in, got, tc.want)
		}
	}
}

// A lone active in witness mode may write only until its lease ends.
func TestWritableUntil(t *testing.T) {
	s := newTestStore(t, "n1")
	if err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, s)
	ctx := context.Background()
	s.SetWritableUntil(time.Now().Add(-time.Millisecond))
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE t (v TEXT)`}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write past the bound: %v", err)
	}
	s.SetWritableUntil(time.Now().Add(time.Minute))
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE t (v TEXT)`}); err != nil {
		t.Fatalf("write within the bound: %v", err)
	}
	s.SetWritableUntil(time.Time{})
	if _, err := s.Exec(ctx, Statement{SQL: `INSERT INTO t VALUES ('x')`}); err != nil {
		t.Fatalf("write without a bound: %v", err)
	}
}

// Set-aside stores are listed, readable, and pruned only once merged.
func TestOldStores(t *testing.T) {
	s := newTestStore(t, "n1")
	if err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, s)
	ctx := context.Background()
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE t (v TEXT)`}, Statement{SQL: `INSERT INTO t VALUES ('kept')`}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 3 {
		s.mu.Lock()
		s.closeGen()
		aside, err := s.setAside("epoch1")
		if err == nil {
			err = s.openGen()
		}
		s.mu.Unlock()
		if err != nil || aside == "" {
			t.Fatalf("set aside %d: %q %v", i, aside, err)
		}
		names = append(names, filepath.Base(aside))
		if i == 0 {
			db, err := OpenOld(aside)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(ctx, `SELECT v FROM t`)
			db.Close()
			if err != nil || len(rows.Values) != 1 || rows.Values[0][0] != "kept" {
				t.Fatalf("set-aside store reads %+v %v", rows, err)
			}
			if err := s.Bootstrap(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond) // distinct names
	}
	if olds := s.OldStores(); len(olds) != 3 || olds[0].Name != names[0] || olds[0].Bytes == 0 {
		t.Fatalf("old stores %+v, want %v", olds, names)
	}
	if gone, _ := s.PruneOld(1, 0, time.Now()); len(gone) != 0 {
		t.Fatalf("pruned unmerged stores: %v", gone)
	}
	for _, o := range s.OldStores()[:2] {
		if err := MarkMerged(o.Path, MergeReport{At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if gone, err := s.PruneOld(1, 0, time.Now()); err != nil || len(gone) != 2 {
		t.Fatalf("prune: %v %v", gone, err)
	}
	if _, err := os.Stat(filepath.Join(s.oldDir(), names[2])); err != nil {
		t.Fatalf("the unmerged newest store is gone: %v", err)
	}
	// A half-joined store (marker) is removed, not set aside.
	_ = os.WriteFile(filepath.Join(s.opts.Dir, rejoinMarker), nil, 0o600)
	s.mu.Lock()
	s.closeGen()
	aside, err := s.setAside("x")
	s.mu.Unlock()
	if err != nil || aside != "" {
		t.Fatalf("half-joined store set aside: %q %v", aside, err)
	}
}
