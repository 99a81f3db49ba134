package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/notify/notifytest"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func testStore(t *testing.T) *store.Store {
	return storetest.New(t, append(events.Migrations(), Migrations()...))
}

func testNotifier(st Store, o Options) *Notifier {
	o.Store = st
	if o.Tick == 0 {
		o.Tick = 50 * time.Millisecond
	}
	if o.RetryBase == 0 {
		o.RetryBase = 50 * time.Millisecond
	}
	o.Host = "test.example"
	if o.Secret == nil {
		o.Secret = func(_ context.Context, name string) (string, error) {
			if name == "smtp-pass" {
				return "s3cret", nil
			}
			if name == "hook-token" {
				return "tok-123", nil
			}
			return "", fmt.Errorf("no credential %q", name)
		}
	}
	return New(o)
}

// start runs n until the returned stop is called (or the test ends).
func start(t *testing.T, n *Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func putWebhook(t *testing.T, st Store, id, url, format string) {
	t.Helper()
	must[Channel](t)(PutChannel(context.Background(), st, Channel{ID: id, Type: Webhook,
		Webhook: &WebhookConfig{URL: url, Format: format, TokenCredential: "hook-token"}}, time.Now()))
}

func putRule(t *testing.T, st Store, r Rule) {
	t.Helper()
	r.Enabled = true
	must[Rule](t)(PutRule(context.Background(), st, r, time.Now()))
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain waits until Run has taken the queued results and judged them.
func drain(n *Notifier) {
	for len(n.queue) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

func judged(p string, at time.Time, rules ...string) Judged {
	return Judged{MonitorID: "web-1", MonitorName: "Web front", Kind: "http", NodeID: "n1", NodeName: "node one", Scope: "web",
		Priority: p, Message: "status " + p, Value: "42", At: at, Rules: rules, EventUID: "ev-" + p + at.Format("150405.000")}
}

func logOf(t *testing.T, st Store, f LogFilter) []Notification {
	t.Helper()
	ns, _, err := Log(context.Background(), st, f)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestMailAndWebhookThroughTheOutbox(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	smtp := notifytest.NewSMTP(t, "alerts", "s3cret")
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	must[Channel](t)(PutChannel(ctx, st, Channel{ID: "mail", Type: Mail, Mail: &MailConfig{Server: smtp.Addr, Username: "alerts",
		PasswordCredential: "smtp-pass", From: "mamori@example.com", To: []string{"ops@example.com"}, CA: smtp.CA}}, time.Now()))
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook", "mail"}, Priorities: []string{"critical"}, Recovery: true})
	n := testNotifier(st, Options{})
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	t0 := time.Now()
	for i, p := range []string{"critical", "critical", "info"} {
		n.Judged(ctx, judged(p, t0.Add(time.Duration(i)*time.Second), "r"))
	}
	waitFor(t, "4 notifications sent", func() bool { return len(logOf(t, st, LogFilter{Status: Sent})) == 4 })
	mails, hooks := smtp.Mails(), hook.Hooks()
	if len(mails) != 2 || len(hooks) != 2 {
		t.Fatalf("got %d mails and %d hooks, want 2 and 2 (critical once, its recovery once)", len(mails), len(hooks))
	}
	for _, m := range mails {
		if !m.TLS || !m.Auth || m.User != "alerts" {
			t.Errorf("mail not over STARTTLS with AUTH PLAIN: %+v", m)
		}
		if m.MessageID != MessageID(m.Key) {
			t.Errorf("Message-ID %q is not derived from the key %q", m.MessageID, m.Key)
		}
	}
	if !strings.Contains(mails[0].Data, "[CRITICAL] Web front on node one") || !strings.Contains(mails[1].Data, "[RECOVERED] Web front") {
		t.Errorf("subjects: %q / %q", mails[0].Data[:200], mails[1].Data[:200])
	}
	if hooks[0].Authorization != "Bearer tok-123" || hooks[0].Body["Priority"] != "critical" || hooks[1].Body["Kind"] != KindRecovery {
		t.Errorf("hooks: %+v", hooks)
	}
	sent := logOf(t, st, LogFilter{Channel: "hook"})
	if hooks[0].Key != sent[1].Key || hooks[1].Key != sent[0].Key {
		t.Errorf("hook keys %s %s are not the recorded keys %s %s", hooks[0].Key, hooks[1].Key, sent[1].Key, sent[0].Key)
	}
	if sent[0].Resolves != sent[1].Key {
		t.Errorf("the recovery resolves %q, want the problem's key %q", sent[0].Resolves, sent[1].Key)
	}
}

// A notification recorded and not sent by one active is sent by the
// next, with the same key, once.
func TestNextActiveSendsWhatWasLeft(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	hook.SetStatus(http.StatusServiceUnavailable)
	putWebhook(t, st, "hook", hook.URL, FormatPagerDuty)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical"}})
	first := testNotifier(st, Options{RetryBase: time.Hour})
	stop := start(t, first)
	waitFor(t, "rules loaded", func() bool { return first.ruleCount() == 1 })
	first.Judged(ctx, judged("critical", time.Now(), "r"))
	waitFor(t, "a failed attempt", func() bool { ns := logOf(t, st, LogFilter{}); return len(ns) == 1 && ns[0].Attempts == 1 })
	stop()
	key := logOf(t, st, LogFilter{})[0].Key

	// The first active's retry is an hour away: the next one tries at once.
	hook.SetStatus(http.StatusAccepted)
	second := testNotifier(st, Options{})
	start(t, second)
	waitFor(t, "sent by the next active", func() bool { return len(logOf(t, st, LogFilter{Status: Sent})) == 1 })
	hooks := hook.Hooks()
	if len(hooks) != 1 || hooks[0].Body["dedup_key"] != key || hooks[0].Body["routing_key"] != "tok-123" || hooks[0].Body["event_action"] != "trigger" {
		t.Fatalf("PagerDuty events: %+v, want one trigger with dedup_key %s", hooks, key)
	}
	// What was notified survived: the same critical again does not notify.
	second.Judged(ctx, judged("critical", time.Now(), "r"))
	time.Sleep(300 * time.Millisecond)
	if ns := logOf(t, st, LogFilter{}); len(ns) != 1 {
		t.Errorf("%d notifications after a repeat of the notified priority on the next active, want 1", len(ns))
	}
}

func TestRetriesAreBounded(t *testing.T) {
	st := testStore(t)
	hook := notifytest.NewWebhook(t)
	hook.SetStatus(http.StatusInternalServerError)
	putWebhook(t, st, "hook", hook.URL, FormatAlertmanager)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical"}})
	n := testNotifier(st, Options{MaxAttempts: 3, RetryBase: 20 * time.Millisecond})
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	n.Judged(context.Background(), judged("critical", time.Now(), "r"))
	waitFor(t, "failed", func() bool { return len(logOf(t, st, LogFilter{Status: Failed})) == 1 })
	nt := logOf(t, st, LogFilter{})[0]
	if nt.Attempts != 3 || !strings.Contains(nt.Error, "500") {
		t.Errorf("after the bound: attempts %d, error %q; want 3 and the receiver's 500", nt.Attempts, nt.Error)
	}
}

type fakeWindows struct {
	mu sync.Mutex
	on string
}

func (f *fakeWindows) Active(_ context.Context, _, _, _ string, _ time.Time) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on, f.on != ""
}

func (f *fakeWindows) set(w string) { f.mu.Lock(); f.on = w; f.mu.Unlock() }

func TestMaintenanceHoldsThenNotifiesOnce(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatAlertmanager)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical", "warning"}, Renotify: RenotifyAlways})
	win := &fakeWindows{on: "patch-tuesday"}
	n := testNotifier(st, Options{Maintenance: win})
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	t0 := time.Now()
	for i := range 3 {
		n.Judged(ctx, judged("critical", t0.Add(time.Duration(i)*time.Second), "r"))
	}
	drain(n)
	waitFor(t, "held", func() bool { return len(logOf(t, st, LogFilter{Status: Held})) == 1 })
	held := logOf(t, st, LogFilter{Status: Held})[0]
	if held.Window != "patch-tuesday" {
		t.Errorf("held with window %q", held.Window)
	}
	time.Sleep(200 * time.Millisecond)
	if len(hook.Hooks()) != 0 || len(logOf(t, st, LogFilter{})) != 1 {
		t.Fatalf("inside the window: %d sent, %d recorded; want 0 sent, one held record for the change", len(hook.Hooks()), len(logOf(t, st, LogFilter{})))
	}
	win.set("")
	waitFor(t, "the release", func() bool { return len(hook.Hooks()) == 1 })
	time.Sleep(200 * time.Millisecond)
	hooks := hook.Hooks()
	if len(hooks) != 1 || hooks[0].Body["status"] != "firing" {
		t.Fatalf("after the window: %+v, want one firing alert", hooks)
	}
	alert := hooks[0].Body["alerts"].([]any)[0].(map[string]any)
	labels := alert["labels"].(map[string]any)
	if labels["alertname"] != "web-1" || labels["severity"] != "critical" || alert["fingerprint"] == "" {
		t.Errorf("alert labels %v fingerprint %v", labels, alert["fingerprint"])
	}
}

func TestWindowEndsWithNothingNew(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical"}})
	win := &fakeWindows{}
	n := testNotifier(st, Options{Maintenance: win})
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	t0 := time.Now()
	n.Judged(ctx, judged("critical", t0, "r"))
	waitFor(t, "sent", func() bool { return len(hook.Hooks()) == 1 })
	win.set("w1")
	n.Judged(ctx, judged("info", t0.Add(time.Second), "r"))
	n.Judged(ctx, judged("critical", t0.Add(2*time.Second), "r"))
	drain(n)
	win.set("")
	time.Sleep(300 * time.Millisecond)
	if got := len(hook.Hooks()); got != 1 {
		t.Errorf("%d hooks: back to the notified critical by the window's end should notify nothing more", got)
	}
}

type fakeCalendar struct{ open atomic.Bool }

func (f *fakeCalendar) Open(context.Context, string, time.Time) (bool, error) {
	return f.open.Load(), nil
}

func TestCalendarClosedDoesNotNotify(t *testing.T) {
	st := testStore(t)
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical"}, Calendar: "weekdays"})
	cal := &fakeCalendar{}
	n := testNotifier(st, Options{Calendar: cal})
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	n.Judged(context.Background(), judged("critical", time.Now(), "r"))
	time.Sleep(300 * time.Millisecond)
	if got := len(logOf(t, st, LogFilter{})); got != 0 {
		t.Errorf("%d notifications outside business hours, want 0", got)
	}
	cal.open.Store(true)
	n.Judged(context.Background(), judged("critical", time.Now(), "r"))
	waitFor(t, "sent inside business hours", func() bool { return len(hook.Hooks()) == 1 })
}

func TestApplianceEventsNotify(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	n := testNotifier(st, Options{})
	start(t, n)
	// An event while no rule names events: history by the time a rule comes.
	old := events.Event{UID: "before", At: time.Now(), Severity: events.Critical, Kind: "ha.failover", Node: "n2", Message: "old"}
	if err := events.Insert(ctx, st, []events.Event{old}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cursor past it", func() bool { c, _, _ := n.cursor(ctx); return c == 1 })
	// Events stored right after the rule is saved notify through it.
	putRule(t, st, Rule{ID: "ha", Channels: []string{"hook"}, Events: []string{"ha.failover", "ha.fenced"}})
	evs := []events.Event{
		{UID: "e1", At: time.Now(), Severity: events.Critical, Kind: "ha.failover", Node: "n2", Message: "n2 took over"},
		{UID: "e2", At: time.Now(), Severity: events.Info, Kind: "ha.recovered", Node: "n1", Message: "not named by the rule"},
		{UID: "e3", At: time.Now(), Severity: events.Critical, Kind: "ha.fenced", Node: "n1", Message: "fenced"},
	}
	if err := events.Insert(ctx, st, evs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 event notifications", func() bool { return len(hook.Hooks()) == 2 })
	time.Sleep(200 * time.Millisecond)
	hooks := hook.Hooks()
	uids := map[any]bool{}
	for _, h := range hooks {
		uids[h.Body["EventUID"]] = true
	}
	if len(hooks) != 2 || !uids["e1"] || !uids["e3"] {
		t.Errorf("hooks %v: want e1 (failover) and e3 (fenced), not the event from before the rule nor ha.recovered", hooks)
	}
}

func TestJudgedNeverBlocks(t *testing.T) {
	n := New(Options{QueueSize: 2})
	for range 5 {
		n.Judged(context.Background(), judged("critical", time.Now(), "r"))
	}
	n.Judged(context.Background(), judged("critical", time.Now())) // no rules: not queued
	if n.Dropped() != 3 {
		t.Errorf("dropped %d, want 3", n.Dropped())
	}
}

func TestLogKeepsWhatIsDue(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	old := time.Now().Add(-40 * 24 * time.Hour)
	var stmts []store.Statement
	for i, status := range []string{Sent, Failed, Held, Recorded} {
		nt := notification("r", "c", judged("critical", old, "r"), KindProblem, fmt.Sprint(i), old)
		nt.Status = status
		stmts = append(stmts, recordStmt(nt))
	}
	recent := notification("r", "c", judged("critical", time.Now(), "r"), KindProblem, "new", time.Now())
	recent.Status = Sent
	stmts = append(stmts, recordStmt(recent))
	if _, err := st.Exec(ctx, stmts...); err != nil {
		t.Fatal(err)
	}
	n := testNotifier(st, Options{})
	n.prune(ctx)
	var got []string
	for _, nt := range logOf(t, st, LogFilter{}) {
		got = append(got, nt.Status+"@"+map[bool]string{true: "old", false: "new"}[nt.RecordedAt.Before(time.Now().Add(-time.Hour))])
	}
	if strings.Join(got, ",") != "sent@new,recorded@old" {
		t.Errorf("after pruning: %v, want the recent one and the old one still to send", got)
	}
}

// The runner says which window holds a result (Judged.Maintenance): held
// while it does, notified once by the first result after it.
func TestRunnerWindowHoldsThenNextResultNotifies(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	putRule(t, st, Rule{ID: "r", Channels: []string{"hook"}, Priorities: []string{"critical"}, Recovery: true})
	n := testNotifier(st, Options{}) // no Maintenance checker: the runner's word only
	start(t, n)
	waitFor(t, "rules loaded", func() bool { return n.ruleCount() == 1 })
	t0 := time.Now()
	in := func(p string, i int, window string) Judged {
		j := judged(p, t0.Add(time.Duration(i)*time.Second), "r")
		j.Maintenance = window
		return j
	}
	n.Judged(ctx, in("critical", 0, "w1"))
	n.Judged(ctx, in("critical", 1, "w1"))
	waitFor(t, "held", func() bool { return len(logOf(t, st, LogFilter{Status: Held})) == 1 })
	n.Judged(ctx, in("critical", 2, ""))
	n.Judged(ctx, in("critical", 3, ""))
	waitFor(t, "sent after the window", func() bool { return len(hook.Hooks()) == 1 })
	n.Judged(ctx, in("info", 4, "w2")) // the recovery, held by another window
	n.Judged(ctx, in("info", 5, ""))
	waitFor(t, "the recovery after it", func() bool { return len(hook.Hooks()) == 2 })
	drain(n)
	hooks := hook.Hooks()
	if len(hooks) != 2 || hooks[0].Body["Priority"] != "critical" || hooks[1].Body["Kind"] != KindRecovery {
		t.Errorf("hooks %+v: want the critical once after w1 and the recovery once after w2", hooks)
	}
	if held := logOf(t, st, LogFilter{Status: Held}); len(held) != 2 || held[0].Window != "w2" || held[1].Window != "w1" {
		t.Errorf("held records %+v: want one per window", held)
	}
}

// A flood of events of other kinds neither hides the ones a rule names
// nor leaves the cursor behind.
func TestEventFloodCatchesUp(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	hook := notifytest.NewWebhook(t)
	putWebhook(t, st, "hook", hook.URL, FormatJSON)
	putRule(t, st, Rule{ID: "ha", Channels: []string{"hook"}, Events: []string{"ha.fenced"}})
	var evs []events.Event
	for i := range 1500 {
		kind := "syslog.noise"
		if i%600 == 599 {
			kind = "ha.fenced"
		}
		evs = append(evs, events.Event{UID: fmt.Sprint("flood-", i), At: time.Now(), Severity: events.Warning, Kind: kind, Node: "n", Message: "m"})
	}
	if err := events.Insert(ctx, st, evs); err != nil {
		t.Fatal(err)
	}
	n := testNotifier(st, Options{})
	start(t, n)
	waitFor(t, "2 notifications", func() bool { return len(hook.Hooks()) == 2 })
	waitFor(t, "the cursor at the end", func() bool { c, _, _ := n.cursor(ctx); return c == 1500 })
}
