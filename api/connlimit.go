package api

import (
	"net"
	"sync"
)

// limitListener bounds open connections, in all and per source address:
// one beyond either bound is closed as soon as it is accepted, before any
// TLS work, and counted. With the server's read and idle timeouts this
// bounds what slow or idle clients can hold.
type limitListener struct {
	net.Listener
	max, perSource int
	refused        func(reason string)

	mu       sync.Mutex
	open     int
	bySource map[string]int
}

func newLimitListener(ln net.Listener, maxConns, perSource int, refused func(reason string)) *limitListener {
	return &limitListener{Listener: ln, max: maxConns, perSource: perSource, refused: refused, bySource: map[string]int{}}
}

// Accept returns the next connection within the bounds.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := remoteHost(c.RemoteAddr())
		if reason := l.take(src); reason != "" {
			l.refused(reason)
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l, src: src}, nil
	}
}

// take counts a connection from src in, or says why it may not be.
func (l *limitListener) take(src string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.max:
		return "total"
	case l.bySource[src] >= l.perSource:
		return "per_source"
	}
	l.open++
	l.bySource[src]++
	return ""
}

func (l *limitListener) done(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src)
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	src  string
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.done(c.src) })
	return err
}

func remoteHost(a net.Addr) string {
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}
