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

// admit reserves room for a packet of n bytes from src, or says it does
// not fit. The read loop asks before it copies the packet: a refused
// packet costs no allocation (the loop must never wait for the garbage
// collector while the kernel's buffer fills).
func (q *queue) admit(src netip.Addr, n int) bool {
	size := n + packetOverhead
	q.mu.Lock()
	defer q.mu.Unlock()
	held, ok := q.bySource[src]
	senders := len(q.bySource)
	if !ok {
		senders++
	}
	if q.closed || q.bytes+size > q.max || held+size > q.max/(senders+1) {
		return false
	}
	q.bytes += size
	q.bySource[src] = held + size
	return true
}

// put queues an admitted packet.
func (q *queue) put(p packet) {
	q.mu.Lock()
	q.items = append(q.items, p)
	q.ready.Signal()
	q.mu.Unlock()
}

// push admits and queues p, or says it does not fit.
func (q *queue) push(p packet) bool {
	if !q.admit(p.src, len(p.b)) {
		return false
	}
	q.put(p)
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

// bigPacket is the size from which packet bytes come from a pool: a
// flood of 60 KB traps copied into fresh memory was hundreds of MB/s of
// garbage, and the read loop paid for collecting it.
const bigPacket = 4 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, 65536); return &b }}

// copyPacket copies a read packet, into pooled memory when it is big.
func copyPacket(b []byte) []byte {
	if len(b) < bigPacket {
		return append([]byte(nil), b...)
	}
	buf := buffers.Get().(*[]byte)
	return append((*buf)[:0], b...)
}

// release returns a packet's memory to the pool once it is decoded.
func release(b []byte) {
	if cap(b) == 65536 {
		b = b[:0]
		buffers.Put(&b)
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.ready.Broadcast()
	q.mu.Unlock()
}
