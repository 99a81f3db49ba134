package tcp

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params"
)

// dnsUDP asks over UDP, and again over TCP when the answer is truncated.
func (pr *probe) dnsUDP(ctx context.Context) error {
	conn, closeConn, err := pr.dial(ctx, "udp")
	if err != nil {
		return err
	}
	defer closeConn()
	id := uint16(rand.Uint32())
	q, err := buildQuery(id, pr.p.Query, qtypes[pr.p.QType])
	if err != nil {
		return err
	}
	fmt.Fprintf(&pr.tr, "; %s %s over UDP to %s\n", pr.p.Query, pr.p.QType, pr.addr)
	start := time.Now()
	if _, err := conn.Write(q); err != nil {
		return fmt.Errorf("send the query: %w", err)
	}
	a, err := readUDPAnswer(conn, id)
	if err != nil {
		return err
	}
	if a.truncated {
		fmt.Fprintf(&pr.tr, "; truncated over UDP: asking again over TCP\n")
		return pr.stream(ctx)
	}
	return pr.dnsResult(a, start)
}

// readUDPAnswer skips datagrams that answer another id (a late reply to
// an earlier check) until the deadline.
func readUDPAnswer(conn net.Conn, id uint16) (dnsAnswer, error) {
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return dnsAnswer{}, fmt.Errorf("read the answer: %w", err)
		}
		a, err := parseDNS(buf[:n])
		if err == nil && a.id != id {
			continue
		}
		return a, err
	}
}

// dnsStream asks over a TCP (or TLS) connection: two length bytes, then
// the message.
func (pr *probe) dnsStream(conn net.Conn, start time.Time) error {
	id := uint16(rand.Uint32())
	q, err := buildQuery(id, pr.p.Query, qtypes[pr.p.QType])
	if err != nil {
		return err
	}
	fmt.Fprintf(&pr.tr, "; %s %s over TCP to %s\n", pr.p.Query, pr.p.QType, pr.addr)
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
		return fmt.Errorf("send the query: %w", err)
	}
	var n [2]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return fmt.Errorf("read the answer's length: %w", err)
	}
	m := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(conn, m); err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	a, err := parseDNS(m)
	if err != nil {
		return err
	}
	if a.id != id {
		return fmt.Errorf("%w: the answer's id %d is not the query's %d", errDNS, a.id, id)
	}
	return pr.dnsResult(a, start)
}

// dnsResult: the answer must be NOERROR, not empty, and hold expect.
func (pr *probe) dnsResult(a dnsAnswer, start time.Time) error {
	took := time.Since(start)
	fmt.Fprintf(&pr.tr, ";; status: %s, %d answers, %.3f ms\n", a.rcodeName(), len(a.answers), params.Ms(took))
	for _, s := range a.answers {
		fmt.Fprintf(&pr.tr, "%s\n", s)
	}
	pr.add(check.Num(ItemResponse, params.Ms(took), "ms"))
	pr.add(check.Num(ItemAnswers, float64(len(a.answers)), ""))
	if len(a.values) > 0 {
		pr.add(check.Str(ItemAnswer, strings.Join(a.values, ", ")))
	}
	switch {
	case a.rcode != 0:
		return fmt.Errorf("%s %s: %s", pr.p.Query, pr.p.QType, a.rcodeName())
	case len(a.answers) == 0:
		return fmt.Errorf("%s %s: no answer", pr.p.Query, pr.p.QType)
	case pr.p.Expect != "" && !holds(a.values, pr.p.Expect):
		return fmt.Errorf("%s %s: %s is not among the answers", pr.p.Query, pr.p.QType, pr.p.Expect)
	}
	return nil
}

func holds(values []string, want string) bool {
	want = strings.TrimSuffix(want, ".")
	for _, v := range values {
		if strings.EqualFold(strings.TrimSuffix(v, "."), want) {
			return true
		}
	}
	return false
}

// ntp sends one SNTP request and reports the offset of the server's clock
// from ours.
func (pr *probe) ntp(ctx context.Context) error {
	conn, closeConn, err := pr.dial(ctx, "udp")
	if err != nil {
		return err
	}
	defer closeConn()
	t1 := time.Now()
	sent := toNTP(t1) ^ uint64(rand.Uint32()&0xff) // low fraction bits as a nonce, ~60 ns
	if _, err := conn.Write(ntpRequest(sent)); err != nil {
		return fmt.Errorf("send the request: %w", err)
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		return fmt.Errorf("read the reply: %w", err)
	}
	t4 := t1.Add(time.Since(t1)) // monotonic: immune to a clock step meanwhile
	r, err := parseNTP(buf[:n], sent, t1, t4)
	fmt.Fprintf(&pr.tr, "NTP %s: %d bytes, stratum %d, reference %q\n", pr.addr, n, r.stratum, r.refID)
	if err != nil {
		return err
	}
	fmt.Fprintf(&pr.tr, "offset %+.3f ms, delay %.3f ms\n", params.Ms(r.offset), params.Ms(r.delay))
	pr.add(check.Num(ItemOffset, params.Ms(r.offset), "ms"))
	pr.add(check.Num(ItemResponse, params.Ms(t4.Sub(t1)), "ms"))
	pr.add(check.Num(ItemStratum, float64(r.stratum), ""))
	return nil
}
