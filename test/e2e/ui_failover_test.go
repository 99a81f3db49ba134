package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestConsoleFailover: the console open on the active, `kill -9` of that
// appliance: the "not live" banner shows, the page goes on against the
// other appliance once it is active and shows an event stored after the
// kill, with no reload (ui/tests/browser/failover/). Before that, the
// pair's CORS answers name the peer's console origin and no other.
func TestConsoleFailover(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	// Detection short enough for a test.
	active, standby := consolePair(t, 5*time.Second)
	seedEvents(t, active)
	t.Run("cors", func(t *testing.T) { checkPeerCORS(t, active, standby) })

	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":      "https://" + active.API,
		"MAMORI_UI_PEER_URL": "https://" + standby.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
		"MAMORI_UI_CONTROL":  controlServer(t, active, standby),
	}, "tests/browser/failover/")
}

// checkPeerCORS: a preflight from the active's console origin is answered
// by the standby; one from another origin is not, and a write from it is
// refused.
func checkPeerCORS(t *testing.T, active, standby *cluster.Node) {
	for _, tc := range []struct {
		origin string
		allow  bool
	}{{"https://" + active.API, true}, {"https://evil.example", false}, {"https://" + standby.API, false}} {
		code, h, err := standby.DoWithHeaders("", http.MethodOptions, "/api/v1/events", map[string]string{"Origin": tc.origin,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("Access-Control-Allow-Origin"); (got == tc.origin) != tc.allow || (!tc.allow && got != "") {
			t.Errorf("preflight from %s: HTTP %d, Access-Control-Allow-Origin %q, want allowed=%v", tc.origin, code, got, tc.allow)
		}
	}
	code, _, err := standby.DoWithHeaders("", http.MethodPost, "/api/v1/logout", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, map[string]any{}, nil)
	if err != nil || code != http.StatusForbidden {
		t.Errorf("a write from a foreign origin: HTTP %d %v, want 403", code, err)
	}
	csp := func(n *cluster.Node) string {
		_, h, _ := n.DoWithHeaders("", http.MethodGet, "/", nil, nil, nil)
		return h.Get("Content-Security-Policy")
	}
	if got, want := csp(standby), "connect-src 'self' https://"+active.API+";"; !strings.Contains(got, want) {
		t.Errorf("the standby's CSP %q lacks %q", got, want)
	}
}

// controlServer lets the browser test act on the pair: POST /kill kills
// the active with SIGKILL; POST /event stores an event (JSON body) at
// whichever appliance takes it, waiting up to a minute for one to be
// active.
func controlServer(t *testing.T, active, standby *cluster.Node) string {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, r *http.Request) {
		active.Kill()
		t.Logf("control: killed %s", active.Name)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /event", func(w http.ResponseWriter, r *http.Request) {
		var ev events.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok := cluster.WaitFor(r.Context(), time.Minute, func() bool {
			for _, n := range []*cluster.Node{standby, active} {
				if n.Running() {
					if code, _ := n.Do(http.MethodPost, "/api/v1/events", ev, nil); code == http.StatusOK {
						t.Logf("control: event %s stored at %s", ev.UID, n.Name)
						return true
					}
				}
			}
			return false
		})
		if !ok {
			http.Error(w, "no appliance took the event within a minute", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
