package hostile

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/test/cluster"
)

// Flood is one of issue 9's receive-path floods, sent until ctx ends.
type Flood struct {
	Name string
	Run  func(ctx context.Context, t Target, sub string)
}

// Floods are the receive-path findings of issue 9 at full size, each
// from its own addresses in the node's /24 (sub is its 127.a.b prefix),
// at the rates of a gigabit link: the senders share this machine's two
// cores with the appliance, which a remote attacker does not.
var Floods = []Flood{
	{"digit-bomb", func(ctx context.Context, t Target, sub string) {
		for ctx.Err() == nil { // four connections of 512 MiB of "1" (30 MB/s each), again and again
			DigitBomb(ctx, t.SyslogTCP, sub+".60", 4, 512<<20, 30e6)
		}
	}},
	// 2,000 traps of 60 KB a second: 1 Gbit/s, what one sender on a
	// gigabit link can send (the finding's flood was 400/s). Faster, from
	// this machine's loopback, the kernel drops datagrams before any
	// program reads them, good ones with the flood (counted: udp_buffer_trap).
	{"trap-flood", func(ctx context.Context, t Target, sub string) { TrapFlood(ctx, t.Trap, sub+".61", 2000, 0) }},
	{"idle-connections", func(ctx context.Context, t Target, sub string) {
		// max_connections (1,000): 70 idle TCP and 30 TLS connections that
		// never start their handshake from each of 10 addresses (one
		// address alone is held to max_connections_per_source).
		for i := range 10 {
			IdleConns(ctx, t, fmt.Sprintf("%s.%d", sub, 70+i), 70, 30)
		}
		<-ctx.Done()
	}},
	{"fake-octet-count", func(ctx context.Context, t Target, sub string) {
		for ctx.Err() == nil {
			_ = FakeOctetCount(ctx, t.SyslogTCP, sub+".63", 1<<20)
			time.Sleep(50 * time.Millisecond)
		}
	}},
	{"tiny-datagrams", func(ctx context.Context, t Target, sub string) {
		// 120,000 datagrams/s, the finding's rate (+650 MiB in 10 s).
		TinyUDP(ctx, t.SyslogUDP, []string{sub + ".64", sub + ".65", sub + ".66", sub + ".67"}, 30000)
	}},
	{"discovery-reports", func(ctx context.Context, t Target, sub string) {
		for ctx.Err() == nil {
			DiscoveryFlood(t.Trap, sub+".68", 1000)
		}
	}},
}

// RetainedBytes is Options' retention.messages.max_bytes.
const RetainedBytes = 256 << 20

// Options configure the appliance of a hostile run: the default memory
// budget (2 GiB), 256 MiB of stored messages checked every second, and
// per-source UDP limits as an operator facing such floods would set them.
func Options() cluster.Options {
	return cluster.Options{
		SyslogYAML: "    udp_rate_limit:\n      per_source: 10000\n",
		SNMPYAML:   "    rate_limit:\n      per_source: 2000\n",
		ExtraYAML:  fmt.Sprintf("retention:\n  messages:\n    max_bytes: %d\n  interval: 1s\n", RetainedBytes),
	}
}

// Plan is a hostile run: every flood alone for Phase, then all of them
// together for Together, while good traffic flows from .50.
type Plan struct {
	Phase, Together time.Duration
	// Admin and Password log in to install the rules that record the
	// good traffic, and for the good API traffic.
	Admin, Password string
	// Log receives progress lines (nil: none).
	Log func(format string, args ...any)
}

// Summary is what a hostile run measured.
type Summary struct {
	Phases     []Phase
	PeakRSS    int64 // VmHWM of the whole run
	PeakAnon   int64
	Died       bool
	Budget     int64
	DataBefore int64
	DataPeak   int64
	DataAfter  int64
	Files      map[string]int64 // the data directory's largest parts at the end
	Good       [kinds]Verdict
	Resent     int64
	APIOK      int64
	APIFailed  int64
	Dropped    map[string]float64 // mamori_ingest_dropped_total by reason, non-zero
	Deleted    float64            // rows deleted by retention
	Settled    time.Duration      // from the end of the good traffic until every good item was stored (or given up)
	Pressure   float64            // times the receive path came under pressure
}

// Phase is one flood's (or all floods') figures.
type Phase struct {
	Name     string
	Duration time.Duration
	PeakRSS  int64 // highest VmRSS sampled during the phase
	PeakAnon int64 // of it, anonymous memory (the rest is mapped files: the Raft log)
	Data     int64 // data directory at the end of the phase
	Refused  map[string]float64
	// First and End are the good items sent before the phase and by its
	// end (of each kind); LostGood what of them was never stored.
	First, End [kinds]int
	LostGood   [kinds]int
}

// Excused says whether the good traps lost in this phase are UDP's own
// loss: the kernel dropped trap datagrams (its buffer full, counted as
// udp_buffer_trap) because the appliance could not read as fast as the
// floods wrote. A UDP sender cannot be pushed back, and its good
// datagrams are dropped with the flood; anything else is a loss.
func (p Phase) Excused() bool { return p.Refused["udp_buffer_trap"] > 0 }

// Lost counts good items of the lossless kinds lost, and duplicated.
func (s Summary) Lost() (lost, duplicated int) {
	for k, v := range s.Good {
		if Lossless(k) {
			lost += v.Lost
			duplicated += v.Duplicated
		}
	}
	return lost, duplicated
}

// Unexcused counts the good items of lossless kinds lost other than good
// traps in a phase where the kernel dropped trap datagrams (Excused).
func (s Summary) Unexcused() int {
	lost, _ := s.Lost()
	for _, p := range s.Phases {
		if p.Excused() {
			lost -= p.LostGood[Trap]
		}
	}
	return lost
}

// Run runs plan against n (running, active) and returns the summary.
func Run(n *cluster.Node, plan Plan) (Summary, error) {
	logf := plan.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir := filepath.Join(n.Dir, "data")
	sub := n.IP[:strings.LastIndex(n.IP, ".")]
	s := Summary{DataBefore: DirBytes(dir), Budget: int64(Metric(n, "mamori_ingest_memory_budget_bytes"))}
	mon := Watch(n, max(s.Budget, 1<<30)*2) // a safety cap: the test fails long before
	defer mon.Stop()
	good, err := StartGood(n, sub+".50", plan.Admin, plan.Password)
	if err != nil {
		return s, err
	}
	var dataPeak sync.Mutex
	track := func() int64 {
		d := DirBytes(dir)
		dataPeak.Lock()
		s.DataPeak = max(s.DataPeak, d)
		dataPeak.Unlock()
		return d
	}
	phase := func(name string, d time.Duration, floods []Flood) {
		ph := Phase{Name: name, Duration: d, Refused: map[string]float64{}, First: good.Marks()}
		before := dropped(n)
		ctx, cancel := context.WithTimeout(context.Background(), d)
		var wg sync.WaitGroup
		for _, f := range floods {
			wg.Go(func() { f.Run(ctx, Of(n), sub) })
		}
		for ctx.Err() == nil && n.Running() {
			if m, err := Memory(n.PID()); err == nil {
				ph.PeakRSS, ph.PeakAnon = max(ph.PeakRSS, m.RSS), max(ph.PeakAnon, m.Anon)
			}
			track()
			sleep(ctx, 500*time.Millisecond)
		}
		cancel()
		wg.Wait()
		ph.Data = track()
		ph.End = good.Marks()
		for r, v := range dropped(n) {
			if v > before[r] {
				ph.Refused[r] = v - before[r]
			}
		}
		s.Phases = append(s.Phases, ph)
		logf("phase %-18s %6s  peak RSS %8s (anonymous %8s)  data dir %8s  running %v", name, d, MiB(ph.PeakRSS), MiB(ph.PeakAnon), MiB(ph.Data), n.Running())
	}
	for _, f := range Floods {
		if n.Running() {
			phase(f.Name, plan.Phase, []Flood{f})
		}
	}
	if n.Running() {
		phase("all-together", plan.Together, Floods)
	}
	time.Sleep(2 * time.Second) // good traffic after the floods, too
	good.Stop()
	s.Died = !n.Running()
	s.Good, s.Settled = good.Settle(60*time.Second, 10*time.Minute)
	for i := range s.Phases {
		s.Phases[i].LostGood = good.LostIn(s.Phases[i].First, s.Phases[i].End)
	}
	s.Resent = good.Resent()
	s.APIOK, s.APIFailed = good.API()
	s.PeakRSS, _ = mon.Peak()
	s.PeakAnon = mon.PeakAnon()
	s.DataAfter = track()
	s.Files = largest(dir, 8)
	s.Dropped = dropped(n)
	s.Deleted = Metric(n, `mamori_retention_deleted_total{table="syslog_messages"}`) + Metric(n, `mamori_retention_deleted_total{table="snmp_traps"}`) +
		Metric(n, `mamori_retention_deleted_total{table="custom_messages"}`) + Metric(n, `mamori_retention_deleted_total{table="events"}`)
	s.Pressure = Metric(n, "mamori_ingest_pressure_engaged_total")
	return s, nil
}

func counts(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.0f", k, m[k])
	}
	return strings.Join(parts, " ")
}

func dropped(n *cluster.Node) map[string]float64 {
	out := map[string]float64{}
	for _, l := range strings.Split(n.Metrics(), "\n") {
		if r, ok := strings.CutPrefix(l, `mamori_ingest_dropped_total{reason="`); ok {
			reason, v, _ := strings.Cut(r, `"} `)
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil && f > 0 {
				out[reason] = f
			}
		}
	}
	return out
}

// largest returns the biggest parts of the data directory.
func largest(dir string, k int) map[string]int64 {
	sizes := map[string]int64{}
	for _, part := range []string{"store/db.sqlite", "store/db.sqlite-wal", "store/raft.db", "store/rsnapshots", "spool"} {
		sizes[part] = DirBytes(filepath.Join(dir, part)) // a file's walk is the file
	}
	keys := make([]string, 0, len(sizes))
	for p := range sizes {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return sizes[keys[i]] > sizes[keys[j]] })
	out := map[string]int64{}
	for _, p := range keys[:min(k, len(keys))] {
		out[p] = sizes[p]
	}
	return out
}

// Print writes the summary as the soak and the benchmark show it.
func (s Summary) Print(w io.Writer) {
	lost, dup := s.Lost()
	fmt.Fprintf(w, "SUMMARY hostile: died=%v peak_rss=%s (anonymous %s) budget=%s good_lost=%d (of which traps the kernel dropped with a flood: %d) good_duplicated=%d settled_in=%s\n",
		s.Died, MiB(s.PeakRSS), MiB(s.PeakAnon), MiB(s.Budget), lost, lost-s.Unexcused(), dup, s.Settled.Round(time.Second))
	fmt.Fprintf(w, "SUMMARY data dir: before %s, peak %s, after %s (growth %s); retention deleted %.0f rows; pressure engaged %.0f times\n",
		MiB(s.DataBefore), MiB(s.DataPeak), MiB(s.DataAfter), MiB(s.DataAfter-s.DataBefore), s.Deleted, s.Pressure)
	parts := []string{}
	for p, b := range s.Files {
		parts = append(parts, p+"="+MiB(b))
	}
	sort.Strings(parts)
	fmt.Fprintf(w, "SUMMARY data dir parts: %s\n", strings.Join(parts, " "))
	for k, v := range s.Good {
		fmt.Fprintf(w, "SUMMARY good %-16s sent=%d lost=%d duplicated=%d\n", KindNames[k], v.Sent, v.Lost, v.Duplicated)
	}
	fmt.Fprintf(w, "SUMMARY good api rounds ok=%d failed=%d; stream writes retried=%d\n", s.APIOK, s.APIFailed, s.Resent)
	for _, p := range s.Phases {
		var lost []string
		for k, n := range p.LostGood {
			if n > 0 {
				lost = append(lost, fmt.Sprintf("%s=%d", KindNames[k], n))
			}
		}
		if len(lost) == 0 {
			lost = []string{"none"}
		}
		fmt.Fprintf(w, "SUMMARY phase %-18s %6s peak_rss=%s anonymous=%s data=%s good_lost: %s refused: %s\n", p.Name, p.Duration, MiB(p.PeakRSS), MiB(p.PeakAnon),
			MiB(p.Data), strings.Join(lost, " "), counts(p.Refused))
	}
	reasons := make([]string, 0, len(s.Dropped))
	for r := range s.Dropped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "SUMMARY refused %-24s %.0f\n", r, s.Dropped[r])
	}
}
