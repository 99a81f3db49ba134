package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return storetest.New(t, Migrations())
}

// seed stores n events: severities critical, warning, info in turn;
// scopes "", "a", "b" in turn by i/3; nodes n0..n4; one minute apart.
func seed(t *testing.T, st *store.Store, n int) time.Time {
	t.Helper()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sevs := []Severity{Critical, Warning, Info}
	scopes := []string{"", "a", "b"}
	var evs []Event
	for i := range n {
		evs = append(evs, Event{UID: fmt.Sprintf("e%d", i), At: base.Add(time.Duration(i) * time.Minute), Severity: sevs[i%3],
			Kind: "k", Node: fmt.Sprintf("n%d", i%5), Scope: scopes[(i/3)%3], Message: fmt.Sprintf("disk %d full", i)})
	}
	if err := Insert(context.Background(), st, evs); err != nil {
		t.Fatal(err)
	}
	return base
}

func ids(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestStateTransitions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	seed(t, st, 3)
	at := time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)
	steps := []struct {
		state State
		want  int64
	}{{Confirming, 1}, {Confirming, 0}, {Confirmed, 1}, {Unconfirmed, 1}, {Confirmed, 1}, {Confirming, 1}}
	for i, s := range steps {
		n, err := SetState(ctx, st, Change{State: s.state, By: fmt.Sprintf("u%d", i), At: at.Add(time.Duration(i) * time.Second), Where: Filter{IDs: []int64{2}}})
		if err != nil || n != s.want {
			t.Fatalf("step %d to %s: changed %d, %v; want %d", i, s.state, n, err, s.want)
		}
		ev, _, err := Get(ctx, st, 2, nil)
		if err != nil || ev.State != s.state {
			t.Fatalf("step %d: event is %q (%v), want %q", i, ev.State, err, s.state)
		}
		if s.want == 1 && (ev.StateBy != fmt.Sprintf("u%d", i) || ev.StateAt == nil || !ev.StateAt.Equal(at.Add(time.Duration(i)*time.Second))) {
			t.Fatalf("step %d: by %q at %v, want u%d at +%ds", i, ev.StateBy, ev.StateAt, i, i)
		}
	}
	if _, err := SetState(ctx, st, Change{State: "closed", Where: Filter{IDs: []int64{1}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("state closed: %v, want ErrInvalid", err)
	}
	evs, _, _ := List(ctx, st, Filter{})
	if evs[0].State != Unconfirmed || evs[0].StateBy != "" || evs[0].StateAt != nil {
		t.Fatalf("a new event: %+v, want unconfirmed by nobody", evs[0])
	}
}

func TestBulkByFilterAndScopes(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	base := seed(t, st, 90)
	now := base.Add(24 * time.Hour)
	cases := []struct {
		name string
		f    Filter
		want int64
	}{
		{"critical in scope a, seen by a user of a and b", Filter{Severities: []Severity{Critical}, Scope: []string{"a"}, Scopes: []string{"a", "b"}}, 10},
		{"all, seen by a user of b", Filter{Scopes: []string{"b"}}, 30},
		{"node n1 in the first hour, any scope", Filter{Node: "n1", Until: base.Add(time.Hour)}, 12},
		{"text 'disk 8' (8, 80..89), unconfirmed only", Filter{Text: "disk 8", States: []State{Unconfirmed}}, 11},
		{"ids of scope a seen by a user of b: nothing", Filter{IDs: []int64{4, 5, 6}, Scopes: []string{"b"}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Back to unconfirmed first: each case counts from a clean table.
			if _, err := SetState(ctx, st, Change{State: Unconfirmed, By: "reset", At: now}); err != nil {
				t.Fatal(err)
			}
			n, err := SetState(ctx, st, Change{State: Confirmed, By: "op", At: now, Where: c.f})
			if err != nil || n != c.want {
				t.Fatalf("changed %d, %v; want %d", n, err, c.want)
			}
			all, _, _ := List(ctx, st, Filter{States: []State{Confirmed}})
			if int64(len(all)) != c.want {
				t.Fatalf("%d confirmed events listed, want %d", len(all), c.want)
			}
			for _, ev := range all {
				if c.f.Scopes != nil && ev.Scope != "b" && ev.Scope != "a" {
					t.Fatalf("event %d of scope %q changed by a user of %v", ev.ID, ev.Scope, c.f.Scopes)
				}
			}
		})
	}
}

func TestNewestFirstPaging(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	seed(t, st, 50)
	f := Filter{Desc: true, Limit: 7, Scopes: []string{"a"}, Severities: []Severity{Critical, Warning}}
	var got []int64
	for range 20 {
		evs, more, err := List(ctx, st, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(evs)...)
		if !more {
			break
		}
		f.BeforeID = evs[len(evs)-1].ID
	}
	var want []int64
	for i := 49; i >= 0; i-- { // ids are i+1
		if (i/3)%3 == 1 && i%3 != 2 {
			want = append(want, int64(i+1))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	// Oldest first after an id still works as before.
	evs, more, _ := List(ctx, st, Filter{AfterID: 45, Limit: 3})
	if fmt.Sprint(ids(evs)) != "[46 47 48]" || !more {
		t.Fatalf("after 45: %v more %v", ids(evs), more)
	}
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	seed(t, st, 9) // ids 1-3 scope "", 4-6 "a", 7-9 "b"
	at := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	for i, text := range []string{"looking", "  disk replaced  "} {
		if _, err := AddComment(ctx, st, 5, []string{"a"}, Comment{At: at.Add(time.Duration(i) * time.Minute), User: "op", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AddComment(ctx, st, 5, []string{"b"}, Comment{At: at, User: "other", Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("comment on an event outside the scopes: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "   ", string(make([]byte, MaxCommentBytes+1))} {
		if _, err := AddComment(ctx, st, 5, nil, Comment{At: at, User: "op", Text: bad}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("comment of %d bytes: %v, want ErrInvalid", len(bad), err)
		}
	}
	ev, cs, err := Get(ctx, st, 5, nil)
	if err != nil || len(cs) != 2 || cs[0].Text != "looking" || cs[1].Text != "disk replaced" || cs[1].User != "op" || !cs[1].At.Equal(at.Add(time.Minute)) {
		t.Fatalf("comments %+v %v", cs, err)
	}
	if evs, _, _ := List(ctx, st, Filter{IDs: []int64{5}}); evs[0].Comments != 2 || ev.Comments != 2 {
		t.Fatalf("comment count %d / %d, want 2", evs[0].Comments, ev.Comments)
	}
	if _, _, err := Get(ctx, st, 5, []string{"b"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get outside the scopes: %v", err)
	}
	// Deleting events (as retention does) deletes their comments.
	if _, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM events WHERE id < ?`, Args: []any{6}}); err != nil {
		t.Fatal(err)
	}
	rows, _ := st.Query(ctx, store.Local, `SELECT COUNT(*) FROM event_comments`)
	if n, _ := rows.Values[0][0].(int64); n != 0 {
		t.Fatalf("%d comments left after their event was deleted", n)
	}
}
