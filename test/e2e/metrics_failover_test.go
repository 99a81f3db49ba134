package e2e

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestMetricsFailover: kill -9 of the active. What its series writer had
// flushed is on the new active, which goes on adding to the same blocks
// (merging, never overwriting them) and answers the 5-minute averages of
// windows across the kill.
func TestMetricsFailover(t *testing.T) {
	skipShort(t)
	o := cluster.Options{Detection: 3 * time.Second, ExtraYAML: "metrics:\n  flush: 2s\n"}
	net := cluster.Subnet()
	a := cluster.NewNode(t, "a", net+".1", o)
	b := cluster.NewNode(t, "b", net+".2", o)
	cluster.Pair(t, a, b)
	if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": "fo-1", "name": "fo-1", "address": "127.0.0.21"}, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}
	// 40 minutes of points a second apart (value: its index), the first 27
	// on the old active, the rest on the new one: a raw window and a
	// 5-minute bucket hold points of both.
	start := time.Now().Add(-50 * time.Minute).Truncate(time.Hour / 12) // on a 5-minute boundary
	at := func(i int) string { return start.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339Nano) }
	post := func(n *cluster.Node, from, to int) {
		t.Helper()
		for off := from; off < to; off += 600 {
			var pts []map[string]any
			for i := off; i < min(off+600, to); i++ {
				pts = append(pts, map[string]any{"monitor": "fo-check", "node": "fo-1", "at": at(i), "value": float64(i)})
			}
			postMetrics(t, n, pts)
		}
	}
	post(a, 0, 1620)
	q := fmt.Sprintf("/api/v1/metrics?monitor=fo-check&from=%d&to=%d&points=100000", start.UnixMilli(), start.Add(40*time.Minute).UnixMilli())
	// Flushed (every 2 s) and replicated: the standby has them all.
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return readPoints(t, b, q) == 1620 }) {
		t.Fatalf("the standby holds %d of 1620 points", readPoints(t, b, q))
	}
	a.Kill()
	b.WaitRole(ha.Active, 30*time.Second)
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		var out struct{ Error string }
		code, _ := b.Do(http.MethodPost, "/api/v1/metrics", map[string]any{"points": []map[string]any{{"monitor": "fo-check", "node": "fo-1", "at": at(1620), "value": 1620.0}}}, &out)
		return code == http.StatusAccepted
	}) {
		t.Fatal("the new active takes no points 20 s after the kill")
	}
	post(b, 1621, 2400)
	if n := readPoints(t, b, q); n != 2400 {
		t.Fatalf("the new active answers %d points, want 2400 (1620 from the old active, 780 of its own)", n)
	}
	// The old active comes back as standby (mamori recover): from the
	// replicated blocks alone it reads both parts, so the new active
	// merged the blocks it found instead of replacing them.
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	if out, err := a.CLI("recover"); err != nil {
		t.Fatalf("mamori recover: %v\n%s", err, out)
	}
	a.WaitRole(ha.Standby, 30*time.Second)
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return readPoints(t, a, q) == 2400 }) {
		t.Fatalf("the recovered standby reads %d points, want 2400", readPoints(t, a, q))
	}
	// 5-minute buckets over the 40 minutes: bucket k holds 300k..300k+299.
	var out struct {
		Series []struct {
			Resolution string
			Points     [][]float64
		}
	}
	q5 := fmt.Sprintf("/api/v1/metrics?monitor=fo-check&from=%d&to=%d&points=8", start.UnixMilli(), start.Add(40*time.Minute).UnixMilli())
	if code, err := b.Do(http.MethodGet, q5, nil, &out); code != 200 || len(out.Series) != 1 {
		t.Fatalf("GET %s: HTTP %d %v", q5, code, err)
	}
	s := out.Series[0]
	if s.Resolution != "5m" || len(s.Points) != 8 {
		t.Fatalf("5-minute answer: %s with %d buckets, want 5m with 8", s.Resolution, len(s.Points))
	}
	for k, p := range s.Points {
		at := start.Add(time.Duration(k) * 5 * time.Minute).UnixMilli()
		want := []float64{float64(at), float64(300*k) + 149.5, float64(300 * k), float64(300*k + 299)}
		if len(p) != 4 || math.Abs(p[1]-want[1]) > 1e-9 || p[0] != want[0] || p[2] != want[2] || p[3] != want[3] {
			t.Errorf("bucket %d: %v, want %v (time, average, min, max)", k, p, want)
		}
	}
}
