package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/test/cluster"
)

type eventPage struct {
	Events []events.Event
	More   bool
	Next   string
}

// TestIncidentsAPI: incident handling through the API of a real
// appliance — newest-first keyset paging with filters, state changes by
// ids and by filter (one audit row naming how many), comments with their
// history, and a user of scope A who neither sees nor changes events of
// scope B.
func TestIncidentsAPI(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	opA := auth.Role{Name: "op_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{auth.MonitorResult: {auth.Read, auth.Add, auth.Modify}}}
	if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/roles", opA, nil); code != http.StatusCreated {
		t.Fatalf("role: HTTP %d %v", code, err)
	}
	if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "alice", "password": pw, "roles": []string{"op_a"}}, nil); code != http.StatusCreated {
		t.Fatalf("user: HTTP %d %v", code, err)
	}
	alice := a.Login("alice", pw)
	var evs []events.Event
	for i := range 300 {
		sev := []events.Severity{events.Critical, events.Warning, events.Info}[i%3]
		evs = append(evs, events.Event{UID: fmt.Sprintf("inc-%d", i), Kind: "test.inc", Severity: sev, Node: fmt.Sprintf("n%d", i%4),
			Scope: []string{"A", "B"}[i%2], Message: fmt.Sprintf("event number %d", i)})
	}
	if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/events", evs, nil); code != 200 {
		t.Fatalf("post: HTTP %d %v", code, err)
	}

	t.Run("newest first with filters and a cursor", func(t *testing.T) {
		var got []events.Event
		next := "?order=desc&limit=20&severity=critical,warning&kind=test.inc"
		for next != "" {
			var pg eventPage
			if code, err := a.DoAs(alice, http.MethodGet, "/api/v1/events"+next, nil, &pg); code != 200 {
				t.Fatalf("list %s: HTTP %d %v", next, code, err)
			}
			got, next = append(got, pg.Events...), pg.Next
		}
		// Scope A is the even i; critical or warning is i%3 != 2: 100 of them.
		if len(got) != 100 {
			t.Fatalf("%d events, want 100", len(got))
		}
		for i, ev := range got {
			if ev.Scope != "A" || ev.Severity == events.Info || ev.State != events.Unconfirmed || (i > 0 && ev.ID >= got[i-1].ID) {
				t.Fatalf("event %d: %+v (scope A, not info, unconfirmed, newest first)", i, ev)
			}
		}
		var cnt struct{ Count int }
		if code, _ := a.DoAs(alice, http.MethodGet, "/api/v1/events/count?severity=critical,warning&kind=test.inc", nil, &cnt); code != 200 || cnt.Count != 100 {
			t.Fatalf("count: HTTP %d %d, want 100", code, cnt.Count)
		}
		if code, _ := a.DoAs(admin, http.MethodGet, "/api/v1/events/count?kind=test.inc", nil, &cnt); code != 200 || cnt.Count != 300 {
			t.Fatalf("count as admin: HTTP %d %d, want 300", code, cnt.Count)
		}
		for _, bad := range []string{"?severity=urgent", "?state=closed", "?since=yesterday", "?colour=red", "?order=up"} {
			if code, _ := a.DoAs(alice, http.MethodGet, "/api/v1/events"+bad, nil, nil); code != http.StatusBadRequest {
				t.Errorf("%s: HTTP %d, want 400", bad, code)
			}
		}
	})

	t.Run("bulk by filter, audited once with the count", func(t *testing.T) {
		seq := lastAuditSeq(t, a)
		var out struct{ Changed int }
		// alice's filter names no scope: only her scope's events change.
		code, err := a.DoAs(alice, http.MethodPost, "/api/v1/events/state", map[string]any{"state": "confirmed", "filter": map[string]string{"node": "n0"}}, &out)
		if code != 200 || out.Changed != 75 {
			t.Fatalf("confirm node n0: HTTP %d %v, changed %d, want 75 (n0 is i%%4==0, all in A)", code, err, out.Changed)
		}
		code, _ = a.DoAs(alice, http.MethodPost, "/api/v1/events/state", map[string]any{"state": "confirmed", "filter": map[string]string{"node": "n1"}}, &out)
		if code != 200 || out.Changed != 0 {
			t.Fatalf("confirm node n1 (all in B) as a user of A: HTTP %d changed %d, want 0", code, out.Changed)
		}
		rows := 0
		for _, e := range auditSince(t, a, seq) {
			if e.Action == "POST /api/v1/events/state" {
				rows++
				if e.User != "alice" || (rows == 1 && !strings.Contains(e.Detail, "75 events changed")) {
					t.Fatalf("audit row %+v", e)
				}
			}
		}
		if rows != 2 {
			t.Fatalf("%d audit rows for 2 requests", rows)
		}
		var pg eventPage
		a.DoAs(admin, http.MethodGet, "/api/v1/events?order=desc&limit=1000&state=confirmed", nil, &pg)
		if len(pg.Events) != 75 || pg.Events[0].StateBy != "alice" || pg.Events[0].StateAt == nil {
			t.Fatalf("%d confirmed events, first %+v", len(pg.Events), pg.Events[0])
		}
	})

	t.Run("by ids and comments", func(t *testing.T) {
		var all eventPage
		a.DoAs(admin, http.MethodGet, "/api/v1/events?order=desc&limit=1000&kind=test.inc", nil, &all)
		var inA, inB events.Event
		for _, ev := range all.Events {
			if ev.Scope == "A" && ev.State == events.Unconfirmed {
				inA = ev
			}
			if ev.Scope == "B" {
				inB = ev
			}
		}
		var out struct{ Changed int }
		if code, _ := a.DoAs(alice, http.MethodPost, "/api/v1/events/state", map[string]any{"state": "confirming", "ids": []int64{inA.ID, inB.ID}}, &out); code != 200 || out.Changed != 1 {
			t.Fatalf("by ids: HTTP %d changed %d, want 1 (the other is in B)", code, out.Changed)
		}
		for _, bad := range []map[string]any{{"state": "done", "ids": []int64{1}}, {"state": "confirmed"}, {"state": "confirmed", "ids": []int64{}},
			{"state": "confirmed", "ids": []int64{1}, "filter": map[string]string{}}, {"state": "confirmed", "filter": map[string]string{"colour": "red"}}} {
			if code, _ := a.DoAs(alice, http.MethodPost, "/api/v1/events/state", bad, nil); code != http.StatusBadRequest {
				t.Errorf("%v: HTTP %d, want 400", bad, code)
			}
		}
		path := fmt.Sprintf("/api/v1/events/%d/comments", inA.ID)
		for _, text := range []string{"on it", "disk replaced"} {
			if code, err := a.DoAs(alice, http.MethodPost, path, map[string]string{"text": text}, nil); code != http.StatusCreated {
				t.Fatalf("comment: HTTP %d %v", code, err)
			}
		}
		if code, _ := a.DoAs(alice, http.MethodPost, path, map[string]string{"text": " "}, nil); code != http.StatusBadRequest {
			t.Fatalf("empty comment: HTTP %d, want 400", code)
		}
		if code, _ := a.DoAs(alice, http.MethodPost, fmt.Sprintf("/api/v1/events/%d/comments", inB.ID), map[string]string{"text": "x"}, nil); code != http.StatusNotFound {
			t.Fatalf("comment on B as a user of A: HTTP %d, want 404", code)
		}
		if code, _ := a.DoAs(alice, http.MethodGet, fmt.Sprintf("/api/v1/events/%d", inB.ID), nil, nil); code != http.StatusNotFound {
			t.Fatalf("get an event of B as a user of A: HTTP %d, want 404", code)
		}
		var d struct {
			events.Event
			CommentList []events.Comment `json:"comment_list"`
		}
		if code, _ := a.DoAs(admin, http.MethodGet, fmt.Sprintf("/api/v1/events/%d", inA.ID), nil, &d); code != 200 || d.State != events.Confirming ||
			d.StateBy != "alice" || len(d.CommentList) != 2 || d.CommentList[1].Text != "disk replaced" || d.CommentList[0].User != "alice" || d.Comments != 2 {
			t.Fatalf("detail: %+v", d)
		}
	})

	t.Run("oldest first after an id, as before", func(t *testing.T) {
		var pg eventPage
		if code, _ := a.DoAs(admin, http.MethodGet, "/api/v1/events?kind=test.inc&limit=10&after=0", nil, &pg); code != 200 || len(pg.Events) != 10 || !pg.More ||
			pg.Events[0].UID != "inc-0" || !strings.Contains(pg.Next, "after=") {
			t.Fatalf("oldest first: %d events, more %v, next %q", len(pg.Events), pg.More, pg.Next)
		}
	})
}
