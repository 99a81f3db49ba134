package metrics

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// monitorValues are 1,000 points of a plausible response time series:
// a slow random walk with two decimals, checked every 30 s with jitter.
func monitorValues() []pt {
	r := rand.New(rand.NewPCG(7, 7))
	v := 20.0
	out := make([]pt, 1000)
	t := int64(1_790_000_000_000)
	for i := range out {
		v = max(0.1, v+r.NormFloat64())
		t += 30_000 + r.Int64N(200) - 100
		out[i] = pt{t, []float64{float64(int(v*100)) / 100}}
	}
	return out
}

// BenchmarkCodec prints the encode and decode cost and the size of a
// point (`make bench` keeps the BENCH lines).
func BenchmarkCodec(b *testing.B) {
	pts := monitorValues()
	var size int
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			e := newEncoder(1, pts[0].t)
			for _, p := range pts {
				e.add(p.t, p.vs)
			}
			size = len(e.bytes())
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(pts))
		b.ReportMetric(ns, "ns/point")
		fmt.Printf("BENCH metrics_encode_ns_per_point %.1f ns\n", ns)
	})
	e := newEncoder(1, pts[0].t)
	for _, p := range pts {
		e.add(p.t, p.vs)
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			_ = decode(e.bytes(), e.n, 1, pts[0].t, func(int64, []float64) {})
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(pts))
		b.ReportMetric(ns, "ns/point")
		fmt.Printf("BENCH metrics_decode_ns_per_point %.1f ns\n", ns)
	})
	fmt.Printf("BENCH metrics_stream_bytes_per_point %.2f B\n", float64(size)/float64(len(pts)))
}

// BenchmarkAdd is what the runner pays per result: Add into memory.
func BenchmarkAdd(b *testing.B) {
	w := NewWriter(nil, Config{MaxPoints: 1 << 40}, nil)
	keys := make([]Key, 10_000)
	for i := range keys {
		keys[i] = Key{Monitor: fmt.Sprintf("mon-%03d", i/100), Node: fmt.Sprintf("node-%05d", i), Item: "rtt_ms"}
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		w.Add(keys[i%len(keys)], at.Add(time.Duration(i/len(keys))*30*time.Second), float64(i%997)/100)
		i++
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	fmt.Printf("BENCH metrics_add_ns_per_point %.1f ns\n", ns)
}
