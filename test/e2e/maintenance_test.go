package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// maintenanceActive asks an appliance whether a node, scope or monitor is
// in maintenance at an instant (zero: now), as its Checker says.
func maintenanceActive(t *testing.T, n *cluster.Node, tok, query string, at time.Time) (string, bool) {
	t.Helper()
	if !at.IsZero() {
		query += "&at=" + url.QueryEscape(at.UTC().Format(time.RFC3339))
	}
	var out struct {
		Active bool
		Window string
	}
	if code, err := n.DoAs(tok, http.MethodGet, "/api/v1/maintenance/active?"+query, nil, &out); code != 200 {
		t.Fatalf("active?%s: HTTP %d %v", query, code, err)
	}
	return out.Window, out.Active
}

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, time.FixedZone("JST", 9*3600))
	if err != nil {
		panic(err)
	}
	return t
}

// Calendars and every kind of maintenance window through the API of a
// pair: a calendar with a holiday and its preview; windows following it
// (outside business time), weekly across midnight in New York, one-off on
// a monitor, and an ad hoc mute by a scoped operator's token, ended early;
// the scope rule on all of it.
func TestMaintenanceWindows(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	call := func(tok, method, path string, in any, want int) {
		t.Helper()
		var out struct{ Error string }
		if code, err := a.DoAs(tok, method, path, in, &out); code != want {
			t.Fatalf("%s %s: HTTP %d (want %d) %v %s", method, path, code, want, err, out.Error)
		}
	}
	call(admin, "POST", "/api/v1/nodes", map[string]any{"id": "web1", "address": "10.9.0.1", "scope": "A"}, 200)
	call(admin, "POST", "/api/v1/nodes", map[string]any{"id": "db1", "address": "10.9.0.2", "scope": "B"}, 200)
	call(admin, "POST", "/api/v1/roles", map[string]any{"name": "opsA", "scopes": []string{"A"},
		"privileges": map[string][]string{"monitor_settings": {"read", "add", "modify"}, "calendars": {"read", "add", "modify"}}}, 201)
	call(admin, "POST", "/api/v1/users", map[string]any{"user": "ops", "password": pw, "roles": []string{"opsA"}}, 201)
	ops := a.Login("ops", pw)

	day := []map[string]string{{"from": "09:00", "to": "18:00"}}
	call(ops, "POST", "/api/v1/calendars", map[string]any{"id": "office", "name": "Tokyo office", "scope": "A", "time_zone": "Asia/Tokyo",
		"week":  map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
		"rules": []map[string]any{{"name": "National Foundation Day", "kind": "dates", "date": "2026-02-11"}}}, 200)
	call(ops, "POST", "/api/v1/calendars", map[string]any{"id": "bad", "name": "x", "scope": "A", "time_zone": "Tokyo"}, 400)
	call(ops, "POST", "/api/v1/calendars", map[string]any{"id": "b", "name": "x", "scope": "B", "time_zone": "UTC"}, 403)
	var preview struct {
		Days []struct {
			Date   string
			Spans  []map[string]string
			Source string
		}
		Transitions []struct {
			At   time.Time
			Open bool
		}
	}
	if code, err := a.DoAs(ops, "POST", "/api/v1/calendars/preview", map[string]any{"id": "office", "from": jst("2026-02-09 00:00"), "days": 7}, &preview); code != 200 {
		t.Fatalf("preview: HTTP %d %v", code, err)
	}
	if d := preview.Days[2]; d.Date != "2026-02-11" || len(d.Spans) != 0 || d.Source != "National Foundation Day" || len(preview.Days[0].Spans) != 1 {
		t.Fatalf("preview: %+v", preview.Days)
	}
	if tr := preview.Transitions; len(tr) < 2 || !tr[0].At.Equal(jst("2026-02-09 09:00")) || !tr[0].Open || !tr[1].At.Equal(jst("2026-02-09 18:00")) {
		t.Fatalf("transitions: %+v", preview.Transitions)
	}

	from := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	to := from.Add(2 * time.Hour)
	for _, w := range []map[string]any{
		{"id": "nights", "name": "batch at night", "scope": "A", "kind": "calendar", "enabled": true, "scopes": []string{"A"}, "calendar": "office", "inside": false},
		{"id": "backup", "name": "backups", "scope": "", "kind": "weekly", "enabled": true, "nodes": []string{"db1"},
			"weekdays": []string{"sat"}, "start": "22:00", "end": "02:00", "time_zone": "America/New_York"},
		{"id": "upgrade", "name": "checker upgrade", "scope": "A", "kind": "once", "enabled": true, "monitors": []string{"m1"}, "from": from, "to": to},
	} {
		tok := ops
		if w["scope"] == "" {
			tok = admin
		}
		call(tok, "POST", "/api/v1/maintenance", w, 200)
	}
	// The scoped operator cannot name a node, scope or calendar outside its scopes.
	call(ops, "POST", "/api/v1/maintenance", map[string]any{"id": "x", "name": "x", "scope": "A", "kind": "once", "enabled": true,
		"nodes": []string{"db1"}, "from": from, "to": to}, 403)
	call(ops, "POST", "/api/v1/maintenance", map[string]any{"id": "x", "name": "x", "scope": "A", "kind": "once", "enabled": true,
		"scopes": []string{"B"}, "from": from, "to": to}, 403)
	call(ops, "POST", "/api/v1/maintenance", map[string]any{"id": "x", "name": "x", "scope": "A", "kind": "once", "enabled": true,
		"nodes": []string{"web1"}, "from": to, "to": from}, 400)
	call(ops, "POST", "/api/v1/maintenance", map[string]any{"id": "x", "name": "x", "scope": "A", "kind": "once", "enabled": true,
		"nodes": []string{"web1"}, "form": from}, 400) // misspelt field: refused, not ignored
	call(ops, "DELETE", "/api/v1/calendars/office", nil, 409) // "nights" follows it

	for _, tc := range []struct {
		name, query string
		at          time.Time
		want        string
	}{
		{"calendar: Monday 10:00 JST is business time", "node=web1", jst("2026-02-09 10:00"), ""},
		{"calendar: Monday 20:00 JST is outside", "node=web1", jst("2026-02-09 20:00"), "nights"},
		{"calendar: a holiday is outside all day", "node=web1", jst("2026-02-11 10:00"), "nights"},
		{"calendar: another scope's node", "node=db1", jst("2026-02-09 20:00"), ""},
		{"weekly: Saturday 23:00 EST", "node=db1", time.Date(2026, 2, 8, 4, 0, 0, 0, time.UTC), "backup"},
		{"weekly: Sunday 01:59 EST (past midnight)", "node=db1", time.Date(2026, 2, 8, 6, 59, 0, 0, time.UTC), "backup"},
		{"weekly: Sunday 02:00 EST", "node=db1", time.Date(2026, 2, 8, 7, 0, 0, 0, time.UTC), ""},
		{"once: on its monitor", "monitor=m1", from.Add(time.Hour), "upgrade"},
		{"once: after it", "monitor=m1", to, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if id, _ := maintenanceActive(t, a, admin, tc.query, tc.at); id != tc.want {
				t.Fatalf("window %q, want %q", id, tc.want)
			}
		})
	}

	// An ad hoc mute by the scoped operator: active at once (on both
	// appliances: the standby's checker reads its replicated copy), ended
	// early; a node outside its scopes cannot be muted.
	var muted struct {
		Window string
		To     time.Time
	}
	if code, err := a.DoAs(ops, "POST", "/api/v1/maintenance/mute", map[string]any{"node": "web1", "duration": "2h", "reason": "kernel update"}, &muted); code != 201 {
		t.Fatalf("mute: HTTP %d %v", code, err)
	}
	if time.Until(muted.To) < 119*time.Minute {
		t.Fatalf("mute ends at %s", muted.To)
	}
	call(ops, "POST", "/api/v1/maintenance/mute", map[string]any{"node": "db1", "duration": "2h", "reason": "x"}, 403)
	call(ops, "POST", "/api/v1/maintenance/mute", map[string]any{"node": "web1", "duration": "2 hours", "reason": "x"}, 400)
	for _, n := range []*cluster.Node{a, b} {
		ok := cluster.WaitFor(t.Context(), 5*time.Second, func() bool {
			id, _ := maintenanceActive(t, n, admin, "node=web1", time.Time{})
			return id == muted.Window
		})
		if !ok {
			t.Fatalf("%s: mute %s not active", n.Name, muted.Window)
		}
	}
	var listed struct {
		Windows []struct {
			ID, Status string
			Active     bool
		}
	}
	if code, _ := a.DoAs(ops, "GET", "/api/v1/maintenance", nil, &listed); code != 200 {
		t.Fatalf("list: HTTP %d", code)
	}
	got := map[string]string{}
	for _, w := range listed.Windows {
		got[w.ID] = w.Status
	}
	// "nights" is active or upcoming depending on the hour in Tokyo.
	if len(got) != 3 || got[muted.Window] != "active" || got["upgrade"] != "upcoming" || got["backup"] != "" ||
		(got["nights"] != "active" && got["nights"] != "upcoming") {
		t.Fatalf("the operator of scope A lists %v", got)
	}
	call(ops, "POST", "/api/v1/maintenance/"+muted.Window+"/end", nil, 200)
	if id, ok := maintenanceActive(t, a, admin, "node=web1&scope=none", time.Time{}); ok {
		t.Fatalf("ended mute still active (%s)", id)
	}
	call(ops, "DELETE", "/api/v1/maintenance/backup", nil, 403) // for every scope: only a role seeing all may change it
	// Every write is in the audit log: who muted what, why, and who ended it.
	call(admin, "POST", "/api/v1/users", map[string]any{"user": "aud", "password": pw, "roles": []string{"auditor"}}, 201)
	var audit struct {
		Entries []struct{ User, Action, Object, Result, Detail string }
	}
	if code, err := a.DoAs(a.Login("aud", pw), "GET", "/api/v1/audit?action=maintenance", nil, &audit); code != 200 {
		t.Fatalf("audit: HTTP %d %v", code, err)
	}
	seen := map[string]bool{}
	for _, e := range audit.Entries {
		switch {
		case e.Action == "POST /api/v1/maintenance/mute" && e.Result == "201" && e.User == "ops" && strings.Contains(e.Detail, "kernel update"):
			seen["mute"] = true
		case e.Action == "POST /api/v1/maintenance/:id/end" && e.Result == "200" && strings.Contains(e.Object, muted.Window):
			seen["end"] = true
		case e.Action == "POST /api/v1/maintenance/mute" && e.Result == "403":
			seen["refused"] = true
		}
	}
	if len(seen) != 3 {
		t.Fatalf("audit rows of maintenance: found %v in %+v", seen, audit.Entries)
	}
	call(admin, "DELETE", "/api/v1/maintenance/nights", nil, 200)
	call(ops, "DELETE", "/api/v1/calendars/office", nil, 200)
}

// A one-off window that starts while the active is dead applies on the
// new active at its start: the definition and the clock are all there is.
func TestMaintenanceWindowStartsDuringFailover(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{Detection: 3 * time.Second})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	if code, err := a.DoAs(admin, "POST", "/api/v1/nodes", map[string]any{"id": "web1", "address": "10.9.0.1", "scope": "A"}, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}
	// Whole seconds: the API's times and the check below compare them.
	start := time.Now().Add(20 * time.Second).Truncate(time.Second) // room for a slow failover on a loaded machine
	w := map[string]any{"id": "fo", "name": "starts during the failover", "scope": "A", "kind": "once", "enabled": true,
		"nodes": []string{"web1"}, "from": start, "to": start.Add(10 * time.Minute)}
	if code, err := a.DoAs(admin, "POST", "/api/v1/maintenance", w, nil); code != 200 {
		t.Fatalf("window: HTTP %d %v", code, err)
	}
	if _, ok := maintenanceActive(t, a, admin, "node=web1", time.Time{}); ok {
		t.Fatal("active before its start")
	}
	a.Kill()
	killed := time.Now()
	b.WaitRole(ha.Active, 20*time.Second)
	t.Logf("b active %s after kill -9 of a; the window starts %s after the kill", time.Since(killed).Round(time.Millisecond), start.Sub(killed).Round(time.Millisecond))
	if time.Now().After(start) {
		t.Fatalf("b became active only after the window's start: give the test more lead time")
	}
	tok := b.Login("admin", pw)
	var firstActive time.Time
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		asked := time.Now()
		id, ok := maintenanceActive(t, b, tok, "node=web1", time.Time{})
		answered := time.Now()
		if ok && id != "fo" {
			t.Fatalf("window %q active", id)
		}
		if ok && answered.Before(start) {
			t.Fatalf("active at %s, before its start %s", answered.Format(time.RFC3339Nano), start)
		}
		if !ok && asked.After(start.Add(time.Second)) {
			t.Fatalf("not active at %s, a second after its start %s", asked.Format(time.RFC3339Nano), start)
		}
		if ok {
			firstActive = answered
			break
		}
	}
	if firstActive.IsZero() {
		t.Fatal("the window never became active on the new active")
	}
	t.Logf("the new active reports the window active %s after its start", firstActive.Sub(start).Round(time.Millisecond))
}
