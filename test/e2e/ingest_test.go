package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// sender is one util-linux logger process sending stdin lines to a node.
type sender struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startLogger(t *testing.T, addr string) *sender {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	// notime: both senders emit byte-identical messages, as a device
	// sending one message to both appliances does.
	cmd := exec.Command("logger", "-n", host, "-P", port, "-d", "--rfc5424=notime,notq", "-t", "numbered")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &sender{cmd: cmd, stdin: in}
}

func (s *sender) stop() { s.stdin.Close(); _ = s.cmd.Wait() }

// syslogCounts returns how often each numbered message is stored on n.
func syslogCounts(t *testing.T, n *cluster.Node) map[string]int {
	t.Helper()
	var out struct {
		Messages []struct{ Text string }
	}
	if code, err := n.Do(http.MethodGet, "/api/v1/syslog?limit=100000", nil, &out); code != 200 {
		t.Fatalf("list syslog on %s: HTTP %d %v", n.Name, code, err)
	}
	c := map[string]int{}
	for _, m := range out.Messages {
		if strings.HasPrefix(m.Text, "msg-") {
			c[m.Text]++
		}
	}
	return c
}

func lossAndDup(c map[string]int, n int) (lost, dup int) {
	for i := range n {
		switch k := c[fmt.Sprintf("msg-%05d", i)]; {
		case k == 0:
			lost++
		case k > 1:
			dup += k - 1
		}
	}
	return
}

// A numbered stream sent to both appliances while the active is killed
// half-way: every message is stored exactly once on the new active, and
// stays so after the old active returns and drains its own spool.
func TestSyslogLosslessAcrossKill(t *testing.T) {
	skipShort(t)
	if _, err := exec.LookPath("logger"); err != nil {
		t.Skip("logger (util-linux) is not installed")
	}
	const total = 2000
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	b := cluster.NewNode(t, "b", sub+".2", cluster.Options{})
	cluster.Pair(t, a, b)
	sa, sb := startLogger(t, a.SyslogUDP), startLogger(t, b.SyslogUDP)
	for i := range total {
		line := fmt.Sprintf("msg-%05d\n", i)
		if i == total/2 {
			a.Kill()
		}
		if i < total/2 {
			_, _ = io.WriteString(sa.stdin, line)
		}
		if _, err := io.WriteString(sb.stdin, line); err != nil {
			t.Fatalf("sender to b: %v", err)
		}
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	sa.stop()
	sb.stop()
	b.WaitRole(ha.Active, 30*time.Second)

	var lost, dup int
	cluster.WaitFor(t.Context(), 60*time.Second, func() bool {
		lost, dup = lossAndDup(syslogCounts(t, b), total)
		return lost == 0
	})
	t.Logf("after the kill: lost=%d duplicated=%d", lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("lost=%d duplicated=%d", lost, dup)
	}

	// The old active returns, recovers, and forwards what its spool still
	// holds: all of it is already stored, so nothing may be added.
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	if out, err := a.CLI("recover"); err != nil {
		t.Fatalf("recover: %v\n%s", err, out)
	}
	a.WaitRole(ha.Standby, 20*time.Second)
	time.Sleep(3 * time.Second) // let a's forwarder drain its spool to b
	lost, dup = lossAndDup(syslogCounts(t, b), total)
	fmt.Printf("lost=%d duplicated=%d\n", lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("after the old active drained its spool: lost=%d duplicated=%d", lost, dup)
	}
	sameData(t, a, b)
	m := metrics(t, b)
	for _, want := range []string{"mamori_syslog_received_total 2000", "mamori_forward_lag_records 0", "mamori_spool_refused_total 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("b's metrics lack %q", want)
		}
	}
}
