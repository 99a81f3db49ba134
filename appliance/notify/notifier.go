package notify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Calendar says whether at is inside calendar id's business time
// (appliance/calendar implements it).
type Calendar interface {
	Open(ctx context.Context, id string, at time.Time) (bool, error)
}

// Maintenance says which maintenance window, if any, holds notifications
// of a monitor on a node at a time (appliance/maintenance implements it).
type Maintenance interface {
	Active(ctx context.Context, nodeID, scope, monitorID string, at time.Time) (windowID string, ok bool)
}

// Options configure a Notifier.
type Options struct {
	Store Store
	// Secret opens a credential of the sealed store by name.
	Secret func(ctx context.Context, name string) (string, error)
	// Calendar and Maintenance: nil means always open, never in maintenance.
	Calendar    Calendar
	Maintenance Maintenance
	Log         *slog.Logger
	// Host names this appliance in syslog messages and test notifications.
	Host string
	// QueueSize bounds the results waiting to be judged for notification
	// (default 10,000); past it results are dropped and counted.
	QueueSize int
	// Tick is how often Run reloads the rules, tails the events, releases
	// windows and looks for notifications to send (default 1s).
	Tick time.Duration
	// MaxAttempts bounds the sends of one notification (default 10);
	// RetryBase is the first retry's delay, doubled up to RetryMax
	// (defaults 2s and 5m).
	MaxAttempts         int
	RetryBase, RetryMax time.Duration
	// Senders bound concurrent sends (default 4).
	Senders int
	// Keep is how long the log keeps what was sent, held or failed
	// (default 30 days); what is still to be sent is never pruned.
	Keep time.Duration
	Now  func() time.Time
}

// Notifier records and sends notifications. Judged may be called from
// any goroutine; Run is the active appliance's work.
type Notifier struct {
	opts    Options
	queue   chan Judged
	wake    chan struct{}
	dropped atomic.Int64
	sent    atomic.Int64
	failed  atomic.Int64

	// Owned by Run's judging goroutine.
	states   map[stateKey]*state
	rules    map[string]Rule
	channels map[string]Channel
	loaded   time.Time
	pruned   time.Time
	mu       sync.Mutex // guards the maps' replacement (the senders read channels)
}

// New returns a notifier.
func New(o Options) *Notifier {
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.Senders <= 0 {
		o.Senders = 4
	}
	if o.Keep <= 0 {
		o.Keep = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Host == "" {
		o.Host = "mamori"
	}
	return &Notifier{opts: o, queue: make(chan Judged, o.QueueSize), wake: make(chan struct{}, 1)}
}

// Judged hands over one judged result. It never blocks: when the queue
// is full the result is dropped and counted (Dropped).
func (n *Notifier) Judged(_ context.Context, j Judged) {
	if len(j.Rules) == 0 {
		return
	}
	select {
	case n.queue <- j:
	default:
		n.dropped.Add(1)
	}
}

// Dropped is how many results Judged dropped on a full queue.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Counts are the notifications this appliance sent and gave up on.
func (n *Notifier) Counts() (sent, failed int64) { return n.sent.Load(), n.failed.Load() }

// ruleCount is how many rules Run has read.
func (n *Notifier) ruleCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.rules)
}

func (n *Notifier) kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run is the active appliance's work: it judges queued results against
// the rules, tails the events, releases ended maintenance windows and
// sends what is recorded and unsent (also what a previous active left).
func (n *Notifier) Run(ctx context.Context) error {
	n.states = map[stateKey]*state{}
	n.loaded = time.Time{}
	if err := n.loadStates(ctx); err != nil {
		n.opts.Log.Warn("notify: cannot read what was last notified; suppression starts afresh", "err", err)
	}
	n.retryNow(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.sendLoop(ctx) }()
	defer wg.Wait()
	t := time.NewTicker(n.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-n.queue:
			n.reload(ctx, false)
			n.judge(ctx, j)
		case <-t.C:
			// The rules as they are now: an event stored after a rule
			// was saved is tailed with that rule.
			end := n.lastEventID(ctx)
			n.reload(ctx, true)
			n.tailEvents(ctx, end)
			n.releaseWindows(ctx)
			n.prune(ctx)
		}
	}
}

// prune deletes, a bounded batch at a time, what the log no longer keeps.
func (n *Notifier) prune(ctx context.Context) {
	now := n.opts.Now()
	if now.Sub(n.pruned) < time.Minute {
		return
	}
	n.pruned = now
	_, err := n.opts.Store.Exec(ctx, store.Statement{SQL: `DELETE FROM notify_outbox WHERE id IN (SELECT id FROM notify_outbox
		WHERE status != ? AND recorded_at < ? ORDER BY id LIMIT 5000)`, Args: []any{Recorded, fmtTime(now.Add(-n.opts.Keep))}})
	if err != nil {
		n.opts.Log.Warn("notify: cannot prune the notification log", "err", err)
	}
}

// retryNow makes what a previous active left due at once: its failures
// may have been its own (its network, its DNS), not the receivers'.
func (n *Notifier) retryNow(ctx context.Context) {
	now := fmtTime(n.opts.Now())
	_, err := n.opts.Store.Exec(ctx, store.Statement{SQL: `UPDATE notify_outbox SET next_at = ? WHERE status = ? AND next_at > ?`,
		Args: []any{now, Recorded, now}})
	if err != nil {
		n.opts.Log.Warn("notify: cannot make the left notifications due", "err", err)
	}
}

// reload reads the rules and channels, at most once a tick unless now.
func (n *Notifier) reload(ctx context.Context, now bool) {
	at := n.opts.Now()
	if !now && at.Sub(n.loaded) < n.opts.Tick {
		return
	}
	rs, err := Rules(ctx, n.opts.Store, nil)
	if err != nil {
		n.opts.Log.Warn("notify: cannot read the rules", "err", err)
		return
	}
	cs, err := Channels(ctx, n.opts.Store, nil)
	if err != nil {
		n.opts.Log.Warn("notify: cannot read the channels", "err", err)
		return
	}
	rules := map[string]Rule{}
	for _, r := range rs {
		rules[r.ID] = r
	}
	chs := map[string]Channel{}
	for _, c := range cs {
		chs[c.ID] = c
	}
	n.mu.Lock()
	n.rules, n.channels = rules, chs
	n.mu.Unlock()
	n.loaded = at
}

func (n *Notifier) loadStates(ctx context.Context) error {
	rows, err := n.opts.Store.Query(ctx, store.Local, `SELECT rule, monitor, node, item, priority, at, seq FROM notify_state`)
	if err != nil {
		return err
	}
	for _, v := range rows.Values {
		s := func(i int) string { x, _ := v[i].(string); return x }
		n.states[stateKey{s(0), s(1), s(2), s(3)}] = &state{notified: s(4), notifiedAt: parseTime(s(5)), seq: s(6)}
	}
	return nil
}

func (n *Notifier) stateFor(k stateKey) *state {
	s := n.states[k]
	if s == nil {
		s = &state{}
		n.states[k] = s
	}
	return s
}

// judge applies every rule the result names.
func (n *Notifier) judge(ctx context.Context, j Judged) {
	for _, id := range j.Rules {
		r, ok := n.rules[id]
		if !ok || !r.Enabled {
			continue
		}
		k := stateKey{r.ID, j.MonitorID, j.NodeID, j.Item}
		s := n.stateFor(k)
		kind := s.observe(r, j)
		if kind == "" {
			if s.settles(j.Priority) && s.count >= r.After {
				n.settleOrHold(ctx, k, s, j)
			}
			continue
		}
		if !n.calendarOpen(ctx, r, j.At) {
			continue
		}
		n.notify(ctx, r, k, s, j, kind, j.seq())
	}
}

func (n *Notifier) calendarOpen(ctx context.Context, r Rule, at time.Time) bool {
	if r.Calendar == "" || n.opts.Calendar == nil {
		return true
	}
	open, err := n.opts.Calendar.Open(ctx, r.Calendar, at)
	if err != nil {
		// Better a notification outside business time than none.
		n.opts.Log.Warn("notify: calendar unreadable; notifying as if open", "rule", r.ID, "calendar", r.Calendar, "err", err)
		return true
	}
	return open
}

// notify records the notifications of one result to each of the rule's
// channels, held if a maintenance window covers it, with what the rule
// last notified, in one write.
func (n *Notifier) notify(ctx context.Context, r Rule, k stateKey, s *state, j Judged, kind, seq string) {
	window := n.windowFor(ctx, j)
	if window != "" && s.held == window && s.heldPriority == j.Priority {
		return // held already: one held record per change within a window
	}
	now := n.opts.Now()
	var stmts []store.Statement
	for _, ch := range r.Channels {
		nt := notification(r.ID, ch, j, kind, seq, now)
		if kind == KindRecovery && s.seq != "" {
			nt.Resolves = Key(r.ID, ch, j.MonitorID, j.NodeID, j.Item, s.seq)
		}
		if window != "" {
			nt.Status, nt.Window = Held, window
		}
		stmts = append(stmts, recordStmt(nt))
	}
	if window == "" {
		stmts = append(stmts, stateStmt(k, j.Priority, j.At, seq))
	}
	if _, err := n.opts.Store.Exec(ctx, stmts...); err != nil {
		// Not recorded: the next result decides again (nothing changed).
		n.opts.Log.Warn("notify: cannot record notifications", "rule", r.ID, "monitor", j.MonitorID, "node", j.NodeID, "err", err)
		return
	}
	if window != "" {
		s.held, s.heldPriority = window, j.Priority
		return
	}
	s.notifiedNow(j.Priority, j.At, seq)
	n.kick()
}

// settleOrHold closes a problem without a notice, or, inside a
// maintenance window, leaves it for the window's end (the receiver was
// told of the problem and may still be, if it is back by then).
func (n *Notifier) settleOrHold(ctx context.Context, k stateKey, s *state, j Judged) {
	if w := n.windowFor(ctx, j); w != "" {
		s.held, s.heldPriority = w, j.Priority
		return
	}
	n.settle(ctx, k, s, j)
}

// windowFor is the maintenance window holding j: the runner's word, or
// else the Maintenance checker's ("" none).
func (n *Notifier) windowFor(ctx context.Context, j Judged) string {
	if j.Maintenance != "" || n.opts.Maintenance == nil {
		return j.Maintenance
	}
	if w, ok := n.opts.Maintenance.Active(ctx, j.NodeID, j.Scope, j.MonitorID, j.At); ok {
		return w
	}
	return ""
}

// settle records that a problem closed without a notice.
func (n *Notifier) settle(ctx context.Context, k stateKey, s *state, j Judged) {
	if _, err := n.opts.Store.Exec(ctx, stateStmt(k, j.Priority, j.At, j.seq())); err != nil {
		n.opts.Log.Warn("notify: cannot record the state", "rule", k.rule, "err", err)
		return
	}
	s.notifiedNow(j.Priority, j.At, j.seq())
}

func stateStmt(k stateKey, priority string, at time.Time, seq string) store.Statement {
	return store.Statement{SQL: `INSERT INTO notify_state (rule, monitor, node, item, priority, at, seq) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT(rule, monitor, node, item) DO UPDATE SET priority = excluded.priority, at = excluded.at, seq = excluded.seq`,
		Args: []any{k.rule, k.monitor, k.node, k.item, priority, fmtTime(at), seq}}
}

func notification(rule, channel string, j Judged, kind, seq string, now time.Time) Notification {
	return Notification{Key: Key(rule, channel, j.MonitorID, j.NodeID, j.Item, seq), Kind: kind, Rule: rule, Channel: channel,
		Monitor: j.MonitorID, MonitorName: j.MonitorName, MonitorKind: j.Kind, Node: j.NodeID, NodeName: j.NodeName,
		Scope: j.Scope, Item: j.Item, Priority: j.Priority, Previous: j.Previous, Message: j.Message, Value: j.Value,
		At: j.At, EventUID: j.EventUID, Status: Recorded, RecordedAt: now}
}

// releaseWindows notifies, once, the state of what a window held when
// the window has ended and the state differs from what was last notified.
// Without a Maintenance checker the next result after the window does
// (it carries no window, and differs from what was last notified).
func (n *Notifier) releaseWindows(ctx context.Context) {
	if n.opts.Maintenance == nil {
		return
	}
	now := n.opts.Now()
	for k, s := range n.states {
		if s.held == "" {
			continue
		}
		r, ok := n.rules[k.rule]
		if !ok || !r.Enabled {
			continue
		}
		j := s.lastJ
		if w, on := n.opts.Maintenance.Active(ctx, j.NodeID, j.Scope, j.MonitorID, now); on && w != "" {
			continue
		}
		window := s.held
		s.held, s.heldPriority = "", ""
		kind := s.release(r)
		switch {
		case kind != "":
			j.At = now
			n.notify(ctx, r, k, s, j, kind, "release:"+window+":"+j.seq())
		case s.settles(s.last):
			n.settle(ctx, k, s, j)
		}
	}
}

// RegisterMetrics exports the queue's drops and the sends' outcomes.
func (n *Notifier) RegisterMetrics(reg prometheus.Registerer) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mamori", Subsystem: "notify", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("dropped_total", "Judged results dropped on a full notification queue.", func() float64 { return float64(n.dropped.Load()) }),
		counter("sent_total", "Notifications this appliance sent.", func() float64 { return float64(n.sent.Load()) }),
		counter("failed_total", "Notifications given up after the last attempt.", func() float64 { return float64(n.failed.Load()) }),
	)
}
