package ping

import (
	"context"
	"encoding/json"
	"github.com/mamori-ops/mamori/pollers/params/paramstest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

func item(t *testing.T, r check.Result, key string) check.Item {
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
		{"defaults", `{}`, `{"count":3,"interval":"500ms","timeout":"1s","size":24}`, ""},
		{"empty", ``, `{"count":3,"interval":"500ms","timeout":"1s","size":24}`, ""},
		{"set", `{"count":5,"interval":"20ms","timeout":"2s"}`, `{"count":5,"interval":"20ms","timeout":"2s","size":24}`, ""},
		{"zero count", `{"count":0}`, "", "count: 0 is out of range"},
		{"bare number", `{"interval":5}`, "", "a duration is a string"},
		{"bad duration", `{"timeout":"fast"}`, "", `"fast" is not a duration`},
		{"unknown field", `{"cout":3}`, "", `unknown field "cout"`},
		{"short timeout", `{"timeout":"1ms"}`, "", "timeout: 1ms is out of range"},
		{"not an object", `[1]`, "", "cannot unmarshal array"},
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
	if !strings.Contains(r.Raw, "privileged raw ICMP socket") || !strings.Contains(r.Raw, "3 sent, 3 received") {
		t.Fatalf("raw = %q", r.Raw)
	}
}

// TestDeadTarget: a routed address nobody answers is a total loss with
// the RTT unknown, not a failed check (loss thresholds judge it).
func TestDeadTarget(t *testing.T) {
	ns := deadNetns(t)
	var r check.Result
	start := time.Now()
	inNetns(t, ns, func() {
		r = runCheck(context.Background(), "10.77.0.2", `{"count":3,"interval":"50ms","timeout":"300ms"}`)
	})
	if took := time.Since(start); took > 2*time.Second {
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
	// The same namespace answers on its own address: the probe works there.
	inNetns(t, ns, func() { r = runCheck(context.Background(), "10.77.0.1", `{"count":2,"interval":"20ms"}`) })
	if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 0 {
		t.Fatalf("own address: loss = %+v (raw %q)", loss, r.Raw)
	}
}

// TestNoRoute: sending fails at once (network unreachable): loss 100 and
// the reason on the RTT item.
func TestNoRoute(t *testing.T) {
	ns := newNetns(t)
	var r check.Result
	inNetns(t, ns, func() { r = runCheck(context.Background(), "10.78.0.2", `{}`) })
	if r.Err != nil {
		t.Fatalf("check failed: %v", r.Err)
	}
	if loss := item(t, r, ItemLoss); loss.Number == nil || *loss.Number != 100 {
		t.Fatalf("loss = %+v, want 100", loss)
	}
	if rtt := item(t, r, ItemRTT); !strings.Contains(rtt.Err, "unreachable") {
		t.Fatalf("rtt = %+v, want network unreachable", rtt)
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
	if took := time.Since(start); took > time.Second {
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

// TestUnprivilegedFallback runs this test binary again without
// CAP_NET_RAW, in a namespace whose ping_group_range admits root's group:
// the raw socket is refused and the datagram socket is used.
func TestUnprivilegedFallback(t *testing.T) {
	if os.Getenv("MAMORI_PING_CHILD") == "1" {
		r := runCheck(context.Background(), "127.0.0.1", `{"count":2,"interval":"20ms"}`)
		if r.Err != nil || !strings.Contains(r.Raw, "unprivileged ICMP datagram socket") || !strings.Contains(r.Raw, "2 received") {
			t.Fatalf("child: err %v raw %q", r.Err, r.Raw)
		}
		return
	}
	ns := newNetns(t)
	if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v %s", err, out)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw",
		bin, "-test.run=^TestUnprivilegedFallback$", "-test.v")
	cmd.Env = append(os.Environ(), "MAMORI_PING_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child (%s): %v\n%s", filepath.Base(bin), err, out)
	}
}
