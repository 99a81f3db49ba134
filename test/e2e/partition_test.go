package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// topology: appliances a and b joined directly (link ab, 10.77.1.0/24:
// Raft, heartbeats), and all three hosts on a switch (10.77.2.0/24) where
// the witness w (or, in pair-only mode, its address) lives.
type topology struct {
	net     *cluster.Netns
	a, b, w string // namespaces
	sw      string
}

func newTopology(t *testing.T) *topology {
	n := cluster.NewNetns(t)
	tp := &topology{net: n, a: n.Host("a"), b: n.Host("b"), w: n.Host("w"), sw: n.Host("sw")}
	n.Link(tp.a, "ab", "10.77.1.1/24", tp.b, "ba", "10.77.1.2/24")
	n.Link(tp.a, "as", "10.77.2.1/24", tp.sw, "sa", "")
	n.Link(tp.b, "bs", "10.77.2.2/24", tp.sw, "sb", "")
	n.Link(tp.w, "ws", "10.77.2.3/24", tp.sw, "sw", "")
	n.Bridge(tp.sw, "sa", "sb", "sw")
	return tp
}

// sampler records both nodes' roles every 50 ms.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	quit    chan struct{}
	done    chan struct{}
}

type sample struct {
	at     time.Time
	ra, rb ha.Role
}

func sampleRoles(a, b *cluster.Node) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	role := func(n *cluster.Node) ha.Role {
		st, err := n.Status()
		if err != nil {
			return "unreachable"
		}
		return st.Role
	}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.quit:
				return
			case <-time.After(50 * time.Millisecond):
			}
			smp := sample{at: time.Now(), ra: role(a), rb: role(b)}
			s.mu.Lock()
			s.samples = append(s.samples, smp)
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *sampler) stop() []sample { close(s.quit); <-s.done; return s.samples }

// checkSingleActive fails on any sample with two actives, and on samples
// after settle without exactly one.
func checkSingleActive(t *testing.T, samples []sample, settle time.Time) {
	t.Helper()
	if len(samples) < 20 {
		t.Fatalf("only %d role samples: the check proves nothing", len(samples))
	}
	for _, s := range samples {
		if s.ra == ha.Active && s.rb == ha.Active {
			t.Fatalf("both active at %s", s.at.Format(time.StampMilli))
		}
		if s.at.After(settle) && (s.ra == ha.Active) == (s.rb == ha.Active) {
			t.Fatalf("at %s (after settling) a=%s b=%s: want exactly one active", s.at.Format(time.StampMilli), s.ra, s.rb)
		}
	}
}

// pairOnlyNetns pairs a (active) and b in the topology's namespaces in
// pair-only mode, the third host's address as witness.
func pairOnlyNetns(t *testing.T, tp *topology, o cluster.Options) (a, b *cluster.Node) {
	t.Helper()
	o.Witness = []string{"10.77.2.3"}
	oa, ob := o, o
	oa.Netns, ob.Netns = tp.a, tp.b
	a = cluster.NewNode(t, "a", "10.77.1.1", oa)
	b = cluster.NewNode(t, "b", "10.77.1.2", ob)
	cluster.Pair(t, a, b)
	return a, b
}

func pairWithWitness(t *testing.T, tp *topology, autoRecover bool) (a, b *cluster.Node, w *cluster.WitnessNode) {
	t.Helper()
	o := cluster.Options{WitnessAddr: "10.77.2.3:9443", AutoRecover: autoRecover}
	oa, ob := o, o
	oa.Netns, ob.Netns = tp.a, tp.b
	a = cluster.NewNode(t, "a", "10.77.1.1", oa)
	b = cluster.NewNode(t, "b", "10.77.1.2", ob)
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	w = cluster.NewWitness(t, tp.w, "10.77.2.3:9443")
	w.Join("10.77.2.1:8443", a.PairCode("5m"))
	w.Start()
	code := a.PairCode("5m")
	if out, err := b.CLI("pair", "join", "--peer", a.AddressAPI(), "--code", code); err != nil {
		t.Fatalf("pair join: %v\n%s", err, out)
	}
	b.Start()
	b.WaitRole(ha.Standby, 60*time.Second)
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		st, err := a.Status()
		return err == nil && st.Witness != nil && st.Witness.Holder == "a"
	}) {
		st, _ := a.Status()
		t.Fatalf("a never took the witness lease: %+v", st.Witness)
	}
	a.WaitRole(ha.Active, 5*time.Second)
	if st, _ := a.Status(); st.Role != ha.Active {
		t.Fatalf("a is %s after taking the lease", st.Role)
	}
	return a, b, w
}

// Witness mode, link between the appliances down, both still reach the
// witness: exactly one active throughout; after healing, the other
// rejoins as standby with identical data.
func TestPartitionWithWitness(t *testing.T) {
	skipShort(t)
	tp := newTopology(t)
	a, b, _ := pairWithWitness(t, tp, true)
	watchSession(t, a, b)
	for i := range 10 {
		if ok, err := a.Write(fmt.Sprintf("pre-%d", i)); !ok {
			t.Fatalf("write: %v", err)
		}
	}
	smp := sampleRoles(a, b)
	time.Sleep(time.Second)
	cut := time.Now()
	tp.net.SetLink(tp.a, "ab", false)
	time.Sleep(15 * time.Second)
	samples := smp.stop()
	checkSingleActive(t, samples, cut.Add(3*time.Second+5*time.Second))
	last := samples[len(samples)-1]
	t.Logf("after the partition: a=%s b=%s (%d samples)", last.ra, last.rb, len(samples))

	tp.net.SetLink(tp.a, "ab", true)
	winner, loser := a, b
	if last.rb == ha.Active {
		winner, loser = b, a
	}
	loser.WaitRole(ha.Standby, 60*time.Second)
	winner.WaitRole(ha.Active, 5*time.Second)
	sameData(t, a, b)
	if f := winner.Events("ha.fenced"); len(f) != 0 {
		t.Fatalf("fence events although no appliance was cut off from the witness: %+v", f)
	}
}

// Witness mode, the active cut off from everything: it fences itself and
// the standby takes over with the witness's lease.
func TestIsolatedActiveWithWitness(t *testing.T) {
	skipShort(t)
	tp := newTopology(t)
	a, b, _ := pairWithWitness(t, tp, false)
	watchSession(t, a, b)
	smp := sampleRoles(a, b)
	time.Sleep(time.Second)
	cut := time.Now()
	tp.net.SetLink(tp.a, "ab", false)
	tp.net.SetLink(tp.a, "as", false)
	b.WaitRole(ha.Active, 30*time.Second)
	took := time.Since(cut)
	time.Sleep(3 * time.Second)
	samples := smp.stop()
	checkSingleActive(t, samples, cut.Add(took+time.Second))
	if st, _ := a.Status(); st.Role != ha.Fenced {
		t.Fatalf("isolated old active is %s, want fenced", st.Role)
	}
	t.Logf("isolated active: b active %s after the cut", took.Round(time.Millisecond))
}

// Pair-only mode, the old active cut off from its peer and from the
// witness address: it fences itself within the detection time, and the
// other becomes active.
func TestIsolatedActivePairOnly(t *testing.T) {
	skipShort(t)
	const detection = 3 * time.Second
	tp := newTopology(t)
	o := cluster.Options{Detection: detection, Witness: []string{"10.77.2.3"}}
	oa, ob := o, o
	oa.Netns, ob.Netns = tp.a, tp.b
	a := cluster.NewNode(t, "a", "10.77.1.1", oa)
	b := cluster.NewNode(t, "b", "10.77.1.2", ob)
	cluster.Pair(t, a, b)
	watchSession(t, a, b)
	smp := sampleRoles(a, b)
	time.Sleep(time.Second)
	cut := time.Now()
	tp.net.SetLink(tp.a, "ab", false)
	tp.net.SetLink(tp.a, "as", false)
	a.WaitRole(ha.Fenced, 2*detection)
	fenced := time.Since(cut)
	b.WaitRole(ha.Active, 20*time.Second)
	active := time.Since(cut)
	time.Sleep(2 * time.Second)
	samples := smp.stop()
	t.Logf("pair-only isolation: a fenced after %s, b active after %s", fenced.Round(time.Millisecond), active.Round(time.Millisecond))
	if fenced > detection+500*time.Millisecond { // sampling granularity
		t.Fatalf("a fenced itself only after %s (detection time %s)", fenced, detection)
	}
	checkSingleActive(t, samples, cut.Add(active+time.Second))
	// The fence is an event; a hands it over once it can reach the active again.
	tp.net.SetLink(tp.a, "ab", true)
	tp.net.SetLink(tp.a, "as", true)
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool { return len(b.Events("ha.fenced")) > 0 }) {
		t.Fatal("the fence event never reached the active")
	}
}

// Pair-only mode, link between the appliances down while both still reach
// the witness address: both promote (the documented residual risk of this
// mode). When the link heals, the side that was active before keeps the
// role, the other stops writing at once, reports the split brain, and
// rejoins as standby with `mamori recover`.
func TestPartitionPairOnlyHeals(t *testing.T) {
	skipShort(t)
	tp := newTopology(t)
	a, b := pairOnlyNetns(t, tp, cluster.Options{})
	watchSession(t, a, b)

	tp.net.SetLink(tp.a, "ab", false)
	b.WaitRole(ha.Active, 30*time.Second)
	a.WaitRole(ha.Active, 30*time.Second)
	for i := range 5 {
		if ok, err := a.Write(fmt.Sprintf("split-a-%d", i)); !ok {
			t.Fatalf("write on a during the split: %v", err)
		}
		if ok, err := b.Write(fmt.Sprintf("split-b-%d", i)); !ok {
			t.Fatalf("write on b during the split: %v", err)
		}
	}
	// A syslog message only b receives, and a setting only b changes.
	if out, err := exec.Command("ip", "netns", "exec", tp.w, "logger", "-n", "10.77.2.2", "-P", "514", "-d", "split-syslog-only-b").CombinedOutput(); err != nil {
		t.Fatalf("logger to b: %v %s", err, out)
	}
	if code, err := b.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": "split-node", "name": "split-node", "address": "10.9.9.9", "scope": "A"}, nil); code != 200 {
		t.Fatalf("node on b during the split: HTTP %d %v", code, err)
	}

	tp.net.SetLink(tp.a, "ab", true)
	b.WaitRole(ha.Stale, 20*time.Second)
	if st, _ := a.Status(); st.Role != ha.Active {
		t.Fatalf("the previously active side lost the role: %+v", st)
	}
	if ok, _ := b.Write("after-heal-on-b"); ok {
		t.Fatal("the yielding side still accepts writes")
	}
	if out, err := b.CLI("recover"); err != nil {
		t.Fatalf("recover: %v\n%s", err, out)
	}
	b.WaitRole(ha.Standby, 20*time.Second)
	sameData(t, a, b)
	if !cluster.WaitFor(t.Context(), 15*time.Second, func() bool { return len(a.Events("ha.split_brain")) == 1 }) {
		t.Fatalf("split-brain events on the active: %+v", a.Events("ha.split_brain"))
	}
	// Nothing either side acknowledged is lost: b's writes of the split
	// are merged into a from b's set-aside store, its audit rows chained
	// as merged, the chain still verifying.
	var missing []string
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		kept := eventUIDs(t, a, "test.write")
		missing = missing[:0]
		for i := range 5 {
			for _, uid := range []string{fmt.Sprintf("split-a-%d", i), fmt.Sprintf("split-b-%d", i)} {
				if !kept[uid] {
					missing = append(missing, uid)
				}
			}
		}
		return len(missing) == 0
	}) {
		t.Fatalf("after the heal and merge the active lacks %v", missing)
	}
	var merged []events.Event
	cluster.WaitFor(t.Context(), 15*time.Second, func() bool { merged = a.Events("ha.merged"); return len(merged) > 0 })
	// b's five writes and its own ha.failover event of the split; six
	// audit rows (the writes, the node); the node is a setting: listed.
	if len(merged) != 1 || merged[0].Attrs["events"] != "6" || merged[0].Attrs["audit"] != "6" ||
		!strings.Contains(merged[0].Message, "node split-node exists only in the set-aside copy") {
		t.Fatalf("ha.merged events: %+v", merged)
	}
	var rep struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}
	if code, err := a.Do(http.MethodGet, "/api/v1/audit/verify", nil, &rep); err != nil || code != 200 || !rep.OK {
		t.Fatalf("audit chain after the merge: HTTP %d %v %+v", code, err, rep)
	}
	// The message only b received comes back through b's spool.
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		var out struct{ Messages []struct{ Text string } }
		a.Do(http.MethodGet, "/api/v1/syslog?q=split-syslog-only-b", nil, &out)
		return len(out.Messages) == 1
	}) {
		t.Fatal("the syslog message only b received during the split is not on a")
	}
	st, _ := b.Status()
	if len(st.OldStores) != 1 || st.OldStores[0].Merge == nil || st.OldStores[0].Merge.Events != 6 {
		t.Fatalf("b's set-aside stores: %+v", st.OldStores)
	}
}

// Two links between the appliances: Raft and heartbeats on the first,
// heartbeats on the second. Losing the second alone changes nothing;
// losing the first alone (the peer still answers on the second) must not
// leave the pair without a writable active: the last leader re-forms the
// store alone and the other side goes stale, then recovers.
func TestHeartbeatPaths(t *testing.T) {
	skipShort(t)
	tp := newTopology(t)
	tp.net.Link(tp.a, "ab2", "10.77.4.1/24", tp.b, "ba2", "10.77.4.2/24")
	oa := cluster.Options{Witness: []string{"10.77.2.3"}, AutoRecover: true, Netns: tp.a, ExtraPaths: []string{"10.77.4.1"}}
	ob := cluster.Options{Witness: []string{"10.77.2.3"}, AutoRecover: true, Netns: tp.b, ExtraPaths: []string{"10.77.4.2"}}
	a := cluster.NewNode(t, "a", "10.77.1.1", oa)
	b := cluster.NewNode(t, "b", "10.77.1.2", ob)
	cluster.Pair(t, a, b)
	watchSession(t, a, b)
	st, _ := b.Status()
	if st.Peer == nil || len(st.Peer.Paths) != 2 {
		t.Fatalf("b probes %+v, want two paths", st.Peer)
	}

	// Second path down: both stay as they are.
	tp.net.SetLink(tp.a, "ab2", false)
	time.Sleep(6 * time.Second)
	sa, _ := a.Status()
	sb, _ := b.Status()
	if sa.Role != ha.Active || sb.Role != ha.Standby || sb.Peer.Paths[1].Up || !sb.Peer.Paths[0].Up {
		t.Fatalf("one heartbeat path down: a=%s b=%s paths=%+v", sa.Role, sb.Role, sb.Peer.Paths)
	}
	tp.net.SetLink(tp.a, "ab2", true)

	// Replication path down, heartbeats still answered on the second path.
	smp := sampleRoles(a, b)
	tp.net.SetLink(tp.a, "ab", false)
	// b goes stale and, with auto_recover, straight on to recovering (it
	// waits for the replication path to return).
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		sa, _ := a.Status()
		sb, _ := b.Status()
		return sa.Role == ha.Active && sa.Epoch == 2 && (sb.Role == ha.Stale || sb.Role == ha.Recovering)
	}) {
		sa, _ := a.Status()
		sb, _ := b.Status()
		t.Fatalf("replication path down: a=%s epoch %d, b=%s (%s)", sa.Role, sa.Epoch, sb.Role, sb.Reason)
	}
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { ok, _ := a.Write("while-replication-down"); return ok }) {
		t.Fatal("a accepts no writes while only the replication path is down")
	}
	tp.net.SetLink(tp.a, "ab", true)
	b.WaitRole(ha.Standby, 60*time.Second)
	checkSingleActive(t, smp.stop(), time.Now().Add(time.Hour))
	sameData(t, a, b)
}
