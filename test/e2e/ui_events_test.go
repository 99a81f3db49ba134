package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestConsoleLiveEvents: a line sent with logger to BOTH appliances of a
// pair, matched by a monitor rule, appears once in the open event console
// (Chromium) within 2 s (ui/tests/browser/events-live/).
func TestConsoleLiveEvents(t *testing.T) {
	skipShort(t)
	needSenders(t)
	node, uiDir := consoleTools(t)
	active, standby := consolePair(t, 10*time.Second)
	admin := active.Login(consoleUser, consolePassword)
	// Senders on this machine come from 127.0.0.1: the inventory puts
	// that address in scope A; the rule turns "disk ... failed" into a
	// critical event.
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/nodes", map[string]any{"id": "web1", "address": "127.0.0.1", "scope": "A"}},
		{"/api/v1/rules", map[string]any{"id": "disk", "name": "disk failures", "scope": "A", "position": 1, "enabled": true, "kind": "syslog",
			"pattern": `disk \S+ failed`, "action": "notify", "priority": "critical", "template": "${node}: ${message}"}},
	} {
		if code, err := active.DoAs(admin, http.MethodPost, c.path, c.body, nil); code != 200 {
			t.Fatalf("POST %s: HTTP %d %v", c.path, code, err)
		}
	}
	time.Sleep(2500 * time.Millisecond) // the active reloads rules every 2 s
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":      "https://" + active.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
		"MAMORI_UI_SYSLOG":   active.SyslogUDP + " " + standby.SyslogUDP,
	}, "tests/browser/events-live/")
}
