package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestGraphs: series posted as custom metrics (POST /api/v1/metrics, the
// route scripts use) are read back through the API on the active at once
// (from the writer's memory) and on the standby after the active's flush
// (from the replicated blocks), and the graphs screen draws them
// (ui/tests/browser/graphs/): several lines, range picker, zoom and
// reset, 100,000 points, both languages and themes, a phone.
func TestGraphs(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	active, standby := consolePair(t, 10*time.Second)
	for i, id := range []string{"web-a", "web-b", "sec-1"} {
		scope := map[bool]string{true: "web", false: "secret"}[id != "sec-1"]
		if code, err := active.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": id, "name": id, "address": fmt.Sprintf("127.0.0.%d", 11+i), "scope": scope}, nil); code != 200 {
			t.Fatalf("node %s: HTTP %d %v", id, code, err)
		}
	}
	checkMetricsRefusals(t, active)
	// A real monitor: the runner's connect times to a port this test
	// listens on, with thresholds the graph draws.
	ln, err := net.Listen("tcp", "127.0.0.11:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	putTCPMonitor(t, active, "tcp-web", "web-a", ln.Addr().(*net.TCPAddr).Port, "2s")
	now := time.Now().Truncate(time.Second)
	// An hour of response times at 30 s for two nodes: lines around 40
	// and 120 ms with a spike, and 100,000 points of one series over the
	// last day (0.85 s apart) for the drawing speed.
	var pts []map[string]any
	for i := range 120 {
		at := now.Add(-time.Duration(119-i) * 30 * time.Second)
		for j, n := range []string{"web-a", "web-b"} {
			v := 40 + float64(j)*80 + float64(i%7)*3
			if i == 80 && j == 0 {
				v = 480
			}
			pts = append(pts, map[string]any{"monitor": "web-check", "node": n, "item": "response_ms", "at": at.UTC().Format(time.RFC3339Nano), "value": v})
		}
	}
	pts = append(pts, map[string]any{"monitor": "web-check", "node": "sec-1", "item": "response_ms", "value": 1})
	postMetrics(t, active, pts)
	checkMetricsScopes(t, active)
	const bulk = 100_000
	first := now.Add(-time.Duration(bulk) * 850 * time.Millisecond)
	for off := 0; off < bulk; off += 10_000 {
		pts = pts[:0]
		for i := off; i < off+10_000; i++ {
			at := first.Add(time.Duration(i) * 850 * time.Millisecond)
			pts = append(pts, map[string]any{"monitor": "bulk-series", "node": "web-a", "at": at.UTC().Format(time.RFC3339Nano), "value": 50 + 30*float64(i%1000)/1000})
		}
		postMetrics(t, active, pts)
	}
	// Read back on the active at once (memory), timed.
	q := fmt.Sprintf("/api/v1/metrics?monitor=bulk-series&node=web-a&from=%d&to=%d&points=100000", first.Add(-time.Second).UnixMilli(), now.UnixMilli())
	start := time.Now()
	n := readPoints(t, active, q)
	t.Logf("BENCH graph_query_100k_points_ms %.1f ms (active, from memory)", float64(time.Since(start).Microseconds())/1000)
	if n != bulk {
		t.Fatalf("the active answers %d points of bulk-series, want %d", n, bulk)
	}
	waitRunnerSeries(t, active)
	env := map[string]string{
		"MAMORI_UI_URL":      "https://" + active.API,
		"MAMORI_UI_PEER_URL": "https://" + standby.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
	}
	runBrowserTests(t, node, uiDir, env, "tests/browser/graphs/")

	// After the active's flush (every 60 s) the standby has them too.
	deadline := time.Now().Add(90 * time.Second)
	for {
		start = time.Now()
		n = readPoints(t, standby, q)
		if n == bulk {
			fmt.Printf("BENCH graph_query_100k_points_ms %.1f ms\n", float64(time.Since(start).Microseconds())/1000)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby answers %d points of bulk-series 90 s after they were posted, want %d", n, bulk)
		}
		time.Sleep(2 * time.Second)
	}
}

// checkMetricsRefusals: bad points and queries are refused with the field
// named and what to send instead; nothing is stored from a refused post.
func checkMetricsRefusals(t *testing.T, n *cluster.Node) {
	t.Helper()
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{"points": []any{}}, "points: send 1 to 10000 points"},
		{map[string]any{"points": []map[string]any{{"node": "web-a", "value": 1}}}, "points[0].monitor"},
		{map[string]any{"points": []map[string]any{{"monitor": "m", "node": "web-a", "value": 1}, {"monitor": "m", "node": "nowhere", "value": 1}}}, "points[1].node"},
		{map[string]any{"points": []map[string]any{{"monitor": "m", "node": "web-a", "value": 1, "at": "yesterday"}}}, "points[0].at: give an RFC 3339 time"},
		{map[string]any{"points": []map[string]any{{"monitor": "m", "node": "web-a", "value": 1, "at": future}}}, "is in the future"},
		{map[string]any{"points": []map[string]any{{"monitor": "m", "node": "web-a", "value": "high"}}}, "bad request body"},
	} {
		var out struct{ Error string }
		if code, err := n.Do(http.MethodPost, "/api/v1/metrics", c.body, &out); code != http.StatusBadRequest || !strings.Contains(out.Error, c.want) {
			t.Errorf("post %v: HTTP %d %q %v, want 400 saying %q", c.body, code, out.Error, err, c.want)
		}
	}
	for q, want := range map[string]string{
		"/api/v1/metrics":                             "monitor: name the monitor",
		"/api/v1/metrics?monitor=m&from=soon":         "from: give an RFC 3339 time",
		"/api/v1/metrics?monitor=m&points=0":          "points: give a number from 1 to 200000",
		"/api/v1/metrics?monitor=m&from=2000&to=1000": "from must not be after to",
	} {
		var out struct{ Error string }
		if code, err := n.Do(http.MethodGet, q, nil, &out); code != http.StatusBadRequest || !strings.Contains(out.Error, want) {
			t.Errorf("GET %s: HTTP %d %q %v, want 400 saying %q", q, code, out.Error, err, want)
		}
	}
	var list struct{ Series []map[string]string }
	if code, _ := n.Do(http.MethodGet, "/api/v1/metrics/series?monitor=m", nil, &list); code != 200 || len(list.Series) != 0 {
		t.Errorf("a refused post stored series: HTTP %d %v", code, list.Series)
	}
}

// checkMetricsScopes: a user whose role sees scope "web" reads the
// series of web-a and web-b, never that of sec-1 (scope "secret"), and
// may not post for sec-1.
func checkMetricsScopes(t *testing.T, n *cluster.Node) {
	t.Helper()
	const pw = "graphs viewer password 1"
	if code, err := n.Do(http.MethodPost, "/api/v1/roles", auth.Role{Name: "graphs_web", Scopes: []string{"web"},
		Privileges: map[auth.Function][]auth.Action{auth.MonitorResult: {auth.Read, auth.Add}}}, nil); code/100 != 2 {
		t.Fatalf("role: HTTP %d %v", code, err)
	}
	if code, err := n.Do(http.MethodPost, "/api/v1/users", map[string]any{"user": "graphs-viewer", "password": pw, "roles": []string{"graphs_web"}}, nil); code/100 != 2 {
		t.Fatalf("user: HTTP %d %v", code, err)
	}
	tok := n.Login("graphs-viewer", pw)
	var list struct{ Series []struct{ Node string } }
	if code, err := n.DoAs(tok, http.MethodGet, "/api/v1/metrics/series?monitor=web-check", nil, &list); code != 200 || len(list.Series) != 2 {
		t.Fatalf("the web viewer's series of web-check: HTTP %d %v %v, want web-a and web-b", code, list.Series, err)
	}
	var all struct{ Series []struct{ Node string } }
	if code, _ := n.Do(http.MethodGet, "/api/v1/metrics?monitor=web-check", nil, &all); code != 200 || len(all.Series) != 3 {
		t.Fatalf("every scope: %d series of web-check, want 3", len(all.Series))
	}
	var mine struct{ Series []struct{ Node string } }
	if code, _ := n.DoAs(tok, http.MethodGet, "/api/v1/metrics?monitor=web-check&node=sec-1,web-a", nil, &mine); code != 200 || len(mine.Series) != 1 || mine.Series[0].Node != "web-a" {
		t.Fatalf("the web viewer asking for sec-1 and web-a gets %v, want web-a only", mine.Series)
	}
	var out struct{ Error string }
	if code, _ := n.DoAs(tok, http.MethodPost, "/api/v1/metrics", map[string]any{"points": []map[string]any{{"monitor": "web-check", "node": "sec-1", "value": 5}}}, &out); code/100 == 2 {
		t.Fatalf("the web viewer posted a value for sec-1 (scope secret): HTTP %d", code)
	}
}

// waitRunnerSeries waits until the runner's values of tcp-web are
// readable, with the monitor's thresholds in the answer.
func waitRunnerSeries(t *testing.T, n *cluster.Node) {
	t.Helper()
	var out struct {
		Series []struct {
			Item   string
			Points [][]float64
		}
		Thresholds struct {
			Numeric struct{ Info, Warning struct{ Max float64 } }
		}
	}
	ok := cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		code, _ := n.Do(http.MethodGet, "/api/v1/metrics?monitor=tcp-web&node=web-a", nil, &out)
		return code == 200 && len(out.Series) > 0 && len(out.Series[0].Points) >= 3
	})
	if !ok {
		t.Fatalf("the runner's values of tcp-web are not readable after 30 s: %+v", out)
	}
	if out.Thresholds.Numeric.Info.Max != 1000 || out.Thresholds.Numeric.Warning.Max != 2000 {
		t.Fatalf("thresholds of tcp-web in the answer: %+v", out.Thresholds)
	}
	t.Logf("tcp-web: %d series, items %v", len(out.Series), out.Series[0].Item)
}

func postMetrics(t *testing.T, n *cluster.Node, pts []map[string]any) {
	t.Helper()
	var out struct {
		Accepted int
		Error    string
	}
	if code, err := n.Do(http.MethodPost, "/api/v1/metrics", map[string]any{"points": pts}, &out); code != http.StatusAccepted || out.Accepted != len(pts) {
		t.Fatalf("post %d metric points: HTTP %d %s %v", len(pts), code, out.Error, err)
	}
}

func readPoints(t *testing.T, n *cluster.Node, q string) int {
	t.Helper()
	var out struct {
		Series []struct {
			Resolution string
			Points     [][2]float64
		}
	}
	if code, err := n.Do(http.MethodGet, q, nil, &out); code != 200 || err != nil {
		t.Fatalf("GET %s: HTTP %d %v", q, code, err)
	}
	if len(out.Series) != 1 {
		return 0
	}
	return len(out.Series[0].Points)
}
