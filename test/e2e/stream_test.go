package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// USM user the trap tests configure on both appliances; its keys are
// credentials created through the API.
const (
	usmUser     = "mamori-ops"
	usmAuthKey  = "auth-key-of-ops-1"
	usmPrivKey  = "priv-key-of-ops-1"
	senderEngID = "0x8000000001020304"
)

// usmYAML is the USM users of ingest.snmp (see cluster.Options.SNMPYAML).
const usmYAML = `    users:
      - name: ` + usmUser + `
        level: authPriv
        auth_protocol: SHA-256
        auth_credential: trap-auth
        priv_protocol: AES
        priv_credential: trap-priv
`

// createUSMCredentials stores the USM keys as credentials on the active.
func createUSMCredentials(t *testing.T, active *cluster.Node) {
	t.Helper()
	for name, secret := range map[string]string{"trap-auth": usmAuthKey, "trap-priv": usmPrivKey} {
		in := map[string]any{"name": name, "kind": "password", "scope": "", "secret": secret}
		var out struct{ Error string }
		if code, err := active.Do(http.MethodPost, "/api/v1/credentials", in, &out); code != 200 {
			t.Fatalf("create credential %s: HTTP %d %v %s", name, code, err, out.Error)
		}
	}
}

// stream sends a numbered stream of syslog messages (util-linux logger
// over UDP) and SNMP notifications (net-snmp snmptrap v2c, v3 authPriv
// and snmpinform, in turn) to every target, as a device configured with
// both appliances as destinations does.
type stream struct {
	t       *testing.T
	netns   string   // run senders in this namespace ("" = here)
	syslog  []string // host:port per target
	traps   []string // host:port per target
	nSyslog int
	nTraps  int
	// seconds the stream lasts (default 6).
	seconds int
}

func (s *stream) command(name string, args ...string) *exec.Cmd {
	if s.netns != "" {
		return exec.Command("ip", append([]string{"netns", "exec", s.netns, name}, args...)...)
	}
	return exec.Command(name, args...)
}

func needSenders(t *testing.T) {
	for _, c := range []string{"logger", "snmptrap", "snmpinform"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed (make deps installs util-linux and snmp)", c)
		}
	}
}

// run sends everything over about 6 s and calls disrupt once, half-way;
// after it, targets listed in cut get nothing more (they are dead or
// unreachable: what was sent to them is lost on the wire, as UDP is).
func (s *stream) run(disrupt func(), cut ...int) {
	span := 6 * time.Second
	if s.seconds > 0 {
		span = time.Duration(s.seconds) * time.Second
	}
	dead := make([]bool, len(s.syslog))
	var mu sync.Mutex
	isDead := func(i int) bool { mu.Lock(); defer mu.Unlock(); return dead[i] }

	loggers := make([]io.WriteCloser, len(s.syslog))
	var cmds []*exec.Cmd
	for i, addr := range s.syslog {
		host, port, _ := net.SplitHostPort(addr)
		// notime: both copies are byte-identical, as one device's are.
		cmd := s.command("logger", "-n", host, "-P", port, "-d", "--rfc5424=notime,notq", "-t", "numbered")
		in, err := cmd.StdinPipe()
		if err != nil {
			s.t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		loggers[i], cmds = in, append(cmds, cmd)
	}
	var wg sync.WaitGroup
	wg.Go(func() { // traps, spread over the same 6 s
		sem := make(chan struct{}, 6)
		var tw sync.WaitGroup
		for i := range s.nTraps {
			for k, addr := range s.traps {
				if isDead(k) {
					continue
				}
				sem <- struct{}{}
				tw.Go(func() { defer func() { <-sem }(); s.trap(i, addr) })
			}
			time.Sleep(span / time.Duration(s.nTraps))
		}
		tw.Wait()
	})
	for i := range s.nSyslog {
		if i == s.nSyslog/2 {
			mu.Lock()
			for _, k := range cut {
				dead[k] = true
			}
			mu.Unlock()
			disrupt()
		}
		line := fmt.Sprintf("msg-%05d\n", i)
		for k, w := range loggers {
			if !isDead(k) {
				_, _ = io.WriteString(w, line)
			}
		}
		if i%25 == 24 {
			time.Sleep(span / time.Duration(s.nSyslog/25))
		}
	}
	for _, w := range loggers {
		w.Close()
	}
	for _, c := range cmds {
		_ = c.Wait()
	}
	wg.Wait()
}

// trap sends notification i to addr: v2c trap, v3 authPriv trap, v2c
// inform or v1 trap in turn. The uptime is fixed per notification, so
// the two copies a device sends to two destinations are the same
// notification. The v1 trap (enterprise .2.3, specific 1) is the same
// notification in v1 form (RFC 3584).
func (s *stream) trap(i int, addr string) {
	uptime := fmt.Sprint(100000 + i)
	vb := []string{"1.3.6.1.4.1.8072.2.3.2.1", "s", fmt.Sprintf("trap-%05d", i)}
	var args []string
	name := "snmptrap"
	switch i % 4 {
	case 0:
		args = []string{"-v", "2c", "-c", "public", addr, uptime, "1.3.6.1.4.1.8072.2.3.0.1"}
	case 1:
		args = []string{"-v", "3", "-e", senderEngID, "-u", usmUser, "-l", "authPriv", "-a", "SHA-256", "-A", usmAuthKey,
			"-x", "AES", "-X", usmPrivKey, addr, uptime, "1.3.6.1.4.1.8072.2.3.0.1"}
	case 2:
		name, args = "snmpinform", []string{"-v", "2c", "-c", "public", "-t", "1", "-r", "1", addr, uptime, "1.3.6.1.4.1.8072.2.3.0.1"}
	case 3:
		args = []string{"-v", "1", "-c", "public", addr, "1.3.6.1.4.1.8072.2.3", "10.1.2.3", "6", "1", uptime}
	}
	if out, err := s.command(name, append(args, vb...)...).CombinedOutput(); err != nil && name != "snmpinform" {
		s.t.Logf("%s to %s: %v %s", name, addr, err, out)
	}
}

// counts returns how often each numbered syslog message and trap is
// stored on n; ok is false while n does not answer.
func counts(t *testing.T, n *cluster.Node) (sys, traps map[string]int, ok bool) {
	t.Helper()
	sys = map[string]int{}
	if n.Pages("/api/v1/syslog?limit=100000", func(b []byte) error { // answers are cut at 4 MiB: follow the cursor
		var msgs struct {
			Messages []struct{ Text string }
		}
		err := json.Unmarshal(b, &msgs)
		for _, m := range msgs.Messages {
			if strings.HasPrefix(m.Text, "msg-") {
				sys[m.Text]++
			}
		}
		return err
	}) != nil {
		return nil, nil, false
	}
	traps = map[string]int{}
	if n.Pages("/api/v1/traps?limit=100000", func(b []byte) error {
		var out struct {
			Traps []struct {
				TrapName string `json:"trap_name"`
				Varbinds []struct{ Name, Value string }
			}
		}
		err := json.Unmarshal(b, &out)
		for _, tr := range out.Traps {
			for _, v := range tr.Varbinds {
				if strings.HasPrefix(v.Value, "trap-") {
					traps[v.Value]++
				}
			}
		}
		return err
	}) != nil {
		return nil, nil, false
	}
	return sys, traps, true
}

// verdict counts lost and duplicated numbered items of both kinds
// (everything lost while n does not answer).
func (s *stream) verdict(t *testing.T, n *cluster.Node) (lost, dup int) {
	sys, traps, ok := counts(t, n)
	if !ok {
		return s.nSyslog + s.nTraps, 0
	}
	l1, d1 := lossAndDup(sys, s.nSyslog)
	for i := range s.nTraps {
		switch k := traps[fmt.Sprintf("trap-%05d", i)]; {
		case k == 0:
			lost++
		case k > 1:
			dup += k - 1
		}
	}
	return lost + l1, dup + d1
}

// missing names (up to 20 of) the items lost or duplicated on n.
func (s *stream) missing(t *testing.T, n *cluster.Node) string {
	sys, traps, ok := counts(t, n)
	if !ok {
		return "unreadable"
	}
	var out []string
	for i := range s.nSyslog {
		if k := sys[fmt.Sprintf("msg-%05d", i)]; k != 1 {
			out = append(out, fmt.Sprintf("msg-%05d×%d", i, k))
		}
	}
	for i := range s.nTraps {
		if k := traps[fmt.Sprintf("trap-%05d", i)]; k != 1 {
			out = append(out, fmt.Sprintf("trap-%05d×%d", i, k))
		}
	}
	return strings.Join(out[:min(len(out), 20)], " ")
}

// settle waits until nothing is lost on n (or the timeout) and reports.
func (s *stream) settle(t *testing.T, n *cluster.Node, timeout time.Duration) (lost, dup int) {
	cluster.WaitFor(t.Context(), timeout, func() bool {
		lost, dup = s.verdict(t, n)
		return lost == 0
	})
	return lost, dup
}

// checkTrapDetails: the stored traps came in every version the stream
// sends, carry the v3 user, and show MIB names for OIDs and varbinds.
func checkTrapDetails(t *testing.T, n *cluster.Node) {
	t.Helper()
	var out struct {
		Traps []struct {
			Version, PDU, User string
			TrapName           string `json:"trap_name"`
			Varbinds           []struct{ Name, Value string }
		}
	}
	if code, err := n.Do(http.MethodGet, "/api/v1/traps?limit=100000", nil, &out); code != 200 {
		t.Fatalf("list traps: HTTP %d %v", code, err)
	}
	seen := map[string]int{}
	for _, tr := range out.Traps {
		seen[tr.Version+"/"+tr.PDU+"/"+tr.User]++
		if tr.TrapName != "NET-SNMP-EXAMPLES-MIB::netSnmpExampleHeartbeatNotification" ||
			len(tr.Varbinds) != 1 || tr.Varbinds[0].Name != "NET-SNMP-EXAMPLES-MIB::netSnmpExampleHeartbeatRate" {
			t.Fatalf("trap without MIB names: %+v", tr)
		}
	}
	for _, k := range []string{"v1/trap/", "v2c/trap/", "v3/trap/" + usmUser, "v2c/inform/"} {
		if seen[k] == 0 {
			t.Errorf("no %s notification stored; stored: %v", k, seen)
		}
	}
}

// mustSettle waits until nothing is lost on n and fails the test if
// anything is lost or duplicated.
func (s *stream) mustSettle(t *testing.T, n *cluster.Node, when string) {
	t.Helper()
	lost, dup := s.settle(t, n, 60*time.Second)
	t.Logf("%s: lost=%d duplicated=%d", when, lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("%s: lost=%d duplicated=%d (%s)", when, lost, dup, s.missing(t, n))
	}
}

// mustHold checks, once, that nothing is lost or duplicated on n, and
// prints the verdict line.
func (s *stream) mustHold(t *testing.T, n *cluster.Node, when string) {
	t.Helper()
	lost, dup := s.verdict(t, n)
	fmt.Printf("lost=%d duplicated=%d\n", lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("%s: lost=%d duplicated=%d", when, lost, dup)
	}
}

// recoverAndDrain runs `mamori recover` on n if it is stale, waits until
// it is standby and its forwarder has delivered its whole spool.
func recoverAndDrain(t *testing.T, n *cluster.Node) {
	t.Helper()
	if st, _ := n.Status(); st.Role == ha.Stale {
		if out, err := n.CLI("recover"); err != nil {
			t.Fatalf("recover %s: %v\n%s", n.Name, err, out)
		}
	}
	n.WaitRole(ha.Standby, 30*time.Second)
	waitDrained(t, n)
}
