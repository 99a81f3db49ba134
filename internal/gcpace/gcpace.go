// Package gcpace trades memory for CPU only while memory is to spare:
// the garbage collector runs at a relaxed percent (fewer collections,
// more garbage held) while the Go runtime holds less than a threshold,
// and at a tight percent above it. A flood allocates fast (decoding a
// 60 KB trap of 4,400 varbinds allocates 1.9 MB); at GC percent 300 the
// heap ran into the memory limit, where the collector is held to half
// the CPU and the heap overshot the limit by half again. At 100 the
// collector starts early and slows the allocating goroutines down.
package gcpace

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Pacer switches the GC percent by the Go runtime's memory.
type Pacer struct {
	Relaxed, Tight int    // GC percents below and above the threshold
	Threshold      uint64 // bytes of memory the runtime holds (not released)
	Every          time.Duration
}

var samples = []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}

// Held is what the Go runtime holds from the OS (what its memory limit
// counts).
func Held() uint64 {
	metrics.Read(samples)
	return samples[0].Value.Uint64() - samples[1].Value.Uint64()
}

// Percent is the GC percent for memory held, given the current one:
// tight above the threshold, relaxed again only below half of it (so it
// does not flap around the threshold).
func (p Pacer) Percent(held uint64, current int) int {
	switch {
	case held > p.Threshold:
		return p.Tight
	case held < p.Threshold/2:
		return p.Relaxed
	}
	return current
}

// Run sets the relaxed percent and then adjusts it every Every until ctx
// ends.
func (p Pacer) Run(ctx context.Context) error {
	cur := p.Relaxed
	debug.SetGCPercent(cur)
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if next := p.Percent(Held(), cur); next != cur {
				debug.SetGCPercent(next)
				cur = next
			}
		}
	}
}
