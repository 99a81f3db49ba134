package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/pollers/status"
	"github.com/mamori-ops/mamori/test/cluster"
)

// These tests use the tcp kind (pollers/tcp): a connect to a listener
// the test holds on its own loopback address; closing the listener is
// the target going away.

// tcpTarget is a TCP listener on a loopback address of its own.
type tcpTarget struct {
	ip   string
	port int
	mu   sync.Mutex
	ln   net.Listener
}

func startTarget(t *testing.T, ip string, port int) *tcpTarget {
	t.Helper()
	tg := &tcpTarget{ip: ip, port: port}
	tg.open(t)
	t.Cleanup(tg.close)
	return tg
}

// open listens (again, on the same port when it had one) and accepts
// and closes connections until closed.
func (tg *tcpTarget) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(tg.ip, strconv.Itoa(tg.port)))
	if err != nil {
		t.Fatalf("target %s: %v", tg.ip, err)
	}
	tg.mu.Lock()
	tg.ln, tg.port = ln, ln.Addr().(*net.TCPAddr).Port
	tg.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func (tg *tcpTarget) close() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.ln != nil {
		tg.ln.Close()
		tg.ln = nil
	}
}

// statusRows reads GET /api/v1/status as the appliance itself.
func statusRows(n *cluster.Node, query string) ([]status.Row, error) {
	var out struct {
		Rows []status.Row `json:"rows"`
	}
	code, err := n.Do(http.MethodGet, "/api/v1/status"+query, nil, &out)
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/status: HTTP %d %v", code, err)
	}
	return out.Rows, err
}

// putTCPMonitor creates a tcp monitor of port on node.
func putTCPMonitor(t *testing.T, n *cluster.Node, id, node string, port int, interval string) {
	t.Helper()
	m := map[string]any{"id": id, "name": "TCP " + id, "kind": "tcp", "node": node, "interval": interval, "timeout": "2s",
		"params":    map[string]any{"port": port, "timeout": "2s"},
		"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1000}, "warning": map[string]any{"max": 2000}}}}
	var out map[string]any
	if code, err := n.Do(http.MethodPost, "/api/v1/monitors", m, &out); code != http.StatusOK {
		t.Fatalf("POST monitor %s: HTTP %d %v %v", id, code, err, out)
	}
}

// waitAll waits until every monitor of want has a row on n that pass accepts.
func waitAll(t *testing.T, n *cluster.Node, want int, timeout time.Duration, pass func(status.Row) bool) []status.Row {
	t.Helper()
	var rows []status.Row
	ok := cluster.WaitFor(t.Context(), timeout, func() bool {
		var err error
		if rows, err = statusRows(n, ""); err != nil {
			return false
		}
		good := 0
		for _, r := range rows {
			if pass(r) {
				good++
			}
		}
		return good == want
	})
	if !ok {
		t.Fatalf("%s: %d status rows, not all %d as wanted: %s", n.Name, len(rows), want, summarize(rows))
	}
	return rows
}

func summarize(rows []status.Row) string {
	by := map[string]int{}
	for _, r := range rows {
		k := string(r.Priority)
		if r.Stale {
			k += "(stale)"
		}
		by[k]++
	}
	return fmt.Sprint(by)
}

// With N monitors running (MAMORI_E2E_MONITORS, default 500: the
// issue's figure), kill -9 of the active: the new active resumes every
// monitor, none missing more than one interval beyond the detection
// time (read from the result times on the new active); a target that
// went away during the switch raises exactly one change on the new
// active; after the killed appliance is recovered, both show every
// monitor fresh.
func TestMonitorsResumeAfterFailover(t *testing.T) {
	skipShort(t)
	const detection = 3 * time.Second
	interval := 5 * time.Second
	n := envInt("MAMORI_E2E_MONITORS", 500)
	a, b := newPair(t, cluster.Options{Detection: detection})

	// Targets: up to 20 nodes, each a listener on its own loopback address.
	tsub := cluster.Subnet()
	nodes := min(n, 20)
	targets := make([]*tcpTarget, nodes)
	for i := range nodes {
		targets[i] = startTarget(t, fmt.Sprintf("%s.%d", tsub, i+1), 0)
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("t%02d", i), "address": targets[i].ip, "scope": "svc"}, nil); code != 200 {
			t.Fatalf("node: HTTP %d %v", code, err)
		}
	}
	for i := range n {
		putTCPMonitor(t, a, fmt.Sprintf("m%03d", i), fmt.Sprintf("t%02d", i%nodes), targets[i%nodes].port, interval.String())
	}
	fresh := func(r status.Row) bool { return r.Priority == "info" && !r.Stale }
	waitAll(t, a, n, 3*interval, fresh)
	// The standby holds the stored rows.
	waitAll(t, b, n, 3*interval, fresh)
	time.Sleep(interval)

	// The last check of each monitor on the old active.
	before, err := statusRows(a, "")
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]time.Time{}
	for _, r := range before {
		last[r.Monitor] = r.CheckedAt
	}
	killed := time.Now()
	a.Kill()
	targets[0].close() // a target goes away during the switch
	gone := 0
	for i := range n {
		if i%nodes == 0 {
			gone++
		}
	}
	b.WaitRole(ha.Active, 30*time.Second)
	promoted := time.Now()
	t.Logf("kill -9 at %s, b active after %s", killed.Format("15:04:05.000"), promoted.Sub(killed).Round(time.Millisecond))

	// The first result of each monitor on the new active.
	first := map[string]time.Time{}
	deadline := promoted.Add(interval + 5*time.Second)
	for len(first) < n && time.Now().Before(deadline) {
		rows, err := statusRows(b, "")
		if err == nil {
			for _, r := range rows {
				if _, seen := first[r.Monitor]; !seen && r.CheckedAt.After(killed) {
					first[r.Monitor] = r.CheckedAt
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(first) != n {
		t.Fatalf("%d of %d monitors resumed within an interval (%s) and 5 s after b became active", len(first), n, interval)
	}
	var worstLate, worstGap time.Duration
	for id, at := range first {
		late := at.Sub(promoted)
		gap := at.Sub(last[id])
		worstLate, worstGap = max(worstLate, late), max(worstGap, gap)
		// Within the first interval on the new active, and no more than
		// one interval beyond the detection time (the time from the kill
		// to b being active) since the last result on a; a second more
		// for a shared machine's lag.
		if late > interval+time.Second {
			t.Errorf("%s: first result on b %s after it became active (interval %s)", id, late.Round(time.Millisecond), interval)
		}
		if gap > promoted.Sub(killed)+interval+time.Second {
			t.Errorf("%s: last result on a at %s, first on b at %s: a gap of %s (detection %s + interval %s)", id,
				last[id].Format("15:04:05.000"), at.Format("15:04:05.000"), gap.Round(time.Millisecond), promoted.Sub(killed).Round(time.Millisecond), interval)
		}
	}
	t.Logf("%d monitors resumed on b: latest first result %s after b became active; longest gap between results %s", n,
		worstLate.Round(time.Millisecond), worstGap.Round(time.Millisecond))

	// The target that went away: exactly one change to unknown per monitor.
	notInfo := func(r status.Row) bool { return !r.Stale && (r.Priority == "info") != strings.HasPrefix(r.Node, "t00") }
	waitAll(t, b, n, 2*interval, notInfo)
	changes := map[string]int{}
	for _, ev := range b.Events("monitor") {
		if ev.Attrs["priority"] == "unknown" {
			if ev.Attrs["previous"] != "info" || ev.Node != "t00" {
				t.Errorf("change event %+v", ev)
			}
			changes[ev.Attrs["monitor"]]++
		}
	}
	for id, c := range changes {
		if c != 1 {
			t.Errorf("%s: %d change events to unknown, want 1", id, c)
		}
	}
	if len(changes) != gone {
		t.Errorf("%d monitors recorded the target going away, want %d", len(changes), gone)
	}

	// Heal: the killed appliance returns and is recovered as standby;
	// the target returns. Both appliances end with every monitor fresh.
	targets[0].open(t)
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	if out, err := a.CLI("recover"); err != nil {
		t.Fatalf("mamori recover: %v\n%s", err, out)
	}
	a.WaitRole(ha.Standby, 30*time.Second)
	waitAll(t, b, n, 3*interval, fresh)
	waitAll(t, a, n, 3*interval, fresh)
}

// A monitor's life on one appliance: bad definitions are refused with
// the field named; "test now" runs the check and judges it without
// storing anything; the running monitor turns unknown when its target
// goes away and info when it returns, each change an event; the scope
// rule keeps a role of scope A from naming or seeing what is in B.
func TestMonitorLifecycle(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	tsub := cluster.Subnet()
	tgA := startTarget(t, tsub+".1", 0)
	tgB := startTarget(t, tsub+".2", 0)
	for _, n := range []map[string]any{{"id": "na", "address": tgA.ip, "scope": "A"}, {"id": "nb", "address": tgB.ip, "scope": "B"}} {
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", n, nil); code != 200 {
			t.Fatalf("node: HTTP %d %v", code, err)
		}
	}
	good := func() map[string]any {
		return map[string]any{"id": "m1", "kind": "tcp", "node": "na", "interval": "2s", "timeout": "1s", "params": map[string]any{"port": tgA.port, "timeout": "1s"},
			"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1000}}}}
	}

	t.Run("bad input names the field", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			edit  func(m map[string]any)
			field string
		}{
			{"inverted range", func(m map[string]any) {
				m["judgement"] = map[string]any{"numeric": map[string]any{"warning": map[string]any{"min": 5, "max": 1}}}
			}, "judgement.numeric.warning"},
			{"bad regex", func(m map[string]any) {
				m["judgement"] = map[string]any{"patterns": []any{map[string]any{"match": "(", "priority": "critical"}}}
			}, "judgement.patterns[0].match"},
			{"unknown node", func(m map[string]any) { m["node"] = "nowhere" }, "node"},
			{"unknown scope", func(m map[string]any) { delete(m, "node"); m["scope"] = "nowhere" }, "scope"},
			{"unknown kind", func(m map[string]any) { m["kind"] = "gopher" }, "kind"},
			{"bad params", func(m map[string]any) { m["params"] = map[string]any{"port": 70000} }, "params"},
			{"misspelt field", func(m map[string]any) { m["intreval"] = "1s" }, "intreval"},
			{"bad interval", func(m map[string]any) { m["interval"] = "often" }, "interval"},
			{"missing credential", func(m map[string]any) {
				m["kind"] = "http"
				m["params"] = map[string]any{"url": "http://{{address}}/", "user": "u", "password_credential": "no-such-secret"}
			}, "params.password_credential"},
		} {
			m := good()
			c.edit(m)
			var out struct{ Error string }
			code, _ := a.Do(http.MethodPost, "/api/v1/monitors", m, &out)
			if code != http.StatusBadRequest || !strings.Contains(out.Error, c.field) {
				t.Errorf("%s: HTTP %d %q, want 400 naming %s", c.name, code, out.Error, c.field)
			}
		}
	})

	t.Run("test now", func(t *testing.T) {
		var out struct {
			Results []struct {
				Node, Priority, Message, Raw, Error string
				DurationMS                          float64 `json:"duration_ms"`
				Items                               []struct {
					Key      string
					Number   *float64
					Priority string
				}
			}
		}
		if code, err := a.Do(http.MethodPost, "/api/v1/monitors/test", map[string]any{"monitor": good()}, &out); code != 200 {
			t.Fatalf("test now: HTTP %d %v", code, err)
		}
		if len(out.Results) != 1 || out.Results[0].Node != "na" || out.Results[0].Priority != "info" || len(out.Results[0].Items) == 0 ||
			out.Results[0].Items[0].Key != "connect_ms" || out.Results[0].Items[0].Number == nil || out.Results[0].DurationMS <= 0 {
			t.Fatalf("test now: %+v", out)
		}
		m := good()
		m["params"] = map[string]any{"port": tgB.port, "timeout": "1s"} // na's address has nothing on that port
		if code, _ := a.Do(http.MethodPost, "/api/v1/monitors/test", map[string]any{"monitor": m}, &out); code != 200 ||
			out.Results[0].Priority != "unknown" || out.Results[0].Error == "" {
			t.Fatalf("test now of a closed port: %+v", out)
		}
		// The same judgement as the runner's, across the thresholds.
		for _, c := range []struct {
			info, warning float64
			want          string
		}{{1000, 2000, "info"}, {0.000001, 2000, "warning"}, {0.000001, 0.000002, "critical"}} {
			m := good()
			m["judgement"] = map[string]any{"numeric": map[string]any{"info": map[string]any{"max": c.info}, "warning": map[string]any{"max": c.warning}}}
			if code, _ := a.Do(http.MethodPost, "/api/v1/monitors/test", map[string]any{"monitor": m}, &out); code != 200 || out.Results[0].Priority != c.want {
				t.Errorf("connect time against info < %g, warning < %g: %+v, want %s", c.info, c.warning, out, c.want)
			}
		}
		if rows, _ := statusRows(a, "?monitor=m1"); len(rows) != 0 {
			t.Fatalf("test now stored status rows: %+v", rows)
		}
	})

	t.Run("down and up", func(t *testing.T) {
		var saved map[string]any
		if code, err := a.Do(http.MethodPost, "/api/v1/monitors", good(), &saved); code != 200 || saved["name"] != "m1" || saved["enabled"] != true {
			t.Fatalf("save: HTTP %d %v %v", code, err, saved)
		}
		wait := func(p string) status.Row {
			t.Helper()
			var row status.Row
			if !cluster.WaitFor(t.Context(), 15*time.Second, func() bool {
				rows, err := statusRows(a, "?monitor=m1")
				if err != nil || len(rows) != 1 {
					return false
				}
				row = rows[0]
				return string(row.Priority) == p && !row.Stale
			}) {
				t.Fatalf("m1 never %s: %+v", p, row)
			}
			return row
		}
		row := wait("info")
		if row.Scope != "A" || row.Node != "na" || row.Kind != "tcp" || !strings.HasSuffix(row.Value, "ms") {
			t.Fatalf("row %+v", row)
		}
		tgA.close()
		if row := wait("unknown"); row.Message == "" {
			t.Fatalf("unknown without a reason: %+v", row)
		}
		tgA.open(t)
		wait("info")
		var got []string
		for _, ev := range a.Events("monitor") {
			if ev.Attrs["monitor"] == "m1" {
				got = append(got, ev.Attrs["previous"]+">"+ev.Attrs["priority"]+"/"+string(ev.Severity)+"/"+ev.Scope)
			}
		}
		if strings.Join(got, " ") != "info>unknown/unknown/A unknown>info/info/A" {
			t.Fatalf("events of m1: %v", got)
		}
		var sc struct {
			Scopes []status.ScopeRollup `json:"scopes"`
		}
		if code, _ := a.Do(http.MethodGet, "/api/v1/status?scope=A", nil, &sc); code != 200 || len(sc.Scopes) != 1 || sc.Scopes[0].Info != 1 || sc.Scopes[0].Nodes != 1 {
			t.Fatalf("rollup of A: %+v", sc)
		}
	})

	t.Run("scope rule", func(t *testing.T) {
		m := good()
		m["id"], m["node"], m["params"] = "mb", "nb", map[string]any{"port": tgB.port}
		if code, err := a.Do(http.MethodPost, "/api/v1/monitors", m, nil); code != 200 {
			t.Fatalf("monitor of B: HTTP %d %v", code, err)
		}
		if code, err := a.Do(http.MethodPost, "/api/v1/roles", map[string]any{"name": "edit-a", "scopes": []string{"A"},
			"privileges": map[string][]string{"monitor_settings": {"read", "add", "modify", "execute"}, "monitor_results": {"read"}}}, nil); code != 201 {
			t.Fatalf("role: HTTP %d %v", code, err)
		}
		if code, err := a.Do(http.MethodPost, "/api/v1/users", map[string]any{"user": "ea", "password": pw, "roles": []string{"edit-a"}}, nil); code != 201 {
			t.Fatalf("user: HTTP %d %v", code, err)
		}
		tok := a.Login("ea", pw)
		m["id"] = "mine"
		if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/monitors", m, nil); code != http.StatusForbidden {
			t.Errorf("a role of A names node nb of B: HTTP %d, want 403", code)
		}
		if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/monitors/test", map[string]any{"monitor": m}, nil); code != http.StatusForbidden {
			t.Errorf("a role of A tests on node nb of B: HTTP %d, want 403", code)
		}
		if code, _ := a.DoAs(tok, http.MethodGet, "/api/v1/monitors/mb", nil, nil); code != http.StatusNotFound {
			t.Errorf("a role of A reads B's monitor: HTTP %d, want 404", code)
		}
		m = good()
		m["name"] = "taken over"
		m["id"] = "mb"
		if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/monitors", m, nil); code != http.StatusForbidden {
			t.Errorf("a role of A replaces B's monitor: HTTP %d, want 403", code)
		}
		var list struct{ Monitors []struct{ ID string } }
		if code, _ := a.DoAs(tok, http.MethodGet, "/api/v1/monitors", nil, &list); code != 200 || len(list.Monitors) != 1 || list.Monitors[0].ID != "m1" {
			t.Errorf("a role of A lists %+v, want m1 only", list)
		}
		var st struct{ Rows []status.Row }
		if code, _ := a.DoAs(tok, http.MethodGet, "/api/v1/status", nil, &st); code != 200 {
			t.Fatalf("status as a role of A: HTTP %d", code)
		}
		for _, r := range st.Rows {
			if r.Scope != "A" {
				t.Errorf("a role of A sees a status row of %s: %+v", r.Scope, r)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		if code, err := a.Do(http.MethodDelete, "/api/v1/monitors/m1", nil, nil); code != 200 {
			t.Fatalf("delete: HTTP %d %v", code, err)
		}
		if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { rows, err := statusRows(a, "?monitor=m1"); return err == nil && len(rows) == 0 }) {
			t.Fatal("status rows of a deleted monitor stay")
		}
	})
}

// hookReceiver is a webhook receiver on loopback: it records the
// Idempotency-Key and body of every notification it is sent.
type hookReceiver struct {
	URL  string
	mu   sync.Mutex
	keys []string
	body []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		h.keys, h.body = append(h.keys, r.Header.Get("Idempotency-Key")), append(h.body, string(b))
		h.mu.Unlock()
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	h.URL = "http://" + ln.Addr().String() + "/hook"
	return h
}

func (h *hookReceiver) got() (keys, bodies []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.keys...), append([]string(nil), h.body...)
}

// With 500 monitors running (MAMORI_E2E_MONITORS), 50 of them change
// state around a kill -9 of the active (half of their targets go away
// just before it, half after the new active took over) while the other
// 450 must resume on the new active: every change is notified to a real webhook receiver, which
// counts the repeats (same key twice; expected 0). Needs appliance/notify
// (the notify part) and pollers/tcp.
func TestMonitorNotificationsThroughFailover(t *testing.T) {
	skipShort(t)
	const detection = 3 * time.Second
	interval := 2 * time.Second
	a, b := newPair(t, cluster.Options{Detection: detection})
	hook := newHookReceiver(t)
	for _, c := range []struct{ path string }{{"/api/v1/notify/channels"}, {"/api/v1/notify/rules"}} {
		body := map[string]any{"id": "hook", "type": "webhook", "webhook": map[string]any{"url": hook.URL, "format": "json"}}
		if c.path == "/api/v1/notify/rules" {
			body = map[string]any{"id": "mon", "enabled": true, "channels": []string{"hook"}, "priorities": []string{"critical", "unknown"}}
		}
		var out map[string]any
		if code, err := a.Do(http.MethodPost, c.path, body, &out); code != http.StatusOK {
			t.Fatalf("POST %s: HTTP %d %v %v", c.path, code, err, out)
		}
	}
	tsub := cluster.Subnet()
	const nodes, perNode = 10, 5
	targets := make([]*tcpTarget, nodes)
	for i := range nodes {
		targets[i] = startTarget(t, fmt.Sprintf("%s.%d", tsub, i+1), 0)
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("h%02d", i), "address": targets[i].ip, "scope": "svc"}, nil); code != 200 {
			t.Fatalf("node: HTTP %d %v", code, err)
		}
		for j := range perNode {
			m := map[string]any{"id": fmt.Sprintf("n%02d-%d", i, j), "kind": "tcp", "node": fmt.Sprintf("h%02d", i), "interval": interval.String(),
				"timeout": "1s", "params": map[string]any{"port": targets[i].port, "timeout": "1s"}, "notify": []string{"mon"}}
			if code, err := a.Do(http.MethodPost, "/api/v1/monitors", m, nil); code != 200 {
				t.Fatalf("monitor: HTTP %d %v", code, err)
			}
		}
	}
	// The scene: these 50 among 500 running monitors; the other
	// 450 watch a service that stays up and must resume on b too.
	bg := envInt("MAMORI_E2E_MONITORS", 500) - nodes*perNode
	steady := startTarget(t, fmt.Sprintf("%s.%d", tsub, nodes+1), 0)
	if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": "steady", "address": steady.ip, "scope": "svc"}, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}
	for i := range bg {
		m := map[string]any{"id": fmt.Sprintf("bg-%03d", i), "kind": "tcp", "node": "steady", "interval": "5s",
			"timeout": "1s", "params": map[string]any{"port": steady.port, "timeout": "1s"}, "notify": []string{"mon"}}
		if code, err := a.Do(http.MethodPost, "/api/v1/monitors", m, nil); code != 200 {
			t.Fatalf("monitor: HTTP %d %v", code, err)
		}
	}
	isBg := func(r status.Row) bool { return strings.HasPrefix(r.Monitor, "bg-") }
	total := nodes * perNode
	waitAll(t, a, total, 5*interval, func(r status.Row) bool { return !isBg(r) && r.Priority == "info" && !r.Stale })
	waitAll(t, b, total, 5*interval, func(r status.Row) bool { return !isBg(r) && r.Priority == "info" })
	waitAll(t, a, bg, 30*time.Second, func(r status.Row) bool { return isBg(r) && r.Priority == "info" && !r.Stale })

	// Half the targets go away just before the kill, half after b took over.
	for i := range nodes / 2 {
		targets[i].close()
	}
	time.Sleep(interval / 2)
	a.Kill()
	b.WaitRole(ha.Active, 30*time.Second)
	tookOver := time.Now()
	for i := nodes / 2; i < nodes; i++ {
		targets[i].close()
	}
	waitAll(t, b, total, 5*interval, func(r status.Row) bool { return !isBg(r) && r.Priority == "unknown" })
	waitAll(t, b, bg, 15*time.Second, func(r status.Row) bool { return isBg(r) && r.Priority == "info" && r.CheckedAt.After(tookOver) })
	var keys, bodies []string
	distinct := map[string]bool{}
	cluster.WaitFor(t.Context(), 60*time.Second, func() bool {
		keys, bodies = hook.got()
		clear(distinct)
		for _, k := range keys {
			distinct[k] = true
		}
		return len(distinct) >= total
	})
	notified := map[string]bool{}
	for _, body := range bodies {
		for i := range nodes {
			for j := range perNode {
				if id := fmt.Sprintf("n%02d-%d", i, j); strings.Contains(body, `"`+id+`"`) {
					notified[id] = true
				}
			}
		}
	}
	t.Logf("REPORT monitor_notify_failover: %d monitors, %d state changes, %d notifications received, %d distinct keys, %d repeats (expected 0)",
		total+bg, total, len(keys), len(distinct), len(keys)-len(distinct))
	if len(notified) != total || len(distinct) != total {
		t.Fatalf("%d of %d monitors' changes notified (%d distinct keys)", len(notified), total, len(distinct))
	}
}

// A node muted for maintenance: its monitor's change of priority is
// still an event, marked with the window (notifications hold it).
// Needs the schedule part (appliance/maintenance) and pollers/tcp.
func TestMonitorEventInMaintenance(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	tg := startTarget(t, cluster.Subnet()+".1", 0)
	if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": "web1", "address": tg.ip, "scope": "A"}, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}
	putTCPMonitor(t, a, "m1", "web1", tg.port, "2s")
	waitAll(t, a, 1, 10*time.Second, func(r status.Row) bool { return r.Priority == "info" })
	var muted struct{ Window string }
	if code, err := a.Do(http.MethodPost, "/api/v1/maintenance/mute", map[string]any{"node": "web1", "duration": "1h", "reason": "e2e"}, &muted); code != 201 || muted.Window == "" {
		t.Fatalf("mute: HTTP %d %v %+v", code, err, muted)
	}
	time.Sleep(2 * time.Second) // the checker's cache of windows
	tg.close()
	waitAll(t, a, 1, 10*time.Second, func(r status.Row) bool { return r.Priority == "unknown" })
	evs := a.Events("monitor")
	if len(evs) != 1 || evs[0].Attrs["maintenance"] != muted.Window || evs[0].Attrs["previous"] != "info" {
		t.Fatalf("events %+v, want one change marked with window %s", evs, muted.Window)
	}
}
