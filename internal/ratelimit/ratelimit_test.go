package ratelimit

import (
	"net/netip"
	"testing"
	"time"
)

func TestPerSource(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name        string
		rate        float64
		burst       int
		sends       int
		want        int // allowed for a
		wantOtherOK bool
	}{
		{"off", 0, 0, 1000, 1000, true},
		{"burst then refused", 10, 20, 100, 20, true},
		{"burst defaults to a second", 50, 0, 100, 50, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.rate, tc.burst)
			got := 0
			for range tc.sends {
				if p.Allow(a, now) {
					got++
				}
			}
			if got != tc.want {
				t.Fatalf("allowed %d of %d, want %d", got, tc.sends, tc.want)
			}
			if p.Allow(b, now) != tc.wantOtherOK {
				t.Fatal("another sender was refused because of the first one")
			}
		})
	}
}

func TestRefillAndBoundedTable(t *testing.T) {
	p := New(10, 10)
	p.max = 4
	now := time.Unix(1700000000, 0)
	a := netip.MustParseAddr("10.0.0.1")
	for range 10 {
		p.Allow(a, now)
	}
	if p.Allow(a, now) {
		t.Fatal("an empty bucket allowed")
	}
	if !p.Allow(a, now.Add(150*time.Millisecond)) {
		t.Fatal("the bucket did not refill")
	}
	for i := range 100 { // many senders: the table stays bounded
		p.Allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), now)
	}
	if len(p.buckets) > 4 {
		t.Fatalf("%d senders tracked, want at most 4", len(p.buckets))
	}
	later := now.Add(5 * time.Second) // all refilled: forgotten, room again
	if !p.Allow(netip.MustParseAddr("10.9.9.9"), later) || len(p.buckets) > 4 {
		t.Fatalf("after a sweep: %d tracked", len(p.buckets))
	}
}

func TestBytesAndWait(t *testing.T) {
	p := New(1000, 2000) // bytes per second
	a := netip.MustParseAddr("10.0.0.1")
	now := time.Unix(1700000000, 0)
	if !p.AllowN(a, now, 1500) || p.AllowN(a, now, 1000) || !p.AllowN(a, now, 500) {
		t.Fatal("AllowN did not spend the burst exactly")
	}
	if d := p.Wait(a, now, 500); d != 500*time.Millisecond {
		t.Fatalf("wait %v, want 500ms for 500 bytes of debt at 1000/s", d)
	}
	if d := p.Wait(a, now.Add(time.Second), 100); d != 0 {
		t.Fatalf("wait %v after the debt was paid", d)
	}
	var none *PerSource
	if !none.AllowN(a, now, 1e9) || none.Wait(a, now, 1e9) != 0 {
		t.Fatal("no limiter limited")
	}
}
