package e2e

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestRandomPartitions runs a generated fault schedule against a pair of
// real processes in network namespaces, in each HA mode: cuts and heals of
// the link between the appliances and of each one's link to the witness,
// kill -9 and restart, SIGSTOP and SIGCONT, while a writer with unique
// uids writes to both appliances. Then everything heals, and the checker
// asserts, for every node: one active and one standby, identical data,
// every acknowledged write on the final active (merged back where a
// split brain left it on the loser), no session ever answered 401; in
// witness mode never two appliances acknowledging at once; in pair-only
// mode only while both reached the witness address and not each other
// (the documented risk). MAMORI_RANDOM_BUDGET (seconds per mode, default
// 75) and MAMORI_RANDOM_SEED reproduce or lengthen a run (make soak).
func TestRandomPartitions(t *testing.T) {
	skipShort(t)
	budget := time.Duration(envInt("MAMORI_RANDOM_BUDGET", 75)) * time.Second
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("MAMORI_RANDOM_SEED"), 10, 64); err == nil {
		seed = v
	}
	for i, mode := range []string{"pair-only", "witness"} {
		t.Run(mode, func(t *testing.T) { randomPartitions(t, mode, seed+uint64(i), budget) })
	}
}

const randomDetection = 3 * time.Second

// linkLog remembers when each link went up or down.
type linkLog struct {
	mu      sync.Mutex
	changes map[string][]linkChange
}

type linkChange struct {
	at time.Time
	up bool
}

func (l *linkLog) set(name string, up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes[name] = append(l.changes[name], linkChange{time.Now(), up})
}

// up says whether link name was up at t (links start up).
func (l *linkLog) up(name string, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	up := true
	for _, c := range l.changes[name] {
		if c.at.After(t) {
			break
		}
		up = c.up
	}
	return up
}

// upWithin says whether link name was up at some time in [t-d, t].
func (l *linkLog) upWithin(name string, t time.Time, d time.Duration) bool {
	if l.up(name, t.Add(-d)) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.changes[name] {
		if c.up && !c.at.Before(t.Add(-d)) && !c.at.After(t) {
			return true
		}
	}
	return false
}

// riskAllowed: at some moment in [t-grace, t] both appliances reached the
// witness (an answer within the probe window, half the detection time)
// and not each other.
func (l *linkLog) riskAllowed(t time.Time, grace time.Duration) bool {
	for x := t.Add(-grace); !x.After(t); x = x.Add(50 * time.Millisecond) {
		reach := randomDetection/2 + 500*time.Millisecond
		if !l.up("ab", x) && l.upWithin("as", x, reach) && l.upWithin("bs", x, reach) {
			return true
		}
	}
	return false
}

func randomPartitions(t *testing.T, mode string, seed uint64, budget time.Duration) {
	t.Logf("mode %s, seed %d (MAMORI_RANDOM_SEED=%d reproduces the schedule), budget %s", mode, seed, seed, budget)
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	tp := newTopology(t)
	var a, b *cluster.Node
	if mode == "witness" {
		a, b, _ = pairWithWitness(t, tp, true)
	} else {
		a, b = pairOnlyNetns(t, tp, cluster.Options{AutoRecover: true, Detection: randomDetection})
	}
	s := cluster.NewSession(t, a, "operator", "correct horse battery")
	s.Watch(a, b)
	links := &linkLog{changes: map[string][]linkChange{}}
	ifaces := map[string][2]string{"ab": {tp.a, "ab"}, "as": {tp.a, "as"}, "bs": {tp.b, "bs"}}
	set := func(name string, up bool) {
		tp.net.SetLink(ifaces[name][0], ifaces[name][1], up)
		links.set(name, up)
		t.Logf("%s link %s up=%v", time.Now().Format("15:04:05.000"), name, up)
	}
	act := func(n *cluster.Node, what string) {
		t.Logf("%s %s %s", time.Now().Format("15:04:05.000"), n.Name, what)
	}
	nodes := []*cluster.Node{a, b}
	stopped, killed := map[*cluster.Node]time.Time{}, map[*cluster.Node]time.Time{}
	var cuts, kills, stops int
	w := startAckWriter(s, "rnd-"+mode, a, b)
	start := time.Now()
	for time.Since(start) < budget {
		// Bound each fault: a frozen process is resumed within 10 s, a
		// killed one restarted within 15 s.
		for n, at := range stopped {
			if time.Since(at) > 10*time.Second {
				act(n, "SIGCONT")
				n.Signal(syscall.SIGCONT)
				delete(stopped, n)
			}
		}
		for n, at := range killed {
			if time.Since(at) > 15*time.Second {
				act(n, "restarted")
				n.Start()
				delete(killed, n)
			}
		}
		n := nodes[rng.IntN(2)]
		switch k := rng.IntN(20); {
		case k < 9: // one link
			name := []string{"ab", "as", "bs"}[rng.IntN(3)]
			up := !links.up(name, time.Now())
			if !up {
				cuts++
			}
			set(name, up)
		case k < 12: // the documented pair-only risk: apart, both reaching the witness
			for name, up := range map[string]bool{"ab": false, "as": true, "bs": true} {
				if links.up(name, time.Now()) != up {
					set(name, up)
				}
			}
			cuts++
		case k < 14: // every link back
			for name := range ifaces {
				if !links.up(name, time.Now()) {
					set(name, true)
				}
			}
		case k < 17:
			if _, ok := killed[n]; ok {
				break
			}
			if _, ok := stopped[n]; ok {
				act(n, "SIGCONT")
				n.Signal(syscall.SIGCONT)
				delete(stopped, n)
			} else {
				act(n, "SIGSTOP")
				n.Signal(syscall.SIGSTOP)
				stopped[n] = time.Now()
				stops++
			}
		default:
			if _, ok := stopped[n]; ok {
				break
			}
			if _, ok := killed[n]; ok {
				act(n, "restarted")
				n.Start()
				delete(killed, n)
			} else {
				act(n, "killed")
				n.Kill()
				killed[n] = time.Now()
				kills++
			}
		}
		time.Sleep(time.Duration(500+rng.IntN(4500)) * time.Millisecond)
	}

	// Heal everything and let the pair settle.
	for name := range ifaces {
		if !links.up(name, time.Now()) {
			set(name, true)
		}
	}
	for n := range stopped {
		n.Signal(syscall.SIGCONT)
	}
	for n := range killed {
		n.Start()
	}
	healed := time.Now()
	var final, other *cluster.Node
	if !cluster.WaitFor(t.Context(), 3*time.Minute, func() bool {
		sa, ea := a.Status()
		sb, eb := b.Status()
		if ea != nil || eb != nil {
			return false
		}
		switch {
		case sa.Role == ha.Active && sb.Role == ha.Standby:
			final, other = a, b
		case sb.Role == ha.Active && sa.Role == ha.Standby:
			final, other = b, a
		default:
			return false
		}
		return allMerged(sa) && allMerged(sb)
	}) {
		sa, _ := a.Status()
		sb, _ := b.Status()
		t.Fatalf("not settled 3 min after healing: a=%s (%s) b=%s (%s)", sa.Role, sa.Reason, sb.Role, sb.Reason)
	}
	settle := time.Since(healed)
	time.Sleep(2 * time.Second) // writes on the settled pair
	acks := w.stop()
	n := checkAcked(t, final, acks)
	sameData(t, final, other)

	dual := dualMoments(acks)
	var outside []time.Time
	for _, d := range dual {
		if mode == "witness" || !links.riskAllowed(d, 1500*time.Millisecond) {
			outside = append(outside, d)
		}
	}
	windows, dualSeconds := dualWindows(dual)
	t.Logf("SUMMARY mode=%s seed=%d duration=%s cuts=%d kills=%d stops=%d acknowledged=%d lost=0 dual_windows=%d dual_s=%.2f outside_documented_risk=%d settled_in=%s final_active=%s session=%q",
		mode, seed, budget, cuts, kills, stops, n, windows, dualSeconds, len(outside), settle.Round(time.Millisecond), final.Name, s.Codes())
	if len(outside) > 0 {
		for _, n := range []*cluster.Node{a, b} {
			t.Logf("%s's decisions:\n%s", n.Name, strings.Join(n.Grep("role changed", "promoting", "split brain", "paused", "cut off"), "\n"))
		}
		for _, x := range acks {
			if x.at.Sub(outside[0]).Abs() < 2*time.Second {
				t.Logf("ack %s %s %s", x.at.Format("15:04:05.000"), x.node, x.uid)
			}
		}
		t.Fatalf("%d moments at which both appliances acknowledged writes outside the documented risk, the first at %s", len(outside), outside[0].Format(time.StampMilli))
	}
}

// allMerged: every store set aside by a recovery has been merged back.
func allMerged(st ha.Status) bool {
	for _, o := range st.OldStores {
		if o.Merge == nil {
			return false
		}
	}
	return true
}

// dualWindows groups dual moments less than a second apart.
func dualWindows(ts []time.Time) (int, float64) {
	n, total := 0, 0.0
	for i := 0; i < len(ts); {
		j := i
		for j+1 < len(ts) && ts[j+1].Sub(ts[j]) < time.Second {
			j++
		}
		n++
		total += ts[j].Sub(ts[i]).Seconds() + 0.04
		i = j + 1
	}
	return n, total
}
