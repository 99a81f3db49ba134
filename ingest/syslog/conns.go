package syslog

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// admission is what the connection table decided for a new connection.
type admission int

const (
	admitted admission = iota
	refusedFull
	refusedPerSource
)

// connTable shares the TCP/TLS slots among sender addresses. Before, the
// slots went first come, first served: 1,000 idle connections from one
// address locked every other sender out until the idle timeout (15
// minutes). Now, when every slot is taken, a newcomer takes one from the
// address holding the most (if that address holds at least two more than
// the newcomer), or else the slot of the connection silent the longest,
// once it has been silent for idleWhenFull. One address never holds more
// than perSource slots.
type connTable struct {
	max, perSource int
	idleWhenFull   time.Duration

	mu       sync.Mutex
	open     int
	bySource map[string][]*tracked
}

// tracked is one open connection in the table.
type tracked struct {
	conn   net.Conn // what the receiver reads (TLS or plain)
	raw    net.Conn // the TCP connection under it: closing it never blocks
	source string
	addr   netip.Addr   // source, parsed
	last   atomic.Int64 // unix nanoseconds of the last read that returned data
}

func newConnTable(slots, perSource int, idleWhenFull time.Duration) *connTable {
	return &connTable{max: slots, perSource: min(max(perSource, 1), slots), idleWhenFull: idleWhenFull, bySource: map[string][]*tracked{}}
}

// admit decides for a connection from source. When it takes a slot from
// another connection, that one is closed and returned as evicted.
func (t *connTable) admit(c net.Conn, source string, now time.Time) (tc, evicted *tracked, a admission) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.bySource[source]) >= t.perSource && t.perSource < t.max {
		return nil, nil, refusedPerSource
	}
	if t.open >= t.max {
		if evicted = t.victim(source, now); evicted == nil {
			return nil, nil, refusedFull
		}
		t.removeLocked(evicted)
		_ = evicted.raw.Close()
	}
	tc = &tracked{conn: c, raw: c, source: source}
	if ap, err := netip.ParseAddr(source); err == nil {
		tc.addr = ap.Unmap()
	}
	if tl, ok := c.(*tls.Conn); ok {
		tc.raw = tl.NetConn()
	}
	tc.last.Store(now.UnixNano())
	t.bySource[source] = append(t.bySource[source], tc)
	t.open++
	return tc, evicted, admitted
}

// victim picks the connection a newcomer from source replaces, or nil.
func (t *connTable) victim(source string, now time.Time) *tracked {
	var top []*tracked
	for _, cs := range t.bySource {
		if len(cs) > len(top) {
			top = cs
		}
	}
	if len(top) >= len(t.bySource[source])+2 {
		return leastActive(top)
	}
	var oldest *tracked
	for _, cs := range t.bySource {
		if v := leastActive(cs); oldest == nil || v.last.Load() < oldest.last.Load() {
			oldest = v
		}
	}
	if oldest != nil && now.Sub(time.Unix(0, oldest.last.Load())) >= t.idleWhenFull {
		return oldest
	}
	return nil
}

func leastActive(cs []*tracked) *tracked {
	var v *tracked
	for _, c := range cs {
		if v == nil || c.last.Load() < v.last.Load() {
			v = c
		}
	}
	return v
}

// release gives the connection's slot back (a no-op once evicted).
func (t *connTable) release(tc *tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(tc)
}

func (t *connTable) removeLocked(tc *tracked) {
	cs := t.bySource[tc.source]
	for i, c := range cs {
		if c == tc {
			cs[i] = cs[len(cs)-1]
			cs = cs[:len(cs)-1]
			t.open--
			break
		}
	}
	if len(cs) == 0 {
		delete(t.bySource, tc.source)
	} else {
		t.bySource[tc.source] = cs
	}
}

// Open is the number of connections holding a slot.
func (t *connTable) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open
}

// idleConn pushes the read deadline forward at every read, so only a
// connection silent for the whole timeout is cut, records when the
// connection last delivered data (the table evicts the silent first),
// and paces reading to the sender's fair share under pressure.
type idleConn struct {
	*tracked
	idle time.Duration
	pace func(n int)
}

func (c idleConn) Read(b []byte) (int, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(c.idle))
	n, err := c.conn.Read(b)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
		c.pace(n)
	}
	return n, err
}
