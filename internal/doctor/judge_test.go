package doctor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/store"
)

// writeCert writes a self-signed certificate valid from notBefore to notAfter.
func writeCert(t *testing.T, path string, notBefore, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCertificates(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	day := 24 * time.Hour
	writeCert(t, filepath.Join(dir, "good.crt"), now.Add(-day), now.Add(400*day))
	writeCert(t, filepath.Join(dir, "soon.crt"), now.Add(-day), now.Add(10*day))
	writeCert(t, filepath.Join(dir, "expired.crt"), now.Add(-10*day), now.Add(-day))
	writeCert(t, filepath.Join(dir, "future.crt"), now.Add(day), now.Add(10*day))
	if err := os.WriteFile(filepath.Join(dir, "junk.crt"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file     string
		required bool
		level    Level
		says     string
	}{
		{"good.crt", false, OK, "valid until 2028-01-05"},
		{"soon.crt", false, Warn, "expires in 10 days (2026-12-11) — renew"},
		{"expired.crt", false, Fail, "expired on 2026-11-30 — renew"},
		{"future.crt", false, Fail, "not valid before"},
		{"junk.crt", false, Fail, "no PEM certificate"},
		{"missing.crt", false, Warn, "start mamori once"},
		{"missing.crt", true, Fail, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r := Certificates([]CertFile{{Name: "cert", Path: filepath.Join(dir, c.file), Renew: "renew", Required: c.required}}, now)[0]
			if r.Level != c.level || !strings.Contains(r.Line(), c.says) {
				t.Errorf("got %q, want %s saying %q", r.Line(), c.level, c.says)
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	root := ProcessInfo{Who: "mamori", UID: 0, GID: 0, CapEff: 1<<CapNetBindService | 1<<CapNetRaw}
	user := ProcessInfo{Who: "mamori", UID: 998, GID: 998}
	cases := []struct {
		name string
		in   CapsInput
		want []Level // bind, icmp, net_admin
		says string
	}{
		{"packaged unit", CapsInput{Proc: root, LowestPort: 162, UnprivilegedPortStart: 1024, PingGroups: [2]int{1, 0}, WitnessICMP: true}, []Level{OK, OK, OK}, ""},
		{"no bind capability", CapsInput{Proc: user, LowestPort: 162, UnprivilegedPortStart: 1024, PingGroups: [2]int{0, 2147483647}}, []Level{Fail, OK, OK}, "CAP_NET_BIND_SERVICE"},
		{"sysctl lowers the privileged ports", CapsInput{Proc: user, LowestPort: 162, UnprivilegedPortStart: 0, PingGroups: [2]int{0, 2147483647}}, []Level{OK, OK, OK}, ""},
		{"witness needs ICMP", CapsInput{Proc: user, LowestPort: 2000, UnprivilegedPortStart: 1024, PingGroups: [2]int{1, 0}, WitnessICMP: true}, []Level{OK, Fail, OK}, "standby never takes over"},
		{"ping monitors only", CapsInput{Proc: user, LowestPort: 2000, UnprivilegedPortStart: 1024, PingGroups: [2]int{1, 0}}, []Level{OK, Warn, OK}, "ping monitors fail"},
		{"service address without NET_ADMIN", CapsInput{Proc: root, LowestPort: 2000, UnprivilegedPortStart: 1024, ServiceAddress: true}, []Level{OK, OK, Fail}, "CAP_NET_ADMIN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Capabilities(c.in)
			for i, l := range c.want {
				if r[i].Level != l {
					t.Errorf("line %d: %q, want %s", i, r[i].Line(), l)
				}
			}
			if c.says != "" && !strings.Contains(lines(r), c.says) {
				t.Errorf("does not say %q:\n%s", c.says, lines(r))
			}
		})
	}
}

func TestReadProcess(t *testing.T) {
	dir := t.TempDir()
	status := "Name:\tmamori\nUid:\t998\t998\t998\t998\nGid:\t997\t997\t997\t997\nCapEff:\t0000000000003400\n"
	if err := os.MkdirAll(filepath.Join(dir, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "42", "status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := ReadProcess(dir, 42, "mamori")
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != 998 || p.GID != 997 || !p.Has(CapNetBindService) || !p.Has(CapNetAdmin) || !p.Has(CapNetRaw) || p.Has(0) {
		t.Errorf("got %+v", p)
	}
}

func TestReceiveBufferAndDisk(t *testing.T) {
	if r := ReceiveBuffer(4<<20, ProcessInfo{Who: "mamori"}, true); r.Level != Warn || !strings.Contains(r.Action, "60-mamori.conf") {
		t.Errorf("4 MiB: %q", r.Line())
	}
	if r := ReceiveBuffer(16<<20, ProcessInfo{}, true); r.Level != OK {
		t.Errorf("16 MiB: %q", r.Line())
	}
	if r := ReceiveBuffer(4<<20, ProcessInfo{CapEff: 1 << CapNetAdmin}, true); r.Level != OK {
		t.Errorf("forced: %q", r.Line())
	}
	const gib = 1 << 30
	cases := []struct {
		name         string
		avail, total uint64
		spool        int64
		want         []Level
	}{
		{"plenty", 50 * gib, 100 * gib, 0, []Level{OK, OK}},
		{"under 10 %", 9 * gib, 100 * gib, 0, []Level{Warn, OK}},
		{"under 2 GiB", 1 * gib, 5 * gib, 0, []Level{Warn, OK, Warn}},
		{"under 2 %", 1 * gib, 100 * gib, 0, []Level{Fail, OK, Warn}},
		{"spool half full", 50 * gib, 100 * gib, 1 * gib, []Level{OK, Warn}},
		{"spool nearly full", 50 * gib, 100 * gib, 19 * gib / 10, []Level{OK, Fail}},
		{"spool may outgrow the disk", 3 * gib / 2, 10 * gib, 0, []Level{Warn, OK, Warn}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Disk(DiskInput{Dir: "/var/lib/mamori", Avail: c.avail, Total: c.total, SpoolBytes: c.spool, SpoolMaxBytes: 2 * gib})
			if len(r) != len(c.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(r), len(c.want), lines(r))
			}
			for i, l := range c.want {
				if r[i].Level != l {
					t.Errorf("line %d: %q, want %s", i, r[i].Line(), l)
				}
			}
		})
	}
}

func pairStatus(role ha.Role, offsetMs float64, up ...bool) ha.Status {
	st := ha.Status{NodeID: "a", Role: role, Epoch: 3, Reason: "r",
		Store: store.Status{Open: true, RaftState: "leader", LeaderID: "a", Servers: []store.Server{{ID: "a", Voter: true}, {ID: "b", Voter: true}}},
		Peer:  &ha.PeerStatus{ID: "b"}}
	for i, u := range up {
		st.Peer.Paths = append(st.Peer.Paths, ha.PathStatus{Addr: "10.0.0." + string(rune('1'+i)) + ":8443", Up: u, RTTms: 0.4, Error: map[bool]string{false: "timeout"}[u]})
		if u {
			st.Peer.ClockOffsetMs = &offsetMs
		}
	}
	return st
}

func TestCluster(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name  string
		in    ClusterInput
		fails int
		says  []string
	}{
		{"healthy", ClusterInput{Status: pairStatus(ha.Active, 3, true, true)}, 0, []string{"OK   clock: b's clock differs by 3ms", "OK   store: leader, 2 voters", "OK   service address: not configured"}},
		{"one path down", ClusterInput{Status: pairStatus(ha.Active, 3, true, false)}, 0, []string{"WARN peer: b unreachable on 10.0.0.2:8443 (other paths up)"}},
		{"peer gone", ClusterInput{Status: pairStatus(ha.Active, 0, false, false)}, 2, []string{"FAIL peer: b unreachable on 10.0.0.1:8443: timeout — is mamori running on b", "WARN clock: clock difference to b unknown"}},
		{"clock 2 s", ClusterInput{Status: pairStatus(ha.Active, -2000, true)}, 0, []string{"WARN clock: b's clock differs by -2s", "NTP"}},
		{"clock 6 s", ClusterInput{Status: pairStatus(ha.Standby, 6000, true)}, 1, []string{"FAIL clock: b's clock differs by 6s"}},
		{"stale", ClusterInput{Status: pairStatus(ha.Stale, 0, true)}, 1, []string{"FAIL role: a is stale", "mamori recover"}},
		{"active holds the service address", ClusterInput{Status: pairStatus(ha.Active, 0, true), Service: ServiceAddress{"10.0.0.10/24", "eth0"}, Held: &yes}, 0, []string{"OK   service address: this active holds 10.0.0.10/24 on eth0"}},
		{"active lacks the service address", ClusterInput{Status: pairStatus(ha.Active, 0, true), Service: ServiceAddress{"10.0.0.10/24", "eth0"}, Held: &no}, 1, []string{"FAIL service address: this appliance is active but does not hold"}},
		{"standby holds the service address", ClusterInput{Status: pairStatus(ha.Standby, 0, true), Service: ServiceAddress{"10.0.0.10/24", "eth0"}, Held: &yes}, 1, []string{"FAIL service address: this appliance is standby but holds", "ip addr del 10.0.0.10/24 dev eth0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Cluster(c.in)
			out := lines(r)
			if r.Count(Fail) != c.fails {
				t.Errorf("%d FAIL, want %d:\n%s", r.Count(Fail), c.fails, out)
			}
			for _, s := range c.says {
				if !strings.Contains(out, s) {
					t.Errorf("does not say %q:\n%s", s, out)
				}
			}
		})
	}
	lone := pairStatus(ha.Active, 0, false)
	lone.Store.Servers = lone.Store.Servers[:1]
	if out := lines(Cluster(ClusterInput{Status: lone})); !strings.Contains(out, "WARN store: leader, 1 voters") {
		t.Errorf("a store without the peer as voter is not flagged:\n%s", out)
	}
}

func TestReportExit(t *testing.T) {
	r := Report{ok("a", "fine"), warn("b", "look", "meh")}
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	if r.Failed() || !strings.HasSuffix(b.String(), "healthy, with 1 WARN to look at\n") || !strings.Contains(b.String(), "WARN b: meh — look\n") {
		t.Errorf("WARN alone: failed %v\n%s", r.Failed(), b.String())
	}
	r = append(r, fail("c", "fix", "broken"))
	if !r.Failed() || !strings.Contains(r.Summary(), "1 FAIL") {
		t.Errorf("a FAIL does not fail: %s", r.Summary())
	}
}

func lines(r Report) string {
	var b strings.Builder
	_ = r.Write(&b)
	return b.String()
}

func TestUnitProcess(t *testing.T) {
	unit, err := os.ReadFile("../../packaging/mamori.service")
	if err != nil {
		t.Fatal(err)
	}
	p := UnitProcess(string(unit), "/lib/systemd/system/mamori.service")
	// The unit grants CAP_NET_ADMIN; `mamori serve` drops it at start
	// unless ha.service_address is set (internal/caps).
	if !p.Has(CapNetBindService) || !p.Has(CapNetRaw) || !p.Has(CapNetAdmin) || p.UID == 0 {
		t.Errorf("the packaged unit: %+v", p)
	}
	root := UnitProcess("[Service]\nExecStart=/usr/bin/mamori serve\n", "x")
	if root.UID != 0 || !root.Has(CapNetAdmin) {
		t.Errorf("a unit without User runs as root with every capability: %+v", root)
	}
	bounded := UnitProcess("[Service]\nCapabilityBoundingSet=CAP_NET_RAW\n", "x")
	if !bounded.Has(CapNetRaw) || bounded.Has(CapNetBindService) {
		t.Errorf("root bounded to CAP_NET_RAW: %+v", bounded)
	}
}
