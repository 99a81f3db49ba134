package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// kill -9 of the active: the standby takes over and accepts writes, the
// failover is an event on the new active, and the killed node, restarted,
// waits as stale until `mamori recover` brings it back with identical data
// while a writer on the active is never refused longer than the detection time.
func TestKillActiveThenRecover(t *testing.T) {
	skipShort(t)
	const detection = 3 * time.Second
	net := cluster.Subnet()
	a := cluster.NewNode(t, "a", net+".1", cluster.Options{Detection: detection})
	b := cluster.NewNode(t, "b", net+".2", cluster.Options{Detection: detection})
	cluster.Pair(t, a, b)
	sess := watchSession(t, a, b)
	for i := range 50 {
		if ok, err := a.Write(fmt.Sprintf("before-%d", i)); !ok {
			t.Fatalf("write: %v", err)
		}
	}

	killed := time.Now()
	a.Kill()
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool { ok, _ := b.Write(fmt.Sprintf("after-%d", time.Now().UnixNano())); return ok }) {
		st, _ := b.Status()
		t.Fatalf("b accepts no writes 20s after a was killed: %+v", st)
	}
	t.Logf("failover: kill -9 to first accepted write on b: %s", time.Since(killed).Round(time.Millisecond))
	st := b.WaitRole(ha.Active, 5*time.Second)
	if st.Epoch != 2 {
		t.Fatalf("epoch after failover = %d, want 2", st.Epoch)
	}
	fo := b.Events("ha.failover")
	if len(fo) != 1 || fo[0].Node != "b" || !strings.Contains(fo[0].Message, "unreachable") || fo[0].Attrs["epoch"] != "2" {
		t.Fatalf("failover events on the new active: %+v", fo)
	}
	if st.LastFailover == nil || st.LastFailover.UID != fo[0].UID {
		t.Fatalf("status last_failover = %+v", st.LastFailover)
	}

	// The old active comes back with epoch 1: it must not take over.
	a.Start()
	a.WaitRole(ha.Stale, 30*time.Second)
	// Its copy of the users may be old or empty: a login there is sent to
	// the active (503, not 401 or 500), and so is a valid session.
	var refused struct {
		Code      string   `json:"code"`
		ActiveID  string   `json:"active_id"`
		ActiveAPI []string `json:"active_api"`
	}
	if code, _ := a.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": "watcher", "password": "correct horse battery"}, &refused); code != http.StatusServiceUnavailable ||
		refused.Code != "not_active" || refused.ActiveID != "b" || len(refused.ActiveAPI) != 1 {
		t.Fatalf("login on the stale appliance: HTTP %d %+v, want 503 naming b", code, refused)
	}
	if code, _ := sess.Do(a, http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("a valid session on the stale appliance: HTTP %d, want 503", code)
	}
	time.Sleep(2 * detection)
	if st, _ := a.Status(); st.Role != ha.Stale {
		t.Fatalf("returned node left stale by itself: %+v", st)
	}
	if st, _ := b.Status(); st.Role != ha.Active {
		t.Fatalf("b lost the active role when a returned: %+v", st)
	}

	// Recover while writing to the active.
	w := startWriter(b, "during-recover")
	start := time.Now()
	out, err := a.CLI("recover")
	took := time.Since(start)
	w.stop()
	if err != nil {
		t.Fatalf("mamori recover: %v\n%s", err, out)
	}
	t.Logf("recover took %s; writer: %d ok, longest refusal %s", took.Round(time.Millisecond), w.ok.Load(), w.longestGap())
	if w.longestGap() > detection {
		t.Fatalf("writer on the active was refused for %s (> detection time %s) during recovery", w.longestGap(), detection)
	}
	if w.ok.Load() == 0 {
		t.Fatal("writer stored nothing during recovery")
	}
	a.WaitRole(ha.Standby, 10*time.Second)
	sameData(t, a, b)
	// The recovered event is raised on a (a standby) and handed to the active.
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return len(b.Events("ha.recovered")) == 1 }) {
		t.Fatalf("recovered events on the active: %+v", b.Events("ha.recovered"))
	}
	if rec := b.Events("ha.recovered"); rec[0].Node != "a" {
		t.Fatalf("recovered event: %+v", rec)
	}
	if f := b.Events("ha.fenced"); len(f) != 0 {
		t.Fatalf("spurious fence events: %+v", f)
	}
}

// SIGSTOP of the active for 30 s: the standby takes over; at no moment do
// both accept writes; the resumed node ends as standby with identical data.
func TestStoppedActiveNeverDualActive(t *testing.T) {
	skipShort(t)
	net := cluster.Subnet()
	a := cluster.NewNode(t, "a", net+".1", cluster.Options{AutoRecover: true})
	b := cluster.NewNode(t, "b", net+".2", cluster.Options{AutoRecover: true})
	cluster.Pair(t, a, b)
	watchSession(t, a, b)

	wa, wb := startWriter(a, "a"), startWriter(b, "b")
	time.Sleep(time.Second)
	a.Signal(syscall.SIGSTOP)
	stopped := time.Now()
	b.WaitRole(ha.Active, 20*time.Second)
	time.Sleep(30*time.Second - time.Since(stopped))
	a.Signal(syscall.SIGCONT)
	a.WaitRole(ha.Standby, 60*time.Second)
	time.Sleep(2 * time.Second)
	wa.stop()
	wb.stop()

	firstB := wb.first()
	if firstB.IsZero() {
		t.Fatal("b never accepted a write")
	}
	if lastA := wa.last(); !lastA.Before(firstB) {
		t.Fatalf("dual active: a accepted a write at %s, after b's first at %s", lastA.Format(time.StampMicro), firstB.Format(time.StampMicro))
	}
	if wa.ok.Load() == 0 {
		t.Fatal("a accepted no write before it was stopped: the check proves nothing")
	}
	t.Logf("writes: a %d (last %s), b %d (first %s)", wa.ok.Load(), wa.last().Format(time.StampMilli), wb.ok.Load(), firstB.Format(time.StampMilli))
	sameData(t, a, b)
}

// writer posts events to one node as fast as it answers, recording when
// writes were accepted.
type writer struct {
	n       *cluster.Node
	ok      atomic.Int64
	mu      sync.Mutex
	accepts []time.Time
	quit    chan struct{}
	done    chan struct{}
}

func startWriter(n *cluster.Node, prefix string) *writer {
	w := &writer{n: n, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.quit:
				return
			default:
			}
			if ok, _ := n.Write(fmt.Sprintf("%s-%d-%d", prefix, i, time.Now().UnixNano())); ok {
				w.ok.Add(1)
				w.mu.Lock()
				w.accepts = append(w.accepts, time.Now())
				w.mu.Unlock()
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	return w
}

func (w *writer) stop() { close(w.quit); <-w.done }

func (w *writer) first() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.accepts) == 0 {
		return time.Time{}
	}
	return w.accepts[0]
}

func (w *writer) last() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.accepts) == 0 {
		return time.Time{}
	}
	return w.accepts[len(w.accepts)-1]
}

// longestGap is the longest time between two accepted writes.
func (w *writer) longestGap() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var g time.Duration
	for i := 1; i < len(w.accepts); i++ {
		g = max(g, w.accepts[i].Sub(w.accepts[i-1]))
	}
	return g
}
