package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/test/cluster"
)

// netTestNow runs monitor kind/params/judgement once on node.
func netTestNow(t *testing.T, a *cluster.Node, node, kind string, params, judgement map[string]any) dataResult {
	t.Helper()
	return testNow(t, a, node, "net-"+kind, kind, params, judgement)
}

// rangesFor are thresholds that put any measured time in the wanted
// priority: below 10 s is info; for warning info is empty; for critical
// both are.
func rangesFor(want string) map[string]any {
	r := func(maxMS float64) map[string]any { return map[string]any{"max": maxMS} }
	switch want {
	case "info":
		return map[string]any{"numeric": map[string]any{"info": r(10000), "warning": r(20000)}}
	case "warning":
		return map[string]any{"numeric": map[string]any{"info": r(0), "warning": r(20000)}}
	}
	return map[string]any{"numeric": map[string]any{"info": r(0), "warning": r(0)}}
}

// Ping, HTTP(S) and TCP through the API against real targets the test
// starts: values across the thresholds give info, warning and critical;
// a target gone gives unknown with the reason. (The data kinds: see
// TestDataMonitorKinds.)
func TestNetMonitorKinds(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	dead := deadNeighbour(t)
	for id, addr := range map[string]string{"lo": "127.0.0.1", "dead": dead} {
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": id, "address": addr, "scope": "A"}, nil); code != 200 {
			t.Fatalf("node %s: HTTP %d %v", id, code, err)
		}
	}
	t.Run("ping", func(t *testing.T) {
		p := map[string]any{"count": 2, "interval": "100ms", "timeout": "1s"}
		for _, want := range []string{"info", "warning", "critical"} {
			if r := netTestNow(t, a, "lo", "ping", p, rangesFor(want)); r.Priority != want {
				t.Errorf("ping 127.0.0.1 judged for %s: %+v", want, r)
			}
		}
		// Loss judged on its own: a dead neighbour loses every reply.
		j := rangesFor("info")
		j["items"] = map[string]any{"loss_pct": map[string]any{"info": map[string]any{"max": 50}, "warning": map[string]any{"max": 100}}}
		if r := netTestNow(t, a, "lo", "ping", p, j); r.Priority != "info" {
			t.Errorf("ping 127.0.0.1 with loss thresholds: %+v", r)
		}
		r := netTestNow(t, a, "dead", "ping", p, j)
		if loss, _ := r.item("loss_pct"); r.Priority != "critical" || loss != "critical" {
			t.Errorf("ping %s (nobody answers): %+v", dead, r)
		}
		if r := netTestNow(t, a, "dead", "ping", p, rangesFor("info")); r.Priority != "unknown" {
			t.Errorf("ping %s judged by time only: %+v, want unknown (no reply, no time)", dead, r)
		}
	})
	t.Run("http", func(t *testing.T) { netHTTP(t, a) })
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		p := map[string]any{"port": ln.Addr().(*net.TCPAddr).Port}
		for _, want := range []string{"info", "warning", "critical"} {
			if r := netTestNow(t, a, "lo", "tcp", p, rangesFor(want)); r.Priority != want {
				t.Errorf("tcp connect judged for %s: %+v", want, r)
			}
		}
		ln.Close()
		if r := netTestNow(t, a, "lo", "tcp", p, rangesFor("info")); r.Priority != "unknown" || r.Error == "" {
			t.Errorf("tcp to a closed port: %+v", r)
		}
	})
}

func netHTTP(t *testing.T, a *cluster.Node) {
	var delay atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		fmt.Fprintln(w, "status: ok")
	})
	srv := httptest.NewServer(handler)
	tls := httptest.NewTLSServer(handler)
	port := func(u string) string { return u[strings.LastIndex(u, ":")+1:] }
	// Under 190 ms is info: also a guard that the status code (200, an
	// item the judgement does not name) is not judged by these thresholds.
	j := map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 190}, "warning": map[string]any{"max": 1500}}}
	p := map[string]any{"url": "http://{{address}}:" + port(srv.URL) + "/health", "pattern": "status: ok"}
	for d, want := range map[time.Duration]string{0: "info", 600 * time.Millisecond: "warning", 2 * time.Second: "critical"} {
		delay.Store(int64(d))
		if r := netTestNow(t, a, "lo", "http", p, j); r.Priority != want {
			t.Errorf("http answering after %s: %+v, want %s", d, r, want)
		}
	}
	delay.Store(0)
	// HTTPS: the certificate's days left judged on their own (httptest's
	// certificate is valid for decades: info; asking for more: critical).
	ps := map[string]any{"url": "https://{{address}}:" + port(tls.URL) + "/", "tls_verify": false}
	jc := map[string]any{"numeric": j["numeric"], "items": map[string]any{"cert_days_left": map[string]any{"info": map[string]any{"min": 30}, "warning": map[string]any{"min": 7}}}}
	if r := netTestNow(t, a, "lo", "http", ps, jc); r.Priority != "info" {
		t.Errorf("https: %+v", r)
	}
	jc["items"] = map[string]any{"cert_days_left": map[string]any{"info": map[string]any{"min": 1e6}, "warning": map[string]any{"min": 1e6}}}
	if r := netTestNow(t, a, "lo", "http", ps, jc); r.Priority != "critical" {
		t.Errorf("https with a certificate expiring too soon for the thresholds: %+v", r)
	}
	// A body that does not match fails the check: unknown, with the reason.
	p["pattern"] = "status: degraded"
	if r := netTestNow(t, a, "lo", "http", p, j); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("http body not matching: %+v", r)
	}
	p["pattern"] = "status: ok"
	srv.Close()
	tls.Close()
	if r := netTestNow(t, a, "lo", "http", p, j); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("http server gone: %+v", r)
	}
}

// deadNeighbour is an address on a veth link to a namespace this test
// creates where nobody holds it: pings and ARP go unanswered.
func deadNeighbour(t *testing.T) string {
	t.Helper()
	nn := cluster.NewNetns(t)
	ns := nn.Host("dead")
	host := "mmd" + strconv.Itoa(int(time.Now().UnixNano()%100000))
	octet := 1 + time.Now().UnixNano()%250
	run := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", host).Run() })
	run("addr", "add", fmt.Sprintf("10.253.%d.1/30", octet), "dev", host)
	run("link", "set", host, "up")
	run("-n", ns, "link", "set", "eth0", "up")
	return fmt.Sprintf("10.253.%d.2", octet)
}
