package status

import (
	"context"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/pollers/judge"
)

func row(mon, node, scope string, p judge.Priority, at time.Time) Row {
	return Row{Monitor: mon, Node: node, Scope: scope, Priority: p, CheckedAt: at, ExpiresAt: at.Add(time.Minute)}
}

func TestStoredRows(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t, Migrations())
	now := time.Now()
	for _, r := range []Row{row("m1", "n1", "web", judge.Info, now), row("m1", "n2", "web", judge.Critical, now),
		row("m2", "n3", "db", judge.Warning, now.Add(-2*time.Minute))} {
		if _, err := st.Exec(ctx, Upsert(r)); err != nil {
			t.Fatal(err)
		}
	}
	// A late write of an older result does not replace a newer one.
	if _, err := st.Exec(ctx, Upsert(row("m1", "n2", "web", judge.Info, now.Add(-time.Second)))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    Filter
		want string
	}{
		{"all", Filter{}, "m1/n1/info m1/n2/critical m2/n3/warning!"},
		{"scope", Filter{Scope: "web"}, "m1/n1/info m1/n2/critical"},
		{"caller's scopes", Filter{Scopes: []string{"db"}}, "m2/n3/warning!"},
		{"no scopes", Filter{Scopes: []string{}}, ""},
		{"priority", Filter{Priority: judge.Critical}, "m1/n2/critical"},
		{"page", Filter{Limit: 1, After: Key{"m1", "n1", ""}}, "m1/n2/critical"},
	} {
		rows, _, err := List(ctx, st, c.f, now)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, r := range rows {
			if i > 0 {
				got += " "
			}
			got += r.Monitor + "/" + r.Node + "/" + string(r.Priority)
			if r.Stale {
				got += "!"
			}
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := st.Exec(ctx, Remove("m1", "n1")); err != nil {
		t.Fatal(err)
	}
	if rows, _ := All(ctx, st, now); len(rows) != 2 {
		t.Fatalf("after a removal: %d rows", len(rows))
	}
}

func TestRollupAndMerge(t *testing.T) {
	now := time.Now()
	stored := []Row{row("m1", "n1", "web", judge.Info, now.Add(-time.Minute)), row("m1", "n2", "web", judge.Critical, now.Add(-2*time.Minute))}
	stored[1].Stale = true
	live := []Row{row("m1", "n1", "web", judge.Warning, now), row("m2", "n3", "db", judge.Unknown, now)}
	merged := Merge(stored, live)
	if len(merged) != 3 || merged[0].Priority != judge.Warning {
		t.Fatalf("merged %+v", merged)
	}
	got := Rollup(merged)
	want := []ScopeRollup{{Scope: "db", Nodes: 1, Unknown: 1}, {Scope: "web", Nodes: 2, Warning: 1, Stale: 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("rollup %+v, want %+v", got, want)
	}
	if Refresh(10*time.Second) != time.Minute || Refresh(5*time.Minute) != 5*time.Minute || StoredExpiry(10*time.Second) != 3*time.Minute {
		t.Fatal("refresh and stored expiry are not what pollers/DESIGN.md says")
	}
}
