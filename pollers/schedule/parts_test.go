package schedule

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/status"
)

// countingStore counts the status rows written through it.
type countingStore struct {
	Store
	statusRows atomic.Int64
}

func (c *countingStore) Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error) {
	for _, s := range stmts {
		if strings.Contains(s.SQL, "INTO monitor_status") {
			c.statusRows.Add(1)
		}
	}
	return c.Store.Exec(ctx, stmts...)
}

// An unchanged result is not written again before the refresh period
// (a minute): checks every second cost one row, not one a second.
func TestStatusWritesAreBounded(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.monitor("m1", "n1", "")
	h.vals.set("n1", 10)
	cs := &countingStore{Store: h.st}
	r := New(Options{Kinds: h.kinds, Reload: 100 * time.Millisecond, FlushEvery: 100 * time.Millisecond}, cs, h.live, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	first := h.waitLive("m1", "n1", judge.Info)
	time.Sleep(3500 * time.Millisecond)
	later := h.waitLive("m1", "n1", judge.Info)
	if !later.CheckedAt.After(first.CheckedAt.Add(2 * time.Second)) {
		t.Fatalf("the monitor did not keep running: %s then %s", first.CheckedAt, later.CheckedAt)
	}
	if n := cs.statusRows.Load(); n != 1 {
		t.Fatalf("%d status rows written for ~4 unchanged checks, want 1", n)
	}
	h.vals.set("n1", 500)
	h.waitLive("m1", "n1", judge.Critical)
	if n := cs.statusRows.Load(); n != 2 {
		t.Fatalf("%d status rows written after a change, want 2", n)
	}
}

type fakeNotifier struct {
	mu sync.Mutex
	js []Judged
}

func (f *fakeNotifier) Judged(_ context.Context, j Judged) {
	f.mu.Lock()
	f.js = append(f.js, j)
	f.mu.Unlock()
}

func (f *fakeNotifier) all() []Judged {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Judged(nil), f.js...)
}

type fakeWindow struct{ id string }

func (f fakeWindow) Active(_ context.Context, node, _, _ string, _ time.Time) (string, bool) {
	return f.id, f.id != "" && node == "n1"
}

type closedCalendar struct{}

func (closedCalendar) Open(context.Context, string, time.Time) (bool, error) { return false, nil }

type fakeSeries struct{ n atomic.Int64 }

func (f *fakeSeries) Add(k MetricKey, _ time.Time, v float64) {
	if k.Monitor == "m1" && v > 0 {
		f.n.Add(1)
	}
}

// Every judged result goes to notifications, a change with its event's
// uid; an event raised inside a maintenance window says so; numbers go
// to metrics; a monitor outside its calendar is not checked.
func TestRunnerParts(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.monitor("m1", "n1", "")
	h.vals.set("n1", 150)
	nf, series := &fakeNotifier{}, &fakeSeries{}
	r := New(Options{Kinds: h.kinds, Reload: 100 * time.Millisecond, FlushEvery: 100 * time.Millisecond, Notifier: nf,
		Maintenance: fakeWindow{"w1"}, Calendar: closedCalendar{}, Metrics: series}, h.st, h.live, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	h.waitLive("m1", "n1", judge.Warning)
	time.Sleep(1200 * time.Millisecond)
	js := nf.all()
	if len(js) < 2 || js[0].Priority != "warning" || js[0].Previous != "" || js[0].EventUID == "" || js[0].Maintenance != "w1" ||
		js[1].EventUID != "" || js[1].Previous != "warning" || js[0].NodeName != "Node n1" {
		t.Fatalf("judged results %+v", js)
	}
	evs, _, _ := events.List(h.ctx, h.st, events.Filter{Kind: "monitor"})
	if len(evs) != 1 || evs[0].UID != js[0].EventUID || evs[0].Attrs["maintenance"] != "w1" || evs[0].Severity != events.Warning {
		t.Fatalf("events %+v", evs)
	}
	if series.n.Load() < 2 {
		t.Fatalf("%d numbers went to metrics", series.n.Load())
	}

	// A calendar closed now: the monitor is not checked.
	h.monitorWith("m2", "n1", "", func(m *monitor.Monitor) { m.Calendar = "office" })
	time.Sleep(2500 * time.Millisecond)
	if rows := h.live.Rows(status.Filter{Monitor: "m2"}, time.Now()); len(rows) != 0 {
		t.Fatalf("a monitor outside its calendar was checked: %+v", rows)
	}
}

// A new run (a new active) hands the recent changes the old one stored
// to notifications again with their event uids (the old active may have
// died before its notification was recorded; the uid keys it, so a
// recorded one is not recorded twice).
func TestRunnerReplaysRecentChanges(t *testing.T) {
	h := newHarness(t)
	h.node("n1", "web")
	h.monitor("m1", "n1", "")
	h.vals.set("n1", 150)
	first := &fakeNotifier{}
	run := func(nf *fakeNotifier) func() {
		r := New(Options{Kinds: h.kinds, Reload: 100 * time.Millisecond, FlushEvery: 100 * time.Millisecond, Notifier: nf}, h.st, h.live,
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan struct{})
		go func() { _ = r.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stop := run(first)
	h.waitLive("m1", "n1", judge.Warning)
	stop()
	uid := first.all()[0].EventUID
	if uid == "" {
		t.Fatalf("the change has no event uid: %+v", first.all())
	}
	second := &fakeNotifier{}
	stop = run(second)
	defer stop()
	h.waitLive("m1", "n1", judge.Warning)
	js := second.all()
	if len(js) == 0 || js[0].EventUID != uid || js[0].Priority != "warning" || js[0].Previous != "" {
		t.Fatalf("the new run's first notifications %+v, want the stored change %s replayed", js, uid)
	}
	for _, j := range js[1:] {
		if j.EventUID != "" {
			t.Fatalf("an unchanged result carries an event uid: %+v", j)
		}
	}
	rows, _, _ := status.List(h.ctx, h.st, status.Filter{Monitor: "m1"}, time.Now())
	if len(rows) != 1 || rows[0].EventUID != uid || rows[0].ChangedAt.IsZero() {
		t.Fatalf("stored row %+v", rows)
	}
}

// A per-item kind keeps a row per item; a check that fails before any
// item was read gets one row for the whole monitor, which recovers and
// goes when items come; a failure later fails each item.
func TestRunnerPerItem(t *testing.T) {
	h := newHarness(t)
	h.kind.PerItem = true
	h.node("n1", "web")
	h.monitor("m1", "n1", "")
	h.start()
	h.waitLive("m1", "n1", judge.Unknown) // no value: the check fails, one row
	h.vals.set("n1", 150)
	items := func(want judge.Priority) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rows := h.live.Rows(status.Filter{Monitor: "m1"}, time.Now())
			ok := len(rows) == 2
			for _, r := range rows {
				ok = ok && r.Item != "" && r.Priority == want
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("rows %+v, want items a and b %s", rows, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	items(judge.Warning)
	h.vals.drop("n1")
	items(judge.Unknown)
	h.wantChanges("n1:>unknown", "n1:>warning", "n1:>warning", "n1:unknown>info", "n1:warning>unknown", "n1:warning>unknown")
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _, _ := status.List(h.ctx, h.st, status.Filter{Monitor: "m1"}, time.Now())
		if len(rows) == 2 && rows[0].Item == "a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored rows %+v, want a and b only", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
