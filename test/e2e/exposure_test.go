package e2e

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// What an appliance shows and keeps, on one node: the session cookie,
// /metrics and /healthz, the checksums, event field limits, the custom
// event search, list answers, the audit CSV export.
func TestExposureBounds(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	const metricsToken = "scrape-me-please-0123456789"
	tokenFile := filepath.Join(dir, "metrics.token")
	if err := os.WriteFile(tokenFile, []byte(metricsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newSingle(t, cluster.Options{APIYAML: newKeys("  metrics_token_file: " + tokenFile + "\n"), ExtraYAML: newKeys(refusalWindowYAML)})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	viewer := roleUser(t, a, admin, "viewa", auth.Role{Name: "view_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{
		auth.Cluster: {auth.Read}, auth.MonitorResult: {auth.Read}}})
	anon := sourceClient("127.0.0.1", nil)
	base := "https://" + a.API
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	t.Run("session cookie", func(t *testing.T) {
		code, h, _ := call(t, anon, http.MethodPost, base+"/api/v1/login", nil, map[string]string{"user": "admin", "password": pw})
		ck := h.Get("Set-Cookie")
		if code != 200 || !strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "Secure") || !strings.Contains(ck, "HttpOnly") {
			t.Fatalf("login: HTTP %d, Set-Cookie %q: want Secure, HttpOnly, SameSite=Strict", code, ck)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		for _, tc := range []struct {
			who     string
			headers map[string]string
			want    int
		}{{"anonymous", nil, http.StatusUnauthorized}, {"a wrong token", bearer("not-the-token"), http.StatusUnauthorized},
			{"the metrics token", bearer(metricsToken), http.StatusOK}, {"an administrator", bearer(admin), http.StatusOK}} {
			if code, _, _ := call(t, anon, http.MethodGet, base+"/metrics", tc.headers, nil); code != tc.want {
				t.Errorf("/metrics as %s: HTTP %d, want %d", tc.who, code, tc.want)
			}
		}
		if m := a.Metrics(); !strings.Contains(m, "mamori_ha_active") { // the pair's certificate
			t.Errorf("/metrics with the node certificate: %.200s", m)
		}
		if code, _, _ := call(t, anon, http.MethodGet, base+"/api/v1/cluster", bearer(metricsToken), nil); code != http.StatusUnauthorized {
			t.Errorf("the metrics token on another route: HTTP %d, want 401", code)
		}
	})
	t.Run("healthz", func(t *testing.T) {
		code, _, body := call(t, anon, http.MethodGet, base+"/healthz", nil, nil)
		var h map[string]any
		_ = json.Unmarshal(body, &h)
		if code != 200 || h["status"] != "OK" || len(h) != 1 {
			t.Errorf("anonymous /healthz: HTTP %d %s, want only the status", code, body)
		}
		var full struct{ Status, Role string }
		if code, _ := a.Do(http.MethodGet, "/healthz", nil, &full); code != 200 || full.Role != "active" {
			t.Errorf("/healthz with the node certificate: HTTP %d %+v", code, full)
		}
	})
	t.Run("checksums need all scopes", func(t *testing.T) {
		if code, _, _ := call(t, anon, http.MethodGet, base+"/api/v1/cluster/checksums", bearer(viewer), nil); code != http.StatusForbidden {
			t.Errorf("checksums for a viewer of scope A: HTTP %d, want 403", code)
		}
		if code, _, _ := call(t, anon, http.MethodGet, base+"/api/v1/cluster/checksums", bearer(admin), nil); code != http.StatusOK {
			t.Errorf("checksums for the administrator: HTTP %d, want 200", code)
		}
	})
	t.Run("event field limits", func(t *testing.T) {
		attrs := map[string]string{}
		for i := range 100 {
			attrs[fmt.Sprint("k", i)] = "v"
		}
		for name, ev := range map[string]map[string]any{
			"a 10 KiB node":  {"kind": "x", "message": "m", "node": strings.Repeat("n", 10<<10)},
			"100 attributes": {"kind": "x", "message": "m", "attrs": attrs},
			"a 1 KiB scope":  {"kind": "x", "message": "m", "scope": strings.Repeat("s", 1<<10)},
		} {
			if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/events", ev, nil); code != http.StatusBadRequest {
				t.Errorf("event with %s: HTTP %d, want 400", name, code)
			}
		}
	})
	t.Run("custom event search", func(t *testing.T) {
		var out struct{ Error string }
		if code, _ := a.DoAs(admin, http.MethodGet, "/api/v1/custom-events?q=anything", nil, &out); code != http.StatusOK {
			t.Errorf("GET /api/v1/custom-events?q=: HTTP %d %s", code, out.Error)
		}
	})
	t.Run("list answers bounded in bytes", func(t *testing.T) {
		big := strings.Repeat("x", 60<<10)
		for r := range 4 {
			var evs []map[string]string
			for i := range 20 {
				evs = append(evs, map[string]string{"uid": fmt.Sprintf("big-%d-%d", r, i), "kind": "big", "message": big})
			}
			if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/events", evs, nil); code != 200 {
				t.Fatalf("post events: HTTP %d %v", code, err)
			}
		}
		seen := map[string]bool{}
		next, pages := "?kind=big&limit=10000", 0
		for next != "" && pages < 10 {
			code, _, body := call(t, anon, http.MethodGet, base+"/api/v1/events"+next, bearer(admin), nil)
			var out struct {
				Events []struct{ UID string }
				More   bool
				Next   string
			}
			if err := json.Unmarshal(body, &out); code != 200 || err != nil {
				t.Fatalf("events page: HTTP %d %v", code, err)
			}
			if len(body) > 5<<20 {
				t.Fatalf("one answer is %d bytes: want at most about 4 MiB", len(body))
			}
			for _, e := range out.Events {
				if seen[e.UID] {
					t.Fatalf("event %s on two pages", e.UID)
				}
				seen[e.UID] = true
			}
			next, pages = out.Next, pages+1
		}
		if len(seen) != 80 || pages < 2 {
			t.Fatalf("%d events on %d pages, want 80 on at least 2", len(seen), pages)
		}
	})
	t.Run("audit CSV neutralises formulas", func(t *testing.T) {
		for _, u := range []string{`=HYPERLINK("https://evil.example","open me")`, "@SUM(1+1)", "+cmd|' /C calc'!A0", "-2+3"} {
			a.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": u, "password": "wrong " + pw}, nil)
		}
		if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "aud", "password": pw, "roles": []string{auth.RoleAuditor}}, nil); code != 201 {
			t.Fatalf("auditor: HTTP %d", code)
		}
		tok := a.Login("aud", pw)
		time.Sleep(refusalWindow + time.Second) // refusals beyond the first few of an address are written when their window ends
		rows, err := csv.NewReader(strings.NewReader(auditCSV(t, a, tok, "/api/v1/audit?action=login&limit=10000&format=csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, r := range rows[1:] {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("a cell a spreadsheet would run: %q", cell)
				}
			}
			if strings.Contains(r[2], "HYPERLINK") || strings.Contains(r[2], "SUM(") {
				checked++
			}
		}
		if checked < 2 {
			t.Fatalf("the formula users are not in the export (%d rows)", len(rows))
		}
	})
}
