// Package ha decides which appliance of the pair is active. It watches the
// embedded store's Raft state, probes the peer on every heartbeat path and
// a witness, promotes this node when the active is gone (re-forming the
// store as a single voter and raising the pair's epoch), reports itself
// fenced when it is cut off, and brings a returning node back as standby.
// Active-only work (pollers, schedules, notifications) registers here and
// is started and stopped on role changes. See DESIGN.md in this folder.
package ha

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// Role is this appliance's part in the pair.
type Role string

// Roles.
const (
	Starting   Role = "starting"   // store open, no role decided yet
	Active     Role = "active"     // serves writes, runs active-only work
	Standby    Role = "standby"    // replicates from the active
	Fenced     Role = "fenced"     // cut off from peer and witness: does nothing active
	Stale      Role = "stale"      // returned with an old epoch: needs `mamori recover`
	Recovering Role = "recovering" // rejoining the active as standby
)

var (
	// ErrNotPaired: the operation needs a peer.
	ErrNotPaired = errors.New("this appliance is not paired")
	// ErrIsActive: recovery runs on the returning node, never on the active.
	ErrIsActive = errors.New("this appliance is active: run recover on the other appliance")
	// ErrPeerNotActive: recovery needs an active peer to join.
	ErrPeerNotActive = errors.New("the peer is not active (or not reachable): start it or check the network, then retry")
	// ErrBusy: a recovery is already running.
	ErrBusy = errors.New("a recovery is already running")
)

// Store is what the controller needs of the store.
type Store interface {
	// Status reports Raft state.
	Status() store.Status
	// PromoteAlone re-forms the store with this node as its only voter.
	PromoteAlone() error
	// Rejoin discards the local store and joins the peer's as a voter.
	Rejoin(ctx context.Context, peerClusterAddr string) error
	// WaitLeader waits until a leader is known.
	WaitLeader(timeout time.Duration) error
	// SetWritable opens the store to writes only while this node is active.
	SetWritable(ok bool)
}

// Work is active-only work: Run is called when this node becomes active
// and its context is cancelled when it stops being active.
type Work interface {
	Run(ctx context.Context) error
}

// Options configure the controller.
type Options struct {
	HA        config.HA
	Self      NodeInfo
	ClientTLS *tls.Config
	// Migrate runs the schema migrations; called on every promotion to
	// active, before any active work starts.
	Migrate func(context.Context) error
	// Events is where pending events are written once this node is active.
	Events events.Store
}

// Controller runs the role state machine.
type Controller struct {
	opts    Options
	log     *slog.Logger
	st      Store
	members *Members
	rec     *events.Recorder

	works map[string]Work

	mu           sync.Mutex
	paths        []*path
	peerID       string
	wit          *witness
	role         Role
	reason       string
	since        time.Time
	started      time.Time
	seenLeader   bool
	lastLeader   time.Time
	lastRecv     time.Time // last heartbeat received from the peer
	lastRecvBeat Beat
	activeStop   context.CancelFunc
	activeDone   chan struct{}
	recovering   atomic.Bool
	lastTick     atomic.Pointer[time.Time]
	// resumedAt is when the tick loop last found it had been paused
	// (SIGSTOP, a VM freeze): no promotion within a detection time of it.
	resumedAt    time.Time
	lease        *leaseClient
	senior       atomic.Bool // see Beat.Senior
	lastLeaderID string
	// lastAutoRecover is touched only by the tick goroutine.
	lastAutoRecover time.Time
	yielded         atomic.Bool // lost a split brain: stays out of the active role until recovered
	ls              leaseState
	ready           chan struct{}
	readyOnce       sync.Once
}

// New returns a controller; it does no I/O.
func New(opts Options, st Store, members *Members, rec *events.Recorder, logger *slog.Logger) *Controller {
	return &Controller{opts: opts, log: logger.With("component", "ha"), st: st, members: members, rec: rec,
		works: map[string]Work{}, role: Starting, since: time.Now(), started: time.Now(), ready: make(chan struct{})}
}

// Register adds active-only work; call before Run.
func (c *Controller) Register(name string, w Work) { c.works[name] = w }

// Ready is closed once a role has been decided (for systemd READY=1).
func (c *Controller) Ready() <-chan struct{} { return c.ready }

// Run drives the state machine until ctx ends; active work is stopped
// before it returns.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	c.st.SetWritable(false) // until a role is decided
	defer func() {
		c.stopActive()
		wg.Wait()
	}()
	wg.Add(3)
	go func() { defer wg.Done(); c.heartbeatLoop(ctx) }()
	go func() { defer wg.Done(); c.flushLoop(ctx) }()
	go func() { defer wg.Done(); c.witnessLoop(ctx) }()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		c.tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tick decides the role from the store's state, the peer and the witness.
func (c *Controller) tick(ctx context.Context) {
	now := time.Now()
	if prev := c.lastTick.Load(); prev != nil {
		c.noticePause(now, now.Sub(*prev))
	}
	c.lastTick.Store(&now)
	st := c.st.Status()
	m := c.members.Get()
	if st.LeaderID != "" {
		c.mu.Lock()
		c.seenLeader, c.lastLeader, c.lastLeaderID = true, now, st.LeaderID
		c.mu.Unlock()
	}
	defer c.autoRecover(ctx, now)
	if c.recovering.Load() {
		return
	}
	if m.Peer == nil {
		if st.Leader {
			c.setRole(ctx, Active, "single appliance (not paired)")
		}
		return
	}
	c.ensurePaths(m.Peer)
	if !m.PeerInStore && hasServer(st, m.Peer.ID) {
		_ = c.members.Update(func(mm *Membership) error { mm.PeerInStore = true; return nil })
		m.PeerInStore = true
	}
	peerUp, beat := c.peer(now)
	det := c.opts.HA.DetectionTime
	if st.Leader && voters(st) <= 1 && peerUp && beat.Role == Active && beat.Alone && c.shouldYield(m.Epoch, beat) {
		c.yield(ctx, beat)
	}
	switch {
	case c.yielded.Load():
		c.setRole(ctx, Stale, fmt.Sprintf("split brain healed: %s keeps the active role; this appliance's writes since the split are set aside on recovery: run `mamori recover`", beat.ID))
	case st.Leader && voters(st) <= 1 && m.PeerInStore && c.leaseLost(now):
		// Alone, only the witness's lease stops the other side from
		// taking over: without a fresh grant this node must not act.
		c.setRole(ctx, Fenced, "lease from the witness not renewed within half the detection time")
	case st.Leader && (voters(st) <= 1 || peerUp):
		c.setRole(ctx, Active, "store leader")
	case st.LeaderID != "" && !st.Leader:
		c.setRole(ctx, Standby, "replicating from "+st.LeaderID)
		if beat.Role == Active && beat.ID == st.LeaderID {
			_ = c.members.RaiseEpoch(beat.Epoch)
		}
	case peerUp && beat.Role == Active && beat.Epoch > m.Epoch:
		// checked before fencing: a returning node that sees a newer active is stale, not cut off
		c.stale(ctx, fmt.Sprintf("peer %s is active at epoch %d; this appliance has epoch %d", beat.ID, beat.Epoch, m.Epoch))
	case now.Sub(c.started) >= det && !c.peerSeenWithin(now, det/2) && !c.witnessOK(now):
		// Fence well inside the detection time, so the isolated side has
		// stopped before the other side may promote.
		c.setRole(ctx, Fenced, "cut off from the peer and from every witness address")
	case peerUp:
		c.setRole(ctx, Standby, "peer reachable, waiting for the store to elect a leader")
		c.replicationPathDown(ctx, now, det)
	default:
		c.peerDown(ctx, now, st, det)
	}
}

// noticePause: ticks come every 50 ms; a gap of a second or more means
// this process was frozen (SIGSTOP, a VM paused, extreme overload).
// Every timer measured across the gap is meaningless — "no leader for
// 30 s" was mostly sleep — and heartbeats queued during it describe the
// world before the gap. So timers restart and no promotion happens for a
// detection time: by then fresh heartbeats tell whether the peer took
// over meanwhile (it then has the higher epoch and this node goes stale).
func (c *Controller) noticePause(now time.Time, gap time.Duration) {
	if gap < max(time.Second, c.opts.HA.DetectionTime/2) {
		return
	}
	c.mu.Lock()
	c.lastLeader, c.resumedAt, c.lastRecv = now, now, time.Time{}
	c.mu.Unlock()
	c.log.Warn("this process was paused; timers restart and no promotion for a detection time", "paused_for", gap.Round(time.Millisecond))
}

// justResumed says whether a pause ended less than a detection time ago.
func (c *Controller) justResumed(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.resumedAt.IsZero() && now.Sub(c.resumedAt) < c.opts.HA.DetectionTime
}

// peerDown handles a leaderless store with the peer unreachable on every path.
func (c *Controller) peerDown(ctx context.Context, now time.Time, st store.Status, det time.Duration) {
	c.mu.Lock()
	seen, silentFor := c.seenLeader, now.Sub(c.lastLeader)
	c.mu.Unlock()
	if c.opts.HA.Mode == config.Witness {
		c.peerDownWitness(ctx, now, seen, silentFor, det)
		return
	}
	if !c.witnessOK(now) {
		if now.Sub(c.started) >= det { // before that, the probes have not had their chance
			c.setRole(ctx, Fenced, "cut off from the peer and from every witness address")
		}
		return
	}
	if !seen {
		c.setRole(ctx, Starting, "peer unreachable and no active seen since start: start the peer, or run `mamori recover` once it is up")
		return
	}
	if c.currentRole() == Stale {
		return
	}
	if silentFor < det || c.justResumed(now) {
		return
	}
	c.promote(ctx, 0, fmt.Sprintf("peer %s unreachable on every heartbeat path for %s; witness answers", c.peerName(), silentFor.Round(time.Millisecond)))
}

func hasServer(st store.Status, id string) bool {
	for _, s := range st.Servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

func voters(st store.Status) int {
	n := 0
	for _, s := range st.Servers {
		if s.Voter {
			n++
		}
	}
	return n
}

// promote makes this node the only voter and the active, at a new epoch.
// A zero epoch means "the next one"; in witness mode it is the one the
// witness granted.
func (c *Controller) promote(ctx context.Context, epoch uint64, reason string) {
	start := time.Now()
	if epoch == 0 {
		_, beat := c.peer(start)
		epoch = max(c.members.Get().Epoch, beat.Epoch) + 1
	}
	if err := c.members.RaiseEpoch(epoch); err != nil {
		c.log.Error("promotion aborted: cannot persist epoch", "err", err)
		return
	}
	c.log.Warn("promoting to active", "reason", reason, "epoch", epoch)
	c.senior.Store(c.currentRole() == Active || c.lastLeaderWasSelf())
	if err := c.st.PromoteAlone(); err != nil {
		c.log.Error("promotion failed", "err", err)
		return
	}
	if err := c.st.WaitLeader(10 * time.Second); err != nil {
		c.log.Error("no leadership after promotion", "err", err)
		return
	}
	c.setRole(ctx, Active, "promoted: "+reason)
	c.rec.Record(ctx, events.Event{Severity: events.Critical, Kind: "ha.failover",
		Message: fmt.Sprintf("%s took over as active (epoch %d): %s", c.opts.Self.ID, epoch, reason),
		Attrs: map[string]string{"epoch": fmt.Sprint(epoch), "from": c.peerName(), "to": c.opts.Self.ID,
			"reason": reason, "promotion_ms": fmt.Sprint(time.Since(start).Milliseconds())}})
}

// shouldYield decides a healed split brain (pair-only mode: both sides
// promoted during a partition in which both reached the witness address).
// The higher epoch wins; then the side that was active before the split;
// then the lower node id. The loser stops writing at once.
func (c *Controller) shouldYield(myEpoch uint64, peer Beat) bool {
	switch {
	case peer.Epoch != myEpoch:
		return peer.Epoch > myEpoch
	case peer.Senior != c.senior.Load():
		return peer.Senior
	}
	return peer.ID < c.opts.Self.ID
}

func (c *Controller) yield(ctx context.Context, peer Beat) {
	if c.yielded.Swap(true) {
		return
	}
	c.st.SetWritable(false)
	c.log.Error("split brain: both appliances were active; yielding", "peer", peer.ID, "peer_epoch", peer.Epoch)
	c.rec.Record(ctx, events.Event{Severity: events.Critical, Kind: "ha.split_brain",
		Message: fmt.Sprintf("both appliances were active (partition between them, both reached the witness address); %s keeps the active role, %s yields and must be recovered", peer.ID, c.opts.Self.ID),
		Attrs:   map[string]string{"winner": peer.ID, "loser": c.opts.Self.ID, "epoch": fmt.Sprint(peer.Epoch)}})
}

// replicationPathDown handles a store that has had no leader for twice
// the detection time although the peer answers heartbeats on another
// path: the replication path alone is down. The node that led last
// re-forms the store alone (with the witness's consent) so the pair stays
// writable; its peer then sees a higher epoch and goes stale.
func (c *Controller) replicationPathDown(ctx context.Context, now time.Time, det time.Duration) {
	c.mu.Lock()
	silentFor, seen := now.Sub(c.lastLeader), c.seenLeader
	c.mu.Unlock()
	if !seen || silentFor < 2*det || !c.lastLeaderWasSelf() || c.justResumed(now) {
		return
	}
	reason := fmt.Sprintf("store replication to %s failed for %s while it answers heartbeats", c.peerName(), silentFor.Round(time.Millisecond))
	if c.opts.HA.Mode == config.Witness {
		r, err := c.leaseCall(ctx, OpAcquire)
		if err != nil || !r.Granted {
			return
		}
		c.promote(ctx, r.Epoch, reason+"; witness granted the lease")
		return
	}
	if c.witnessOK(now) {
		c.promote(ctx, 0, reason+"; witness answers")
	}
}

func (c *Controller) lastLeaderWasSelf() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastLeaderID == c.opts.Self.ID
}

// autoRecover retries recovery of a stale node every few seconds, where
// the operator enabled it.
func (c *Controller) autoRecover(ctx context.Context, now time.Time) {
	if !c.opts.HA.AutoRecover || c.currentRole() != Stale || now.Sub(c.lastAutoRecover) < 2*time.Second {
		return
	}
	c.lastAutoRecover = now
	go func() {
		if err := c.Recover(ctx); err != nil {
			c.log.Warn("automatic recovery failed; will retry", "err", err)
		}
	}()
}

func (c *Controller) stale(ctx context.Context, reason string) {
	c.setRole(ctx, Stale, reason+": run `mamori recover`")
}

// Recover brings this node back as standby of the active peer: the local
// store is replaced by a copy of the active's while the active keeps serving.
func (c *Controller) Recover(ctx context.Context) error {
	m := c.members.Get()
	if m.Peer == nil {
		return ErrNotPaired
	}
	if c.st.Status().Leader && !c.yielded.Load() {
		return ErrIsActive
	}
	if up, beat := c.peer(time.Now()); !up || beat.Role != Active {
		return ErrPeerNotActive
	}
	if !c.recovering.CompareAndSwap(false, true) {
		return ErrBusy
	}
	defer c.recovering.Store(false)
	start := time.Now()
	c.setRole(ctx, Recovering, "rejoining "+m.Peer.ID)
	if err := c.st.Rejoin(ctx, m.Peer.ClusterAddr); err != nil {
		c.setRole(ctx, Stale, "recovery failed: "+err.Error())
		return fmt.Errorf("recover: %w", err)
	}
	if err := c.st.WaitLeader(30 * time.Second); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	_, beat := c.peer(time.Now())
	_ = c.members.RaiseEpoch(beat.Epoch)
	c.yielded.Store(false)
	c.senior.Store(false)
	c.setRole(ctx, Standby, "recovered from "+m.Peer.ID)
	c.rec.Record(ctx, events.Event{Severity: events.Info, Kind: "ha.recovered",
		Message: fmt.Sprintf("%s rejoined %s as standby in %s", c.opts.Self.ID, m.Peer.ID, time.Since(start).Round(time.Millisecond)),
		Attrs:   map[string]string{"epoch": fmt.Sprint(beat.Epoch), "duration_ms": fmt.Sprint(time.Since(start).Milliseconds())}})
	return nil
}

// setRole changes the role, starting or stopping active work and
// recording fencing as an event.
func (c *Controller) setRole(ctx context.Context, r Role, reason string) {
	c.mu.Lock()
	old := c.role
	if old == r {
		c.reason = reason
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if r == Active && c.opts.Migrate != nil {
		// The schema first: nobody may see this node active (and write)
		// before the tables of this version exist.
		c.st.SetWritable(true)
		if err := c.opts.Migrate(ctx); err != nil {
			c.st.SetWritable(old == Active)
			c.log.Error("schema migration failed; staying "+string(old)+" and retrying", "err", err)
			return
		}
	}
	c.mu.Lock()
	c.role, c.reason, c.since = r, reason, time.Now()
	c.mu.Unlock()
	c.log.Info("role changed", "from", old, "to", r, "reason", reason)
	c.readyOnce.Do(func() { close(c.ready) })
	c.st.SetWritable(r == Active)
	if old == Active {
		c.stopActive()
	}
	switch r {
	case Active:
		c.startActive(ctx)
	case Fenced:
		c.rec.Record(ctx, events.Event{Severity: events.Critical, Kind: "ha.fenced",
			Message: fmt.Sprintf("%s fenced itself: %s", c.opts.Self.ID, reason)})
	}
}

func (c *Controller) startActive(ctx context.Context) {
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for name, w := range c.works {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(actx); err != nil && actx.Err() == nil {
				c.log.Error("active work failed", "work", name, "err", err)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	c.mu.Lock()
	c.activeStop, c.activeDone = cancel, done
	c.mu.Unlock()
}

func (c *Controller) stopActive() {
	c.mu.Lock()
	stop, done := c.activeStop, c.activeDone
	c.activeStop, c.activeDone = nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

func (c *Controller) currentRole() Role {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role
}
