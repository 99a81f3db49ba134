package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/config"
)

func newTestStore(t *testing.T, id string) *Store {
	t.Helper()
	tun := config.Default().Store
	tun.HeartbeatTimeout, tun.ElectionTimeout, tun.LeaderLease = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	s := New(Options{Dir: t.TempDir(), ID: id, Listen: "127.0.0.1:0", Tuning: tun}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	return s
}

func leader(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Status().Leader {
		if time.Now().After(deadline) {
			t.Fatalf("no leadership: %+v", s.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSingleNodeExecQueryMigrate(t *testing.T) {
	s := newTestStore(t, "n1")
	if err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, s)
	ctx := context.Background()
	ms := []Migration{
		{Version: 2, Name: "second", SQL: []string{`ALTER TABLE t ADD COLUMN extra TEXT`}},
		{Version: 1, Name: "first", SQL: []string{`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)`}},
	}
	for range 2 { // the second run must be a no-op
		if err := s.Migrate(ctx, ms); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Exec(ctx, Statement{SQL: `INSERT INTO t (v, n) VALUES (?, ?)`, Args: []any{"héllo", 42}})
	if err != nil || len(res) != 1 || res[0].RowsAffected != 1 {
		t.Fatalf("exec: %+v %v", res, err)
	}
	rows, err := s.Query(ctx, Strong, `SELECT v, n, extra FROM t`)
	if err != nil || len(rows.Values) != 1 || rows.Values[0][0] != "héllo" || rows.Values[0][1] != int64(42) || rows.Values[0][2] != nil {
		t.Fatalf("query: %+v %v", rows, err)
	}
	if _, err := s.Exec(ctx, Statement{SQL: `INSERT INTO nosuch VALUES (1)`}); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	if _, err := s.Exec(ctx, Statement{SQL: `SELECT 1`, Args: []any{struct{}{}}}); err == nil {
		t.Fatal("unsupported argument type accepted")
	}
	sums, err := s.Checksums(ctx)
	if err != nil || sums["t"] == "" || sums["schema_migrations"] == "" {
		t.Fatalf("checksums: %v %v", sums, err)
	}
}

// Concurrent writers are batched, and one bad statement fails only its caller.
func TestBatchingWriterIsolatesFailures(t *testing.T) {
	s := newTestStore(t, "n1")
	if err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, s)
	ctx := context.Background()
	if _, err := s.Exec(ctx, Statement{SQL: `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 400)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v any = fmt.Sprint(i)
			if i%100 == 7 {
				v = nil // violates NOT NULL
			}
			_, errs[i] = s.Exec(ctx, Statement{SQL: `INSERT INTO t (v) VALUES (?)`, Args: []any{v}})
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if (err != nil) != (i%100 == 7) {
			t.Fatalf("write %d: err=%v", i, err)
		}
		if err != nil {
			failed++
		}
	}
	rows, err := s.Query(ctx, Local, `SELECT COUNT(*) FROM t`)
	if err != nil || rows.Values[0][0] != int64(400-failed) {
		t.Fatalf("rows: %+v %v, want %d", rows, err, 400-failed)
	}
}

// A second node joins, replicates, and after the first is closed the
// survivor re-forms alone (peers.json) and accepts writes with all rows.
func TestJoinReplicateAndPromoteAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("two-node store test")
	}
	a := newTestStore(t, "a")
	if err := a.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, a)
	b := newTestStore(t, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Join(ctx, a.opts.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, Statement{SQL: `CREATE TABLE t (id INTEGER PRIMARY KEY)`}, Statement{SQL: `INSERT INTO t VALUES (1), (2), (3)`}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := b.Query(ctx, Local, `SELECT COUNT(*) FROM t`)
		if err == nil && rows.Values[0][0] == int64(3) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b never saw 3 rows: %+v %v", rows, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := a.Status(); len(st.Servers) != 2 || !st.Servers[0].Voter || !st.Servers[1].Voter {
		t.Fatalf("servers after join: %+v, want two voters", st.Servers)
	}
	if _, err := b.Exec(ctx, Statement{SQL: `INSERT INTO t VALUES (4)`}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write on follower: %v, want ErrNotLeader", err)
	}
	a.Close()
	if err := b.PromoteAlone(); err != nil {
		t.Fatal(err)
	}
	leader(t, b)
	if _, err := b.Exec(ctx, Statement{SQL: `INSERT INTO t VALUES (4)`}); err != nil {
		t.Fatal(err)
	}
	rows, err := b.Query(ctx, Strong, `SELECT COUNT(*) FROM t`)
	if err != nil || rows.Values[0][0] != int64(4) {
		t.Fatalf("after promotion: %+v %v", rows, err)
	}
	if st := b.Status(); len(st.Servers) != 1 || st.Servers[0].ID != "b" || !st.Servers[0].Voter {
		t.Fatalf("servers after promotion: %+v", st.Servers)
	}
}
