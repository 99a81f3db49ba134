package gcpace

import "testing"

func TestPercent(t *testing.T) {
	p := Pacer{Relaxed: 300, Tight: 100, Threshold: 1000}
	for _, tc := range []struct {
		held      uint64
		cur, want int
	}{
		{100, 300, 300}, {1001, 300, 100}, {900, 100, 100}, {600, 100, 100}, {499, 100, 300}, {700, 300, 300},
	} {
		if got := p.Percent(tc.held, tc.cur); got != tc.want {
			t.Errorf("held %d at %d: %d, want %d", tc.held, tc.cur, got, tc.want)
		}
	}
}

func TestHeldReadsTheRuntime(t *testing.T) {
	if h := Held(); h < 1<<20 {
		t.Fatalf("the runtime holds %d bytes?", h)
	}
}
