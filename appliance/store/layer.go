package store

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// errLayerClosed is returned by Accept once a generation's layer is closed.
var errLayerClosed = errors.New("raft layer closed")

// dialer opens a connection to a peer's Raft listener (header byte included).
type dialer interface {
	DialContext(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error)
}

// pump owns the one Raft listener the mux hands out. rqlite's mux panics on
// a second registration of a header and its listeners cannot be closed, so
// the pump keeps accepting for the whole process and passes connections to
// whichever store generation is current; with none, it drops them.
type pump struct {
	ln  net.Listener
	mu  sync.Mutex
	cur *layer
}

func (p *pump) run() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		l := p.cur
		p.mu.Unlock()
		if l == nil || !l.deliver(conn) {
			conn.Close()
		}
	}
}

// newLayer makes the layer for a new store generation and makes it current.
func (p *pump) newLayer(d dialer, addr net.Addr) *layer {
	ctx, cancel := context.WithCancel(context.Background())
	l := &layer{dial: d, addr: addr, conns: make(chan net.Conn), done: make(chan struct{}), out: map[net.Conn]struct{}{}, dialCtx: ctx, cancelDials: cancel}
	p.mu.Lock()
	p.cur = l
	p.mu.Unlock()
	return l
}

// layer is one store generation's view of the network: its Close really
// unblocks Accept, and closeOutbound cuts connections it dialed so that
// raft.Shutdown does not wait 10 s for RPCs to a hung peer.
type layer struct {
	dial  dialer
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	// dialCtx is cancelled by closeOutbound: dials in progress abort and
	// new ones fail at once.
	dialCtx     context.Context
	cancelDials context.CancelFunc

	mu  sync.Mutex
	out map[net.Conn]struct{}
}

func (l *layer) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

// Accept implements net.Listener.
func (l *layer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, errLayerClosed
	}
}

// Close implements net.Listener.
func (l *layer) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *layer) Addr() net.Addr { return l.addr }

// Dial implements rqlite's store.Layer.
func (l *layer) Dial(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := l.dial.DialContext(l.dialCtx, addr, timeout)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dialCtx.Err() != nil {
		c.Close()
		return nil, errLayerClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.out[tc] = struct{}{}
	return tc, nil
}

// closeOutbound closes every connection this generation dialed.
func (l *layer) closeOutbound() {
	l.cancelDials()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.out {
		c.(*trackedConn).Conn.Close()
	}
	l.out = map[net.Conn]struct{}{}
}

type trackedConn struct {
	net.Conn
	l *layer
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.out, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
