package pkgtest

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Two servers installed from the .deb, each a clean root in its own
// network namespace joined by a veth pair, are paired through the API
// the way the wizard does it and reach a healthy pair.
func TestInstallToPaired(t *testing.T) {
	d := installToPaired(t)
	t.Logf("BENCH install_to_paired_s %.1f s", d.Seconds())
}

// BenchmarkInstallToPaired prints the time from the first `dpkg -i` to a
// healthy pair (one active, one standby, two voters, replication caught up).
func BenchmarkInstallToPaired(b *testing.B) {
	var total time.Duration
	for range b.N {
		total += installToPaired(b)
	}
	fmt.Printf("BENCH install_to_paired_s %.1f s\n", total.Seconds()/float64(b.N))
}

func installToPaired(t testing.TB) time.Duration {
	need(t, true, "ip")
	p := buildPackages(t, "")
	nn := cluster.NewNetns(t)
	nsA, nsB := nn.Host("a"), nn.Host("b")
	nn.Link(nsA, "mmpa", "10.213.0.1/24", nsB, "mmpb", "10.213.0.2/24")
	prepareNetns(t, nsA)
	prepareNetns(t, nsB)
	rA, rB := newRoot(t), newRoot(t) // two clean servers, before the clock starts
	rA.mount(t)                      // mamori re-executes itself after pairing (/proc/self/exe)
	rB.mount(t)

	start := time.Now()
	apps := map[string]*appliance{}
	for _, n := range []struct {
		name, ip, ns string
		r            *root
	}{{"mamori-a", "10.213.0.1", nsA, rA}, {"mamori-b", "10.213.0.2", nsB, rB}} {
		n.r.install(t, p.deb)
		configure(t, n.r, n.name, n.ip)
		apps[n.name] = startAppliance(t, n.r, n.ns, "127.0.0.1:8443")
	}
	a, b := apps["mamori-a"], apps["mamori-b"]
	a.waitUp(60 * time.Second)
	b.waitUp(60 * time.Second)
	t.Logf("both installed and answering after %s", time.Since(start).Round(time.Millisecond))

	// The founder's wizard: its setup token, the administrator, a pairing code.
	tokA, _ := a.setupToken()
	const user, password = "admin", "correct horse battery staple"
	if code, err := a.do("", http.MethodPost, "/api/v1/setup/admin", map[string]string{"token": tokA, "user": user, "password": password}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/setup/admin on a: HTTP %d %v", code, err)
	}
	var login struct {
		Token string `json:"token"`
	}
	if code, err := a.do("", http.MethodPost, "/api/v1/login", map[string]string{"user": user, "password": password}, &login); code != 200 || login.Token == "" {
		t.Fatalf("login on a: HTTP %d %v", code, err)
	}
	var pc struct {
		Code        string `json:"code"`
		PeerAddress string `json:"peer_address"`
	}
	if code, err := a.do(login.Token, http.MethodPost, "/api/v1/pair/code", map[string]int{"ttl_seconds": 600}, &pc); code != 200 || pc.Code == "" {
		t.Fatalf("pairing code on a: HTTP %d %+v %v", code, pc, err)
	}
	// The second's wizard: its own setup token, the founder's address and code.
	tokB, _ := b.setupToken()
	join := map[string]string{"token": tokB, "peer": "10.213.0.1:8443", "code": pc.Code}
	var pv struct {
		Fingerprint string `json:"fingerprint"`
	}
	if code, err := b.do("", http.MethodPost, "/api/v1/setup/pair/preview", join, &pv); code != 200 || pv.Fingerprint == "" {
		t.Fatalf("pair preview on b: HTTP %d %+v %v", code, pv, err)
	}
	join["fingerprint"] = pv.Fingerprint
	if code, err := b.do("", http.MethodPost, "/api/v1/setup/pair/join", join, nil); code != http.StatusAccepted {
		t.Fatalf("pair join on b: HTTP %d %v", code, err)
	}
	waitHealthyPair(t, a, b, 120*time.Second)
	d := time.Since(start)
	t.Logf("dpkg -i to a healthy pair: %s", d.Round(time.Millisecond))
	return d
}

// configure sets what the README asks a user to set on each server: the
// address the peer reaches it on (and a name: both roots share the host name).
func configure(t testing.TB, r *root, id, ip string) {
	t.Helper()
	cfg := r.path("/etc/mamori/mamori.yaml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "  # id: mamori-a\n", "  id: "+id+"\n", 1)
	s = strings.Replace(s, "  address: 127.0.0.1\n", "  address: "+ip+"\n", 1)
	if !strings.Contains(s, "  id: "+id+"\n") || !strings.Contains(s, "  address: "+ip+"\n") {
		t.Fatalf("packaging/mamori.yaml no longer has the node.id and node.address lines this test sets")
	}
	if err := os.WriteFile(cfg, []byte(s), 0o640); err != nil {
		t.Fatal(err)
	}
}

// waitHealthyPair waits until a is active and b standby, a's store has
// both as voters, b reaches a and replication is caught up.
func waitHealthyPair(t testing.TB, a, b *appliance, timeout time.Duration) {
	t.Helper()
	var sa, sb ha.Status
	var errA, errB error
	healthy := func() bool {
		_, errA = a.do(asNode, http.MethodGet, "/api/v1/cluster", nil, &sa)
		_, errB = b.do(asNode, http.MethodGet, "/api/v1/cluster", nil, &sb)
		voters := 0
		for _, s := range sa.Store.Servers {
			if s.Voter {
				voters++
			}
		}
		return errA == nil && errB == nil && sa.Role == ha.Active && sb.Role == ha.Standby &&
			voters == 2 && sb.Peer != nil && sb.Peer.Reachable && sa.Peer != nil && sa.Peer.Reachable && sb.LagEntries <= 10
	}
	deadline := time.Now().Add(timeout)
	for !healthy() {
		if time.Now().After(deadline) {
			t.Fatalf("no healthy pair within %s:\na: %+v %v\nb: %+v %v", timeout, sa, errA, sb, errB)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
