package ha

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// fakeStore stands in for the rqlite store in unit tests of the decision
// table; the e2e suites run the real thing.
type fakeStore struct {
	mu       sync.Mutex
	st       store.Status
	promoted int
	writable bool
	execs    int
}

func (f *fakeStore) Status() store.Status { f.mu.Lock(); defer f.mu.Unlock(); return f.st }
func (f *fakeStore) set(st store.Status)  { f.mu.Lock(); f.st = st; f.mu.Unlock() }
func (f *fakeStore) PromoteAlone() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.promoted++
	f.st = store.Status{Open: true, Leader: true, LeaderID: "b", Servers: []store.Server{{ID: "b", Voter: true}}}
	return nil
}
func (f *fakeStore) Rejoin(context.Context, string, string) (string, error) { return "", nil }
func (f *fakeStore) WaitLeader(time.Duration) error                         { return nil }
func (f *fakeStore) SetWritable(ok bool)                                    { f.mu.Lock(); f.writable = ok; f.mu.Unlock() }
func (f *fakeStore) SetWritableUntil(time.Time)                             {}
func (f *fakeStore) OldStores() []store.OldStore                            { return nil }
func (f *fakeStore) TransferLeadership(string, time.Duration) error         { return nil }
func (f *fakeStore) Exec(context.Context, ...store.Statement) ([]store.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.writable {
		return nil, store.ErrNotLeader
	}
	f.execs++
	return nil, nil
}
func (f *fakeStore) Query(context.Context, store.Level, string, ...any) (store.Rows, error) {
	return store.Rows{}, nil
}

var twoVoters = []store.Server{{ID: "a", Voter: true}, {ID: "b", Voter: true}}

func newTestController(t *testing.T, paired bool) (*Controller, *fakeStore) {
	t.Helper()
	fs := &fakeStore{st: store.Status{Open: true}}
	m, err := OpenMembers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if paired {
		if err := m.Update(func(mm *Membership) error {
			mm.Peer, mm.Epoch = &NodeInfo{ID: "a", APIAddrs: []string{"127.0.0.1:1"}}, 1
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default().HA
	cfg.WitnessAddresses = []string{"127.0.0.1"}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(Options{HA: cfg, Self: NodeInfo{ID: "b"}, Events: fs}, fs, m, events.NewRecorder(fs, "b"), logger)
	c.started = time.Now().Add(-time.Hour)
	return c, fs
}

// witnessAnswers makes the pair-only witness probe look fresh (or not).
func (c *Controller) witnessAnswers(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wit == nil {
		c.wit = &witness{addrs: []string{"127.0.0.1"}, window: c.opts.HA.DetectionTime / 2}
	}
	if ok {
		c.wit.lastOK, c.wit.upSince = time.Now(), time.Now().Add(-time.Hour)
	} else {
		c.wit.lastOK = time.Time{}
	}
}

func TestDecisionTable(t *testing.T) {
	ctx := context.Background()
	long := -10 * time.Second
	for _, tc := range []struct {
		name        string
		st          store.Status
		seenLeader  bool
		leaderAgo   time.Duration
		peerBeat    *Beat
		witness     bool
		want        Role
		wantPromote int
	}{
		{name: "follower with a leader is standby", st: store.Status{Open: true, LeaderID: "a", Servers: twoVoters},
			seenLeader: true, witness: true, want: Standby},
		{name: "peer silent, witness answers: promote", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: true, leaderAgo: long, witness: true, want: Active, wantPromote: 1},
		{name: "peer and witness silent: fenced", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: true, leaderAgo: long, witness: false, want: Fenced},
		{name: "no leader seen since start: never promote", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: false, leaderAgo: long, witness: true, want: Starting},
		{name: "peer silent only briefly: wait", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: true, leaderAgo: -time.Second, witness: true, want: Starting},
		{name: "peer active at a higher epoch: stale", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: true, leaderAgo: long, witness: true, peerBeat: &Beat{ID: "a", Role: Active, Epoch: 5}, want: Stale},
		{name: "peer reachable, no leader yet: standby", st: store.Status{Open: true, Servers: twoVoters},
			seenLeader: true, leaderAgo: long, witness: true, peerBeat: &Beat{ID: "a", Role: Standby, Epoch: 1}, want: Standby},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, fs := newTestController(t, true)
			c.ensurePaths(c.members.Get().Peer)
			fs.set(tc.st)
			c.clk.seenLeader, c.clk.leaderSeenAt = tc.seenLeader, time.Now().Add(tc.leaderAgo)
			c.witnessAnswers(tc.witness)
			if tc.peerBeat != nil {
				b := *tc.peerBeat
				b.At = time.Now()
				c.Heartbeat(b)
			}
			c.tick(ctx)
			if got := c.currentRole(); got != tc.want {
				t.Fatalf("role = %s (%s), want %s", got, c.reason, tc.want)
			}
			if fs.promoted != tc.wantPromote {
				t.Fatalf("promotions = %d, want %d", fs.promoted, tc.wantPromote)
			}
			if tc.wantPromote > 0 {
				if e := c.members.Get().Epoch; e != 2 {
					t.Fatalf("epoch after promotion = %d, want 2", e)
				}
				if fs.execs == 0 {
					t.Fatal("promotion recorded no event")
				}
			}
			if fs.writable != (tc.want == Active) {
				t.Fatalf("writable = %v with role %s", fs.writable, tc.want)
			}
		})
	}
}

type countingWork struct{ running, runs atomic.Int32 }

func (w *countingWork) Run(ctx context.Context) error {
	w.runs.Add(1)
	w.running.Add(1)
	<-ctx.Done()
	w.running.Add(-1)
	return nil
}

// Active-only work starts when this node becomes active and stops when it
// stops being active.
func TestActiveWorkFollowsRole(t *testing.T) {
	c, fs := newTestController(t, false)
	w := &countingWork{}
	c.Register("poller", w)
	ctx := context.Background()
	fs.set(store.Status{Open: true, Leader: true, LeaderID: "b"})
	c.tick(ctx)
	waitFor(t, func() bool { return w.running.Load() == 1 })
	if c.currentRole() != Active {
		t.Fatalf("role %s", c.currentRole())
	}
	c.setRole(ctx, Fenced, "test")
	if w.running.Load() != 0 {
		t.Fatal("work still running after leaving the active role")
	}
	c.setRole(ctx, Active, "test")
	waitFor(t, func() bool { return w.running.Load() == 1 && w.runs.Load() == 2 })
	c.stopActive()
}

// A healed split brain: the side that was not active before the split yields.
func TestSplitBrainYield(t *testing.T) {
	c, fs := newTestController(t, true)
	c.ensurePaths(c.members.Get().Peer)
	ctx := context.Background()
	_ = c.members.RaiseEpoch(2)
	fs.set(store.Status{Open: true, Leader: true, LeaderID: "b", Servers: []store.Server{{ID: "b", Voter: true}}})
	c.tick(ctx)
	if c.currentRole() != Active {
		t.Fatalf("role %s", c.currentRole())
	}
	c.Heartbeat(Beat{ID: "a", Role: Active, Epoch: 2, Alone: true, Senior: true, PromotedAt: time.Now(), At: time.Now()})
	c.tick(ctx)
	if c.currentRole() != Stale || fs.writable {
		t.Fatalf("after meeting a senior active: role %s writable %v", c.currentRole(), fs.writable)
	}
	if c.rec.PendingCount() != 1 {
		t.Fatalf("split-brain event pending = %d, want 1", c.rec.PendingCount())
	}
	if y := c.members.Get().Yielded; y != "a" {
		t.Fatalf("yield not persisted: %q", y)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWitnessLease(t *testing.T) {
	w, err := OpenWitness(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w.until = time.Time{} // a fresh witness, no grace period
	ttl := int64(200)
	step := func(node, op string, epoch uint64, wantGrant bool) LeaseReply {
		t.Helper()
		r, err := w.Decide(node, LeaseRequest{Op: op, Epoch: epoch, TTLms: ttl})
		if err != nil || r.Granted != wantGrant {
			t.Fatalf("%s %s epoch %d: %+v %v, want granted=%v", node, op, epoch, r, err, wantGrant)
		}
		return r
	}
	r := step("a", OpAcquire, 1, true)
	if r.Epoch != 2 || r.Holder != "a" {
		t.Fatalf("first grant %+v", r)
	}
	step("a", OpRenew, 2, true)
	step("b", OpAcquire, 2, false) // held and fresh
	step("b", OpRenew, 2, false)   // not the holder
	time.Sleep(250 * time.Millisecond)
	step("c", OpAcquire, 1, false) // expired, but c is behind
	r = step("b", OpAcquire, 2, true)
	if r.Epoch != 3 || r.Holder != "b" {
		t.Fatalf("takeover grant %+v", r)
	}
	step("a", OpRenew, 2, false) // the old holder cannot renew
	if _, err := w.Decide("a", LeaseRequest{Op: "steal", TTLms: ttl}); err == nil {
		t.Fatal("unknown op accepted")
	}
	// State survives a restart, and a restarted witness honours the holder for a while.
	w2, err := OpenWitness(w.path[:len(w.path)-len("/lease.json")], slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := w2.Decide("a", LeaseRequest{Op: OpAcquire, Epoch: 3, TTLms: ttl}); r.Granted || r.Holder != "b" || r.Epoch != 3 {
		t.Fatalf("restarted witness: %+v", r)
	}
}

// A process that was frozen (SIGSTOP, VM pause) must not promote on
// timers that ran while it slept, nor on heartbeats queued meanwhile: the
// CI once saw a resumed old active re-form alone on "replication failed
// for 30 s" while the peer had already taken over.
func TestNoPromotionRightAfterAPause(t *testing.T) {
	c, fs := newTestController(t, true)
	c.ensurePaths(c.members.Get().Peer)
	fs.set(store.Status{Open: true, Servers: []store.Server{{ID: "a", Voter: true}, {ID: "b", Voter: true}}})
	c.clk.seenLeader, c.clk.leaderSeenAt = true, time.Now().Add(-30*time.Second)
	c.witnessAnswers(true)
	before := time.Now().Add(-30 * time.Second)
	c.lastTick.Store(&before) // the last tick was 30 s ago: the process slept
	c.tick(context.Background())
	if fs.promoted != 0 || c.currentRole() == Active {
		t.Fatalf("promoted right after a pause (role %s, %s)", c.currentRole(), c.reason)
	}
	if !c.held(time.Now()) {
		t.Fatal("the pause was not noticed")
	}
}
