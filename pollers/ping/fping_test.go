package ping

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// fping (Debian package fping, in the Makefile's DEB_PKGS) is the
// reference: the same targets must show the same loss and RTTs of the
// same order.

type fpingStat struct {
	sent, recv int
	loss, avg  float64 // avg < 0: no reply
}

var fpingLine = regexp.MustCompile(`^(\S+)\s*: xmt/rcv/%loss = (\d+)/(\d+)/(\d+)%(?:, min/avg/max = [\d.]+/([\d.]+)/[\d.]+)?$`)

// parseFping reads fping -q -c summaries ("addr : xmt/rcv/%loss = 3/3/0%,
// min/avg/max = 0.03/0.04/0.05"), one per target.
func parseFping(out string) map[string]fpingStat {
	stats := map[string]fpingStat{}
	for _, line := range strings.Split(out, "\n") {
		m := fpingLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		s := fpingStat{avg: -1}
		s.sent, _ = strconv.Atoi(m[2])
		s.recv, _ = strconv.Atoi(m[3])
		s.loss, _ = strconv.ParseFloat(m[4], 64)
		if m[5] != "" {
			s.avg, _ = strconv.ParseFloat(m[5], 64)
		}
		stats[m[1]] = s
	}
	return stats
}

func TestParseFping(t *testing.T) {
	out := "127.0.0.1    : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.027/0.038/0.044\n" +
		"10.77.0.2 : xmt/rcv/%loss = 3/0/100%\n" +
		"garbage : xmt\n"
	got := parseFping(out)
	want := map[string]fpingStat{
		"127.0.0.1": {3, 3, 0, 0.038},
		"10.77.0.2": {3, 0, 100, -1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func needFping(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("fping"); err != nil {
		t.Skip("skipped: fping is not installed (make deps installs it)")
	}
}

// fping runs fping on targets (in namespace ns when not "") and parses it.
// fping exits 1 when a target is unreachable: that is a result, not a failure.
func fping(t testing.TB, ns string, args ...string) map[string]fpingStat {
	t.Helper()
	argv := append([]string{"fping", "-q"}, args...)
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return parseFping(string(out))
}

// TestAgainstFping: loopback and a dead address, each probed by both.
func TestAgainstFping(t *testing.T) {
	needFping(t)
	ns := deadNetns(t)
	targets := []string{"127.0.0.1", "10.77.0.1", "10.77.0.2"}
	// A 1s timeout: on a loaded machine a loopback reply can be read
	// hundreds of milliseconds late, by either program.
	ref := fping(t, ns, append([]string{"-c", "3", "-p", "50", "-t", "1000"}, targets...)...)
	for _, addr := range targets {
		var r check.Result
		inNetns(t, ns, func() {
			r = runCheck(context.Background(), addr, `{"count":3,"interval":"50ms","timeout":"1s"}`)
		})
		f, ok := ref[addr]
		if !ok {
			t.Fatalf("fping said nothing about %s: %v", addr, ref)
		}
		loss, rtt := item(t, r, ItemLoss), item(t, r, ItemRTT)
		if loss.Number == nil || *loss.Number != f.loss {
			t.Errorf("%s: loss %v%% (%s), fping %v%%", addr, num(loss), r.Raw, f.loss)
		}
		switch {
		case f.avg < 0 && rtt.Number != nil:
			t.Errorf("%s: rtt %v but fping had no reply", addr, *rtt.Number)
		case f.avg >= 0 && rtt.Number == nil:
			t.Errorf("%s: no rtt (%s) but fping had %v ms", addr, rtt.Err, f.avg)
		case f.avg >= 0 && *rtt.Number > 10*f.avg+20:
			// Same order of magnitude: loopback RTTs are tens of
			// microseconds; on a loaded machine scheduling adds milliseconds.
			t.Errorf("%s: rtt %.3f ms, fping %.3f ms", addr, *rtt.Number, f.avg)
		}
	}
}

// BenchmarkPingVsFping pings the same loopback addresses (127/8 answers
// on every address) once each, all at once, with this kind and with
// fping, and reports both rates and their ratio (this kind / fping).
func BenchmarkPingVsFping(b *testing.B) {
	needFping(b)
	sizes := []int{200, 1000}
	if v, err := strconv.Atoi(os.Getenv("MAMORI_PING_BENCH_TARGETS")); err == nil && v > 0 && v <= 60000 {
		sizes = []int{v} // the figure is for 10,000
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) { benchVsFping(b, n) })
	}
}

func benchVsFping(b *testing.B, n int) {
	targets := make([]string, n)
	for i := range targets {
		targets[i] = fmt.Sprintf("127.%d.%d.%d", 1+i/62500, 1+i/250%250, 1+i%250)
	}
	var ours, theirs time.Duration
	lost := 0
	for range b.N {
		start := time.Now()
		lost += pingAll(b, targets)
		ours += time.Since(start)
		start = time.Now()
		ref := fping(b, "", append([]string{"-c", "1", "-i", "0", "-t", "1000"}, targets...)...)
		theirs += time.Since(start)
		if len(ref) != n {
			b.Fatalf("fping answered for %d of %d", len(ref), n)
		}
	}
	perS := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
	b.ReportMetric(perS(ours), "checks/s")
	b.ReportMetric(perS(theirs), "fping_checks/s")
	b.ReportMetric(perS(ours)/perS(theirs), "ratio")
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
	// The brief's form for `make bench` (one line per figure).
	fmt.Printf("BENCH ping_checks_per_s_%d_targets %.0f checks/s\n", n, perS(ours))
	fmt.Printf("BENCH fping_checks_per_s_%d_targets %.0f checks/s\n", n, perS(theirs))
	fmt.Printf("BENCH ping_vs_fping_ratio_%d_targets %.3f ratio\n", n, perS(ours)/perS(theirs))
}

// pingAll checks every target at once and counts the lost replies (a
// loopback reply lost under load is a figure to report, not a failure).
func pingAll(b *testing.B, targets []string) int {
	var wg sync.WaitGroup
	var lost atomic.Int32
	for _, addr := range targets {
		wg.Go(func() {
			r := runCheck(context.Background(), addr, `{"count":1,"timeout":"3s"}`)
			if r.Err != nil {
				b.Errorf("%s: %v", addr, r.Err)
			} else if l := item(b, r, ItemLoss); *l.Number != 0 {
				lost.Add(1)
			}
		})
	}
	wg.Wait()
	return int(lost.Load())
}

func num(it check.Item) any {
	if it.Number == nil {
		return it.Err
	}
	return *it.Number
}
