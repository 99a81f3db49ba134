package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/notify/notifytest"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestConsoleNotify runs the notification screens' browser tests
// (ui/tests/browser/notify/) against a real appliance, a real SMTP server
// (STARTTLS, AUTH PLAIN) and a real webhook receiver started here; then
// checks what the receivers got: the test mail, and the event's
// notification by mail and webhook under the keys the log shows.
func TestConsoleNotify(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	a := cluster.NewNode(t, "a", cluster.Subnet()+".1", consoleOptions(10*time.Second))
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	a.CreateAdmin(consoleUser, consolePassword)
	smtp := notifytest.NewSMTP(t, "alerts", "mail-pw")
	hook := notifytest.NewWebhook(t)
	put(t, a, "/api/v1/credentials", map[string]any{"name": "smtp-pass", "kind": "smtp", "secret": "mail-pw"}, http.StatusOK)
	t.Cleanup(func() {
		if t.Failed() { // what the appliance holds, to tell a screen's fault from the notifier's
			var rules, evs any
			a.Do(http.MethodGet, "/api/v1/notify/rules", nil, &rules)
			a.Do(http.MethodGet, "/api/v1/events?kind=e2e.ui", nil, &evs)
			t.Logf("rules %v\nevents %v\nlog %+v\nmails %d hooks %d", rules, evs, notifyLog(t, a, ""), len(smtp.Mails()), len(hook.Hooks()))
		}
	})
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":         "https://" + a.API,
		"MAMORI_UI_USER":        consoleUser,
		"MAMORI_UI_PASSWORD":    consolePassword,
		"MAMORI_NOTIFY_SMTP":    smtp.Addr,
		"MAMORI_NOTIFY_SMTP_CA": smtp.CA,
		"MAMORI_NOTIFY_HOOK":    hook.URL,
	}, "tests/browser/notify/")

	sent := notifyLog(t, a, "status=sent")
	mails, hooks := smtp.Mails(), hook.Hooks()
	if len(sent) != 2 || len(mails) != 2 || len(hooks) != 1 {
		t.Fatalf("log %d sent, %d mails (test + event), %d webhooks; want 2, 2, 1", len(sent), len(mails), len(hooks))
	}
	byChannel := map[string]notify.Notification{}
	for _, n := range sent {
		byChannel[n.Channel] = n
	}
	if m := mails[1]; !m.TLS || !m.Auth || m.Key != byChannel["ops-mail"].Key || m.MessageID != notify.MessageID(m.Key) {
		t.Errorf("the event's mail %+v does not carry the logged key %s", m, byChannel["ops-mail"].Key)
	}
	if hooks[0].Key != byChannel["am"].Key {
		t.Errorf("the webhook carried key %s, the log says %s", hooks[0].Key, byChannel["am"].Key)
	}
}
