package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/notify/notifytest"
	"github.com/mamori-ops/mamori/test/cluster"
)

// put POSTs in and fails the test unless the answer is want.
func put(t *testing.T, n *cluster.Node, path string, in any, want int) {
	t.Helper()
	var out map[string]any
	if code, err := n.Do(http.MethodPost, path, in, &out); code != want {
		t.Fatalf("POST %s: HTTP %d %v %v, want %d", path, code, out, err, want)
	}
}

// notifyLog reads the notification log of n.
func notifyLog(t *testing.T, n *cluster.Node, query string) []notify.Notification {
	t.Helper()
	var l api.NotifyLog
	if code, err := n.Do(http.MethodGet, "/api/v1/notify/log?limit=1000&"+query, nil, &l); code != http.StatusOK {
		t.Fatalf("notification log: HTTP %d %v", code, err)
	}
	return l.Notifications
}

func postEvents(t *testing.T, n *cluster.Node, kind string, count int, prefix string) {
	t.Helper()
	var evs []events.Event
	for i := range count {
		evs = append(evs, events.Event{UID: fmt.Sprintf("%s-%d", prefix, i), Kind: kind, Severity: events.Critical, Node: "db-1",
			Message: fmt.Sprintf("%s state change %d", prefix, i)})
	}
	if code, err := n.Do(http.MethodPost, "/api/v1/events", evs, nil); code != http.StatusOK {
		t.Fatalf("post events: HTTP %d %v", code, err)
	}
}

// Channels, the test send, a rule on event kinds, the log, and bad input
// through a real appliance, to a real SMTP server (STARTTLS, AUTH PLAIN)
// and a real webhook receiver.
func TestNotifyChannelsRulesAndLog(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	smtp := notifytest.NewSMTP(t, "alerts", "mail-pw")
	hook := notifytest.NewWebhook(t)
	put(t, a, "/api/v1/credentials", map[string]any{"name": "smtp-pass", "kind": "smtp", "secret": "mail-pw"}, http.StatusOK)
	put(t, a, "/api/v1/credentials", map[string]any{"name": "hook-token", "kind": "password", "secret": "tok-e2e"}, http.StatusOK)
	mail := notify.Channel{ID: "ops-mail", Name: "Operators", Type: notify.Mail, Mail: &notify.MailConfig{Server: smtp.Addr,
		Username: "alerts", PasswordCredential: "smtp-pass", From: "mamori@example.com", To: []string{"ops@example.com"}, CA: smtp.CA}}
	am := notify.Channel{ID: "am", Type: notify.Webhook, Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatAlertmanager, TokenCredential: "hook-token"}}
	put(t, a, "/api/v1/notify/channels", mail, http.StatusOK)
	put(t, a, "/api/v1/notify/channels", am, http.StatusOK)

	// Bad input names the field; a missing credential is refused.
	var e struct{ Error string }
	bad := notify.Channel{ID: "x", Type: notify.Mail, Mail: &notify.MailConfig{Server: "nohost", From: "a@b", To: []string{"c@d"}}}
	if code, _ := a.Do(http.MethodPost, "/api/v1/notify/channels", bad, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "mail.server") {
		t.Errorf("a channel without a port: HTTP %d %q, want 400 naming mail.server", code, e.Error)
	}
	noCred := am
	noCred.ID, noCred.Webhook = "y", &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatJSON, TokenCredential: "missing"}
	if code, _ := a.Do(http.MethodPost, "/api/v1/notify/channels", noCred, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "webhook.token_credential") {
		t.Errorf("a channel naming a missing credential: HTTP %d %q, want 400 naming webhook.token_credential", code, e.Error)
	}
	if code, _ := a.Do(http.MethodPost, "/api/v1/notify/rules", notify.Rule{ID: "r", Channels: []string{"nope"}, Events: []string{"x"}}, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "channels[0]") {
		t.Errorf("a rule naming a missing channel: HTTP %d %q, want 400 naming channels[0]", code, e.Error)
	}

	// The test send reaches the SMTP server; a closed port says why.
	var res api.NotifyTestResult
	if code, _ := a.Do(http.MethodPost, "/api/v1/notify/channels/test", mail, &res); code != http.StatusOK || !res.Sent {
		t.Fatalf("test send by mail: HTTP %d %+v", code, res)
	}
	if m := smtp.Mails(); len(m) != 1 || !m[0].TLS || !m[0].Auth || m[0].MessageID != notify.MessageID(res.Key) {
		t.Fatalf("the SMTP server got %+v, want one mail over STARTTLS with AUTH PLAIN and Message-ID from key %s", m, res.Key)
	}
	closed := notify.Channel{ID: "closed", Type: notify.Webhook, Webhook: &notify.WebhookConfig{URL: "http://127.0.0.1:" + cluster.FreePort(t, "127.0.0.1") + "/", Format: notify.FormatJSON}}
	if code, _ := a.Do(http.MethodPost, "/api/v1/notify/channels/test", closed, &res); code != http.StatusOK || res.Sent || !strings.Contains(res.Error, "refused") {
		t.Errorf("test send to a closed port: HTTP %d %+v, want not sent, connection refused", code, res)
	}

	// Events of a kind a rule names notify through both channels.
	put(t, a, "/api/v1/notify/rules", notify.Rule{ID: "db-changes", Enabled: true, Channels: []string{"ops-mail", "am"}, Events: []string{"e2e.change"}}, http.StatusOK)
	postEvents(t, a, "e2e.change", 3, "single")
	postEvents(t, a, "e2e.other", 2, "ignored")
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool { return len(notifyLog(t, a, "status=sent")) == 6 }) {
		t.Fatalf("log after 20 s: %+v, want 6 sent", notifyLog(t, a, ""))
	}
	if m, h := smtp.Mails(), hook.Hooks(); len(m) != 4 || len(h) != 3 {
		t.Fatalf("%d mails, %d webhooks; want 1+3 and 3", len(m), len(h))
	}
	for _, h := range hook.Hooks() {
		if h.Authorization != "Bearer tok-e2e" || h.Body["version"] != "4" || h.Key == "" || h.Body["groupKey"] != h.Key {
			t.Errorf("Alertmanager webhook: %+v", h)
		}
	}
	if code, _ := a.Do(http.MethodDelete, "/api/v1/notify/channels/am", nil, &e); code != http.StatusConflict || !strings.Contains(e.Error, "db-changes") {
		t.Errorf("deleting a channel a rule sends to: HTTP %d %q, want 409 naming the rule", code, e.Error)
	}
	checkNotifyScopes(t, a, hook.URL)
}

// checkNotifyScopes: a role limited to one scope writes channels and
// rules only there and names only what it sees.
func checkNotifyScopes(t *testing.T, a *cluster.Node, hookURL string) {
	t.Helper()
	put(t, a, "/api/v1/roles", auth.Role{Name: "notify_a", Scopes: []string{"scope-a"}, Privileges: map[auth.Function][]auth.Action{
		auth.Notifications: {auth.Read, auth.Add, auth.Modify, auth.Execute}}}, http.StatusCreated)
	put(t, a, "/api/v1/users", map[string]any{"user": "notifier-a", "password": pw, "roles": []string{"notify_a"}}, http.StatusCreated)
	tok := a.Login("notifier-a", pw)
	hookIn := func(scope, cred string) notify.Channel {
		return notify.Channel{ID: "hook-" + scope, Scope: scope, Type: notify.Webhook, Webhook: &notify.WebhookConfig{URL: hookURL, Format: notify.FormatJSON, TokenCredential: cred}}
	}
	for _, c := range []struct {
		what string
		path string
		body any
		want int
	}{
		{"a channel in its scope", "/api/v1/notify/channels", hookIn("scope-a", ""), http.StatusOK},
		{"a channel in another scope", "/api/v1/notify/channels", hookIn("scope-b", ""), http.StatusForbidden},
		{"a channel for every scope", "/api/v1/notify/channels", hookIn("", ""), http.StatusForbidden},
		{"a channel naming a credential it does not see", "/api/v1/notify/channels", hookIn("scope-a", "hook-token"), http.StatusForbidden},
		{"a rule sending to a channel of every scope", "/api/v1/notify/rules", notify.Rule{ID: "ra", Scope: "scope-a", Channels: []string{"am"}, Events: []string{"x"}}, http.StatusForbidden},
		{"a rule sending to its channel", "/api/v1/notify/rules", notify.Rule{ID: "ra", Scope: "scope-a", Channels: []string{"hook-scope-a"}, Events: []string{"x"}}, http.StatusOK},
		{"replacing a rule of every scope", "/api/v1/notify/rules", notify.Rule{ID: "db-changes", Scope: "scope-a", Channels: []string{"hook-scope-a"}, Events: []string{"x"}}, http.StatusForbidden},
	} {
		var out struct{ Error string }
		if code, _ := a.DoAs(tok, http.MethodPost, c.path, c.body, &out); code != c.want {
			t.Errorf("%s: HTTP %d %q, want %d", c.what, code, out.Error, c.want)
		}
	}
	var l api.NotifyChannelList
	if code, _ := a.DoAs(tok, http.MethodGet, "/api/v1/notify/channels", nil, &l); code != http.StatusOK {
		t.Fatalf("list: HTTP %d", code)
	}
	for _, c := range l.Channels {
		if c.Scope != "scope-a" && c.Scope != "" {
			t.Errorf("a role of scope-a sees channel %s of scope %q", c.ID, c.Scope)
		}
	}
}

// Notifications recorded on the active and not yet sent when it is
// killed are sent by the new active with the same keys; the receiver
// counts repeats.
func TestNotifyThroughFailover(t *testing.T) {
	skipShort(t)
	const detection = 3 * time.Second
	a, b := newPair(t, cluster.Options{Detection: detection})
	hook := notifytest.NewWebhook(t)
	smtp := notifytest.NewSMTP(t, "", "")
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "pd", Type: notify.Webhook,
		Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatJSON}}, http.StatusOK)
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "mail", Type: notify.Mail, Mail: &notify.MailConfig{Server: smtp.Addr,
		From: "mamori@example.com", To: []string{"ops@example.com"}, CA: smtp.CA}}, http.StatusOK)
	put(t, a, "/api/v1/notify/rules", notify.Rule{ID: "changes", Enabled: true, Channels: []string{"pd", "mail"},
		Events: []string{"e2e.change", "ha.failover"}}, http.StatusOK)
	// A test send goes from the active: the standby names it.
	var na struct{ Code, ActiveID string }
	testPD := notify.Channel{ID: "pd", Type: notify.Webhook, Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatJSON}}
	if code, _ := b.Do(http.MethodPost, "/api/v1/notify/channels/test", testPD, &na); code != http.StatusServiceUnavailable || na.Code != "not_active" {
		t.Errorf("test send on the standby: HTTP %d %+v, want 503 not_active", code, na)
	}

	// 25 state changes sent, then 25 the receivers refuse: recorded, unsent.
	postEvents(t, a, "e2e.change", 25, "sent")
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return len(notifyLog(t, a, "status=sent")) == 50 }) {
		t.Fatalf("the first 25 not sent to both: %d", len(notifyLog(t, a, "status=sent")))
	}
	hook.SetStatus(http.StatusServiceUnavailable)
	smtp.SetReject(true)
	postEvents(t, a, "e2e.change", 25, "left")
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return len(notifyLog(t, a, "status=recorded")) == 50 }) {
		t.Fatalf("the next 25 not recorded for both: %d", len(notifyLog(t, a, "status=recorded")))
	}
	left := map[string]bool{}
	for _, n := range notifyLog(t, a, "status=recorded") {
		left[n.Key] = true
	}
	time.Sleep(time.Second) // replicated to b

	a.Kill()
	hook.SetStatus(http.StatusOK)
	smtp.SetReject(false)
	b.WaitRole(ha.Active, 30*time.Second)
	if !cluster.WaitFor(t.Context(), 60*time.Second, func() bool { return len(notifyLog(t, b, "status=sent")) == 102 }) {
		t.Fatalf("after the failover: %d sent, want 2 × (25 + 25 left + the failover)", len(notifyLog(t, b, "status=sent")))
	}
	var keys []string
	failover := 0
	for _, h := range hook.Hooks() {
		keys = append(keys, h.Key)
		if h.Body["EventKind"] == "ha.failover" {
			failover++
		}
	}
	for _, m := range smtp.Mails() {
		keys = append(keys, m.Key)
		if m.MessageID != notify.MessageID(m.Key) {
			t.Errorf("Message-ID %s is not derived from key %s", m.MessageID, m.Key)
		}
	}
	got := map[string]bool{}
	for _, k := range keys {
		got[k] = true
	}
	for k := range left {
		if !got[k] {
			t.Errorf("notification %s recorded on the killed active never arrived", k)
		}
	}
	repeats := notifytest.Repeats(keys)
	t.Logf("REPORT notify_failover: %d notifications received (webhook + mail), %d distinct keys, %d repeats (expected 0), failover notices by webhook %d", len(keys), len(got), repeats, failover)
	if len(got) != 102 || failover != 1 {
		t.Errorf("%d distinct notifications (want 102), %d failover notices (want 1)", len(got), failover)
	}
}

// The one repeat the outbox allows: the receiver took a notification and
// the active died before recording that it was sent. The new active sends
// it again under the same key, which the receiver sees (and counts).
func TestNotifyRepeatCarriesTheKey(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{Detection: 3 * time.Second})
	hook := notifytest.NewWebhook(t)
	hook.SetDelay(8 * time.Second) // taken at once, answered after the kill
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "pd", Type: notify.Webhook,
		Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatPagerDuty, TokenCredential: "pd-key"}}, http.StatusBadRequest)
	put(t, a, "/api/v1/credentials", map[string]any{"name": "pd-key", "kind": "password", "secret": "R0UT1NGKEY"}, http.StatusOK)
	put(t, a, "/api/v1/notify/channels", notify.Channel{ID: "pd", Type: notify.Webhook,
		Webhook: &notify.WebhookConfig{URL: hook.URL, Format: notify.FormatPagerDuty, TokenCredential: "pd-key"}}, http.StatusOK)
	put(t, a, "/api/v1/notify/rules", notify.Rule{ID: "changes", Enabled: true, Channels: []string{"pd"}, Events: []string{"e2e.change"}}, http.StatusOK)
	postEvents(t, a, "e2e.change", 1, "handed-off")
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool { return len(hook.Hooks()) == 1 }) {
		t.Fatal("the receiver never got the notification")
	}
	time.Sleep(time.Second) // the record (recorded, unsent) is replicated; the answer is still pending
	a.Kill()
	hook.SetDelay(0)
	b.WaitRole(ha.Active, 30*time.Second)
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return len(notifyLog(t, b, "status=sent")) == 1 }) {
		t.Fatalf("the new active did not send what the old one handed off: %+v", notifyLog(t, b, ""))
	}
	hooks := hook.Hooks()
	var keys []string
	for _, h := range hooks {
		keys = append(keys, h.Body["dedup_key"].(string))
	}
	t.Logf("REPORT notify_handoff_repeat: %d deliveries, dedup_keys %v, %d repeats (1 expected here: killed between hand-off and record)", len(hooks), keys, notifytest.Repeats(keys))
	if len(hooks) != 2 || keys[0] != keys[1] || keys[0] != notifyLog(t, b, "")[0].Key || hooks[1].Body["routing_key"] != "R0UT1NGKEY" {
		t.Errorf("deliveries %+v: want the same notification twice under its key", hooks)
	}
}
