package trap

import (
	"net/netip"
	"sync"
)

// packetOverhead is what a queued packet costs besides its bytes.
const packetOverhead = 96

// queue carries packets from the read loop to the decoders, bounded in
// bytes: it was 8,192 packets, up to 512 MiB of 64 KiB traps. A sender
// may hold at most a fair share, max/(senders queued + 2): a flood from
// one address, or from a few, always leaves room for the others. What
// does not fit is refused at once (and counted), before any decoding.
type queue struct {
	mu       sync.Mutex
	ready    *sync.Cond
	items    []packet
	head     int
	bytes    int
	max      int
	bySource map[netip.Addr]int
	closed   bool
}

func newQueue(maxBytes int) *queue {
	q := &queue{max: maxBytes, bySource: map[netip.Addr]int{}}
	q.ready = sync.NewCond(&q.mu)
	return q
}

// push queues p, or says it does not fit.
func (q *queue) push(p packet) bool {
	size := len(p.b) + packetOverhead
	q.mu.Lock()
	defer q.mu.Unlock()
	held, ok := q.bySource[p.src]
	senders := len(q.bySource)
	if !ok {
		senders++
	}
	if q.closed || q.bytes+size > q.max || held+size > q.max/(senders+1) {
		return false
	}
	q.items = append(q.items, p)
	q.bytes += size
	q.bySource[p.src] = held + size
	q.ready.Signal()
	return true
}

// pop waits for a packet; ok is false once the queue is closed and empty.
func (q *queue) pop() (p packet, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) {
		if q.closed {
			return packet{}, false
		}
		q.ready.Wait()
	}
	p = q.items[q.head]
	q.items[q.head] = packet{}
	q.head++
	if q.head == len(q.items) || q.head > 1024 && q.head > len(q.items)/2 {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	size := len(p.b) + packetOverhead
	q.bytes -= size
	if q.bySource[p.src] -= size; q.bySource[p.src] <= 0 {
		delete(q.bySource, p.src)
	}
	return p, true
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.ready.Broadcast()
	q.mu.Unlock()
}
