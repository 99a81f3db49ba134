package e2e

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// metricValue reads one sample of the /metrics text (0 when absent).
func metricValue(m, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`)
	s := re.FindStringSubmatch(m)
	if s == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(s[1], 64)
	return v
}

// v3 traps with a wrong auth key, a wrong privacy key, an unknown user, a
// level below the configured one, and v2c traps with a wrong community
// are dropped and counted, never stored; a flood of garbage packets on
// the trap and syslog ports does not stop good traffic; a v3 inform
// (engine discovery first) is answered.
func TestTrapSecurityAndGarbageFlood(t *testing.T) {
	skipShort(t)
	needSenders(t)
	a := newSingle(t, cluster.Options{SNMPYAML: usmYAML + "    communities: [public]\n"})
	createUSMCredentials(t, a)
	time.Sleep(3 * time.Second)

	send := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	v3 := func(user, level, auth, priv string, i int) []string {
		args := []string{"-v", "3", "-e", senderEngID, "-u", user, "-l", level, "-a", "SHA-256", "-A", auth}
		if level == "authPriv" {
			args = append(args, "-x", "AES", "-X", priv)
		}
		return append(args, a.SNMPTrap, "42", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.2.1", "s", fmt.Sprintf("forged-%d", i))
	}
	for i := range 4 {
		for _, args := range [][]string{
			v3(usmUser, "authPriv", "wrong-auth-key-1", usmPrivKey, i),
			v3(usmUser, "authPriv", usmAuthKey, "wrong-priv-key-1", i),
			v3("intruder", "authPriv", usmAuthKey, usmPrivKey, i),
			v3(usmUser, "authNoPriv", usmAuthKey, "", i), // right auth key, but unencrypted
		} {
			_ = send("snmptrap", args...)
		}
		_ = send("snmptrap", "-v", "2c", "-c", "private", a.SNMPTrap, "42", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.2.1", "s", fmt.Sprintf("forged-c%d", i))
	}

	// Garbage on the trap port at 30,000 packets/s (six times the trap
	// rate mamori is built for; beyond what the decoders take, the kernel
	// drops UDP packets blindly, good or bad), and on the syslog port at
	// 2,000 packets/s (there garbage is not refused: it is kept raw, as an
	// unparsable message may be the one that matters), while good syslog
	// and traps go to the same ports.
	var stop atomic.Bool
	var flood sync.WaitGroup
	var garbage atomic.Uint64
	for _, addr := range []string{a.SNMPTrap, a.SyslogUDP} {
		flood.Go(func() {
			pace := addr == a.SyslogUDP
			c, err := net.Dial("udp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			b := make([]byte, 1500)
			for !stop.Load() {
				n := 8 + int(garbage.Load()%1400)
				_, _ = rand.Read(b[:n])
				if garbage.Load()%3 == 0 {
					// A SEQUENCE with a v1/v2c version: goes deeper into
					// the decoder. Never v3-shaped, so every v3 failure
					// counted below is one of the forged traps.
					copy(b, []byte{0x30, 0x82, byte(n >> 8), byte(n), 0x02, 0x01, byte(garbage.Load() % 2)})
				}
				_, _ = c.Write(b[:n])
				garbage.Add(1)
				switch {
				case pace:
					time.Sleep(500 * time.Microsecond)
				case garbage.Load()%300 == 0:
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	s := &stream{t: t, syslog: []string{a.SyslogUDP}, traps: []string{a.SNMPTrap}, nSyslog: 1000, nTraps: 60}
	s.run(func() {})
	// A v3 inform: snmpinform asks for this receiver's engine ID first.
	informErr := send("snmpinform", "-v", "3", "-u", usmUser, "-l", "authPriv", "-a", "SHA-256", "-A", usmAuthKey, "-x", "AES", "-X", usmPrivKey,
		"-t", "2", "-r", "1", a.SNMPTrap, "43", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.2.1", "s", "v3-inform-1")
	stop.Store(true)
	flood.Wait()
	t.Logf("garbage packets sent meanwhile: %d", garbage.Load())

	lost, dup := s.settle(t, a, 60*time.Second)
	if sys, traps, ok := counts(t, a); ok {
		t.Logf("stored: %d numbered syslog messages of %d, %d numbered traps of %d", len(sys), s.nSyslog, len(traps), s.nTraps)
	}
	if lost != 0 || dup != 0 {
		t.Fatalf("good traffic during the flood: lost=%d duplicated=%d", lost, dup)
	}
	if informErr != nil {
		t.Errorf("v3 inform not answered: %v", informErr)
	}
	var out struct {
		Traps []struct {
			Text     string
			Varbinds []struct{ Value string }
		}
	}
	if code, _ := a.Do(http.MethodGet, "/api/v1/traps?limit=100000", nil, &out); code != 200 {
		t.Fatalf("list traps: HTTP %d", code)
	}
	informs := 0
	for _, tr := range out.Traps {
		if strings.Contains(tr.Text, "forged") {
			t.Errorf("a forged or unauthorised trap was stored: %s", tr.Text)
		}
		if strings.Contains(tr.Text, "v3-inform-1") {
			informs++
		}
	}
	if informErr == nil && informs != 1 {
		t.Errorf("v3 inform stored %d times, want 1", informs)
	}
	m := a.Metrics()
	if v := metricValue(m, `mamori_ingest_dropped_total{reason="v3_auth"}`); v != 16 {
		t.Errorf("v3 authentication drops counted %v, want 16", v)
	}
	if v := metricValue(m, `mamori_ingest_dropped_total{reason="bad_community"}`); v < 4 {
		t.Errorf("wrong-community drops counted %v, want ≥ 4 (garbage may add some)", v)
	}
	if v := metricValue(m, `mamori_ingest_dropped_total{reason="malformed_trap"}`); v == 0 {
		t.Error("garbage on the trap port was not counted as malformed")
	}
	t.Logf("counted: v3_auth=%v bad_community=%v malformed=%v syslog parse errors=%v",
		metricValue(m, `mamori_ingest_dropped_total{reason="v3_auth"}`), metricValue(m, `mamori_ingest_dropped_total{reason="bad_community"}`),
		metricValue(m, `mamori_ingest_dropped_total{reason="malformed_trap"}`), metricValue(m, "mamori_ingest_parse_errors_total"))
}

// udpRecorder relays datagrams from senders to target, and the answers
// back, keeping a copy of everything the senders sent.
type udpRecorder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	sent [][]byte
}

func newUDPRecorder(t *testing.T, listen, target string) *udpRecorder {
	t.Helper()
	la, _ := net.ResolveUDPAddr("udp", listen)
	c, err := net.ListenUDP("udp", la)
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRecorder{conn: c}
	ta, _ := net.ResolveUDPAddr("udp", target)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			pkt := append([]byte(nil), buf[:n]...)
			r.mu.Lock()
			r.sent = append(r.sent, pkt)
			r.mu.Unlock()
			go func() { // one upstream socket per datagram: the answer goes back to from
				up, err := net.DialUDP("udp", nil, ta)
				if err != nil {
					return
				}
				defer up.Close()
				_, _ = up.Write(pkt)
				_ = up.SetReadDeadline(time.Now().Add(2 * time.Second))
				ans := make([]byte, 65536)
				if k, err := up.Read(ans); err == nil {
					_, _ = c.WriteToUDP(ans[:k], from)
				}
			}()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return r
}

// A v3 inform recorded on the wire and replayed after the appliance
// restarted is refused (engine boots moved on) and counted; the sender
// got its answer the first time and the inform is stored once.
func TestV3InformReplayRefused(t *testing.T) {
	skipShort(t)
	needSenders(t)
	a := newSingle(t, cluster.Options{SNMPYAML: usmYAML})
	sub := cluster.Subnet()
	createUSMCredentials(t, a)
	time.Sleep(3 * time.Second)
	relay := net.JoinHostPort(sub+".9", cluster.FreePort(t, sub+".9"))
	rec := newUDPRecorder(t, relay, a.SNMPTrap)
	if out, err := exec.Command("snmpinform", "-v", "3", "-u", usmUser, "-l", "authPriv", "-a", "SHA-256", "-A", usmAuthKey, "-x", "AES",
		"-X", usmPrivKey, "-t", "2", "-r", "1", relay, "44", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.2.1", "s", "replayed-inform").CombinedOutput(); err != nil {
		t.Fatalf("v3 inform through the relay: %v %s", err, out)
	}
	stored := func() int {
		var out struct{ Traps []struct{ Text string } }
		a.Do(http.MethodGet, "/api/v1/traps", nil, &out)
		n := 0
		for _, tr := range out.Traps {
			if strings.Contains(tr.Text, "replayed-inform") {
				n++
			}
		}
		return n
	}
	cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return stored() == 1 })
	if n := stored(); n != 1 {
		t.Fatalf("inform stored %d times, want 1", n)
	}
	a.Kill()
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	c, err := net.Dial("udp", a.SNMPTrap)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec.mu.Lock()
	for _, p := range rec.sent {
		_, _ = c.Write(p)
	}
	replayed := len(rec.sent)
	rec.mu.Unlock()
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		return metricValue(a.Metrics(), `mamori_ingest_dropped_total{reason="v3_time_window"}`) >= 1
	}) {
		var drops []string
		for _, l := range strings.Split(a.Metrics(), "\n") {
			if strings.HasPrefix(l, "mamori_ingest_dropped_total") || strings.HasPrefix(l, "mamori_snmptrap") {
				drops = append(drops, l)
			}
		}
		t.Fatalf("the replayed inform (%d datagrams) was not refused for its time window:\n%s", replayed, strings.Join(drops, "\n"))
	}
	time.Sleep(time.Second)
	if n := stored(); n != 1 {
		t.Fatalf("after the replay the inform is stored %d times, want 1", n)
	}
}
