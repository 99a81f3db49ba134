package pressure

import "testing"

func TestGaugeHysteresis(t *testing.T) {
	var backlog int64
	var mem uint64
	g := &Gauge{Backlog: func() int64 { return backlog }, BacklogHigh: 100, Memory: func() uint64 { return mem }, MemoryHigh: 1000}
	for i, step := range []struct {
		backlog int64
		mem     uint64
		want    bool
	}{
		{10, 10, false}, {101, 10, true}, {60, 10, true}, {40, 10, false},
		{10, 1001, true}, {10, 600, true}, {10, 400, false}, {200, 2000, true},
	} {
		backlog, mem = step.backlog, step.mem
		if got := g.Check(); got != step.want || g.On() != step.want {
			t.Fatalf("step %d (backlog %d, memory %d): on=%v, want %v", i, step.backlog, step.mem, got, step.want)
		}
	}
	if g.Engaged() != 3 {
		t.Fatalf("engaged %d times, want 3", g.Engaged())
	}
	var queue int64
	backlog, mem = 0, 0
	g.Queue, g.QueueHigh = func() int64 { return queue }, 50
	for i, step := range []struct {
		queue int64
		want  bool
	}{{10, false}, {51, true}, {30, true}, {25, false}} {
		queue = step.queue
		if got := g.Check(); got != step.want {
			t.Fatalf("queue step %d (%d bytes): on=%v, want %v", i, step.queue, got, step.want)
		}
	}
	var none *Gauge
	if none.On() {
		t.Fatal("no gauge under pressure")
	}
}
