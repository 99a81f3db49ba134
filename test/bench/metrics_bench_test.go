package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/pollers/metrics"
	"github.com/mamori-ops/mamori/test/cluster"
)

// BenchmarkMetricsRows: the replicated rows (and bytes) the series store
// costs at 10,000 checks/s: 300,000 series checked every 30 s, simulated
// for 25 minutes on a simulated clock (so the rollups of finished windows
// are included) against a real store. The figure counted is rows written
// after the first two minutes (the first flush also catalogues every new
// series, once). Each flush's wall time is reported too: it must stay well
// under the 60 s flush period for the writer to keep up.
func BenchmarkMetricsRows(b *testing.B) {
	const (
		series   = 300_000
		interval = 30 // s
		minutes  = 25
	)
	st := storetest.New(b, metrics.Migrations())
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := metrics.NewWriter(st, metrics.Config{Now: func() time.Time { return now }}, nil)
	keys := make([]metrics.Key, series)
	vals := make([]float64, series)
	for i := range keys {
		keys[i] = metrics.Key{Monitor: fmt.Sprintf("mon-%04d", i/100), Node: fmt.Sprintf("node-%05d", i%10_000), Item: "rtt_ms"}
		vals[i] = 20
	}
	r := rand.New(rand.NewPCG(1, 1))
	var rows0, bytes0 uint64
	var flushWall []float64
	addStart := time.Now()
	var addWall time.Duration
	for sec := range minutes * 60 {
		t0 := time.Now()
		for i := sec % interval; i < series; i += interval {
			vals[i] = max(0.1, vals[i]+r.NormFloat64()*0.5)
			w.Add(keys[i], now.Add(time.Duration(r.IntN(200))*time.Millisecond), float64(int(vals[i]*100))/100)
		}
		addWall += time.Since(t0)
		now = now.Add(time.Second)
		if now.Second() != 0 {
			continue
		}
		t1 := time.Now()
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		flushWall = append(flushWall, time.Since(t1).Seconds())
		if sec+1 == 120 {
			rows0, bytes0 = w.RowsWritten(), w.BytesWritten()
		}
	}
	_ = addStart
	simulated := float64((minutes - 2) * 60)
	rowsPerS := float64(w.RowsWritten()-rows0) / simulated
	bytesPerS := float64(w.BytesWritten()-bytes0) / simulated
	if w.Dropped() != 0 {
		b.Fatalf("%d points dropped", w.Dropped())
	}
	rows, err := st.Query(ctx, 0, `SELECT SUM(length(data)), SUM(points) FROM metric_blocks WHERE res = 0 AND start < ?`, now.Add(-15*time.Minute).UnixMilli())
	if err != nil {
		b.Fatal(err)
	}
	size, _ := rows.Values[0][0].(int64)
	pts, _ := rows.Values[0][1].(int64)
	report("metrics_rows_per_s_at_10k_checks", rowsPerS, "rows/s")
	report("metrics_replicated_bytes_per_s_at_10k_checks", bytesPerS, "B/s")
	report("metrics_bytes_per_point", float64(size)/float64(max(pts, 1)), "B")
	report("metrics_add_ns_per_point_300k_series", float64(addWall.Nanoseconds())/float64(minutes*60*series/interval), "ns")
	report("metrics_flush_wall_max_s", maxOf(flushWall), "s")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	report("metrics_writer_heap_mib_300k_series", float64(ms.HeapAlloc)/(1<<20), "MiB") // the store's share included (one process)
	runtime.KeepAlive(w)
	report("metrics_flush_wall_median_s", median(flushWall), "s")
}

// BenchmarkMetricPoints: points posted to the active of a real pair
// (POST /api/v1/metrics, 10,000 a request from 4 writers, 1,000 series)
// for 10 s, timed until the standby answers every one of them from the
// replicated blocks. The writer flushes every 2 s here (metrics.flush), so
// the wait for the last flush is small beside the run.
func BenchmarkMetricPoints(b *testing.B) {
	const (
		writers  = 4
		perReq   = 10_000
		monitors = 50
		nodes    = 20
		run      = 10 * time.Second
	)
	net := cluster.Subnet()
	o := cluster.Options{ExtraYAML: "metrics:\n  flush: 2s\n"}
	a := cluster.NewNode(b, "a", net+".1", o)
	s := cluster.NewNode(b, "b", net+".2", o)
	cluster.Pair(b, a, s)
	for i := range nodes {
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("mp-%02d", i), "name": "bench", "address": fmt.Sprintf("127.0.9.%d", i+1)}, nil); code != 200 {
			b.Fatalf("node: HTTP %d %v", code, err)
		}
	}
	base := time.Now().Add(-time.Minute)
	var next [monitors * nodes]atomic.Int64 // per series: the next point's offset in ms
	var posted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for r := 0; time.Since(start) < run; r++ {
				pts := make([]map[string]any, 0, perReq)
				for i := range perReq {
					series := (w*7919 + r*131 + i) % (monitors * nodes)
					off := next[series].Add(10) // 10 ms apart: the times stay near now
					pts = append(pts, map[string]any{"monitor": fmt.Sprintf("mp-mon-%02d", series/nodes), "node": fmt.Sprintf("mp-%02d", series%nodes),
						"at": base.Add(time.Duration(off) * time.Millisecond).UTC().Format(time.RFC3339Nano), "value": float64(off%10000) / 100})
				}
				var out struct{ Accepted int64 }
				if code, err := a.Do(http.MethodPost, "/api/v1/metrics", map[string]any{"points": pts}, &out); code != http.StatusAccepted {
					b.Errorf("post: HTTP %d %v", code, err)
					return
				}
				posted.Add(out.Accepted)
			}
		})
	}
	wg.Wait()
	postedIn := time.Since(start)
	want := posted.Load()
	var got int64
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		got = 0
		for m := range monitors {
			got += countPoints(b, s, fmt.Sprintf("/api/v1/metrics?monitor=mp-mon-%02d&from=%d&to=%d&points=200000", m, base.UnixMilli(), time.Now().Add(10*time.Minute).UnixMilli()))
		}
		if got == want || time.Now().After(deadline) {
			break
		}
	}
	elapsed := time.Since(start)
	if got != want {
		b.Fatalf("the standby answers %d of %d points", got, want)
	}
	report("metric_points_per_s", float64(want)/elapsed.Seconds(), "points/s")
	report("metric_points_posted_per_s", float64(want)/postedIn.Seconds(), "points/s")
}

func countPoints(b *testing.B, n *cluster.Node, q string) int64 {
	var out struct {
		Series []struct{ Points [][2]float64 }
	}
	if code, err := n.Do(http.MethodGet, q, nil, &out); code != http.StatusOK {
		b.Fatalf("GET %s: HTTP %d %v", q, code, err)
	}
	var c int64
	for _, s := range out.Series {
		c += int64(len(s.Points))
	}
	return c
}
