package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// envInt reads a positive integer setting of the suites (make soak raises them).
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// The active's port goes down (it fences itself, the standby takes over),
// then comes back: in stages, the witness address reachable a moment
// before the peer (as a switch port or a routed path often returns), or
// all at once. The returning appliance must go stale and never take the
// active role back; every write the new active acknowledged stays after
// `mamori recover`; no operator session sees a 401. Each run cuts the
// current active, so the roles alternate (MAMORI_HEAL_RUNS, default 3).
func TestStagedHeal(t *testing.T) { testHeal(t, true) }

// TestSimultaneousHeal: the same, with both links back at once (the race
// of heartbeat and witness probe decides which is heard first).
func TestSimultaneousHeal(t *testing.T) { testHeal(t, false) }

func testHeal(t *testing.T, staged bool) {
	skipShort(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	tp := newTopology(t)
	a, b := pairOnlyNetns(t, tp, cluster.Options{})
	s := cluster.NewSession(t, a, "operator", "correct horse battery")
	s.Watch(a, b)
	type ports struct{ ns, peer, sw string }
	link := map[*cluster.Node]ports{a: {tp.a, "ab", "as"}, b: {tp.b, "ba", "bs"}}
	runs := envInt("MAMORI_HEAL_RUNS", 3)
	for run := range runs {
		old, next := a, b
		if st, _ := b.Status(); st.Role == ha.Active {
			old, next = b, a
		}
		w := startAckWriter(s, fmt.Sprintf("heal%d", run), a, b)
		time.Sleep(time.Second)
		p := link[old]
		cut := time.Now()
		tp.net.SetLink(p.ns, p.peer, false)
		tp.net.SetLink(p.ns, p.sw, false)
		old.WaitRole(ha.Fenced, 10*time.Second)
		next.WaitRole(ha.Active, 30*time.Second)
		took := time.Since(cut)
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond) // the new active takes writes
		smp := sampleRoles(a, b)
		var gap time.Duration
		if staged {
			gap = time.Duration(50+rng.IntN(2500)) * time.Millisecond // less than the detection time
			tp.net.SetLink(p.ns, p.sw, true)
			time.Sleep(gap)
		}
		tp.net.SetLink(p.ns, p.peer, true)
		if !staged {
			tp.net.SetLink(p.ns, p.sw, true)
		}
		old.WaitRole(ha.Stale, 20*time.Second)
		time.Sleep(4 * time.Second) // longer than the detection time: it must stay stale
		samples := smp.stop()
		for _, sm := range samples {
			ro := sm.ra
			if old == b {
				ro = sm.rb
			}
			if ro == ha.Active {
				t.Fatalf("run %d: %s took the active role back at %s after the heal (gap %s)", run, old.Name, sm.at.Format(time.StampMilli), gap)
			}
		}
		if st, _ := next.Status(); st.Role != ha.Active {
			t.Fatalf("run %d: %s lost the active role: %+v", run, next.Name, st)
		}
		if out, err := old.CLI("recover"); err != nil {
			t.Fatalf("run %d: recover: %v\n%s", run, err, out)
		}
		old.WaitRole(ha.Standby, 30*time.Second)
		acks := w.stop()
		if d := dualMoments(acks); len(d) > 0 {
			t.Fatalf("run %d: both appliances acknowledged writes at %s", run, d[0].Format(time.StampMilli))
		}
		n := checkAcked(t, next, acks)
		sameData(t, a, b)
		t.Logf("run %d: %s cut, %s active after %s; heal %s (gap %s): %s stale, recovered; %d acknowledged writes, all on %s",
			run, old.Name, next.Name, took.Round(time.Millisecond), map[bool]string{true: "staged", false: "simultaneous"}[staged],
			gap, old.Name, n, next.Name)
	}
	t.Logf("%d runs passed; session answers %s", runs, s.Codes())
}
