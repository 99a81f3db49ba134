package metrics

import "github.com/prometheus/client_golang/prometheus"

// Collectors are the writer's figures for /metrics: what an operator
// watches to see the series store keep up (drops) and what it costs the
// replicated store (rows, bytes).
func (w *Writer) Collectors() []prometheus.Collector {
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	return []prometheus.Collector{
		counter("mamori_metrics_points_dropped_total", "Monitor values not stored because the series writer's memory was full.", w.dropped.Load),
		counter("mamori_metrics_points_non_finite_total", "NaN or infinite monitor values not stored.", w.nonFinite.Load),
		counter("mamori_metrics_rows_written_total", "Replicated rows the series writer wrote (block upserts, catalogue rows, retention deletes).", w.rows.Load),
		counter("mamori_metrics_block_bytes_written_total", "Bytes of series blocks the series writer wrote.", w.bytes.Load),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mamori_metrics_points_in_memory",
			Help: "Points the series writer holds in memory (open windows; written every metrics.flush)."}, func() float64 { return float64(w.inMemory.Load()) }),
	}
}
