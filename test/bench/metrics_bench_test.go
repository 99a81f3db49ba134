package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/pollers/metrics"
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
	report("metrics_add_ns_per_point", float64(addWall.Nanoseconds())/float64(minutes*60*series/interval), "ns")
	report("metrics_flush_wall_max_s", maxOf(flushWall), "s")
	report("metrics_flush_wall_median_s", median(flushWall), "s")
}
