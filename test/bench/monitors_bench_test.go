package bench

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// BenchmarkPollDrift: one appliance runs MAMORI_BENCH_MONITORS (default
// 10,000) tcp monitors (pollers/tcp) every 10 s against listeners on 100
// loopback addresses; after two intervals of running, the 99th percentile
// of how late checks started (the runner's own measure, over the last
// 10,000 checks) is the drift figure (target ≤ 1,000 ms).
func BenchmarkPollDrift(b *testing.B) {
	const interval = 10 * time.Second
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("MAMORI_BENCH_MONITORS")); err == nil && v > 0 {
		n = v
	}
	a := cluster.NewNode(b, "a", cluster.Subnet()+".1", cluster.Options{})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	tsub := cluster.Subnet()
	const nodes = 100
	ports := make([]int, nodes)
	for i := range nodes {
		ln, err := net.Listen("tcp", fmt.Sprintf("%s.%d:0", tsub, i+1))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("t%03d", i), "address": fmt.Sprintf("%s.%d", tsub, i+1), "scope": "bench"}, nil); code != 200 {
			b.Fatalf("node: HTTP %d %v", code, err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				m := map[string]any{"id": fmt.Sprintf("m%05d", i), "kind": "tcp", "node": fmt.Sprintf("t%03d", i%nodes), "interval": interval.String(),
					"timeout": "2s", "params": map[string]any{"port": ports[i%nodes], "timeout": "2s"}}
				if code, err := a.Do(http.MethodPost, "/api/v1/monitors", m, nil); code != 200 {
					b.Errorf("monitor %d: HTTP %d %v (is pollers/tcp in pollers/kinds?)", i, code, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	if !cluster.WaitFor(b.Context(), time.Minute, func() bool { return promSample(a.Metrics(), "mamori_monitor_targets") == float64(n) }) {
		b.Fatalf("the runner runs %g targets, want %d", promSample(a.Metrics(), "mamori_monitor_targets"), n)
	}
	checks0, t0 := promSample(a.Metrics(), `mamori_monitor_checks_total{kind="tcp"}`), time.Now()
	time.Sleep(2 * interval)
	text := a.Metrics()
	checks := promSample(text, `mamori_monitor_checks_total{kind="tcp"}`) - checks0
	if want := float64(n) * 2 * 0.9; checks < want {
		b.Fatalf("%g checks in two intervals of %d monitors, want about %d", checks, n, 2*n)
	}
	report("poll_drift_p99_ms", promSample(text, "mamori_monitor_check_lateness_p99_seconds")*1000, "ms")
	report("poll_checks_per_s", checks/time.Since(t0).Seconds(), "checks/s")
}

// promSample reads one sample of a Prometheus text exposition (NaN-free: 0 if absent).
func promSample(text, name string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}
