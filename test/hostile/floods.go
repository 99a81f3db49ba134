// Package hostile sends what an attacker who can reach the receive ports
// sends — the floods of issue 9 — alongside numbered good traffic from
// another address, and measures what the appliance makes of it: its
// memory (VmRSS, VmHWM), its data directory, and whether every good
// message and trap is stored exactly once. The end-to-end tests, `make
// soak-hostile` and `make bench` share it.
package hostile

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/test/cluster"
)

// Target is where the floods and the good traffic go.
type Target struct {
	SyslogUDP, SyslogTCP, SyslogTLS, Trap string
}

// Of returns a node's receive addresses.
func Of(n *cluster.Node) Target {
	return Target{SyslogUDP: n.SyslogUDP, SyslogTCP: n.SyslogTCP, SyslogTLS: n.SyslogTLS, Trap: n.SNMPTrap}
}

func dialTCP(ctx context.Context, src, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

func dialUDP(src, addr string) (*net.UDPConn, error) {
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, ra)
}

// pacer spaces sends to rate per second (0: no pacing).
type pacer struct {
	rate  float64
	start time.Time
	sent  float64
}

func (p *pacer) wait(ctx context.Context, n float64) {
	if p.rate <= 0 {
		return
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	p.sent += n
	if d := time.Duration(p.sent/p.rate*float64(time.Second)) - time.Since(p.start); d > time.Millisecond {
		sleep(ctx, d)
	}
}

// DigitBomb opens conns TCP connections from src and sends perConn bytes
// of "1" on each (at rate bytes/s each; 0: as fast as it can), never a
// space nor a newline (the octet-count memory bomb), then closes them.
// It returns the bytes sent.
func DigitBomb(ctx context.Context, addr, src string, conns int, perConn int64, rate float64) int64 {
	var sent atomic.Int64
	var wg sync.WaitGroup
	chunk := []byte(strings.Repeat("1", 64<<10))
	for range conns {
		wg.Go(func() {
			c, err := dialTCP(ctx, src, addr)
			if err != nil {
				return
			}
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			p := pacer{rate: rate}
			for n := int64(0); n < perConn && ctx.Err() == nil; n += int64(len(chunk)) {
				p.wait(ctx, float64(len(chunk)))
				k, err := c.Write(chunk)
				sent.Add(int64(k))
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return sent.Load()
}

// FakeOctetCount sends one frame whose count is too long to be one
// ("99999999999 <13>…", size bytes, then a newline) over TCP.
func FakeOctetCount(ctx context.Context, addr, src string, size int) error {
	c, err := dialTCP(ctx, src, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	head := "99999999999 <13>1 - fake app - - - fake-octet-count "
	_, err = io.WriteString(c, head+strings.Repeat("A", size-len(head))+"\n")
	return err
}

// IdleConns keeps tcp connections to the syslog TCP port and tlsConns to
// the TLS port (never starting a handshake) open from src until ctx ends:
// one the receiver closes is opened again a second later, as an attacker
// does. It returns how many are open half a second after the start.
func IdleConns(ctx context.Context, t Target, src string, tcp, tlsConns int) int {
	var open atomic.Int64
	hold := func(addr string) {
		for ctx.Err() == nil {
			c, err := dialTCP(ctx, src, addr)
			if err == nil {
				stop := context.AfterFunc(ctx, func() { c.Close() })
				open.Add(1)
				_, _ = c.Read(make([]byte, 1)) // until the receiver closes it
				open.Add(-1)
				stop()
				c.Close()
			}
			sleep(ctx, time.Second)
		}
	}
	for range tcp {
		go hold(t.SyslogTCP)
	}
	for range tlsConns {
		go hold(t.SyslogTLS)
	}
	sleep(ctx, 500*time.Millisecond)
	return int(open.Load())
}

// TinyUDP sends 1-byte datagrams from every address in srcs to addr, at
// rate per second from each (0: as fast as it can), until ctx ends; it
// returns how many.
func TinyUDP(ctx context.Context, addr string, srcs []string, rate float64) int64 {
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Go(func() {
			c, err := dialUDP(src, addr)
			if err != nil {
				return
			}
			defer c.Close()
			p := pacer{rate: rate}
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := c.Write([]byte{'a' + byte(i%26)}); err == nil {
					sent.Add(1)
				}
				if rate > 0 && i%100 == 99 {
					p.wait(ctx, 100)
				} else if rate == 0 && i%64 == 63 {
					time.Sleep(50 * time.Microsecond) // let the receiver's CPU in: 2 cores shared
				}
			}
		})
	}
	wg.Wait()
	return sent.Load()
}

// BigTrap is a v2c trap of about 60 KB with 4,400 varbinds (short OIDs,
// null values), the shape of the trap flood in issue 9; seq makes each
// one distinct.
func BigTrap(seq int) []byte {
	vars := []gosnmp.SnmpPDU{{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(seq)},
		{Name: "1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.9.0.1"}}
	for i := range 4400 {
		vars = append(vars, gosnmp.SnmpPDU{Name: fmt.Sprintf(".1.3.6.1.4.1.9.%d", i), Type: gosnmp.Null})
	}
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "anything", PDUType: gosnmp.SNMPv2Trap, RequestID: uint32(seq), Variables: vars,
		Logger: gosnmp.NewLogger(log.New(io.Discard, "", 0))}
	b, err := p.MarshalMsg()
	if err != nil {
		panic(err)
	}
	return b
}

// TrapFlood sends BigTrap packets from src to addr at rate per second (0:
// as fast as it can) until ctx ends or max are sent (0: no maximum).
func TrapFlood(ctx context.Context, addr, src string, rate, maxSent int) int {
	c, err := dialUDP(src, addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	pkts := [][]byte{BigTrap(1), BigTrap(2), BigTrap(3), BigTrap(4)}
	start := time.Now()
	sent := 0
	for ctx.Err() == nil && (maxSent == 0 || sent < maxSent) {
		if rate > 0 && sent >= int(time.Since(start).Seconds()*float64(rate)) {
			time.Sleep(time.Millisecond)
			continue
		}
		if _, err := c.Write(pkts[sent%len(pkts)]); err == nil {
			sent++
		}
		if rate == 0 && sent%16 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return sent
}

// DiscoveryRequest is an SNMPv3 engine-discovery request (no user, no
// variables, reportable): what a spoofer sends to make the receiver
// answer a victim.
func DiscoveryRequest() []byte {
	q := gosnmp.NewLogger(log.New(io.Discard, "", 0))
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{Logger: q}, PDUType: gosnmp.GetRequest, MsgID: 7, RequestID: 7, MsgMaxSize: 1400, Logger: q}
	b, err := p.MarshalMsg()
	if err != nil {
		panic(err)
	}
	return b
}

// DiscoveryFlood sends n discovery requests from src (one a
// millisecond) and counts the reports that come back.
func DiscoveryFlood(addr, src string, n int) (answers int) {
	c, err := dialUDP(src, addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	done := make(chan int)
	go func() {
		k := 0
		buf := make([]byte, 2048)
		for {
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				done <- k
				return
			}
			k++
		}
	}()
	req := DiscoveryRequest()
	for range n {
		_, _ = c.Write(req)
		time.Sleep(time.Millisecond)
	}
	return <-done
}

// TLSConfig is a client configuration that accepts the appliance's
// certificate (the test does not pin it).
func TLSConfig() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }
