package pipeline

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/syslog"
)

// memSpool collects what the merger spools.
type memSpool struct {
	mu   sync.Mutex
	recs [][]byte
}

func (m *memSpool) AppendDurable(bs [][]byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, bs...)
	return len(bs), nil
}

// A split brain, simulated with two stores that share a history: what the
// loser wrote after the split (events, audit entries) is found by walking
// back to the common rows, spooled as merge records, and stored by the
// active once however often it arrives; a differing setting is listed.
func TestMergeAfterSplitBrain(t *testing.T) {
	ctx := context.Background()
	winner, loser := newStore(t), newStore(t)
	for _, st := range []*store.Store{winner, loser} {
		if err := st.Migrate(ctx, auth.Migrations()); err != nil {
			t.Fatal(err)
		}
	}
	wAuth, lAuth := auth.New(winner, auth.DefaultOptions()), auth.New(loser, auth.DefaultOptions())
	write := func(st *store.Store, au *auth.Service, uid string) {
		t.Helper()
		if err := events.Insert(ctx, st, []events.Event{{UID: uid, At: time.Unix(1, 0), Severity: events.Info, Kind: "test", Node: "x", Message: uid}}); err != nil {
			t.Fatal(err)
		}
		if err := au.Audit.Append(ctx, auth.Entry{At: time.Unix(2, 0), User: "op", Action: "write " + uid, Result: "200"}); err != nil {
			t.Fatal(err)
		}
	}
	// The shared history: identical rows on both (as a replica would hold).
	for _, uid := range []string{"common-1", "common-2"} {
		write(winner, wAuth, uid)
		write(loser, lAuth, uid)
	}
	write(winner, wAuth, "winner-only")
	write(loser, lAuth, "loser-1")
	write(loser, lAuth, "loser-2")
	if err := inventory.Put(ctx, loser, inventory.Node{ID: "web9", Name: "web9", Address: "10.0.0.99", Scope: "A"}); err != nil {
		t.Fatal(err)
	}
	// Recovery sets the loser's store aside; its replica is the winner's.
	aside := t.TempDir() + "/old"
	loser.Close()
	if err := copyDir(loser.Dir(), aside); err != nil {
		t.Fatal(err)
	}
	sp := &memSpool{}
	m := &Merger{Self: "b", Local: winner, Spool: sp, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rep, err := m.Merge(ctx, aside)
	if err != nil || rep.Events != 2 || rep.Audit != 2 {
		t.Fatalf("merge report %+v %v, want 2 events and 2 audit entries", rep, err)
	}
	if !slices.Equal(rep.Settings, []string{"node web9 exists only in the set-aside copy"}) {
		t.Fatalf("settings %v", rep.Settings)
	}
	in := NewIngestor(winner, syslog.NewParser(time.UTC, syslog.UTF8), Options{Audit: wAuth.Audit.AppendWith, MergeAudit: wAuth.Audit.PrepareMerge})
	for round := range 2 { // a merge repeated (a crash before it was marked) adds nothing
		b := Batch{Origin: "b/spool" + string(rune('0'+round))}
		for i, r := range sp.recs {
			b.Items = append(b.Items, Item{Seq: uint64(i + 1), Payload: r})
		}
		if _, err := in.Ingest(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, winner, `SELECT COUNT(*) FROM events WHERE uid IN ('loser-1', 'loser-2')`); n != 2 {
		t.Fatalf("merged events: %d", n)
	}
	if n := count(t, winner, `SELECT COUNT(*) FROM events`); n != 5 {
		t.Fatalf("events on the winner: %d, want 5", n)
	}
	if n := count(t, winner, `SELECT COUNT(*) FROM audit WHERE detail LIKE '%merged from b after a split brain%'`); n != 2 {
		t.Fatalf("merged audit rows: %d, want 2", n)
	}
	if rep, err := auth.Verify(ctx, winner); err != nil || !rep.OK {
		t.Fatalf("audit chain after the merge: %+v %v", rep, err)
	}
}

// Retention on the pair deleted the common events (and more) before the
// merge: the walk back stops at what retention already deleted instead
// of merging the common history back as if it were the loser's.
func TestMergeAfterRetention(t *testing.T) {
	ctx := context.Background()
	winner, loser := newStore(t), newStore(t)
	write := func(st *store.Store, uid string, at time.Time) {
		t.Helper()
		if err := events.Insert(ctx, st, []events.Event{{UID: uid, At: at, Severity: events.Info, Kind: "test", Node: "x", Message: uid}}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		write(winner, fmt.Sprint("common-", i), base.Add(time.Duration(i)*time.Second))
		write(loser, fmt.Sprint("common-", i), base.Add(time.Duration(i)*time.Second))
	}
	write(winner, "winner-only", base.Add(time.Minute))
	write(loser, "loser-1", base.Add(2*time.Minute))
	r := &Retention{Store: winner, Events: Limit{MaxAge: time.Hour}}
	if n, err := r.Apply(ctx, base.Add(time.Hour+30*time.Second)); err != nil || n != 5 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	aside := t.TempDir() + "/old"
	loser.Close()
	if err := copyDir(loser.Dir(), aside); err != nil {
		t.Fatal(err)
	}
	m := &Merger{Self: "b", Local: winner, Spool: &memSpool{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if rep, err := m.Merge(ctx, aside); err != nil || rep.Events != 1 {
		t.Fatalf("merge report %+v %v, want only loser-1", rep, err)
	}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
}
