// Package ratelimit holds token buckets per sender address, for
// receivers that cannot push back on a sender (UDP): what exceeds a
// sender's rate is refused at once, before it costs anything further.
// The table of senders is bounded: beyond MaxSources addresses, senders
// not seen recently are forgotten (a full bucket is as good as none) and,
// while every tracked sender is busy, new ones share one bucket.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// MaxSources bounds the senders tracked at once (about 64 bytes each).
const MaxSources = 65536

// PerSource limits each sender address to Rate events per second with
// bursts of Burst. A nil *PerSource allows everything.
type PerSource struct {
	rate, burst float64
	max         int

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
	shared  bucket // for new senders while the table is full of busy ones
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter of rate per second and burst per sender; rate 0
// means no limit (nil). burst 0 means one second's worth.
func New(rate float64, burst int) *PerSource {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if b <= 0 {
		b = max(rate, 1)
	}
	return &PerSource{rate: rate, burst: b, max: MaxSources, buckets: map[netip.Addr]*bucket{}}
}

// Allow takes one token for src at now and says whether there was one.
func (p *PerSource) Allow(src netip.Addr, now time.Time) bool { return p.AllowN(src, now, 1) }

// AllowN takes n tokens (bytes, say) for src if it has them.
func (p *PerSource) AllowN(src netip.Addr, now time.Time, n float64) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.refill(src, now)
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// Wait takes n tokens for src, going into debt, and returns how long
// the caller should wait until they would have been there: a reader
// that waits that long keeps to the rate (TCP pushes back on the sender).
func (p *PerSource) Wait(src netip.Addr, now time.Time, n float64) time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.refill(src, now)
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / p.rate * float64(time.Second))
}

func (p *PerSource) refill(src netip.Addr, now time.Time) *bucket {
	b, ok := p.buckets[src]
	if !ok {
		b = p.newBucket(src, now)
	}
	if now.After(b.at) {
		b.tokens = min(p.burst, b.tokens+now.Sub(b.at).Seconds()*p.rate)
		b.at = now
	}
	return b
}

func (p *PerSource) newBucket(src netip.Addr, now time.Time) *bucket {
	if len(p.buckets) >= p.max && now.Sub(p.swept) >= time.Second {
		p.sweep(now)
	}
	if len(p.buckets) >= p.max {
		return &p.shared
	}
	b := &bucket{tokens: p.burst, at: now}
	p.buckets[src] = b
	return b
}

// sweep forgets senders whose bucket has refilled: they are as new.
func (p *PerSource) sweep(now time.Time) {
	p.swept = now
	for a, b := range p.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*p.rate >= p.burst {
			delete(p.buckets, a)
		}
	}
}

// Addr converts a sender's IP as the net package returns it.
func Addr(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
