package schedule

import (
	"container/heap"
	"hash/fnv"
	"time"
)

// offset is a target's place in its interval: a stable hash of the
// monitor and node, so checks spread evenly across the interval, keep
// their place across reloads and failovers, and a new active runs each
// at the same phase as the old one did.
func offset(key string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot is the first slot of (interval, off) strictly after t.
// Slots are k·interval + off since the Unix epoch.
func nextSlot(t time.Time, interval, off time.Duration) time.Time {
	ns := t.UnixNano() - int64(off)
	k := ns / int64(interval)
	if ns < 0 && ns%int64(interval) != 0 {
		k--
	}
	return time.Unix(0, (k+1)*int64(interval)+int64(off))
}

// due is one scheduled check.
type due struct {
	at  time.Time
	key string
	gen uint64 // the target's generation: a stale entry (reloaded target) is dropped
}

// queue is a min-heap of due checks.
type queue []due

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(due)) }
func (q *queue) Pop() any          { old := *q; x := old[len(old)-1]; *q = old[:len(old)-1]; return x }
func (q *queue) push(d due)        { heap.Push(q, d) }
func (q *queue) pop() due          { return heap.Pop(q).(due) }
func (q queue) peek() (due, bool)  { return firstOf(q) }
func firstOf(q queue) (due, bool) {
	if len(q) == 0 {
		return due{}, false
	}
	return q[0], true
}
