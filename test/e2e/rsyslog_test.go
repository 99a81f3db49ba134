package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// startRsyslog runs Debian's rsyslogd with a TCP input on listen,
// forwarding everything to each target over TCP (octet-counted), with a
// disk-assisted queue per target that retries for ever: the relay
// configuration a site puts in front of its manager.
func startRsyslog(t *testing.T, listen string, targets []string) {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd is not installed (make deps installs rsyslog)")
	}
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(listen)
	conf := fmt.Sprintf("global(workDirectory=%q)\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" address=%q port=%q)\n", dir, host, port)
	for i, tg := range targets {
		th, tp, _ := net.SplitHostPort(tg)
		conf += fmt.Sprintf(`action(type="omfwd" target=%q port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
  queue.type="LinkedList" queue.filename="fwd%d" queue.size="100000" action.resumeRetryCount="-1" action.resumeInterval="1")
`, th, tp, i)
	}
	path := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", path, "-i", filepath.Join(dir, "rsyslogd.pid"))
	logf, err := os.Create(filepath.Join(dir, "rsyslogd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("rsyslogd's output:\n%s", b)
		}
	})
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatal("rsyslogd did not start listening")
	}
}

// A site's rsyslog relay forwards to both appliances over TCP; the active
// is killed half-way: every message is stored once, also after the old
// active returns (rsyslog delivers its queued copies then) and recovers.
func TestRsyslogRelayAcrossKill(t *testing.T) {
	skipShort(t)
	needSenders(t)
	a, b := newPair(t, cluster.Options{})
	watchSession(t, a, b)
	relayIP := cluster.Subnet() + ".9"
	relay := net.JoinHostPort(relayIP, cluster.FreePort(t, relayIP))
	startRsyslog(t, relay, []string{a.SyslogTCP, b.SyslogTCP})

	host, port, _ := net.SplitHostPort(relay)
	cmd := exec.Command("logger", "-T", "-n", host, "-P", port, "--octet-count", "--rfc5424=notq", "-t", "numbered")
	in, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const total = 2000
	for i := range total {
		if i == total/2 {
			a.Kill()
		}
		fmt.Fprintf(in, "msg-%05d\n", i)
		if i%50 == 49 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	in.Close()
	_ = cmd.Wait()
	b.WaitRole(ha.Active, 30*time.Second)
	s := &stream{t: t, nSyslog: total}
	s.mustSettle(t, b, "rsyslog relay, active killed")
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	recoverAndDrain(t, a)
	time.Sleep(3 * time.Second) // rsyslog retries every second: its queue for a drains into a's spool
	waitDrained(t, a)
	s.mustHold(t, b, "after rsyslog's queue for a and a's spool drained")
}
