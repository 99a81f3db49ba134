package trap

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// bigTrap is a v2c trap of about 60 KB with n = 4,400 varbinds (short
// OIDs, null values), as in the finding.
func bigTrap(t testing.TB, n int) []byte {
	t.Helper()
	vars := []gosnmp.SnmpPDU{{Name: OIDSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(1)},
		{Name: OIDTrapOID, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.99999.0.1"}}
	for i := range n {
		vars = append(vars, gosnmp.SnmpPDU{Name: fmt.Sprintf(".1.3.6.1.4.1.9.%d", i), Type: gosnmp.Null})
	}
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.SNMPv2Trap, RequestID: 1, Variables: vars,
		Logger: gosnmp.NewLogger(log.New(io.Discard, "", 0))}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// udpFrom opens a UDP socket from a loopback address to addr.
func udpFrom(t *testing.T, src, addr string) *net.UDPConn {
	t.Helper()
	ra, _ := net.ResolveUDPAddr("udp", addr)
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, ra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Traps of 60 KB (4,400 varbinds) flooding from one address cost ~8 MiB
// each while stored, the decoders' queue held 8,192 of them, and 9 of 10
// good traps sent meanwhile were lost. Now the queue is bounded in bytes
// with a fair share per sender: the flood is refused at the edge and
// counted, every good trap from another sender gets through, and what is
// kept of a huge trap is bounded.
func TestTrapFloodLeavesRoomForOthers(t *testing.T) {
	var mu sync.Mutex
	var good, flood []Trap
	r := &Receiver{Addr: "127.0.0.1:0", Workers: 1, QueueBytes: 1 << 20, Sink: func(tr Trap) error {
		mu.Lock()
		defer mu.Unlock()
		if tr.Source == "127.0.0.2" {
			flood = append(flood, tr)
			time.Sleep(2 * time.Millisecond) // a busy spool
		} else {
			good = append(good, tr)
		}
		return nil
	}}
	c := startTrapReceiver(t, r)
	big := bigTrap(t, 4400)
	if len(big) < 55000 {
		t.Fatalf("flood trap of %d bytes", len(big))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		fc := udpFrom(t, "127.0.0.2", c)
		for !stop.Load() {
			if _, err := fc.Write(big); err != nil {
				t.Errorf("flood of %d bytes: %v", len(big), err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	time.Sleep(300 * time.Millisecond) // the flood fills the queue first
	g := sender(t, c, func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "public" })
	for i := range 20 {
		tr := linkDown
		tr.Variables = append(append([]gosnmp.SnmpPDU(nil), linkDown.Variables...),
			gosnmp.SnmpPDU{Name: ".1.3.6.1.4.1.99999.2", Type: gosnmp.OctetString, Value: []byte(fmt.Sprintf("good-%d", i))})
		if _, err := g.SendTrap(tr); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	waitFor(t, "every good trap", func() bool { mu.Lock(); defer mu.Unlock(); return len(good) == 20 })
	t.Logf("packets %d, malformed %d, accepted %d", r.Counters.Received.Load(), r.Counters.Malformed.Load(), r.Counters.Accepted.Load())
	if r.Counters.QueueFull.Load() == 0 {
		t.Error("the flood was never refused at the queue")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(flood) == 0 || r.Counters.Truncated.Load() == 0 {
		t.Fatalf("no flood trap kept (%d) or none counted truncated (%d)", len(flood), r.Counters.Truncated.Load())
	}
	for _, tr := range flood {
		if n := len(tr.Encode()); n > MaxVarbindBytes+4096 || tr.Truncated == 0 || !strings.Contains(tr.Text(), "more varbinds not kept") {
			t.Fatalf("a huge trap kept %d bytes (%d varbinds, %d left out)", n, len(tr.Varbinds), tr.Truncated)
		}
	}
	t.Logf("flood: %d kept, %d refused at the queue", len(flood), r.Counters.QueueFull.Load())
}

func TestQueueFairShare(t *testing.T) {
	q := newQueue(100 * (100 + packetOverhead))
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	pkt := func(src netip.Addr) packet { return packet{b: make([]byte, 100), src: src} }
	n := 0
	for q.push(pkt(a)) {
		n++
	}
	if n != 50 {
		t.Fatalf("one sender queued %d of 100 slots, want its share of 50", n)
	}
	for range 10 {
		if !q.push(pkt(b)) {
			t.Fatal("a second sender found no room")
		}
	}
	for range 60 {
		if _, ok := q.pop(); !ok {
			t.Fatal("pop")
		}
	}
	if q.bytes != 0 || len(q.bySource) != 0 {
		t.Fatalf("after draining: %d bytes, %d senders", q.bytes, len(q.bySource))
	}
	q.close()
	if _, ok := q.pop(); ok {
		t.Fatal("pop after close")
	}
}

// Engine-discovery requests (v3, no user) from one address — a spoofed
// victim's — are answered a few per second, not one report per request.
func TestDiscoveryReportsBounded(t *testing.T) {
	r := &Receiver{Addr: "127.0.0.1:0", Sink: func(Trap) error { return nil }}
	c := udpFrom(t, "127.0.0.3", startTrapReceiver(t, r))
	req := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{Logger: quiet}, PDUType: gosnmp.GetRequest, MsgID: 7, RequestID: 7, MsgMaxSize: 1400,
		Logger: quiet}
	b, err := req.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	answers := make(chan int, 1)
	go func() {
		n := 0
		buf := make([]byte, 2048)
		for {
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				answers <- n
				return
			}
			n++
		}
	}()
	for range 200 {
		_, _ = c.Write(b)
		time.Sleep(time.Millisecond)
	}
	n := <-answers
	if n == 0 || n > 2*reportsPerSource+2 {
		t.Fatalf("%d reports for 200 discovery requests in 0.2 s, want 1..%d", n, 2*reportsPerSource+2)
	}
	if r.Counters.ReportsLimited.Load() == 0 {
		t.Fatal("unanswered discovery requests were not counted")
	}
}

func startTrapReceiver(t *testing.T, r *Receiver) string {
	t.Helper()
	c := &collector{r: r}
	if err := r.SetUsers(nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		t.Fatal(err)
	}
	c.start(t)
	return r.BoundAddr()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
