package udpconn

import (
	"net"
	"testing"
	"time"
)

// A burst into a socket nobody reads overflows its buffer: the drops are
// counted from the next datagram read after them.
func TestDropsAreCounted(t *testing.T) {
	c, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Buffer() <= 0 {
		t.Fatalf("buffer %d", c.Buffer())
	}
	s, err := net.Dial("udp", c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	payload := make([]byte, 1400)
	sent := 0
	for range 3 * (c.Buffer()/1400 + 1000) {
		if _, err := s.Write(payload); err == nil {
			sent++
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	got := 0
	for {
		if _, _, err := c.Read(buf); err != nil {
			break
		}
		got++
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	}
	// The count travels with the datagrams queued after the drops.
	_, _ = s.Write(payload)
	sent++
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := c.Read(buf); err == nil {
		got++
	}
	if c.Dropped() == 0 || uint64(got)+c.Dropped() != uint64(sent) {
		t.Fatalf("sent %d, read %d, counted dropped %d", sent, got, c.Dropped())
	}
	t.Logf("buffer %d bytes: sent %d, read %d, dropped %d", c.Buffer(), sent, got, c.Dropped())
}
