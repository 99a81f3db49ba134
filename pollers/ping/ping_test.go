package ping

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params/paramstest"
)

func item(t testing.TB, r check.Result, key string) check.Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Key == key {
			return it
		}
	}
	t.Fatalf("no item %q in %+v (raw %q, err %v)", key, r.Items, r.Raw, r.Err)
	return check.Item{}
}

func runCheck(ctx context.Context, address, params string) check.Result {
	return Checker{}.Check(ctx, check.Env{}, check.Target{NodeID: "n1", Address: address}, json.RawMessage(params))
}

func TestValidate(t *testing.T) {
	paramstest.Validate(t, Checker{}, []paramstest.Case{
		{"defaults", `{}`, `{"count":3,"interval":"500ms","timeout":"1s","size":24,"socket":"auto"}`, ""},
		{"empty", ``, `{"count":3,"interval":"500ms","timeout":"1s","size":24,"socket":"auto"}`, ""},
		{"set", `{"count":5,"interval":"20ms","timeout":"2s","socket":"raw"}`, `{"count":5,"interval":"20ms","timeout":"2s","size":24,"socket":"raw"}`, ""},
		{"zero count", `{"count":0}`, "", "count: 0 is out of range"},
		{"bare number", `{"interval":5}`, "", "a duration is a string"},
		{"bad duration", `{"timeout":"fast"}`, "", `"fast" is not a duration`},
		{"unknown field", `{"cout":3}`, "", `unknown field "cout"`},
		{"short timeout", `{"timeout":"1ms"}`, "", "timeout: 1ms is out of range"},
		{"not an object", `[1]`, "", "cannot unmarshal array"},
		{"bad socket", `{"socket":"udp"}`, "", `socket: "udp": use auto, datagram or raw`},
	})
}

func TestLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: the raw ICMP socket needs root (make test runs as root)")
	}
	r := runCheck(context.Background(), "127.0.0.1", `{"count":3,"interval":"20ms"}`)
	if r.Err != nil {
		t.Fatalf("check failed: %v (raw %q)", r.Err, r.Raw)
	}
	loss, rtt := item(t, r, ItemLoss), item(t, r, ItemRTT)
	if loss.Number == nil || *loss.Number != 0 {
		t.Fatalf("loss = %+v, want 0", loss)
	}
	if rtt.Number == nil || *rtt.Number <= 0 || *rtt.Number > 100 {
		t.Fatalf("rtt = %+v, want a loopback RTT in (0, 100] ms", rtt)
	}
	if !strings.Contains(r.Raw, "via "+autoSocket(t)) || !strings.Contains(r.Raw, "3 sent, 3 received") {
		t.Fatalf("raw = %q", r.Raw)
	}
}

// TestDeadTarget: a routed address nobody answers is a total loss with
// the RTT unknown, not a failed check (loss thresholds judge it), on
// either socket.
func TestDeadTarget(t *testing.T) {
	ns := deadNetns(t)
	sysctl(t, ns, "net.ipv4.ping_group_range=0 0")
	for _, sock := range []string{SocketRaw, SocketDatagram} {
		t.Run(sock, func(t *testing.T) {
			var r check.Result
			start := time.Now()
			inNetns(t, ns, func() {
				r = runCheck(context.Background(), "10.77.0.2", `{"count":3,"interval":"50ms","timeout":"300ms","socket":"`+sock+`"}`)
			})
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("took %s, want about 400ms (2 intervals + 1 timeout)", took)
			}
			if r.Err != nil {
				t.Fatalf("check failed: %v", r.Err)
			}
			if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 100 {
				t.Fatalf("loss = %+v, want 100", loss)
			}
			if rtt := item(t, r, ItemRTT); rtt.Number != nil || !strings.Contains(rtt.Err, "no reply to 3 probes") {
				t.Fatalf("rtt = %+v, want an error", rtt)
			}
			// The same namespace answers on its own address.
			inNetns(t, ns, func() {
				r = runCheck(context.Background(), "10.77.0.1", `{"count":2,"interval":"20ms","socket":"`+sock+`"}`)
			})
			if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 0 || !strings.Contains(r.Raw, sock) {
				t.Fatalf("own address: loss = %+v (raw %q)", loss, r.Raw)
			}
		})
	}
}

// TestNoRoute: sending fails at once (network unreachable): loss 100 and
// the reason on the RTT item.
func TestNoRoute(t *testing.T) {
	ns := newNetns(t)
	sysctl(t, ns, "net.ipv4.ping_group_range=0 0")
	for _, sock := range []string{SocketRaw, SocketDatagram} {
		t.Run(sock, func(t *testing.T) {
			var r check.Result
			inNetns(t, ns, func() { r = runCheck(context.Background(), "10.78.0.2", `{"socket":"`+sock+`"}`) })
			if r.Err != nil {
				t.Fatalf("check failed: %v", r.Err)
			}
			if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 100 {
				t.Fatalf("loss = %+v, want 100", loss)
			}
			if rtt := item(t, r, ItemRTT); !strings.Contains(rtt.Err, "unreachable") {
				t.Fatalf("rtt = %+v, want network unreachable", rtt)
			}
		})
	}
}

// TestDeadline: the check stops at ctx's deadline and reports what it saw.
func TestDeadline(t *testing.T) {
	ns := deadNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var r check.Result
	start := time.Now()
	inNetns(t, ns, func() { r = runCheck(ctx, "10.77.0.2", `{"count":10,"interval":"1s","timeout":"5s"}`) })
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("took %s past a 300ms deadline", took)
	}
	if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 100 {
		t.Fatalf("loss = %+v (err %v)", loss, r.Err)
	}
}

func TestNoAddress(t *testing.T) {
	if r := runCheck(context.Background(), "", `{}`); r.Err == nil || !strings.Contains(r.Err.Error(), "no address") {
		t.Fatalf("err = %v", r.Err)
	}
}

// autoSocket is the socket "auto" picks for root here: the datagram
// socket when group 0 is inside this namespace's ping_group_range.
func autoSocket(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		t.Fatalf("ping_group_range %q: %v", b, err)
	}
	if lo <= 0 && 0 <= hi {
		return "ICMP datagram socket"
	}
	return "raw ICMP socket"
}

// TestSocketChoice: in namespaces whose ping_group_range admits root or
// not, "auto" picks the datagram socket or falls back to raw, and a
// forced choice is obeyed.
func TestSocketChoice(t *testing.T) {
	admits := newNetns(t)
	sysctl(t, admits, "net.ipv4.ping_group_range=0 0")
	refuses := newNetns(t)
	sysctl(t, refuses, "net.ipv4.ping_group_range=1 0")
	cases := []struct{ name, ns, socket, want string }{
		{"auto, admitted", admits, "auto", "via ICMP datagram socket"},
		{"raw, admitted", admits, "raw", "via raw ICMP socket"},
		{"auto, refused", refuses, "auto", "via raw ICMP socket"},
		{"datagram, refused", refuses, "datagram", "needs the process's group inside net.ipv4.ping_group_range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r check.Result
			inNetns(t, c.ns, func() {
				r = runCheck(context.Background(), "127.0.0.1", `{"count":2,"interval":"20ms","socket":"`+c.socket+`"}`)
			})
			if got := r.Raw + fmt.Sprint(r.Err); !strings.Contains(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func sysctl(t *testing.T, ns, setting string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", setting).CombinedOutput(); err != nil {
		t.Fatalf("sysctl %s: %v %s", setting, err, out)
	}
}

// TestWithoutNetRaw runs this test binary again without CAP_NET_RAW (as
// a service without privileges would run): the datagram socket works
// where the group is admitted, and where it is not the error says what
// to change.
func TestWithoutNetRaw(t *testing.T) {
	if params := os.Getenv("MAMORI_PING_CHILD"); params != "" {
		r := runCheck(context.Background(), "127.0.0.1", params)
		if got, want := r.Raw+fmt.Sprint(r.Err), os.Getenv("MAMORI_PING_WANT"); !strings.Contains(got, want) {
			t.Fatalf("child: got %q, want %q", got, want)
		}
		return
	}
	admits := newNetns(t)
	sysctl(t, admits, "net.ipv4.ping_group_range=0 0")
	refuses := newNetns(t)
	sysctl(t, refuses, "net.ipv4.ping_group_range=1 0")
	cases := []struct{ ns, params, want string }{
		{admits, `{"count":2,"interval":"20ms"}`, "via ICMP datagram socket"},
		{admits, `{"socket":"raw"}`, "a raw socket needs root or CAP_NET_RAW"},
		{refuses, `{}`, "admit the process's group in net.ipv4.ping_group_range or give it CAP_NET_RAW"},
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		cmd := exec.Command("ip", "netns", "exec", c.ns, "setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw",
			bin, "-test.run=^TestWithoutNetRaw$", "-test.v")
		cmd.Env = append(os.Environ(), "MAMORI_PING_CHILD="+c.params, "MAMORI_PING_WANT="+c.want)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child %s (%s): %v\n%s", c.params, filepath.Base(bin), err, out)
		}
	}
}

func TestFields(t *testing.T) { paramstest.Fields(t, Kind(), `{}`) }

func TestLoopbackIPv6(t *testing.T) {
	if l, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skip("skipped: no IPv6 loopback here")
	} else {
		l.Close()
	}
	ns := newNetns(t)
	sysctl(t, ns, "net.ipv4.ping_group_range=0 0") // also governs ICMPv6 datagram sockets
	for _, sock := range []string{SocketRaw, SocketDatagram} {
		var r check.Result
		inNetns(t, ns, func() { r = runCheck(context.Background(), "::1", `{"count":2,"interval":"20ms","socket":"`+sock+`"}`) })
		if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 0 || !strings.Contains(r.Raw, sock) {
			t.Fatalf("%s: loss %+v, raw %q", sock, loss, r.Raw)
		}
	}
}
