package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	osexec "os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/pollers/status"
	"github.com/mamori-ops/mamori/test/cluster"
)

// results samples the status rows of both appliances and keeps every
// distinct check time of each monitor: the active answers its live
// results, so with a sample every 300 ms and an interval of seconds no
// result goes unseen.
type results struct {
	mu   sync.Mutex
	at   map[string]map[time.Time]bool
	quit chan struct{}
	done chan struct{}
}

func sampleResults(nodes ...*cluster.Node) *results {
	r := &results{at: map[string]map[time.Time]bool{}, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			for _, n := range nodes {
				rows, err := statusRows(n, "")
				if err != nil {
					continue
				}
				r.add(rows)
			}
			select {
			case <-r.quit:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return r
}

func (r *results) add(rows []status.Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, row := range rows {
		if row.CheckedAt.IsZero() {
			continue
		}
		m := r.at[row.Monitor]
		if m == nil {
			m = map[time.Time]bool{}
			r.at[row.Monitor] = m
		}
		m[row.CheckedAt.Truncate(time.Millisecond)] = true
	}
}

func (r *results) stop() { close(r.quit); <-r.done }

// gaps reports, per monitor, the longest time between two consecutive
// results in [from, to], counting from..first and last..to as gaps too.
func (r *results) gaps(from, to time.Time) map[string]gap {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]gap{}
	for id, set := range r.at {
		ts := []time.Time{from}
		for t := range set {
			if t.After(from) && t.Before(to) {
				ts = append(ts, t)
			}
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		ts = append(ts, to)
		var worst gap
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d > worst.d {
				worst = gap{d, ts[i-1]}
			}
		}
		out[id] = worst
	}
	return out
}

// gap is the longest time without a result, and when it began.
type gap struct {
	d    time.Duration
	from time.Time
}

// checkIntervals fails the test for every monitor that went longer than
// its interval (plus slack for a shared machine) without a result in
// [from, to], and logs the longest gap.
func checkIntervals(t *testing.T, r *results, n int, interval time.Duration, from, to time.Time) {
	t.Helper()
	g := r.gaps(from, to)
	if len(g) != n {
		t.Errorf("results of %d monitors seen, want %d", len(g), n)
	}
	var worst time.Duration
	var late []string
	for id, x := range g {
		worst = max(worst, x.d)
		if x.d > interval+1500*time.Millisecond {
			late = append(late, fmt.Sprintf("%s %s from %s", id, x.d.Round(time.Millisecond), x.from.Format("15:04:05.000")))
		}
	}
	slices.Sort(late)
	if len(late) > 0 {
		t.Errorf("%d monitors missed an interval (%s) between %s and %s: %s", len(late), interval,
			from.Format("15:04:05.000"), to.Format("15:04:05.000"), strings.Join(late[:min(len(late), 20)], ", "))
	}
	t.Logf("%d monitors: longest time between two results %s (interval %s)", len(g), worst.Round(time.Millisecond), interval)
}

// startMonitors creates n tcp monitors on 20 loopback targets and waits
// until both appliances show every one fresh.
func startMonitors(t *testing.T, a, b *cluster.Node, n int, interval time.Duration) {
	t.Helper()
	tsub := cluster.Subnet()
	nodes := min(n, 20)
	targets := make([]*tcpTarget, nodes)
	for i := range nodes {
		targets[i] = startTarget(t, fmt.Sprintf("%s.%d", tsub, i+1), 0)
		if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("t%02d", i), "address": targets[i].ip, "scope": "svc"}, nil); code != 200 {
			t.Fatalf("node: HTTP %d %v", code, err)
		}
	}
	for i := range n {
		putTCPMonitor(t, a, fmt.Sprintf("m%03d", i), fmt.Sprintf("t%02d", i%nodes), targets[i%nodes].port, interval.String())
	}
	fresh := func(r status.Row) bool { return r.Priority == "info" && !r.Stale }
	waitAll(t, a, n, 3*interval, fresh)
	waitAll(t, b, n, 3*interval, fresh)
}

var switchoverDone = regexp.MustCompile(`switchover done in ([0-9.]+) s: (\S+) is active, (\S+) is standby`)

// switchoverCLI runs `mamori switchover` on n and returns the seconds it reports.
func switchoverCLI(t *testing.T, n *cluster.Node, wantActive string) float64 {
	t.Helper()
	out, err := n.CLI("switchover")
	m := switchoverDone.FindStringSubmatch(out)
	if err != nil || m == nil || m[2] != wantActive {
		t.Errorf("mamori switchover on %s: %v\n%s", n.Name, err, out)
		return 0
	}
	t.Logf("mamori switchover on %s: %s", n.Name, strings.TrimSpace(out))
	s, _ := strconv.ParseFloat(m[1], 64)
	return s
}

// A planned switchover, there and back, while a numbered stream of
// syslog messages and traps goes to both appliances and 200 monitors run
// every 5 s: nothing is lost or stored twice, no monitor misses an
// interval, each switch is one ha.switchover event, the old active is
// standby at once (no recovery), and both appliances end with the same
// data. The first switch is `mamori switchover` on the active; the
// second is the console's route called on the standby, which asks the
// active to hand over.
func TestSwitchoverLossless(t *testing.T) {
	skipShort(t)
	needSenders(t)
	const interval = 5 * time.Second
	n := envInt("MAMORI_E2E_SWITCHOVER_MONITORS", 200)
	o := cluster.Options{SNMPYAML: usmYAML}
	a, b := newPair(t, o)
	watchSession(t, a, b)
	createUSMCredentials(t, a)
	startMonitors(t, a, b, n, interval)
	a.CreateAdmin("ops", "correct horse battery")
	token := a.Login("ops", "correct horse battery")

	samples := sampleResults(a, b)
	start := time.Now()
	s := &stream{t: t, syslog: []string{a.SyslogUDP, b.SyslogUDP}, traps: []string{a.SNMPTrap, b.SNMPTrap}, nSyslog: 6000, nTraps: 240, seconds: 16}
	var first, second float64
	var firstAt, secondAt time.Time
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(4 * time.Second)
		firstAt = time.Now()
		first = switchoverCLI(t, a, "b")
		time.Sleep(5 * time.Second)
		// Back again through the console's route, called on the standby.
		secondAt = time.Now()
		var rep ha.SwitchoverReport
		code, err := a.DoAs(token, http.MethodPost, "/api/v1/cluster/switchover", nil, &rep)
		if code != http.StatusOK || rep.To != "a" || rep.From != "b" {
			t.Errorf("POST /api/v1/cluster/switchover on the standby: HTTP %d %v %+v", code, err, rep)
		}
		second = rep.Seconds
	})
	s.run(func() {})
	wg.Wait()
	a.WaitRole(ha.Active, 10*time.Second)
	b.WaitRole(ha.Standby, 10*time.Second)
	s.mustSettle(t, a, "after two switchovers")
	checkTrapDetails(t, a)
	time.Sleep(interval)
	samples.stop()
	checkIntervals(t, samples, n, interval, start, time.Now())

	// Each switch is an event; neither appliance went through recovery
	// or a failover.
	evs := a.Events("ha.switchover")
	if len(evs) != 2 {
		t.Errorf("%d ha.switchover events, want 2: %+v", len(evs), evs)
	}
	for _, kind := range []string{"ha.failover", "ha.recovered", "ha.fenced"} {
		if evs := a.Events(kind); len(evs) != 0 {
			t.Errorf("%s events after planned switchovers: %+v", kind, evs)
		}
	}
	// The switch is audited with the user who asked for it.
	var audit struct {
		Entries []struct{ User, Action, Result string } `json:"entries"`
	}
	if code, err := a.Do(http.MethodGet, "/api/v1/audit?user=ops&action=switchover&limit=100", nil, &audit); code != 200 {
		t.Fatalf("audit: HTTP %d %v", code, err)
	}
	found := false
	for _, e := range audit.Entries {
		found = found || (e.User == "ops" && strings.Contains(e.Action, "/api/v1/cluster/switchover"))
	}
	if !found {
		b, _ := json.Marshal(audit.Entries)
		t.Errorf("no audit entry of ops's switchover: %s", b)
	}
	sameData(t, a, b)
	for _, nd := range []*cluster.Node{a, b} {
		st, err := nd.Status()
		if err != nil || st.Epoch != 1 || nd.Grep("store set aside") != nil {
			t.Errorf("%s after the switchovers: epoch %d (want 1, no promotion), %v, set aside: %v", nd.Name, st.Epoch, err, nd.Grep("store set aside"))
		}
	}
	t.Logf("switchover a→b at %s: %.3f s; b→a at %s: %.3f s", firstAt.Format("15:04:05.000"), first, secondAt.Format("15:04:05.000"), second)
	fmt.Printf("BENCH switchover_s %.3f s\n", max(first, second))

	// Refused, saying why, while the peer is not a standby in step: b
	// stopped. a stays the active with its work running.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if out, err := a.CLI("switchover"); err == nil || !strings.Contains(out, "no switchover now") {
		t.Errorf("switchover with the standby stopped: want a refusal, got %v\n%s", err, out)
	}
	rejoin(t, b)
	a.WaitRole(ha.Active, 10*time.Second)
	waitAll(t, a, n, 3*interval, func(r status.Row) bool {
		return r.Priority == "info" && !r.Stale && time.Since(r.CheckedAt) < interval+time.Second
	})
}

// A rolling upgrade of a pair from the previous commit's build
// ($MAMORI_PREV_BIN; `make e2e` builds it) to this one, under the same
// load as the switchover test: upgrade the standby (stop, new binary,
// start: it rejoins as standby), switch over with the new build's CLI
// (an older active without the hand-over route gives up the store's
// leadership when asked through the cluster port), upgrade the other.
// Nothing is lost or stored twice; both end on the new build with the
// same data.
func TestRollingUpgrade(t *testing.T) {
	skipShort(t)
	needSenders(t)
	prev := os.Getenv("MAMORI_PREV_BIN")
	if prev == "" {
		t.Fatal("MAMORI_PREV_BIN is not set: `make e2e` builds the previous commit's binary (make prev-build)")
	}
	cur := cluster.Binary(t)
	const interval = 5 * time.Second
	n := envInt("MAMORI_E2E_SWITCHOVER_MONITORS", 200)
	o := cluster.Options{SNMPYAML: usmYAML}
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", o)
	b := cluster.NewNode(t, "b", sub+".2", o)
	a.SetBinary(prev)
	b.SetBinary(prev)
	cluster.Pair(t, a, b)
	createUSMCredentials(t, a)
	startMonitors(t, a, b, n, interval)
	if out, err := runBin(prev, "version"); err == nil {
		t.Logf("from: %s", strings.TrimSpace(out))
	}

	samples := sampleResults(a, b)
	s := &stream{t: t, syslog: []string{a.SyslogUDP, b.SyslogUDP}, traps: []string{a.SNMPTrap, b.SNMPTrap}, nSyslog: 8000, nTraps: 300, seconds: 32}
	var wg sync.WaitGroup
	var switchAt time.Time
	var switchS float64
	wg.Go(func() {
		time.Sleep(3 * time.Second)
		upgrade(t, b, cur)
		// An older standby stopped without telling the active (see Leave)
		// stalled its writes; let every monitor run once before the switch.
		time.Sleep(interval + time.Second)
		switchAt = time.Now()
		switchS = switchoverCLI(t, b, "b")
		upgrade(t, a, cur)
	})
	s.run(func() {})
	wg.Wait()
	// One active and one standby: usually b; a that returned before b
	// re-formed the store alone (an older a does not say it stops) may
	// win the re-election.
	active, standby := b, a
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		sa, _ := a.Status()
		sb, _ := b.Status()
		if sa.Role == ha.Active && sb.Role == ha.Standby {
			active, standby = a, b
			return true
		}
		return sb.Role == ha.Active && sa.Role == ha.Standby
	}) {
		t.Fatal("no active and standby after the rolling upgrade")
	}
	s.mustSettle(t, active, "after the rolling upgrade")
	waitDrained(t, standby)
	s.mustHold(t, active, "after the upgraded standby drained its spool")
	samples.stop()
	// Monitors run on the active, which changed once, by the switchover:
	// no interval missed around it. (A standby of an older build that is
	// stopped does not tell the active, which then stalls for up to the
	// detection time; this build's standby does: see Leave.)
	checkIntervals(t, samples, n, interval, switchAt.Add(-interval), switchAt.Add(time.Duration(switchS*float64(time.Second))+2*interval))
	sameData(t, a, b)
	for _, nd := range []*cluster.Node{a, b} {
		out, err := nd.CLI("version")
		want, _ := runBin(cur, "version")
		if err != nil || out != want {
			t.Errorf("%s runs %q, want the new build %q", nd.Name, out, want)
		}
	}
	t.Logf("switchover during the upgrade at %s: %.3f s", switchAt.Format("15:04:05.000"), switchS)
}

// upgrade stops n, swaps its binary and starts it again: it rejoins as standby.
func upgrade(t *testing.T, n *cluster.Node, bin string) {
	t.Helper()
	if err := n.Stop(); err != nil {
		t.Errorf("stop %s: %v", n.Name, err)
	}
	n.SetBinary(bin)
	rejoin(t, n)
	t.Logf("%s upgraded and standby again", n.Name)
}

// rejoin starts a stopped standby again. A standby stopped for longer
// than the detection time comes back stale (its peer re-formed the store
// alone at a new epoch): one that told the active it was stopping (this
// build) recovers by itself; an older build is recovered by hand, as an
// operator would.
func rejoin(t *testing.T, n *cluster.Node) {
	t.Helper()
	n.Start()
	var st ha.Status
	if cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		st, _ = n.Status()
		return st.Role == ha.Standby
	}) {
		return
	}
	if st.Role == ha.Stale || st.Role == ha.Recovering {
		if out, err := n.CLI("recover"); err != nil && !strings.Contains(out, "already running") {
			t.Fatalf("recover %s: %v\n%s", n.Name, err, out)
		}
		t.Logf("%s came back stale (stopped longer than the detection time) and was recovered by hand", n.Name)
	}
	n.WaitRole(ha.Standby, 60*time.Second)
}

// runBin runs a mamori binary and returns its combined output.
func runBin(bin string, args ...string) (string, error) {
	out, err := osexec.Command(bin, args...).CombinedOutput()
	return string(out), err
}
