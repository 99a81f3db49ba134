package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/status"
)

func TestNextSlot(t *testing.T) {
	iv := 10 * time.Second
	for _, c := range []struct {
		t, off, want int64 // seconds
	}{{0, 3, 3}, {3, 3, 13}, {4, 3, 13}, {12, 3, 13}, {13, 0, 20}, {-5, 3, 3}} {
		got := nextSlot(time.Unix(c.t, 0), iv, time.Duration(c.off)*time.Second)
		if got.Unix() != c.want {
			t.Errorf("next slot after %ds (offset %ds): %d, want %d", c.t, c.off, got.Unix(), c.want)
		}
	}
	// Offsets spread targets across the interval and stay put.
	seen := map[time.Duration]bool{}
	for i := range 100 {
		o := offset(string(rune('a'+i%26))+string(rune('a'+i/26)), time.Minute)
		if o < 0 || o >= time.Minute {
			t.Fatalf("offset %s outside the interval", o)
		}
		seen[o/(6*time.Second)] = true
	}
	if len(seen) < 8 {
		t.Fatalf("100 targets fall in only %d of 10 tenths of the interval", len(seen))
	}
	// Stable across processes: a new active keeps the old one's phase.
	if got := offset("m\x00n", time.Minute); got != 20514359506*time.Nanosecond {
		t.Fatalf("offset of m on n is %s: it must not change between versions (a failover would shift every phase)", got)
	}
}

func TestRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := func(v float64) *sample { return &sample{v: v, at: t0} }
	for _, c := range []struct {
		name string
		prev *sample
		v    float64
		dt   time.Duration
		want float64
		ok   bool
	}{
		{"first sample", nil, 5, time.Second, 0, false},
		{"rate", s(100), 1100, 10 * time.Second, 100, true},
		{"32-bit wrap", s(1<<32 - 100), 900, 10 * time.Second, 100, true},
		{"reset", s(5e9), 10, 10 * time.Second, 0, false},
		{"big drop of a 32-bit counter is a reset", s(1e9), 10, time.Second, 0, false},
		{"no time", s(1), 2, 0, 0, false},
	} {
		got, ok, _ := rate(c.prev, c.v, t0.Add(c.dt))
		if ok != c.ok || got != c.want {
			t.Errorf("%s: %g %v, want %g %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// values is what the fake kind reads, per node (absent: the check fails).
type values struct {
	mu sync.Mutex
	v  map[string]float64
}

func (v *values) set(node string, x float64) { v.mu.Lock(); v.v[node] = x; v.mu.Unlock() }
func (v *values) drop(node string)           { v.mu.Lock(); delete(v.v, node); v.mu.Unlock() }

// fakeChecker is a unit-test kind: it reads values by node (items "a"
// and "b" of the same value when perItem).
type fakeChecker struct {
	vals    *values
	perItem bool
}

func (fakeChecker) Validate(p json.RawMessage) (json.RawMessage, error) { return p, nil }

func (f fakeChecker) Check(_ context.Context, _ check.Env, t check.Target, _ json.RawMessage) check.Result {
	f.vals.mu.Lock()
	defer f.vals.mu.Unlock()
	x, ok := f.vals.v[t.NodeID]
	if !ok {
		return check.Failed(errors.New("connection refused"), "")
	}
	if f.perItem {
		return check.Result{Items: []check.Item{check.Num("a", x, "%"), check.Num("b", x, "%")}}
	}
	return check.Result{Items: []check.Item{check.Num("", x, "ms")}}
}

type harness struct {
	t    *testing.T
	ctx  context.Context
	st   *store.Store
	vals *values
	live *status.Live
	kind check.Kind
}

func newHarness(t *testing.T) *harness {
	st := storetest.New(t, append(append(append(events.Migrations(), inventory.Migrations()...), monitor.Migrations()...), status.Migrations()...))
	h := &harness{t: t, ctx: context.Background(), st: st, vals: &values{v: map[string]float64{}}, live: status.NewLive()}
	h.kind = check.Kind{Name: "fake", Value: check.Numeric, New: func() check.Checker { return fakeChecker{vals: h.vals, perItem: h.kind.PerItem} }}
	return h
}

func (h *harness) kinds(name string) (check.Kind, bool) { return h.kind, name == "fake" }

func (h *harness) node(id, scope string) {
	if err := inventory.Put(h.ctx, h.st, inventory.Node{ID: id, Name: "Node " + id, Address: "127.0.0." + id[1:], Scope: scope}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) monitor(id, node, scope string) { h.monitorWith(id, node, scope, nil) }

func (h *harness) monitorWith(id, node, scope string, edit func(*monitor.Monitor)) {
	f := func(v float64) *float64 { return &v }
	m := monitor.Defaults()
	m.ID, m.Name, m.Kind, m.Node, m.Scope, m.Interval = id, "Mon "+id, "fake", node, scope, "1s"
	m.Judgement.Numeric = &judge.Thresholds{Info: &judge.Range{Max: f(100)}, Warning: &judge.Range{Max: f(200)}}
	if edit != nil {
		edit(&m)
	}
	m, err := monitor.Normalize(m, h.kinds)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := monitor.Put(h.ctx, h.st, m); err != nil {
		h.t.Fatal(err)
	}
}

// start runs a runner until the test ends (or stop is called).
func (h *harness) start() (*Runner, func()) {
	r := New(Options{Kinds: h.kinds, Reload: 100 * time.Millisecond, FlushEvery: 100 * time.Millisecond}, h.st, h.live,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	h.t.Cleanup(stop)
	return r, stop
}

// waitLive waits until the live row of mon on node has priority p.
func (h *harness) waitLive(mon, node string, p judge.Priority) status.Row {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := h.live.Rows(status.Filter{Monitor: mon, Node: node}, time.Now())
		if len(rows) == 1 && rows[0].Priority == p {
			return rows[0]
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s on %s: live rows %+v, want priority %s", mon, node, rows, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) waitGone(mon, node string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.live.Rows(status.Filter{Monitor: mon, Node: node}, time.Now())) > 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s on %s still has rows", mon, node)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// changes are the monitor events, oldest first, as "node:previous>priority".
func (h *harness) changes() []string {
	evs, _, err := events.List(h.ctx, h.st, events.Filter{Kind: "monitor"})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Attrs["priority"] != string(ev.Severity) {
			h.t.Fatalf("event severity %s, attrs %v", ev.Severity, ev.Attrs)
		}
		out = append(out, ev.Node+":"+ev.Attrs["previous"]+">"+ev.Attrs["priority"])
	}
	return out
}

func (h *harness) wantChanges(want ...string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := h.changes()
		if equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("events %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A scope monitor runs on each node of its scope, judges each, records
// an event on each change of priority (recovery too), and follows the
// scope when nodes join or leave it.
func TestRunnerChangesAndScope(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.node("n2", "web")
	h.node("n9", "db")
	h.monitor("m1", "", "web")
	h.vals.set("n1", 10)
	h.vals.set("n2", 150)
	r, _ := h.start()
	h.waitLive("m1", "n1", judge.Info)
	h.waitLive("m1", "n2", judge.Warning)
	h.wantChanges("n2:>warning") // a first result of info is no change

	h.vals.set("n1", 500)
	h.waitLive("m1", "n1", judge.Critical)
	h.vals.set("n1", 20)
	row := h.waitLive("m1", "n1", judge.Info)
	h.vals.drop("n2")
	h.waitLive("m1", "n2", judge.Unknown)
	h.wantChanges("n2:>warning", "n1:info>critical", "n1:critical>info", "n2:warning>unknown")
	if row.Value != "20 ms" || row.Scope != "web" || row.NodeName != "Node n1" || row.ExpiresAt.Sub(row.CheckedAt) != 3*time.Second {
		t.Fatalf("row %+v", row)
	}

	// Stored rows: the changes at once, the rest by the writer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _, err := status.List(h.ctx, h.st, status.Filter{Monitor: "m1"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 && rows[0].Priority == judge.Info && rows[1].Priority == judge.Unknown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored rows %+v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A node joins the scope, another leaves it.
	h.vals.set("n3", 1)
	h.node("n3", "web")
	h.node("n2", "db")
	h.waitLive("m1", "n3", judge.Info)
	h.waitGone("m1", "n2")
	if p := r.Lateness(0.99); p > 900*time.Millisecond { // a shared 2-core machine
		t.Fatalf("p99 lateness %s on an idle machine", p)
	}
}

// A new runner (a new active) goes on from the stored rows: an unchanged
// priority raises no second event; a change raises one against the
// stored previous priority.
func TestRunnerResumesFromStoredRows(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.monitor("m1", "n1", "")
	h.vals.set("n1", 150)
	_, stop := h.start()
	h.waitLive("m1", "n1", judge.Warning)
	h.wantChanges("n1:>warning")
	stop()
	if len(h.live.Rows(status.Filter{}, time.Now())) != 0 {
		t.Fatal("live rows kept after the runner stopped")
	}
	h.start()
	h.waitLive("m1", "n1", judge.Warning)
	time.Sleep(1500 * time.Millisecond) // another check
	h.wantChanges("n1:>warning")
	h.vals.set("n1", 1)
	h.waitLive("m1", "n1", judge.Info)
	h.wantChanges("n1:>warning", "n1:warning>info")
}

// Monitors added, changed and deleted are picked up within the reload
// period; a deleted monitor's rows go.
func TestRunnerReloads(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.vals.set("n1", 1)
	h.start()
	h.monitor("m1", "n1", "")
	h.waitLive("m1", "n1", judge.Info)
	if err := monitor.Delete(h.ctx, h.st, "m1"); err != nil {
		t.Fatal(err)
	}
	h.waitGone("m1", "n1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _, _ := status.List(h.ctx, h.st, status.Filter{Monitor: "m1"}, time.Now())
		if len(rows) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored rows of a deleted monitor: %+v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
