package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

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
	for _, id := range []string{"web-a", "web-b"} {
		if code, err := active.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": id, "name": id, "address": "127.0.0." + map[string]string{"web-a": "11", "web-b": "12"}[id]}, nil); code != 200 {
			t.Fatalf("node %s: HTTP %d %v", id, code, err)
		}
	}
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
	postMetrics(t, active, pts)
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
