package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/test/cluster"
	"github.com/mamori-ops/mamori/test/hostile"
)

// The receive-path findings of issue 9, each scaled down to seconds
// against one real appliance. Each uses default settings where it can,
// so it also runs against a binary from before the fix (and fails there).

// subnetOf is the 127.a.b prefix of a node's address: floods come from
// .60 and up, good traffic from .50.
func subnetOf(n *cluster.Node) string { return n.IP[:strings.LastIndex(n.IP, ".")] }

// syslogTexts returns the stored syslog texts containing q.
func syslogTexts(t *testing.T, n *cluster.Node, q string) []string {
	t.Helper()
	var out struct{ Messages []struct{ Text string } }
	if code, err := n.Do(http.MethodGet, "/api/v1/syslog?limit=1000&q="+url.QueryEscape(q), nil, &out); err != nil || code != 200 {
		return nil
	}
	texts := make([]string, len(out.Messages))
	for i, m := range out.Messages {
		texts[i] = m.Text
	}
	return texts
}

// sendTCP sends one newline-framed message from src.
func sendTCP(t *testing.T, src, addr, msg string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", msg)
}

// watchMemory samples n's RSS, with a safety cap of 3 GiB above where it
// is now (old code is killed before it takes the machine with it).
func watchMemory(t *testing.T, n *cluster.Node) (base int64, m *hostile.Monitor) {
	t.Helper()
	mem, err := hostile.Memory(n.PID())
	if err != nil {
		t.Fatal(err)
	}
	base = mem.RSS
	m = hostile.Watch(n, base+3<<30)
	t.Cleanup(m.Stop)
	return base, m
}

// Four connections sending 48 MiB of "1" each (no space, no newline) cost
// a few frames of memory, not the stream: 512 MiB on one connection raised
// RSS by up to 0.9 GiB, four reached 6.5 GiB. Good syslog still gets in.
func TestHostileDigitFrames(t *testing.T) {
	skipShort(t)
	n := newSingle(t, cluster.Options{})
	sub := subnetOf(n)
	base, mon := watchMemory(t, n)
	sent := hostile.DigitBomb(t.Context(), n.SyslogTCP, sub+".60", 4, 48<<20, 0)
	sendTCP(t, sub+".50", n.SyslogTCP, "<13>1 - goodhost app - - - after-the-digits")
	cluster.WaitFor(t.Context(), 20*time.Second, func() bool { return len(syslogTexts(t, n, "after-the-digits")) == 1 })
	peak, killed := mon.Peak()
	t.Logf("sent %s of digits on 4 connections; RSS %s before, peak %s", hostile.MiB(sent), hostile.MiB(base), hostile.MiB(peak))
	if killed || peak-base > 128<<20 {
		t.Fatalf("RSS grew by %s (killed past the safety cap: %v), want under 128 MiB", hostile.MiB(peak-base), killed)
	}
	if got := syslogTexts(t, n, "after-the-digits"); len(got) != 1 {
		t.Fatalf("the good message after the digits stored %d times, want 1", len(got))
	}
	if v := hostile.Dropped(n, "syslog_truncated"); v < 4 {
		t.Errorf("syslog_truncated %v, want ≥ 4 (one truncated line per connection)", v)
	}
}

// A frame with a count too long to be one ("99999999999 <13>…", 1 MiB)
// is a line like any other: truncated to 64 KiB and counted. It was
// stored whole.
func TestHostileFakeOctetCount(t *testing.T) {
	skipShort(t)
	n := newSingle(t, cluster.Options{})
	if err := hostile.FakeOctetCount(t.Context(), n.SyslogTCP, subnetOf(n)+".60", 1<<20); err != nil {
		t.Fatal(err)
	}
	var got []string
	cluster.WaitFor(t.Context(), 20*time.Second, func() bool { got = syslogTexts(t, n, "fake-octet-count"); return len(got) > 0 })
	if len(got) != 1 || len(got[0]) > 64<<10 {
		sizes := []int{}
		for _, s := range got {
			sizes = append(sizes, len(s))
		}
		t.Fatalf("stored %d messages of %v bytes, want one of at most 64 KiB", len(got), sizes)
	}
	if v := hostile.Dropped(n, "syslog_truncated"); v != 1 {
		t.Errorf("syslog_truncated %v, want 1", v)
	}
}

// Idle TCP connections and TLS connections that never start their
// handshake, all from one address and taking every slot
// (max_connections), lock nobody out: `logger -T` from another address
// and a TLS sender get in at once, taking slots from the hog.
func TestHostileIdleConnections(t *testing.T) {
	skipShort(t)
	if _, err := exec.LookPath("logger"); err != nil {
		t.Skip("logger (util-linux) is not installed: make deps installs bsdutils")
	}
	n := newSingle(t, cluster.Options{SyslogYAML: "    max_connections: 40\n"})
	sub := subnetOf(n)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if held := hostile.IdleConns(ctx, hostile.Of(n), sub+".60", 25, 15); held != 40 {
		t.Fatalf("the hog holds %d connections, want all 40 slots", held)
	}
	host, port, _ := net.SplitHostPort(n.SyslogTCP)
	if out, err := exec.Command("logger", "-T", "-n", host, "-P", port, "-t", "good", "logger-while-hogged").CombinedOutput(); err != nil {
		t.Fatalf("logger -T: %v %s", err, out)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sub + ".50")}}, Config: hostile.TLSConfig()}
	c, err := d.DialContext(t.Context(), "tcp", n.SyslogTLS)
	if err != nil {
		t.Fatalf("TLS sender while hogged: %v", err)
	}
	fmt.Fprintf(c, "<13>1 - goodhost app - - - tls-while-hogged\n")
	defer c.Close()
	for _, msg := range []string{"logger-while-hogged", "tls-while-hogged"} {
		if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return len(syslogTexts(t, n, msg)) == 1 }) {
			t.Errorf("%q not stored while one address held every slot", msg)
		}
	}
	t.Logf("conn_limit=%v conn_evicted=%v", hostile.Dropped(n, "syslog_conn_limit"), hostile.Dropped(n, "syslog_conn_evicted"))
}

// Traps of 60 KB (4,400 varbinds; any community is accepted) flooding
// from one address for 1.5 s: RSS stays under the memory budget (2 GiB
// by default; old code: +6 GiB per 1,000 traps) and every good trap from
// another address sent meanwhile is stored once (9 of 10 were lost).
func TestHostileTrapFlood(t *testing.T) {
	skipShort(t)
	n := newSingle(t, cluster.Options{})
	sub := subnetOf(n)
	base, mon := watchMemory(t, n)
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	flooded := make(chan int, 1)
	go func() { flooded <- hostile.TrapFlood(ctx, n.SNMPTrap, sub+".60", 0, 0) }()
	time.Sleep(100 * time.Millisecond)
	host, port, _ := net.SplitHostPort(n.SNMPTrap)
	p, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Transport: "udp", Community: "public", Version: gosnmp.Version2c, Timeout: time.Second,
		LocalAddr: net.JoinHostPort(sub+".50", "0"), MaxOids: gosnmp.MaxOids}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	for i := range 10 {
		tr := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(i)},
			{Name: "1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"},
			{Name: "1.3.6.1.4.1.8072.2.3.2.1", Type: gosnmp.OctetString, Value: []byte(fmt.Sprintf("good-trap-%d", i))}}}
		if _, err := g.SendTrap(tr); err != nil {
			t.Fatal(err)
		}
		time.Sleep(130 * time.Millisecond)
	}
	sent := <-flooded
	good := func() int {
		var out struct {
			Traps []struct{ Varbinds []struct{ Value string } }
		}
		if code, _ := n.Do(http.MethodGet, "/api/v1/traps?limit=1000&source="+sub+".50", nil, &out); code != 200 {
			return -1
		}
		return len(out.Traps)
	}
	cluster.WaitFor(t.Context(), 60*time.Second, func() bool {
		return !n.Running() || good() == 10 && hostile.Metric(n, "mamori_forward_lag_records") == 0
	})
	peak, killed := mon.Peak()
	t.Logf("flood: %d traps of %d bytes in 1.5 s; RSS %s before, peak %s (anonymous %s); queue_full=%v truncated=%v udp_buffer=%v", sent,
		len(hostile.BigTrap(1)), hostile.MiB(base), hostile.MiB(peak), hostile.MiB(mon.PeakAnon()), hostile.Dropped(n, "trap_queue_full"),
		hostile.Dropped(n, "trap_truncated"), hostile.Dropped(n, "udp_buffer_trap"))
	if budget := int64(hostile.Metric(n, "mamori_ingest_memory_budget_bytes")); killed || peak > max(budget, 2<<30) {
		t.Fatalf("RSS peaked at %s (killed past the safety cap: %v), want under the memory budget", hostile.MiB(peak), killed)
	}
	if k := good(); k != 10 {
		t.Fatalf("%d of 10 good traps stored during the flood, want all, once", k)
	}
	if hostile.Dropped(n, "trap_truncated") == 0 {
		t.Error("no flood trap counted as truncated")
	}
}

// 1-byte UDP datagrams from four addresses for 4 s: the per-source rate
// limit refuses most (counted) and retention keeps the stored messages
// under their size limit, deleting the oldest; the data directory stays
// small. They were stored at ~540 bytes each with no retention (+650 MiB
// in 10 s).
func TestHostileTinyDatagrams(t *testing.T) {
	skipShort(t)
	n := newSingle(t, cluster.Options{SyslogYAML: "    udp_rate_limit:\n      per_source: 3000\n",
		ExtraYAML: "retention:\n  messages:\n    max_bytes: 2097152\n  interval: 1s\n"})
	sub := subnetOf(n)
	dir := n.Dir + "/data"
	before := hostile.DirBytes(dir)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
	defer cancel()
	sent := hostile.TinyUDP(ctx, n.SyslogUDP, []string{sub + ".60", sub + ".61", sub + ".62", sub + ".63"}, 0)
	stored := func() int { return int(hostile.Metric(n, `mamori_ingest_stored_total{kind="syslog"}`)) }
	cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		return hostile.Metric(n, "mamori_forward_lag_records") == 0 && hostile.Metric(n, `mamori_retention_deleted_total{table="syslog_messages"}`) > 0
	})
	time.Sleep(2500 * time.Millisecond) // a retention run after the last batch
	var out struct{ Messages []struct{ ID int64 } }
	if code, err := n.Do(http.MethodGet, "/api/v1/syslog?limit=100000", nil, &out); code != 200 {
		t.Fatalf("list syslog: HTTP %d %v", code, err)
	}
	growth := hostile.DirBytes(dir) - before
	limited := hostile.Dropped(n, "udp_rate_syslog")
	deleted := hostile.Metric(n, `mamori_retention_deleted_total{table="syslog_messages"}`)
	t.Logf("sent %d datagrams: %v refused by the rate limit, %d stored, %v deleted by retention, %d kept; data dir +%s",
		sent, limited, stored(), deleted, len(out.Messages), hostile.MiB(growth))
	if limited == 0 {
		t.Error("no datagram refused by the per-source rate limit")
	}
	// 2 MiB at about 140 bytes a row (columns and overhead) is ~15,000 rows.
	if len(out.Messages) > 16000 || deleted == 0 {
		t.Errorf("%d messages kept, %v deleted: retention did not hold 2 MiB", len(out.Messages), deleted)
	}
	if growth > 96<<20 {
		t.Errorf("data directory grew by %s", hostile.MiB(growth))
	}
}

// SNMPv3 discovery requests (as a spoofer sends them, to make the
// receiver answer a victim) are answered a few per second, not one
// report per request.
func TestHostileDiscoveryReports(t *testing.T) {
	skipShort(t)
	n := newSingle(t, cluster.Options{})
	answers := hostile.DiscoveryFlood(n.SNMPTrap, subnetOf(n)+".60", 500)
	t.Logf("500 discovery requests in 0.5 s: %d reports", answers)
	if answers == 0 || answers > 20 {
		t.Fatalf("%d reports for 500 requests, want 1..20", answers)
	}
	if v := hostile.Dropped(n, "v3_report_limited"); v == 0 {
		t.Error("unanswered discovery requests were not counted")
	}
}
