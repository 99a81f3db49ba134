package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/notify/notifytest"
	"github.com/mamori-ops/mamori/test/cluster"
)

// needMonitorKind skips unless this build runs monitors of kind (the
// runner is issue 12's core part, the kinds its net and data parts).
func needMonitorKind(t *testing.T, a *cluster.Node, kind string) {
	t.Helper()
	var out struct {
		Kinds []struct {
			Name string `json:"name"`
		} `json:"kinds"`
	}
	if code, _ := a.Do(http.MethodGet, "/api/v1/monitor-kinds", nil, &out); code == http.StatusOK {
		for _, k := range out.Kinds {
			if k.Name == kind {
				return
			}
		}
	}
	t.Skipf("this build has no %s monitors (the runner and the kinds come with issue 12's core and net parts)", kind)
}

// Every suppression rule through the real monitor runner: a TCP service
// goes down for about 7 checks and comes back; four monitors of it, each
// notifying through one rule, tell the rules apart at a webhook receiver.
func TestNotifyMonitorSuppression(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	needMonitorKind(t, a, "tcp")
	target := &tcpTarget{ip: "127.0.0.1"}
	target.open(t)
	t.Cleanup(target.close)
	hook := notifytest.NewWebhook(t)
	put(t, a, "/api/v1/nodes", map[string]any{"id": "svc-1", "address": "127.0.0.1"}, http.StatusOK)
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "hook", Type: notify.Webhook,
		Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatJSON}}, http.StatusOK)
	problems := []string{"critical", "unknown"}
	rules := []notify.Rule{
		{ID: "change", Priorities: problems, Recovery: true},
		{ID: "after3", Priorities: problems, Recovery: true, After: 3},
		{ID: "always", Priorities: problems, Renotify: notify.RenotifyAlways},
		{ID: "period", Priorities: problems, Renotify: notify.RenotifyPeriod, Period: "3s"},
	}
	for _, r := range rules {
		r.Enabled, r.Channels = true, []string{"hook"}
		put(t, a, "/api/v1/notify/rules", r, http.StatusOK)
		put(t, a, "/api/v1/monitors", map[string]any{"id": "m-" + r.ID, "name": "TCP " + r.ID, "kind": "tcp", "node": "svc-1",
			"interval": "1s", "timeout": "1s", "params": map[string]any{"port": target.port, "timeout": "1s"}, "notify": []string{r.ID},
			"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1000}, "warning": map[string]any{"max": 2000}}}}, http.StatusOK)
	}
	time.Sleep(4 * time.Second) // every monitor judged info a few times: nothing to notify
	if n := len(hook.Hooks()); n != 0 {
		t.Fatalf("%d notifications while every service was up", n)
	}
	down := time.Now()
	target.close()
	time.Sleep(7 * time.Second)
	target.open(t)
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool { return count(hook.Hooks(), "after3", notify.KindRecovery) == 1 }) {
		t.Fatalf("no recovery notice of rule after3: %v", byRule(hook.Hooks()))
	}
	time.Sleep(2 * time.Second)
	hooks := hook.Hooks()
	t.Logf("REPORT notify_suppression: %v", byRule(hooks))
	for _, c := range []struct {
		rule, kind string
		min, max   int
	}{
		{"change", notify.KindProblem, 1, 1}, {"change", notify.KindRecovery, 1, 1},
		{"after3", notify.KindProblem, 1, 1}, {"after3", notify.KindRecovery, 1, 1},
		{"always", notify.KindProblem, 5, 9}, {"always", notify.KindRecovery, 0, 0},
		{"period", notify.KindProblem, 2, 3}, {"period", notify.KindRecovery, 0, 0},
	} {
		if n := count(hooks, c.rule, c.kind); n < c.min || n > c.max {
			t.Errorf("rule %s: %d %s notifications, want %d..%d", c.rule, n, c.kind, c.min, c.max)
		}
	}
	// "after 3": its problem reports the third failed check, two
	// intervals after the first one, itself after the service went down.
	for _, n := range notifyLog(t, a, "status=sent") {
		if n.Kind != notify.KindProblem {
			continue
		}
		if n.At.Before(down) {
			t.Errorf("rule %s notified a result of %s, before the service went down at %s", n.Rule, n.At, down)
		}
		if n.Rule == "after3" && n.At.Sub(down) < 1900*time.Millisecond {
			t.Errorf("rule after3 notified the result %s after the service went down, want its third failed check (2 intervals)", n.At.Sub(down))
		}
	}
}

func count(hooks []notifytest.Hook, rule, kind string) int {
	n := 0
	for _, h := range hooks {
		if h.Body["Rule"] == rule && h.Body["Kind"] == kind {
			n++
		}
	}
	return n
}

func byRule(hooks []notifytest.Hook) map[string]int {
	out := map[string]int{}
	for _, h := range hooks {
		out[h.Body["Rule"].(string)+"/"+h.Body["Kind"].(string)]++
	}
	return out
}

// 50 state changes around a kill -9 of the active: 25 services go down
// just before it, 25 just after; every problem is notified once, the
// ones the killed active had not sent by the new active under the same
// key; the receiver counts repeats.
func TestNotifyMonitorsThroughFailover(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{Detection: 3 * time.Second})
	needMonitorKind(t, a, "tcp")
	hook := notifytest.NewWebhook(t)
	put(t, a, "/api/v1/nodes", map[string]any{"id": "svc-1", "address": "127.0.0.1"}, http.StatusOK)
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "hook", Type: notify.Webhook,
		Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatAlertmanager}}, http.StatusOK)
	put(t, a, "/api/v1/notify/rules", notify.Rule{ID: "changes", Enabled: true, Channels: []string{"hook"},
		Priorities: []string{"critical", "unknown"}, Events: []string{"ha.failover"}}, http.StatusOK)
	const n = 50
	targets := make([]*tcpTarget, n)
	for i := range targets {
		targets[i] = &tcpTarget{ip: "127.0.0.1"}
		targets[i].open(t)
		t.Cleanup(targets[i].close)
		put(t, a, "/api/v1/monitors", map[string]any{"id": "svc-" + strconv.Itoa(i), "kind": "tcp", "node": "svc-1",
			"interval": "2s", "timeout": "1s", "params": map[string]any{"port": targets[i].port, "timeout": "1s"}, "notify": []string{"changes"},
			"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1000}, "warning": map[string]any{"max": 2000}}}}, http.StatusOK)
	}
	time.Sleep(5 * time.Second) // every monitor judged info
	for _, tg := range targets[:n/2] {
		tg.close()
	}
	time.Sleep(1500 * time.Millisecond) // some judged and notified, some not yet
	killed := time.Now()
	a.Kill()
	for _, tg := range targets[n/2:] {
		tg.close()
	}
	b.WaitRole(ha.Active, 30*time.Second)
	if !cluster.WaitFor(t.Context(), 60*time.Second, func() bool { return len(notifyLog(t, b, "status=sent")) >= n+1 }) {
		t.Fatalf("after the failover: %d sent, want %d problems and the failover notice", len(notifyLog(t, b, "status=sent")), n)
	}
	time.Sleep(3 * time.Second) // nothing more should come
	var keys []string
	alerts := map[string]int{}
	alertKeys := map[string]map[string]bool{}
	for _, h := range hook.Hooks() {
		keys = append(keys, h.Key)
		labels := h.Body["commonLabels"].(map[string]any)
		name := labels["alertname"].(string)
		alerts[name]++
		if alertKeys[name] == nil {
			alertKeys[name] = map[string]bool{}
		}
		alertKeys[name][h.Key] = true
	}
	repeats := notifytest.Repeats(keys)
	before, left := 0, 0
	for _, nt := range notifyLog(t, b, "status=sent") {
		switch {
		case nt.SentAt != nil && nt.SentAt.Before(killed):
			before++
		case nt.RecordedAt.Before(killed):
			left++ // recorded by the killed active, sent by the new one
		}
	}
	t.Logf("REPORT notify_monitor_failover: %d state changes, %d notifications received (with the failover notice), %d repeats (expected 0); %d sent by the old active, %d it recorded and the new one sent",
		n, len(keys), repeats, before, left)
	// At least once, under one key: the outbox leaves one window — the
	// receiver took a notification, the active was killed before it
	// marked it sent — in which the new active sends it again under the
	// same key (receivers drop it: Alertmanager by fingerprint, PagerDuty
	// by dedup_key). Only what was in flight at the kill can repeat.
	for i := range n {
		name := "svc-" + strconv.Itoa(i)
		if c, k := alerts[name], len(alertKeys[name]); c < 1 || c > 2 || k != 1 {
			t.Errorf("monitor %s: %d notifications of its problem under %d keys, want 1 (or a repeat under the same key)", name, c, k)
		}
	}
	if repeats > 2 {
		t.Errorf("%d repeats: more than the notifications in flight at the kill", repeats)
	}
	if alerts["ha.failover"] != 1 {
		t.Errorf("%d failover notices, want 1", alerts["ha.failover"])
	}
}
