package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// muxDialer dials a peer's cluster port and writes the mux header byte.
// Unlike rqlite's tcp.Dialer it takes a context, so closing a store
// generation also aborts a TLS handshake stuck on a hung peer.
type muxDialer struct {
	header byte
	tls    *tls.Config
}

func (d *muxDialer) Dial(addr string, timeout time.Duration) (net.Conn, error) {
	return d.DialContext(context.Background(), addr, timeout)
}

func (d *muxDialer) DialContext(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var c net.Conn
	var err error
	if d.tls == nil {
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = (&tls.Dialer{Config: d.tls}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte{d.header}); err != nil {
		c.Close()
		return nil, fmt.Errorf("write mux header: %w", err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}
