package schedule

import (
	"context"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/status"
)

// targetState is what a target remembers between checks.
type targetState struct {
	items   map[string]itemState // by status row item ("" for a whole monitor)
	samples map[string]sample    // counters' previous readings, by item key
	numbers map[string]float64   // previous numbers (change amount), by item key
}

// itemState is a status row's last judgement, when it was stored, and
// its last change of priority.
type itemState struct {
	priority  judge.Priority
	message   string
	storedAt  time.Time
	changedAt time.Time
	previous  judge.Priority
	eventUID  string
}

// stateFrom starts a target from the rows a previous active stored.
func stateFrom(stored map[status.Key]status.Row, mon, node string) targetState {
	s := targetState{items: map[string]itemState{}, samples: map[string]sample{}, numbers: map[string]float64{}}
	for k, r := range stored {
		if k.Monitor == mon && k.Node == node {
			s.items[k.Item] = itemState{priority: r.Priority, message: r.Message, storedAt: r.CheckedAt, changedAt: r.ChangedAt,
				previous: r.Previous, eventUID: r.EventUID}
		}
	}
	return s
}

// check runs t once (due at at), outside its calendar not at all.
func (ru *run) check(ctx context.Context, t *target, at time.Time) {
	r := ru.r
	start := r.opts.Now()
	r.late.add(start.Sub(at))
	r.met.lateness.Observe(start.Sub(at).Seconds())
	m := t.Monitor.Monitor
	if m.Calendar != "" && r.opts.Calendar != nil {
		if open, err := r.opts.Calendar.Open(ctx, m.Calendar, at); err == nil && !open {
			r.met.skipped.WithLabelValues("calendar").Inc()
			return
		}
	}
	var res check.Result
	switch {
	case t.judgeErr != nil:
		res = check.Failed(t.judgeErr, "")
	default:
		res, _ = monitor.Run(ctx, t.checker, m, t.Node, r.opts.Secret)
	}
	if ctx.Err() != nil {
		return // stopping: a check cut short by the stop is not a result
	}
	r.met.checks.WithLabelValues(m.Kind).Inc()
	ru.judge(ctx, t, res, r.opts.Now())
}

// judge turns a result into status rows, events, notifications, metrics.
func (ru *run) judge(ctx context.Context, t *target, res check.Result, at time.Time) {
	jd := t.judge
	t.mu.Lock()
	res = ru.rates(t, res, at)
	prevNum := func(key string) *float64 {
		if v, ok := t.state.numbers[key]; ok {
			return &v
		}
		return nil
	}
	whole, items := jd.Result(res, prevNum)
	for _, it := range res.Items {
		if it.Number != nil && it.Err == "" && !it.Counter {
			t.state.numbers[it.Key] = *it.Number
		}
	}
	t.mu.Unlock()
	ru.collect(t, res, at)
	if !t.kind.PerItem {
		ru.row(ctx, t, "", whole, at)
		return
	}
	ru.perItem(ctx, t, res, whole, items, at)
}

// perItem keeps a row per item. A failed check fails every item it had
// (or one row for the whole monitor if it never had any); when items
// come back, that whole-monitor row recovers and goes.
func (ru *run) perItem(ctx context.Context, t *target, res check.Result, whole judge.Verdict, items []judge.Judged, at time.Time) {
	t.mu.Lock()
	var known []string
	_, wholeRow := t.state.items[""]
	for k := range t.state.items {
		if k != "" {
			known = append(known, k)
		}
	}
	t.mu.Unlock()
	if res.Err != nil || len(items) == 0 {
		if len(known) == 0 {
			known = []string{""}
		}
		for _, k := range known {
			ru.row(ctx, t, k, whole, at)
		}
		return
	}
	for _, it := range items {
		ru.row(ctx, t, it.Item.Key, it.Verdict, at)
	}
	if wholeRow {
		ru.row(ctx, t, "", judge.Verdict{Priority: judge.Info, Message: "the check answers again"}, at)
		ru.dropItem(t, "")
	}
}

// dropItem forgets one status row of t (memory, live and store).
func (ru *run) dropItem(t *target, item string) {
	t.mu.Lock()
	delete(t.state.items, item)
	t.mu.Unlock()
	k := status.Key{Monitor: t.Monitor.ID, Node: t.Node.ID, Item: item}
	ru.r.live.DropKey(k)
	ru.writer.removeKey(k)
}

// rates replaces counter items by their rates (t.mu held).
func (ru *run) rates(t *target, res check.Result, at time.Time) check.Result {
	out := res
	out.Items = make([]check.Item, 0, len(res.Items))
	for _, it := range res.Items {
		if !it.Counter || it.Number == nil || it.Err != "" {
			out.Items = append(out.Items, it)
			continue
		}
		var prev *sample
		if s, ok := t.state.samples[it.Key]; ok {
			prev = &s
		}
		t.state.samples[it.Key] = sample{v: *it.Number, at: at}
		r, ok, _ := rate(prev, *it.Number, at)
		if !ok {
			out.Items = append(out.Items, it) // still a counter: the judge skips it
			continue
		}
		out.Items = append(out.Items, toRate(it, r))
	}
	return out
}

// collect hands numbers to metrics.
func (ru *run) collect(t *target, res check.Result, at time.Time) {
	if ru.r.opts.Metrics == nil || !t.Monitor.Collect {
		return
	}
	for _, it := range res.Items {
		if it.Number != nil && !it.Counter && it.Err == "" {
			ru.r.opts.Metrics.Add(MetricKey{Monitor: t.Monitor.ID, Node: t.Node.ID, Item: it.Key}, at, *it.Number)
		}
	}
}

// row keeps one status row's verdict: in memory always; in the store at
// once with an event when the priority changed, else through the
// writer when the message changed or the stored row grew old.
func (ru *run) row(ctx context.Context, t *target, item string, v judge.Verdict, at time.Time) {
	if v.Skip {
		return
	}
	t.mu.Lock()
	prev, known := t.state.items[item]
	removed := t.removed
	t.mu.Unlock()
	if removed {
		return // the monitor left this node while its check ran
	}
	m, n := t.Monitor, t.Node
	row := status.Row{Monitor: m.ID, MonitorName: m.Name, Kind: m.Kind, Node: n.ID, NodeName: n.Name, Scope: n.Scope, Item: item,
		Priority: v.Priority, Message: v.Message, Value: v.Value, CheckedAt: at, ExpiresAt: at.Add(status.Expiry(t.interval)),
		ChangedAt: prev.changedAt, Previous: prev.previous, EventUID: prev.eventUID}
	window := ""
	if ru.r.opts.Maintenance != nil {
		window, _ = ru.r.opts.Maintenance.Active(ctx, n.ID, n.Scope, m.ID, at)
	}
	changed := prev.priority != v.Priority
	if changed {
		row.ChangedAt, row.Previous, row.EventUID = at, prev.priority, ""
	}
	stored := row
	stored.ExpiresAt = at.Add(status.StoredExpiry(t.interval))
	// The live row after the change is stored: whoever reads a new
	// priority in the status finds its event.
	defer ru.r.live.Set(row)
	switch {
	case changed && (known || v.Priority != judge.Info):
		row.EventUID = events.NewUID()
		stored.EventUID = row.EventUID
		if !ru.change(ctx, t, stored, window) {
			row.EventUID = prev.eventUID
			return // not stored: the next check tries again
		}
	case prev.message != v.Message || changed || at.Sub(prev.storedAt) >= status.Refresh(t.interval):
		ru.writer.put(stored)
	default:
		ru.notify(ctx, t, row, prev.priority, "", window)
		return
	}
	t.mu.Lock()
	t.state.items[item] = itemState{priority: v.Priority, message: v.Message, storedAt: at, changedAt: row.ChangedAt,
		previous: row.Previous, eventUID: row.EventUID}
	t.mu.Unlock()
	evUID := row.EventUID
	if !changed {
		evUID = "" // the event of an earlier change
	}
	ru.notify(ctx, t, row, prev.priority, evUID, window)
}

// change stores an event of a change of priority with the status row
// it records, in one unit: a new active never sees one without the other.
func (ru *run) change(ctx context.Context, t *target, row status.Row, window string) bool {
	m := t.Monitor
	attrs := map[string]string{"monitor": m.ID, "kind": m.Kind, "item": row.Item, "priority": string(row.Priority),
		"previous": string(row.Previous), "value": row.Value}
	if window != "" {
		attrs["maintenance"] = window
	}
	msg := m.Name + " on " + nodeName(t) + ": " + row.Message
	if row.Item != "" {
		msg = m.Name + " " + row.Item + " on " + nodeName(t) + ": " + row.Message
	}
	ev := events.Event{UID: row.EventUID, At: row.CheckedAt, Severity: events.Severity(row.Priority), Kind: "monitor", Node: t.Node.ID,
		Scope: t.Node.Scope, Message: clip(msg, 4096), Attrs: attrs}
	stmt, err := events.InsertStatement(ev)
	if err != nil {
		ru.r.log.Warn("monitor event refused", "monitor", m.ID, "err", err)
		return false
	}
	if _, err := ru.r.st.Exec(ctx, stmt, status.Upsert(row)); err != nil {
		ru.r.met.writeErrors.Inc()
		ru.r.log.Debug("change of priority not stored", "monitor", m.ID, "node", t.Node.ID, "err", err)
		return false
	}
	ru.writer.forget(row.Key()) // a queued older row must not overwrite it
	ru.r.met.changes.Inc()
	return true
}

// notify hands a judged result to notifications: previous is the
// priority of the result before it ("" for the first).
func (ru *run) notify(ctx context.Context, t *target, row status.Row, previous judge.Priority, evUID, window string) {
	if ru.r.opts.Notifier == nil {
		return
	}
	ru.r.opts.Notifier.Judged(ctx, Judged{MonitorID: row.Monitor, MonitorName: row.MonitorName, Kind: row.Kind, NodeID: row.Node,
		NodeName: nodeName(t), Scope: row.Scope, Item: row.Item, Priority: string(row.Priority), Previous: string(previous),
		Message: row.Message, Value: row.Value, At: row.CheckedAt, Rules: t.Monitor.Notify, EventUID: evUID, Maintenance: window})
}

func nodeName(t *target) string {
	if t.Node.Name != "" {
		return t.Node.Name
	}
	return t.Node.ID
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
