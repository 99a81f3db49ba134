package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/syslog"
)

// Incident handling and a split brain: states and comments do not get in
// the way of the merge (the walk back finds the common rows by uid and
// id, whatever their state). The rule (api/DESIGN.md, "States after a
// split brain"): an event both sides hold keeps the pair's state and
// comments; an event only the loser stored comes back unconfirmed and
// without comments — what the loser's operators did to it is lost (their
// audit rows are merged). Retention deletes comments with their events.
func TestMergeWithStatesAndComments(t *testing.T) {
	ctx := context.Background()
	winner, loser := newStore(t), newStore(t)
	at := time.Now().UTC().Add(-time.Hour)
	for _, st := range []*store.Store{winner, loser} {
		if err := events.Insert(ctx, st, []events.Event{{UID: "common", At: at, Severity: events.Critical, Kind: "test", Node: "x", Message: "common"}}); err != nil {
			t.Fatal(err)
		}
	}
	handle := func(st *store.Store, uid, by string, state events.State) {
		t.Helper()
		evs, _, err := events.List(ctx, st, events.Filter{Kind: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.UID != uid {
				continue
			}
			if _, err := events.SetState(ctx, st, events.Change{State: state, By: by, At: at, Where: events.Filter{IDs: []int64{ev.ID}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := events.AddComment(ctx, st, ev.ID, nil, events.Comment{At: at, User: by, Text: "by " + by}); err != nil {
				t.Fatal(err)
			}
		}
	}
	handle(winner, "common", "w-op", events.Confirming)
	handle(loser, "common", "l-op", events.Confirmed)
	if err := events.Insert(ctx, loser, []events.Event{{UID: "loser-1", At: at.Add(time.Minute), Severity: events.Warning, Kind: "test", Node: "x", Message: "loser"}}); err != nil {
		t.Fatal(err)
	}
	handle(loser, "loser-1", "l-op", events.Confirmed)

	aside := t.TempDir() + "/old"
	loser.Close()
	if err := copyDir(loser.Dir(), aside); err != nil {
		t.Fatal(err)
	}
	sp := &memSpool{}
	m := &Merger{Self: "b", Local: winner, Spool: sp, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rep, err := m.Merge(ctx, aside)
	if err != nil || rep.Events != 1 || len(rep.Settings) != 0 {
		t.Fatalf("merge report %+v %v, want 1 event and no settings", rep, err)
	}
	in := NewIngestor(winner, syslog.NewParser(time.UTC, syslog.UTF8), Options{})
	b := Batch{Origin: "b/spool"}
	for i, r := range sp.recs {
		b.Items = append(b.Items, Item{Seq: uint64(i + 1), Payload: r})
	}
	if _, err := in.Ingest(ctx, b); err != nil {
		t.Fatal(err)
	}
	evs, _, err := events.List(ctx, winner, events.Filter{Kind: "test"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events on the winner: %d %v", len(evs), err)
	}
	for _, ev := range evs {
		switch ev.UID {
		case "common":
			if ev.State != events.Confirming || ev.StateBy != "w-op" || ev.Comments != 1 {
				t.Fatalf("common event: %+v, want the pair's state and one comment", ev)
			}
		case "loser-1":
			if ev.State != events.Unconfirmed || ev.StateBy != "" || ev.Comments != 0 {
				t.Fatalf("merged event: %+v, want unconfirmed without comments", ev)
			}
		}
	}

	r := &Retention{Store: winner, Events: Limit{MaxAge: time.Hour}}
	if n, err := r.Apply(ctx, at.Add(time.Hour+30*time.Second)); err != nil || n != 1 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	if n := count(t, winner, `SELECT COUNT(*) FROM event_comments`); n != 0 {
		t.Fatalf("%d comments left after retention deleted their event", n)
	}
}
