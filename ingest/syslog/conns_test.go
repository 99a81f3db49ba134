package syslog

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// startReceiver runs rcv until the test ends and returns its TCP and TLS addresses.
func startReceiver(t *testing.T, rcv *Receiver) (tcp, tlsAddr string) {
	t.Helper()
	if err := rcv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rcv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	_, tcp, tlsAddr = rcv.Addrs()
	return tcp, tlsAddr
}

// dialFrom opens a TCP connection from a given loopback address.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// closed says whether the server closed c (it does at once).
func closed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return err != nil && !(ok && ne.Timeout())
}

// Idle connections from one address taking every slot (1,000 of them
// locked every other sender out for 15 minutes) give a slot up to a
// sender from another address; one address is held to its share.
func TestSlotsSharedBetweenSources(t *testing.T) {
	var got atomic.Int64
	rcv := &Receiver{TCP: "127.0.0.1:0", MaxConns: 4, MaxConnsPerSource: 4, IdleTimeout: time.Minute, IdleWhenFull: time.Hour,
		Sink: func(Record) error { got.Add(1); return nil }}
	addr, _ := startReceiver(t, rcv)
	var hog []net.Conn
	for range 4 {
		hog = append(hog, dialFrom(t, "127.0.0.2", addr))
	}
	waitUntil(t, "the hog's connections", func() bool { return rcv.OpenConns() == 4 })
	c := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(c, "<13>1 - h app - - - from another sender\n")
	waitUntil(t, "the other sender's message", func() bool { return got.Load() == 1 })
	if rcv.Counters.Evicted.Load() != 1 || rcv.OpenConns() != 4 {
		t.Fatalf("evicted %d, open %d; want 1 and 4", rcv.Counters.Evicted.Load(), rcv.OpenConns())
	}
	n := 0
	for _, h := range hog {
		if closed(h) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of the hog's connections closed, want 1", n)
	}
	// A fifth from the hog finds nobody holding two more than it does.
	extra := dialFrom(t, "127.0.0.2", addr)
	if !closed(extra) || rcv.Counters.ConnsRefused.Load() != 1 {
		t.Fatalf("the hog got a fifth slot (refused %d)", rcv.Counters.ConnsRefused.Load())
	}
}

func TestPerSourceLimitAndIdleWhenFull(t *testing.T) {
	rcv := &Receiver{TCP: "127.0.0.1:0", MaxConns: 3, MaxConnsPerSource: 2, IdleTimeout: time.Minute, IdleWhenFull: 300 * time.Millisecond,
		Sink: func(Record) error { return nil }}
	addr, _ := startReceiver(t, rcv)
	dialFrom(t, "127.0.0.2", addr)
	dialFrom(t, "127.0.0.2", addr)
	waitUntil(t, "two connections", func() bool { return rcv.OpenConns() == 2 })
	if c := dialFrom(t, "127.0.0.2", addr); !closed(c) || rcv.Counters.SourceRefused.Load() != 1 {
		t.Fatal("a third connection from one address was served past max_connections_per_source")
	}
	dialFrom(t, "127.0.0.3", addr)
	waitUntil(t, "three connections", func() bool { return rcv.OpenConns() == 3 })
	time.Sleep(400 * time.Millisecond) // everybody silent past IdleWhenFull
	c := dialFrom(t, "127.0.0.4", addr)
	if closed(c) {
		t.Fatal("a newcomer was refused although a connection was silent past idle_timeout_when_full")
	}
	if rcv.Counters.Evicted.Load() != 1 {
		t.Fatalf("evicted %d, want 1", rcv.Counters.Evicted.Load())
	}
}

// A TLS connection that never finishes its handshake holds its slot for
// HandshakeTimeout, not for the idle timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	rcv := &Receiver{TLS: "127.0.0.1:0", TLSConfig: selfSigned(t), MaxConns: 2, IdleTimeout: time.Hour, HandshakeTimeout: 200 * time.Millisecond,
		Sink: func(Record) error { return nil }}
	_, addr := startReceiver(t, rcv)
	c := dialFrom(t, "127.0.0.2", addr)
	waitUntil(t, "the connection", func() bool { return rcv.OpenConns() == 1 })
	waitUntil(t, "the handshake timeout", func() bool { return rcv.Counters.HandshakeFailed.Load() == 1 && rcv.OpenConns() == 0 })
	if !closed(c) {
		t.Fatal("the connection stayed open")
	}
	good, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	time.Sleep(400 * time.Millisecond)
	if rcv.Counters.HandshakeFailed.Load() != 1 || rcv.OpenConns() != 1 {
		t.Fatal("a connection that finished its handshake was cut at the handshake timeout")
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
