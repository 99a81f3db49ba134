package bench

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// BenchmarkEventsQuery: 1,000,000 events stored in one appliance (posted
// through the API, 10,000 a request; a third confirmed or being
// confirmed by filter), then the event console's queries through the
// API: newest first, 100 a page, three pages each, a mix of filters
// (severity, state, both, scope, node, kind, text, a day's range, a user
// of two scopes). events_query_p99_ms is the 99th percentile of the
// page times. MAMORI_BENCH_EVENTS changes the count (for tuning).
func BenchmarkEventsQuery(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MAMORI_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	n := cluster.NewNode(b, "a", cluster.Subnet()+".1", cluster.Options{})
	n.Start()
	n.WaitRole(ha.Active, 30*time.Second)
	n.CreateAdmin("admin", "correct horse battery staple")
	admin := n.Login("admin", "correct horse battery staple")
	role := auth.Role{Name: "ops_2", Scopes: []string{"s1", "s2"}, Privileges: map[auth.Function][]auth.Action{auth.MonitorResult: {auth.Read}}}
	if code, err := n.DoAs(admin, http.MethodPost, "/api/v1/roles", role, nil); code != http.StatusCreated {
		b.Fatalf("role: HTTP %d %v", code, err)
	}
	if code, err := n.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "ops", "password": "correct horse battery staple", "roles": []string{"ops_2"}}, nil); code != http.StatusCreated {
		b.Fatalf("user: HTTP %d %v", code, err)
	}
	scoped := n.Login("ops", "correct horse battery staple")

	start := time.Now()
	seedEventTable(b, n, total)
	stored := time.Since(start)
	for _, f := range []map[string]string{{"node": "n7"}, {"severity": "critical", "kind": "k3"}} {
		var out struct{ Changed int }
		if code, err := n.Do(http.MethodPost, "/api/v1/events/state", map[string]any{"state": "confirmed", "filter": f}, &out); code != 200 {
			b.Fatalf("bulk confirm: HTTP %d %v", code, err)
		}
	}

	day := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Hour)
	mix := []struct {
		q   url.Values
		tok string
	}{
		{url.Values{}, admin},
		{url.Values{"severity": {"critical"}}, admin},
		{url.Values{"state": {"unconfirmed"}}, admin},
		{url.Values{"severity": {"critical,warning"}, "state": {"unconfirmed"}}, admin},
		{url.Values{"scope": {"s4"}}, admin},
		{url.Values{"node": {"n123"}}, admin},
		{url.Values{"kind": {"k7"}, "state": {"confirmed"}}, admin},
		{url.Values{"node": {"n42"}, "q": {"timeout"}}, admin},
		{url.Values{"q": {"timeout"}}, admin},
		{url.Values{"since": {day.Format(time.RFC3339)}, "until": {day.Add(24 * time.Hour).Format(time.RFC3339)}}, admin},
		{url.Values{"severity": {"critical"}}, scoped},
		{url.Values{}, scoped},
	}
	var times []float64
	slowest, slowestQ := 0.0, ""
	var firsts []string
	for round := range 10 {
		for i, m := range mix {
			m.q.Set("order", "desc")
			m.q.Set("limit", "100")
			next := "?" + m.q.Encode()
			for pg := 0; pg < 3 && next != ""; pg++ {
				var out struct {
					Events []events.Event
					Next   string
				}
				t0 := time.Now()
				code, err := n.DoAs(m.tok, http.MethodGet, "/api/v1/events"+next, nil, &out)
				took := time.Since(t0)
				if code != 200 {
					b.Fatalf("query %d %s: HTTP %d %v", i, next, code, err)
				}
				if round == 0 && pg == 0 {
					firsts = append(firsts, fmt.Sprintf("query %d %s: %d events in %s", i, next, len(out.Events), took.Round(time.Millisecond)))
				}
				ms := float64(took.Microseconds()) / 1000
				if ms > slowest {
					slowest, slowestQ = ms, next
				}
				times = append(times, ms)
				next = out.Next
			}
		}
	}
	sort.Float64s(times)
	p99 := times[int(math.Ceil(0.99*float64(len(times))))-1]
	// First: a benchmark's log is cut after a few lines.
	b.Logf("stored %d events in %s", total, stored.Round(time.Second))
	b.Logf("%d pages: median %.1f ms, p99 %.1f ms, max %.1f ms (%s)", len(times), median(times), p99, slowest, slowestQ)
	for _, l := range firsts {
		b.Log(l)
	}
	report("events_query_p99_ms", p99, "ms")
}

// seedEventTable posts total events through the API, 10,000 a request,
// two requests at a time: severities 10% critical, 30% warning, the rest
// info; 10 scopes, 500 nodes, 20 kinds; one message in five says
// "timeout"; spread over the last 30 days, oldest first.
func seedEventTable(b *testing.B, n *cluster.Node, total int) {
	const batch = 10_000
	end := time.Now().UTC()
	step := 30 * 24 * time.Hour / time.Duration(total)
	words := []string{"disk full", "link down", "timeout talking to", "process restarted", "high load on"}
	batches := make(chan int)
	var wg sync.WaitGroup
	var fail error
	var mu sync.Mutex
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range batches {
				evs := make([]events.Event, 0, batch)
				for i := first; i < min(first+batch, total); i++ {
					sev := events.Info
					switch {
					case i%10 == 0:
						sev = events.Critical
					case i%10 < 4:
						sev = events.Warning
					}
					evs = append(evs, events.Event{UID: fmt.Sprintf("b-%d", i), At: end.Add(-time.Duration(total-i) * step), Severity: sev,
						Kind: fmt.Sprintf("k%d", i%20), Node: fmt.Sprintf("n%d", i%500), Scope: fmt.Sprintf("s%d", i%10),
						Message: fmt.Sprintf("%s n%d (%d)", words[i%5], i%500, i)})
				}
				// A batch that timed out on a loaded machine is sent again:
				// its uids make the resend store nothing twice.
				var code int
				var err error
				for try := 0; try < 3 && code != 200; try++ {
					code, err = n.Do(http.MethodPost, "/api/v1/events", evs, nil)
				}
				if code != 200 {
					mu.Lock()
					fail = fmt.Errorf("HTTP %d %v", code, err)
					mu.Unlock()
				}
			}
		}()
	}
	for first := 0; first < total; first += batch {
		batches <- first
	}
	close(batches)
	wg.Wait()
	if fail != nil {
		b.Fatalf("seed events: %v", fail)
	}
}
