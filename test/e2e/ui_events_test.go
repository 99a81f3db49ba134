package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestConsoleLiveEvents: a line sent with logger to BOTH appliances of a
// pair, matched by a monitor rule, appears once in the open event console
// (Chromium) within 2 s (ui/tests/browser/events-live/).
func TestConsoleLiveEvents(t *testing.T) {
	skipShort(t)
	needSenders(t)
	uiDir, err := filepath.Abs(filepath.Join("..", "..", "ui"))
	if err != nil {
		t.Fatal(err)
	}
	node := needConsoleTools(t, uiDir)
	a, b := newPair(t, cluster.Options{Detection: 10 * time.Second,
		ExtraYAML: "store:\n  heartbeat_timeout: 2s\n  election_timeout: 2s\n  leader_lease: 1s\n"})
	const user, password = "operator", "correct horse battery staple"
	a.CreateAdmin(user, password)
	active := a
	if st, err := a.Status(); err != nil || st.Role != ha.Active {
		active = b
	}
	admin := active.Login(user, password)
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
	artifacts, err := filepath.Abs(filepath.Join("..", "artifacts", "ui"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":       "https://" + active.API,
		"MAMORI_UI_USER":      user,
		"MAMORI_UI_PASSWORD":  password,
		"MAMORI_UI_ARTIFACTS": artifacts,
		"MAMORI_UI_SYSLOG":    a.SyslogUDP + " " + b.SyslogUDP,
	}, "tests/browser/events-live/")
}
