// Package schedule runs the monitors on the active appliance: it expands
// them to their nodes, spreads each one's checks across its interval,
// runs them with bounded concurrency per kind, judges the results, keeps
// the status, records an event on every change of priority and hands
// every judged result to notifications and numbers to metrics. See
// pollers/DESIGN.md.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/status"
)

// Store is what the runner needs of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Judged is one judged result, as notifications take it (the contract
// of appliance/notify; serve.go adapts).
type Judged struct {
	MonitorID, MonitorName, Kind, NodeID, NodeName, Scope, Item string
	Priority, Previous                                          string // this result's priority, the previous one ("" first)
	Message, Value                                              string
	At                                                          time.Time
	Rules                                                       []string // the monitor's "notify" rule ids
	EventUID                                                    string   // the event recorded for a change of priority ("" if none)
	Maintenance                                                 string   // the maintenance window holding it ("" none)
}

// Notifier takes every judged result; it must not block.
type Notifier interface {
	Judged(ctx context.Context, j Judged)
}

// Maintenance says whether a window holds a node's monitor now.
type Maintenance interface {
	Active(ctx context.Context, nodeID, scope, monitorID string, at time.Time) (windowID string, ok bool)
}

// Calendar says whether a time is inside a calendar's business time.
type Calendar interface {
	Open(ctx context.Context, id string, at time.Time) (bool, error)
}

// MetricKey names a series.
type MetricKey struct{ Monitor, Node, Item string }

// Metrics takes numeric values; it must not block.
type Metrics interface {
	Add(k MetricKey, at time.Time, v float64)
}

// Options configure the runner.
type Options struct {
	Kinds monitor.Kinds
	// Secret opens a credential of the sealed store.
	Secret func(ctx context.Context, name string) (string, error)
	// Reload is how often the runner looks for changed monitors and
	// nodes (default 2s).
	Reload time.Duration
	// PerKind bounds concurrent checks of one kind (default 256); Limits
	// overrides it by kind name.
	PerKind int
	Limits  map[string]int
	// CatchUp is how far back a new run (a new active) looks for slots
	// that may have been missed during a failover, to run them at once
	// (default 30s; serve.go passes more than the detection time).
	CatchUp time.Duration
	// Replay is how far back a new run hands stored changes of priority
	// to notifications again (default 10 min; see replay).
	Replay time.Duration
	// FlushEvery is how often unchanged status rows are written (default 1s).
	FlushEvery time.Duration
	// Optional parts (nil: none).
	Notifier    Notifier
	Maintenance Maintenance
	Calendar    Calendar
	Metrics     Metrics
	Registry    prometheus.Registerer
	Now         func() time.Time
}

// Runner runs monitors. It is an ha.Work: Run on the active only.
type Runner struct {
	opts Options
	st   Store
	log  *slog.Logger
	live *status.Live
	met  runnerMetrics
	late *lateness
}

// New returns a runner; it does no I/O.
func New(opts Options, st Store, live *status.Live, log *slog.Logger) *Runner {
	if opts.Reload <= 0 {
		opts.Reload = 2 * time.Second
	}
	if opts.PerKind <= 0 {
		opts.PerKind = 256
	}
	if opts.Replay <= 0 {
		opts.Replay = 10 * time.Minute
	}
	if opts.CatchUp <= 0 {
		opts.CatchUp = 30 * time.Second
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Runner{opts: opts, st: st, log: log.With("component", "monitors"), live: live, late: newLateness(10000)}
	r.met = newRunnerMetrics(opts.Registry, r.late)
	return r
}

// Lateness is the runner's recent check lateness (start minus due time)
// at quantile q (0..1).
func (r *Runner) Lateness(q float64) time.Duration { return r.late.quantile(q) }

// target is one monitor on one node while the runner runs it.
type target struct {
	monitor.Target
	gen      uint64
	interval time.Duration
	off      time.Duration
	checker  check.Checker
	kind     check.Kind
	judgeErr error
	judge    *judge.Judge
	mu       sync.Mutex // one check at a time; guards state, busy, removed
	busy     bool
	removed  bool
	state    targetState
}

// run is one activation of the runner: its targets, queue and writer.
type run struct {
	r       *Runner
	mu      sync.Mutex
	targets map[string]*target
	q       queue
	gen     uint64
	wake    chan struct{}
	sems    map[string]chan struct{}
	writer  *statusWriter
	stored  map[status.Key]status.Row // rows stored when this run began
	wg      sync.WaitGroup
	version string
}

// Run loads the monitors and runs them until ctx ends; it returns after
// every check it started has ended.
func (r *Runner) Run(ctx context.Context) error {
	r.live.Reset()
	defer r.live.Reset()
	stored, err := r.loadStored(ctx)
	if err != nil {
		return err
	}
	ru := &run{r: r, targets: map[string]*target{}, wake: make(chan struct{}, 1), sems: map[string]chan struct{}{}, stored: stored,
		writer: newStatusWriter(r.st, r.log)}
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	go func() { ru.writer.run(wctx, r.opts.FlushEvery); close(writerDone) }()
	defer func() { ru.wg.Wait(); stopWriter(); <-writerDone }()
	if err := ru.reload(ctx); err != nil {
		r.log.Warn("monitors not loaded; retrying", "err", err)
	}
	ru.wg.Add(1)
	go func() { defer ru.wg.Done(); ru.reloadLoop(ctx) }()
	ru.dispatch(ctx)
	return nil
}

// loadStored reads the stored status rows: a new active judges changes
// against what the old one stored, so it neither repeats nor misses a
// change of priority.
func (r *Runner) loadStored(ctx context.Context) (map[status.Key]status.Row, error) {
	for {
		rows, err := status.All(ctx, r.st, r.opts.Now())
		if err == nil {
			out := make(map[status.Key]status.Row, len(rows))
			for _, row := range rows {
				out[row.Key()] = row
			}
			return out, nil
		}
		r.log.Warn("status rows not readable; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("load status rows: %w", err)
		case <-time.After(time.Second):
		}
	}
}

func (ru *run) reloadLoop(ctx context.Context) {
	t := time.NewTicker(ru.r.opts.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ru.reload(ctx); err != nil && ctx.Err() == nil {
				ru.r.log.Warn("monitors not reloaded", "err", err)
			}
		}
	}
}

// reload reads monitors and nodes when either changed and schedules the
// targets: new ones at their next slot, changed ones again, gone ones
// dropped (with their status rows).
func (ru *run) reload(ctx context.Context) error {
	v, err := monitor.Version(ctx, ru.r.st)
	if err != nil {
		return err
	}
	nodes, err := inventory.List(ctx, ru.r.st, nil)
	if err != nil {
		return err
	}
	v += nodesPrint(nodes)
	if v == ru.version {
		return nil
	}
	ms, err := monitor.All(ctx, ru.r.st)
	if err != nil {
		return err
	}
	first := ru.version == ""
	ru.apply(monitor.Expand(ms, nodes), first)
	ru.version = v
	if first {
		ru.replay(ctx)
	}
	return nil
}

// replay hands the changes of priority of the last Options.Replay
// period to notifications again, with their event uids: the old active
// may have stored a change and died before its notification was
// recorded. Notifications key a change by its event uid, so one already
// recorded is not recorded twice.
func (ru *run) replay(ctx context.Context) {
	if ru.r.opts.Notifier == nil {
		return
	}
	since := ru.r.opts.Now().Add(-ru.r.opts.Replay)
	ru.mu.Lock()
	targets := make(map[string]*target, len(ru.targets))
	for k, t := range ru.targets {
		targets[k] = t
	}
	ru.mu.Unlock()
	n := 0
	for _, row := range ru.stored {
		t := targets[row.Monitor+"\x00"+row.Node]
		if t == nil || row.EventUID == "" || row.ChangedAt.Before(since) {
			continue
		}
		window := ""
		if ru.r.opts.Maintenance != nil {
			window, _ = ru.r.opts.Maintenance.Active(ctx, row.Node, row.Scope, row.Monitor, row.ChangedAt)
		}
		at := row
		at.CheckedAt = row.ChangedAt
		ru.notify(ctx, t, at, row.Previous, row.EventUID, window)
		n++
	}
	if n > 0 {
		ru.r.log.Info("recent changes of priority handed to notifications again", "changes", n)
	}
}

// nodesPrint is a fingerprint of what of the nodes the runner uses.
func nodesPrint(ns []inventory.Node) string {
	h := newHash()
	for _, n := range ns {
		h.add(n.ID, n.Name, n.Address, n.Scope)
		if n.SNMP != nil {
			h.add(fmt.Sprint(*n.SNMP))
		}
	}
	return h.String()
}

func (ru *run) apply(ts []monitor.Target, first bool) {
	now := ru.r.opts.Now()
	ru.mu.Lock()
	defer ru.mu.Unlock()
	seen := make(map[string]bool, len(ts))
	for _, t := range ts {
		key := t.Key()
		if k, ok := ru.r.opts.Kinds(t.Monitor.Kind); ok && k.New == nil {
			continue // an agent kind: the node's agent checks it, not the appliance
		}
		seen[key] = true
		old := ru.targets[key]
		if old != nil && sameMonitor(old.Monitor, t.Monitor) && old.Node == t.Node {
			continue
		}
		nt := ru.newTarget(t)
		if old != nil {
			old.mu.Lock()
			nt.state = old.state // counters, previous values and priorities carry over
			old.removed = true
			old.mu.Unlock()
		} else {
			nt.state = stateFrom(ru.stored, t.Monitor.ID, t.Node.ID)
		}
		ru.targets[key] = nt
		ru.q.push(due{at: ru.firstDue(nt, now, first), key: key, gen: nt.gen})
	}
	for key, t := range ru.targets {
		if !seen[key] {
			delete(ru.targets, key)
			t.mu.Lock()
			t.removed = true // a check still running stores nothing
			t.mu.Unlock()
			ru.r.live.Drop(t.Monitor.ID, t.Node.ID)
			ru.writer.remove(t.Monitor.ID, t.Node.ID)
		}
	}
	ru.r.met.targets.Set(float64(len(ru.targets)))
	select {
	case ru.wake <- struct{}{}:
	default:
	}
}

// firstDue is when a new target is first checked: its next slot; but
// at the start of a run (a new active), a target whose last slot fell
// within the catch-up window may have been missed while no appliance
// was active, so it runs at once (spread over at most 200 ms by its
// offset): no monitor then misses more than one interval beyond the
// time the pair took to fail over.
func (ru *run) firstDue(t *target, now time.Time, first bool) time.Time {
	next := nextSlot(now, t.interval, t.off)
	prev := next.Add(-t.interval)
	if !first || now.Sub(prev) > min(t.interval, ru.r.opts.CatchUp) {
		return next
	}
	return now.Add(time.Duration(int64(t.off) * int64(min(200*time.Millisecond, t.interval/4)) / int64(t.interval)))
}

// sameMonitor compares definitions by value (the judgement holds pointers).
func sameMonitor(a, b *monitor.Stored) bool {
	ja, _ := json.Marshal(a.Monitor)
	jb, _ := json.Marshal(b.Monitor)
	return a.EffectiveScope == b.EffectiveScope && string(ja) == string(jb)
}

func (ru *run) newTarget(t monitor.Target) *target {
	ru.gen++
	nt := &target{Target: t, gen: ru.gen, interval: t.Monitor.IntervalD()}
	if nt.interval <= 0 {
		nt.interval = time.Minute
	}
	nt.off = offset(t.Key(), nt.interval)
	nt.kind, nt.checker, nt.judgeErr = monitor.Checker(ru.r.opts.Kinds, t.Monitor.Monitor)
	var err error
	if nt.judge, err = monitor.Judge(t.Monitor.Monitor); err != nil {
		nt.judgeErr = err
		nt.judge, _ = judge.Compile(judge.Judgement{})
	}
	return nt
}

// dispatch pops due checks and starts them, until ctx ends.
func (ru *run) dispatch(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := ru.startDue(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-ru.wake:
		}
	}
}

// startDue starts every check that is due and says how long to sleep.
func (ru *run) startDue(ctx context.Context) time.Duration {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	for {
		d, ok := ru.q.peek()
		if !ok {
			return time.Hour
		}
		now := ru.r.opts.Now()
		if d.at.After(now) {
			return d.at.Sub(now)
		}
		ru.q.pop()
		t := ru.targets[d.key]
		if t == nil || t.gen != d.gen {
			continue // removed or rescheduled since
		}
		next := nextSlot(d.at, t.interval, t.off) // from a catch-up back to its phase
		if !next.After(now) {                     // far behind (a stop of the process): skip to the next slot
			ru.r.met.skipped.WithLabelValues("behind").Inc()
			next = nextSlot(now, t.interval, t.off)
		}
		ru.q.push(due{at: next, key: d.key, gen: d.gen})
		ru.start(ctx, t, d.at)
	}
}

// start runs t's check due at at, unless its previous check still runs.
func (ru *run) start(ctx context.Context, t *target, at time.Time) {
	t.mu.Lock()
	if t.busy {
		t.mu.Unlock()
		ru.r.met.skipped.WithLabelValues("overrun").Inc()
		return
	}
	t.busy = true
	t.mu.Unlock()
	sem := ru.sem(t.Monitor.Kind)
	ru.wg.Add(1)
	go func() {
		defer ru.wg.Done()
		defer func() { t.mu.Lock(); t.busy = false; t.mu.Unlock() }()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-sem }()
		ru.check(ctx, t, at)
	}()
}

// sem is the concurrency bound of a kind (called with ru.mu held).
func (ru *run) sem(kind string) chan struct{} {
	s := ru.sems[kind]
	if s == nil {
		n := ru.r.opts.PerKind
		if l, ok := ru.r.opts.Limits[kind]; ok && l > 0 {
			n = l
		}
		s = make(chan struct{}, n)
		ru.sems[kind] = s
	}
	return s
}
