package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// The service address's test network: appliances a and b and a client c,
// each with interface lan0 on one bridge (namespace lan).
const (
	vipAddr  = "10.214.0.10"
	vipCIDR  = vipAddr + "/24"
	vipIface = "lan0"
	vipAPI   = vipAddr + ":8443"
)

type vipNet struct {
	net     *cluster.Netns
	a, b, c string
	haYAML  string
}

func newVIPNet(t *testing.T) *vipNet {
	n := cluster.NewNetns(t)
	v := &vipNet{net: n, a: n.Host("a"), b: n.Host("b"), c: n.Host("c")}
	lan := n.Host("lan")
	n.Link(v.a, vipIface, "10.214.0.1/24", lan, "va", "")
	n.Link(v.b, vipIface, "10.214.0.2/24", lan, "vb", "")
	n.Link(v.c, vipIface, "10.214.0.100/24", lan, "vc", "")
	n.Bridge(lan, "va", "vb", "vc")
	v.haYAML = fmt.Sprintf("  service_address:\n    address: %s\n    interface: %s\n", vipCIDR, vipIface)
	return v
}

// holds says whether namespace ns has the service address on lan0.
func holds(t *testing.T, ns string) bool {
	out, err := exec.Command("ip", "-n", ns, "-4", "-o", "addr", "show", "dev", vipIface).CombinedOutput()
	if err != nil {
		t.Errorf("ip addr in %s: %v\n%s", ns, err, out)
		return false
	}
	return strings.Contains(string(out), " "+vipCIDR+" ")
}

var lladdrRE = regexp.MustCompile(`(?:link/ether|lladdr) ([0-9a-f:]{17})`)

// mac is the Ethernet address of lan0 in ns.
func mac(t *testing.T, ns string) string {
	out, _ := exec.Command("ip", "-n", ns, "-o", "link", "show", vipIface).CombinedOutput()
	m := lladdrRE.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no MAC on %s in %s: %s", vipIface, ns, out)
	}
	return m[1]
}

// neighbour is the MAC the client's neighbour cache has for the service address.
func neighbour(ns string) string {
	out, _ := exec.Command("ip", "-n", ns, "neigh", "show", vipAddr, "dev", vipIface).CombinedOutput()
	if m := lladdrRE.FindStringSubmatch(string(out)); m != nil {
		return m[1]
	}
	return strings.TrimSpace(string(out))
}

// vipSample is who held the address, and who answered the client through
// it, at one moment.
type vipSample struct {
	at, end      time.Time // the sample was taken between at and end
	holdA, holdB bool
	answer       string // node_id:role, "" when nothing answered
}

// watchVIP samples, every 100 ms until stop, which appliance holds the
// service address and who answers the client through it.
func watchVIP(t *testing.T, v *vipNet, as *cluster.Node) (stop func() []vipSample) {
	var mu sync.Mutex
	var samples []vipSample
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			s := vipSample{at: time.Now(), holdA: holds(t, v.a), holdB: holds(t, v.b)}
			if st, err := as.StatusVia(v.c, vipAPI, time.Second); err == nil {
				s.answer = st.NodeID + ":" + string(st.Role)
			}
			s.end = time.Now()
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
			select {
			case <-quit:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() []vipSample { close(quit); <-done; mu.Lock(); defer mu.Unlock(); return samples }
}

// firstAnswerFrom waits until the client reaches node id through the
// service address and returns when that was.
func firstAnswerFrom(t *testing.T, v *vipNet, as *cluster.Node, id string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		st, err := as.StatusVia(v.c, vipAPI, 500*time.Millisecond)
		if err == nil && st.NodeID == id && st.Role == ha.Active {
			return time.Now()
		}
		last = fmt.Sprintf("%+v %v", st.NodeID, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the client did not reach %s through %s within %s: last %s", id, vipAPI, timeout, last)
	return time.Time{}
}

// Service address in namespaces: a client on the same LAN reaches the
// active through it before and after kill -9 of the active, never reaches
// a standby through it, and a standby never holds it (a restarted killed
// active removes what it left behind); a graceful stop removes it.
func TestServiceAddress(t *testing.T) {
	skipShort(t)
	v := newVIPNet(t)
	o := cluster.Options{AutoRecover: true, Witness: []string{"10.214.0.100"}, HAYAML: v.haYAML}
	oa, ob := o, o
	oa.Netns, ob.Netns = v.a, v.b
	a := cluster.NewNode(t, "a", "10.214.0.1", oa)
	b := cluster.NewNode(t, "b", "10.214.0.2", ob)
	cluster.Pair(t, a, b)
	firstAnswerFrom(t, v, b, "a", 10*time.Second)
	if !holds(t, v.a) || holds(t, v.b) {
		t.Fatalf("paired, a active: a holds %v, b holds %v; want a only", holds(t, v.a), holds(t, v.b))
	}
	stop := watchVIP(t, v, b)

	// Phase 1: a active for a while.
	time.Sleep(2 * time.Second)
	killed := time.Now()
	a.Kill()
	reached := firstAnswerFrom(t, v, b, "b", 30*time.Second)
	promoted := b.WaitRole(ha.Active, time.Second).Since
	t.Logf("kill -9 of the active: b active after %s, the client reached b through %s after %s (%s after b's promotion)", promoted.Sub(killed).Round(time.Millisecond),
		vipAddr, reached.Sub(killed).Round(time.Millisecond), reached.Sub(promoted).Round(time.Millisecond))
	if got, want := neighbour(v.c), mac(t, v.b); got != want {
		t.Fatalf("client's neighbour entry for %s is %q, want b's MAC %s (gratuitous ARP)", vipAddr, got, want)
	}
	if !holds(t, v.a) {
		t.Log("note: a's namespace did not keep the address after kill -9 (expected it to)")
	}

	// Phase 2: a restarts; it removes what it left before taking a role,
	// and rejoins as standby.
	restarted := time.Now()
	a.Start()
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return !holds(t, v.a) }) {
		t.Fatalf("restarted a still holds %s after 30s", vipAddr)
	}
	released := time.Now()
	t.Logf("restarted a removed its leftover address %s after its start", released.Sub(restarted).Round(time.Millisecond))
	if len(a.Grep("service address left on the interface")) == 0 {
		t.Fatal("a's log does not say it removed a leftover service address")
	}
	a.WaitRole(ha.Standby, 90*time.Second)
	b.WaitRole(ha.Active, 5*time.Second)
	time.Sleep(2 * time.Second)
	if !holds(t, v.b) || holds(t, v.a) {
		t.Fatalf("after the heal (a standby, b active): a holds %v, b holds %v; want b only", holds(t, v.a), holds(t, v.b))
	}
	if st, err := b.StatusVia(v.c, vipAPI, 2*time.Second); err != nil || st.NodeID != "b" || st.Role != ha.Active {
		t.Fatalf("after the heal the client reaches %s:%s (%v) through %s, want b active", st.NodeID, st.Role, err, vipAddr)
	}

	// Phase 3: graceful stop of the active b: it removes the address, a takes over and adds it.
	termed := time.Now()
	if err := b.Stop(); err != nil {
		t.Fatalf("stop b: %v", err)
	}
	if holds(t, v.b) {
		t.Fatalf("b stopped by SIGTERM still holds %s", vipAddr)
	}
	reachedA := firstAnswerFrom(t, v, a, "a", 30*time.Second)
	t.Logf("SIGTERM of the active: the client reached a through %s after %s", vipAddr, reachedA.Sub(termed).Round(time.Millisecond))
	if got, want := neighbour(v.c), mac(t, v.a); got != want {
		t.Fatalf("client's neighbour entry for %s is %q, want a's MAC %s", vipAddr, got, want)
	}
	samples := stop()
	checkVIPSamples(t, samples, killed, reached, released, termed)
	// Each node's log: b added it once (promotion) and removed it once
	// (SIGTERM); a added it twice (paired, then after b's stop) and removed
	// its leftover once at restart; neither lost it on the way.
	for _, c := range []struct {
		n              *cluster.Node
		added, removed int
	}{{a, 2, 1}, {b, 1, 1}} {
		added, removed := len(c.n.Grep("msg=\"service address added\"")), len(c.n.Grep("msg=\"service address removed\""))
		if added != c.added || removed != c.removed || len(c.n.Grep("removed from the interface by someone else")) != 0 {
			t.Errorf("%s's log: service address added %d times (want %d), removed %d (want %d): %q", c.n.Name, added, c.added, removed, c.removed,
				c.n.Grep("service address"))
		}
	}
	if !holds(t, v.a) || holds(t, v.b) {
		t.Fatalf("end: a holds %v, b holds %v; want a only", holds(t, v.a), holds(t, v.b))
	}
	fmt.Fprintf(os.Stderr, "BENCH service_address_kill_to_reachable_s %.2f s\n", reached.Sub(killed).Seconds())
}

// checkVIPSamples: whoever answers through the service address is active;
// b never holds it while a is active, nor a once it has removed its
// leftover; after kill and before the restart only the leftover on a may
// coexist with b's.
func checkVIPSamples(t *testing.T, samples []vipSample, killed, reached, released, termed time.Time) {
	t.Helper()
	if len(samples) < 50 {
		t.Fatalf("only %d samples: the check proves nothing", len(samples))
	}
	answers := map[string]int{}
	for _, s := range samples {
		at := s.at.Format(time.StampMilli)
		answers[s.answer]++
		if s.answer != "" && !strings.HasSuffix(s.answer, ":"+string(ha.Active)) {
			t.Errorf("%s: the client reached %s through the service address", at, s.answer)
		}
		// within(x, y): the whole sample was taken between x and y.
		within := func(x, y time.Time) bool { return s.at.After(x) && s.end.Before(y) }
		switch {
		case within(time.Time{}, killed) && (s.holdB || !s.holdA):
			t.Errorf("%s: a active: a holds %v, b holds %v", at, s.holdA, s.holdB)
		case within(released, termed) && s.holdA:
			t.Errorf("%s: a (standby or recovering) holds the service address", at)
		case within(reached, termed) && !s.holdB:
			t.Errorf("%s..%s: b active but does not hold the service address (reached %s, stopped %s)", at, s.end.Format(time.StampMilli),
				reached.Format(time.StampMilli), termed.Format(time.StampMilli))
		}
		if within(killed, termed) && strings.HasPrefix(s.answer, "a:") {
			t.Errorf("%s: the client reached the killed or standby a through the service address", at)
		}
	}
	t.Logf("%d samples; answers through the service address: %v", len(samples), answers)
}

// capBits reads a Cap* line of /proc/<pid>/status.
func capBits(t *testing.T, pid int, field string) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(field + `:\s+([0-9a-f]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/%d/status", field, pid)
	}
	v, _ := strconv.ParseUint(string(m[1]), 16, 64)
	return v
}

const (
	capNetBindService = 10
	capNetAdmin       = 12
	capNetRaw         = 13
)

// asServiceUser runs the node as nobody with the packaged unit's ambient
// capabilities (setpriv), its files owned by nobody.
func asServiceUser(t *testing.T, n *cluster.Node) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	caps := "+net_admin,+net_raw,+net_bind_service"
	n.Wrap = []string{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=" + caps, "--ambient-caps=" + caps}
	for d := n.Dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	if out, err := exec.Command("chown", "-R", "nobody:nogroup", n.Dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
}

// The service user keeps CAP_NET_ADMIN only while a service address is
// set: without one, mamori drops it (re-executing itself) and runs with
// CAP_NET_RAW and CAP_NET_BIND_SERVICE only; with one, it holds it, adds
// the address when active and removes it when stopped.
func TestServiceAddressCapabilities(t *testing.T) {
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("running as the service user needs root to switch to it")
	}
	t.Run("without service address", func(t *testing.T) {
		n := cluster.NewNode(t, "a", cluster.Subnet()+".1", cluster.Options{})
		asServiceUser(t, n)
		n.Start()
		n.WaitRole(ha.Active, 30*time.Second)
		eff, amb := capBits(t, n.PID(), "CapEff"), capBits(t, n.PID(), "CapAmb")
		t.Logf("CapEff %016x CapAmb %016x", eff, amb)
		if eff&(1<<capNetAdmin) != 0 || amb&(1<<capNetAdmin) != 0 {
			t.Fatalf("CAP_NET_ADMIN still held without a service address: CapEff %x CapAmb %x", eff, amb)
		}
		if eff&(1<<capNetRaw) == 0 || eff&(1<<capNetBindService) == 0 {
			t.Fatalf("lost CAP_NET_RAW or CAP_NET_BIND_SERVICE: CapEff %x", eff)
		}
		if len(n.Grep("dropping CAP_NET_ADMIN")) != 1 {
			t.Fatalf("want one log line about dropping CAP_NET_ADMIN, got %q", n.Grep("CAP_NET_ADMIN"))
		}
	})
	t.Run("with service address", func(t *testing.T) {
		v := newVIPNet(t)
		n := cluster.NewNode(t, "a", "10.214.0.1", cluster.Options{Netns: v.a, Witness: []string{"10.214.0.100"}, HAYAML: v.haYAML})
		asServiceUser(t, n)
		n.Start()
		n.WaitRole(ha.Active, 30*time.Second)
		if eff := capBits(t, n.PID(), "CapEff"); eff&(1<<capNetAdmin) == 0 {
			t.Fatalf("CAP_NET_ADMIN dropped although a service address is set: CapEff %x", eff)
		}
		firstAnswerFrom(t, v, n, "a", 10*time.Second)
		if got, want := neighbour(v.c), mac(t, v.a); got != want {
			t.Fatalf("client's neighbour entry for %s is %q, want %s", vipAddr, got, want)
		}
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
		if holds(t, v.a) {
			t.Fatalf("the service address is still on %s after a graceful stop", vipIface)
		}
	})
}

// A fenced active gives the service address up: the active cut off from
// its peer and the witness address (its only link down) fences itself
// and removes the address while the standby takes over and adds it; back
// on the network, it rejoins as standby without it.
func TestServiceAddressFenced(t *testing.T) {
	skipShort(t)
	v := newVIPNet(t)
	o := cluster.Options{AutoRecover: true, Witness: []string{"10.214.0.100"}, HAYAML: v.haYAML}
	oa, ob := o, o
	oa.Netns, ob.Netns = v.a, v.b
	a := cluster.NewNode(t, "a", "10.214.0.1", oa)
	b := cluster.NewNode(t, "b", "10.214.0.2", ob)
	cluster.Pair(t, a, b)
	firstAnswerFrom(t, v, b, "a", 10*time.Second)

	cut := time.Now()
	v.net.SetLink(v.a, vipIface, false)
	a.WaitRole(ha.Fenced, 30*time.Second)
	// The role is reported fenced as the active work is being stopped.
	if !cluster.WaitFor(t.Context(), 2*time.Second, func() bool { return !holds(t, v.a) }) {
		t.Fatalf("fenced a still holds %s after 2s", vipAddr)
	}
	reached := firstAnswerFrom(t, v, b, "b", 30*time.Second)
	t.Logf("active cut off: a fenced and released the address; the client reached b through %s after %s", vipAddr, reached.Sub(cut).Round(time.Millisecond))

	v.net.SetLink(v.a, vipIface, true)
	a.WaitRole(ha.Standby, 90*time.Second)
	time.Sleep(time.Second)
	if holds(t, v.a) || !holds(t, v.b) {
		t.Fatalf("after the heal: a holds %v, b holds %v; want b only", holds(t, v.a), holds(t, v.b))
	}
	if st, err := b.StatusVia(v.c, vipAPI, 2*time.Second); err != nil || st.NodeID != "b" || st.Role != ha.Active {
		t.Fatalf("after the heal the client reaches %s:%s (%v), want b active", st.NodeID, st.Role, err)
	}
}
