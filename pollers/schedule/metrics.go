package schedule

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type runnerMetrics struct {
	checks      *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	lateness    prometheus.Histogram
	targets     prometheus.Gauge
	changes     prometheus.Counter
	writeErrors prometheus.Counter
}

func newRunnerMetrics(reg prometheus.Registerer, late *lateness) runnerMetrics {
	m := runnerMetrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mamori_monitor_checks_total", Help: "Checks run, by kind."}, []string{"kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mamori_monitor_checks_skipped_total",
			Help: "Checks not run: calendar (outside business time), overrun (the previous one still ran), behind (the runner fell a whole interval behind)."}, []string{"reason"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mamori_monitor_check_lateness_seconds",
			Help: "How long after its due time a check started.", Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10}}),
		targets:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "mamori_monitor_targets", Help: "Monitor × node pairs the runner runs."}),
		changes:     prometheus.NewCounter(prometheus.CounterOpts{Name: "mamori_monitor_priority_changes_total", Help: "Changes of priority stored with their event."}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "mamori_monitor_write_errors_total", Help: "Changes of priority the store refused (tried again at the next check)."}),
	}
	if reg != nil {
		p99 := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mamori_monitor_check_lateness_p99_seconds",
			Help: "The 99th percentile of the lateness of the last 10,000 checks (the drift figure of make bench)."},
			func() float64 { return late.quantile(0.99).Seconds() })
		reg.MustRegister(m.checks, m.skipped, m.lateness, m.targets, m.changes, m.writeErrors, p99)
	}
	return m
}

// lateness keeps the last n lateness samples for quantiles.
type lateness struct {
	mu   sync.Mutex
	buf  []time.Duration
	next int
	full bool
}

func newLateness(n int) *lateness { return &lateness{buf: make([]time.Duration, n)} }

func (l *lateness) add(d time.Duration) {
	l.mu.Lock()
	l.buf[l.next] = d
	l.next = (l.next + 1) % len(l.buf)
	l.full = l.full || l.next == 0
	l.mu.Unlock()
}

func (l *lateness) quantile(q float64) time.Duration {
	l.mu.Lock()
	n := l.next
	if l.full {
		n = len(l.buf)
	}
	s := slices.Clone(l.buf[:n])
	l.mu.Unlock()
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// hash is a running fingerprint.
type hash struct{ h uint64 }

func newHash() *hash { return &hash{h: 14695981039346656037} }

func (h *hash) add(parts ...string) {
	f := fnv.New64a()
	for _, p := range parts {
		_, _ = f.Write([]byte(p))
		_, _ = f.Write([]byte{0})
	}
	h.h = h.h*1099511628211 ^ f.Sum64()
}

func (h *hash) String() string { return fmt.Sprintf("/%x", h.h) }
