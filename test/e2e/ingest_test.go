package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

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

// A numbered stream of syslog messages and traps (v2c, v3 authPriv,
// informs) sent to both appliances while the active is killed half-way:
// every item is stored exactly once on the new active, and stays so after
// the old active returns, recovers and drains its own spool.
func TestLosslessAcrossKill(t *testing.T) {
	skipShort(t)
	needSenders(t)
	sub := cluster.Subnet()
	o := cluster.Options{SNMPYAML: usmYAML}
	a := cluster.NewNode(t, "a", sub+".1", o)
	b := cluster.NewNode(t, "b", sub+".2", o)
	cluster.Pair(t, a, b)
	watchSession(t, a, b)
	createUSMCredentials(t, a)
	time.Sleep(3 * time.Second) // both appliances open the USM keys every 2 s
	s := &stream{t: t, syslog: []string{a.SyslogUDP, b.SyslogUDP}, traps: []string{a.SNMPTrap, b.SNMPTrap}, nSyslog: 3000, nTraps: 150}
	s.run(a.Kill, 0)
	b.WaitRole(ha.Active, 30*time.Second)
	s.mustSettle(t, b, "after the kill")
	checkTrapDetails(t, b)

	// The old active returns, recovers, and forwards what its spool still
	// holds: all of it is already stored, so nothing may be added.
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	recoverAndDrain(t, a)
	s.mustHold(t, b, "after the old active drained its spool")
	sameData(t, a, b)
	// The operator sees the receive path in `mamori status`.
	if out, err := a.CLI("status"); err != nil || !strings.Contains(out, "0 records waiting to be forwarded to b") {
		t.Errorf("status of the recovered standby: %v\n%s", err, out)
	}
	m := metrics(t, b)
	for _, want := range []string{"mamori_syslog_received_total 3000", "mamori_snmptrap_received_total 150", "mamori_forward_lag_records 0",
		"mamori_spool_refused_total 0", `mamori_ingest_dropped_total{reason="v3_auth"} 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("b's metrics lack %q", want)
		}
	}
}

// waitDrained waits until n's forwarder has delivered its whole spool.
func waitDrained(t *testing.T, n *cluster.Node) {
	t.Helper()
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		return strings.Contains(metrics(t, n), "mamori_forward_lag_records 0\n")
	}) {
		t.Fatalf("%s's spool never drained", n.Name)
	}
}

// The same stream while the standby is killed half-way: the active keeps
// storing (it re-forms alone after the detection time) and the returning
// standby's spool adds nothing twice.
func TestLosslessStandbyKilled(t *testing.T) {
	skipShort(t)
	needSenders(t)
	sub := cluster.Subnet()
	o := cluster.Options{SNMPYAML: usmYAML}
	a := cluster.NewNode(t, "a", sub+".1", o)
	b := cluster.NewNode(t, "b", sub+".2", o)
	cluster.Pair(t, a, b)
	watchSession(t, a, b)
	createUSMCredentials(t, a)
	time.Sleep(3 * time.Second)
	s := &stream{t: t, syslog: []string{a.SyslogUDP, b.SyslogUDP}, traps: []string{a.SNMPTrap, b.SNMPTrap}, nSyslog: 3000, nTraps: 150}
	s.run(b.Kill, 1)
	s.mustSettle(t, a, "standby killed")
	b.Start()
	b.WaitRole(ha.Stale, 30*time.Second)
	recoverAndDrain(t, b)
	s.mustHold(t, a, "after the standby drained its spool")
	sameData(t, a, b)
}

// The same stream, senders on their own test host, while the active's
// links are cut (network namespaces): the isolated active fences, the
// standby takes over and stores everything; once the links are back and
// the old active recovered, its spool adds nothing twice.
func TestLosslessActiveLinkCut(t *testing.T) {
	skipShort(t)
	needSenders(t)
	tp := newTopology(t)
	o := cluster.Options{Witness: []string{"10.77.2.3"}, SNMPYAML: usmYAML}
	oa, ob := o, o
	oa.Netns, ob.Netns = tp.a, tp.b
	a := cluster.NewNode(t, "a", "10.77.1.1", oa)
	b := cluster.NewNode(t, "b", "10.77.1.2", ob)
	cluster.Pair(t, a, b)
	watchSession(t, a, b)
	createUSMCredentials(t, a)
	time.Sleep(3 * time.Second)
	s := &stream{t: t, netns: tp.w, syslog: []string{"10.77.2.1:514", "10.77.2.2:514"}, traps: []string{"10.77.2.1:162", "10.77.2.2:162"},
		nSyslog: 3000, nTraps: 150}
	s.run(func() {
		tp.net.SetLink(tp.a, "ab", false)
		tp.net.SetLink(tp.a, "as", false)
	}, 0)
	b.WaitRole(ha.Active, 30*time.Second)
	s.mustSettle(t, b, "active cut off")
	tp.net.SetLink(tp.a, "ab", true)
	tp.net.SetLink(tp.a, "as", true)
	// Settled: stale, or standby replicating from b (a standby still
	// waiting for an election is on its way to one of the two).
	cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		st, err := a.Status()
		return err == nil && (st.Role == ha.Stale || st.Role == ha.Standby && st.Store.LeaderID == "b")
	})
	recoverAndDrain(t, a)
	s.mustHold(t, b, "after the old active drained its spool")
	sameData(t, a, b)
}
