package api

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("x")`: `'=HYPERLINK("x")`, "@SUM(1)": "'@SUM(1)", "+1": "'+1", "-1": "'-1", "\tx": "'\tx", "\rx": "'\rx",
		"admin": "admin", "": "", "10.0.0.1": "10.0.0.1", "a=b": "a=b",
	} {
		if got := csvSafe(in)[0]; got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// Connections beyond the per-source cap are closed at accept and
// counted; a closed connection frees its place.
func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int32
	ll := newLimitListener(ln, 100, 2, func(string) { refused.Add(1) })
	defer ll.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ll.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := dial(), dial()
	s1, s2 := <-accepted, <-accepted
	c3 := dial()
	c3.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c3.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("third connection from one address: read %v, want EOF (closed at accept)", err)
	}
	if refused.Load() != 1 {
		t.Fatalf("refused %d, want 1", refused.Load())
	}
	s1.Close()
	c4 := dial()
	select {
	case s4 := <-accepted:
		s4.Close()
	case <-time.After(3 * time.Second):
		t.Fatal("a connection after one closed was not accepted")
	}
	for _, c := range []net.Conn{c1, c2, c3, c4, s2} {
		c.Close()
	}
}
