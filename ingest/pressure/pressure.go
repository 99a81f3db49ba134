// Package pressure says when the receive path is under pressure: the
// spool's backlog (records the active has not stored yet), the Go
// runtime's memory or the trap decoders' queue past a high-water mark. Under pressure the receivers
// hold every sender address to a fair share, in bytes per second: UDP
// datagrams and traps beyond it are refused at once, before any decoding
// (counted), and TCP/TLS connections are read no faster (the sender's
// TCP waits). Before, a flood from a few addresses filled the spool and
// the memory, and good senders' messages were lost with the flood.
// Pressure ends once all are back under half their mark.
package pressure

import (
	"context"
	"sync/atomic"
	"time"
)

// Gauge watches the backlog, the memory and the decoders' queue.
type Gauge struct {
	Backlog     func() int64 // bytes waiting in the spool
	BacklogHigh int64
	Memory      func() uint64 // bytes the Go runtime holds
	MemoryHigh  uint64
	// Queue (nil: not watched) is the bytes waiting for a trap decoder:
	// past QueueHigh the decoders do not keep up, and the read loop is
	// left no CPU to drain the socket (the kernel then drops datagrams,
	// good ones with the flood).
	Queue     func() int64
	QueueHigh int64

	on      atomic.Bool
	engaged atomic.Uint64
}

// On says whether the receive path is under pressure now.
func (g *Gauge) On() bool { return g != nil && g.on.Load() }

// Engaged counts the times pressure began.
func (g *Gauge) Engaged() uint64 { return g.engaged.Load() }

// Check updates the state from the current backlog, memory and queue.
func (g *Gauge) Check() bool {
	b, m, q := g.Backlog(), g.Memory(), int64(0)
	if g.Queue != nil {
		q = g.Queue()
	}
	switch on := g.on.Load(); {
	case !on && (b > g.BacklogHigh || m > g.MemoryHigh || g.Queue != nil && q > g.QueueHigh):
		g.on.Store(true)
		g.engaged.Add(1)
	case on && b < g.BacklogHigh/2 && m < g.MemoryHigh/2 && q <= g.QueueHigh/2:
		g.on.Store(false)
	}
	return g.on.Load()
}

// Run checks every 100 ms until ctx ends.
func (g *Gauge) Run(ctx context.Context) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			g.Check()
		}
	}
}
