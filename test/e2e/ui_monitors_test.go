package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestConsoleMonitors runs the monitor screens' browser tests
// (ui/tests/browser/monitors/) against a real pair: an HTTP and a ping
// monitor are created through the form with "test now", the status grid
// shows them, turns critical when the HTTP server the test runs stops and
// recovers when it listens again, in both languages. The target is a real
// HTTP server on loopback that the browser test stops and starts through a
// control address; other monitors (seeded through the API: a closed port,
// a slow threshold, a ping) give the grid every priority.
func TestConsoleMonitors(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	active, standby := consolePair(t, 10*time.Second)
	target := newSwitchableHTTP(t)
	ctl := httptest.NewServer(target.control())
	t.Cleanup(ctl.Close)
	seedMonitorScreens(t, active, target.port)
	env := map[string]string{
		"MAMORI_UI_URL":         "https://" + active.API,
		"MAMORI_UI_PEER_URL":    "https://" + standby.API,
		"MAMORI_UI_USER":        consoleUser,
		"MAMORI_UI_PASSWORD":    consolePassword,
		"MAMORI_UI_TARGET_PORT": strconv.Itoa(target.port),
		"MAMORI_UI_TARGET_CTL":  ctl.URL,
		"MAMORI_UI_VIEWER":      uiShopViewer,
	}
	runBrowserTests(t, node, uiDir, env, "tests/browser/monitors/")
	// The browser test deleted what it created through the form: the
	// delete button really deletes (unless only some tests ran:
	// MAMORI_UI_ONLY, see the browser test).
	if os.Getenv("MAMORI_UI_ONLY") != "" {
		return
	}
	for _, id := range []string{"ui-web", "ui-ping"} {
		var out struct{ Error string }
		if code, _ := active.Do(http.MethodGet, "/api/v1/monitors/"+id, nil, &out); code != http.StatusNotFound {
			t.Errorf("monitor %s after the browser deleted it: HTTP %d, want 404", id, code)
		}
	}
}

// The inventory of the monitor screens' test: a web node whose HTTP server
// the browser test switches off and on, and a database node in another
// scope with monitors of every priority.
const (
	uiWebNode, uiDBNode = "shop-web-01", "shop-db-01"
	// A node and a monitor of another scope, and a viewer of the shop's
	// scopes who must see nothing of it (names hold "bravo").
	uiBravoNode, uiShopViewer = "bravo-node-01", "viewer-shop"
)

// seedMonitorScreens adds the nodes and the monitors the browser test
// does not create itself, and a viewer of the shop: on the database node
// a ping (info), an HTTP
// check of a closed port (unknown: the check fails), and an HTTP check of
// the web server (on the web node's address) with a threshold it cannot
// meet (warning). Addresses are unique in the inventory: the database is
// 127.0.0.4, loopback too.
func seedMonitorScreens(t *testing.T, n *cluster.Node, port int) {
	t.Helper()
	post := func(path string, body any) {
		t.Helper()
		var out struct{ Error string }
		if code, err := n.Do(http.MethodPost, path, body, &out); code/100 != 2 {
			t.Fatalf("seed %s: HTTP %d %s %v", path, code, out.Error, err)
		}
	}
	post("/api/v1/nodes", map[string]any{"id": uiWebNode, "name": "shop web 01", "address": "127.0.0.1", "scope": "shop/web"})
	post("/api/v1/nodes", map[string]any{"id": uiDBNode, "name": "shop db 01", "address": "127.0.0.4", "scope": "shop/db"})
	closed := closedPort(t)
	monitor := func(id, name, kind string, params map[string]any, judgement map[string]any) map[string]any {
		return map[string]any{"id": id, "name": name, "kind": kind, "node": uiDBNode, "interval": "2s", "timeout": "1s",
			"enabled": true, "params": params, "judgement": judgement}
	}
	post("/api/v1/monitors", monitor("seed-db-ping", "DB ping", "ping", map[string]any{"count": 2, "interval": "20ms"},
		map[string]any{"items": map[string]any{"rtt_ms": map[string]any{"info": map[string]any{"max": 500}}, "loss_pct": map[string]any{"info": map[string]any{"max": 50}}}}))
	post("/api/v1/monitors", monitor("seed-db-admin", "DB admin page", "http",
		map[string]any{"url": fmt.Sprintf("http://{{address}}:%d/", closed)}, map[string]any{"failure": "unknown"}))
	post("/api/v1/monitors", monitor("seed-db-slow", "DB via web, strict", "http",
		map[string]any{"url": fmt.Sprintf("http://127.0.0.1:%d/", port)},
		map[string]any{"items": map[string]any{"response_ms": map[string]any{"info": map[string]any{"max": 0.000001}, "warning": map[string]any{"max": 100000}}}}))
	// A calendar the monitor form offers (the schedule part's list).
	allDay := []map[string]string{{"from": "00:00", "to": "24:00"}}
	post("/api/v1/calendars", map[string]any{"id": "shop-hours", "name": "Shop opening hours", "scope": "shop/web", "time_zone": "Asia/Tokyo",
		"week": map[string]any{"mon": allDay, "tue": allDay, "wed": allDay, "thu": allDay, "fri": allDay, "sat": allDay, "sun": allDay}})
	post("/api/v1/nodes", map[string]any{"id": uiBravoNode, "name": "bravo web", "address": "127.0.0.5", "scope": "bravo"})
	bravo := monitor("bravo-ping", "bravo ping", "ping", map[string]any{"count": 1}, map[string]any{})
	bravo["node"] = uiBravoNode
	post("/api/v1/monitors", bravo)
	post("/api/v1/roles", auth.Role{Name: "viewer_shop", Scopes: []string{"shop/web", "shop/db"}, Privileges: map[auth.Function][]auth.Action{
		auth.Inventory: {auth.Read}, auth.MonitorSetting: {auth.Read}, auth.MonitorResult: {auth.Read}, auth.Cluster: {auth.Read}}})
	post("/api/v1/users", map[string]any{"user": uiShopViewer, "password": consolePassword, "roles": []string{"viewer_shop"}})
}

// closedPort is a loopback port nothing listens on (it was bound, then
// released).
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// switchableHTTP is a real HTTP server on a fixed loopback port that can
// stop listening and listen again (the monitored web server going down
// and coming back).
type switchableHTTP struct {
	port int
	mu   sync.Mutex
	srv  *http.Server
}

func newSwitchableHTTP(t *testing.T) *switchableHTTP {
	t.Helper()
	s := &switchableHTTP{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	s.serve(ln)
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *switchableHTTP) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "shop is open")
	}), ReadHeaderTimeout: 5 * time.Second}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

func (s *switchableHTTP) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
	if err != nil {
		return err
	}
	s.serve(ln)
	return nil
}

func (s *switchableHTTP) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// control answers POST /stop and POST /start for the browser test.
func (s *switchableHTTP) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, _ *http.Request) {
		s.stop()
		fmt.Fprintln(w, "stopped")
	})
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.start(); err != nil && !errors.Is(err, net.ErrClosed) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "started")
	})
	return mux
}
