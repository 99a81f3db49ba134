package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/test/cluster"
)

// ackWriter writes events with unique uids to every appliance at once
// (one goroutine each, so a frozen one delays nobody), as an operator's
// script writing to whichever is active would, and records what each
// acknowledged and when: every acknowledged uid must be on the final
// active, and two appliances acknowledging at the same moment is a
// dual-active window.
type ackWriter struct {
	s      *cluster.Session
	prefix string
	mu     sync.Mutex
	acks   []ack
	tries  int
	quit   chan struct{}
	wg     sync.WaitGroup
}

type ack struct {
	node, uid string
	at        time.Time
}

func startAckWriter(s *cluster.Session, prefix string, nodes ...*cluster.Node) *ackWriter {
	w := &ackWriter{s: s, prefix: prefix, quit: make(chan struct{})}
	for _, n := range nodes {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-w.quit:
					return
				case <-time.After(40 * time.Millisecond):
				}
				if !n.Running() {
					continue
				}
				uid := fmt.Sprintf("%s-%s-%d", w.prefix, n.Name, i)
				ok, _ := s.Write(n, uid)
				w.mu.Lock()
				w.tries++
				if ok {
					w.acks = append(w.acks, ack{node: n.Name, uid: uid, at: time.Now()})
				}
				w.mu.Unlock()
			}
		}()
	}
	return w
}

func (w *ackWriter) stop() []ack {
	close(w.quit)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	slices.SortFunc(w.acks, func(a, b ack) int { return a.at.Compare(b.at) })
	return slices.Clone(w.acks)
}

// dualMoments returns the times at which both appliances acknowledged a
// write within 100 ms of each other.
func dualMoments(acks []ack) []time.Time {
	var out []time.Time
	last := map[string]time.Time{}
	for _, a := range acks {
		for node, t := range last {
			if node != a.node && a.at.Sub(t) <= 100*time.Millisecond {
				out = append(out, a.at)
			}
		}
		last[a.node] = a.at
	}
	return out
}

// eventUIDs lists every event uid n holds (its local copy), paging.
func eventUIDs(t *testing.T, n *cluster.Node, kind string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for after := int64(0); ; {
		var page struct {
			Events []events.Event `json:"events"`
			More   bool           `json:"more"` // the answer was cut (in bytes or at the limit)
		}
		code, err := n.Do(http.MethodGet, fmt.Sprintf("/api/v1/events?kind=%s&limit=10000&after=%d", kind, after), nil, &page)
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s: list events: HTTP %d %v", n.Name, code, err)
		}
		for _, ev := range page.Events {
			out[ev.UID] = true
			after = ev.ID
		}
		if !page.More {
			return out
		}
	}
}

// checkAcked fails unless every acknowledged uid is on n, waiting for
// merges still under way. It returns how many were acknowledged.
func checkAcked(t *testing.T, n *cluster.Node, acks []ack) int {
	t.Helper()
	var missing []string
	cluster.WaitFor(t.Context(), 60*time.Second, func() bool {
		have := eventUIDs(t, n, "test.write")
		missing = missing[:0]
		for _, a := range acks {
			if !have[a.uid] {
				missing = append(missing, a.uid+"@"+a.node+"@"+a.at.Format("15:04:05.000"))
			}
		}
		return len(missing) == 0
	})
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged writes are not on the final active %s, first %v, last %s", len(missing), len(acks), n.Name, missing[:min(5, len(missing))], missing[len(missing)-1])
	}
	return len(acks)
}
