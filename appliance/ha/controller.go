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
	// Rejoin sets the local store aside (returning where) and joins the
	// peer's as a voter.
	Rejoin(ctx context.Context, peerClusterAddr, label string) (string, error)
	// WaitLeader waits until a leader is known.
	WaitLeader(timeout time.Duration) error
	// SetWritable opens the store to writes only while this node is active.
	SetWritable(ok bool)
	// OldStores lists the stores set aside by recoveries.
	OldStores() []store.OldStore
	// SetWritableUntil bounds the writes of a lone active to the time its
	// witness lease is known to hold (zero: no bound).
	SetWritableUntil(t time.Time)
	// TransferLeadership hands the store's leadership to the voter toID
	// (asking the leader when called on a follower).
	TransferLeadership(toID string, timeout time.Duration) error
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
	// Version is this build (sent in heartbeats, shown in status).
	Version string
	// MinPeerProtocol overrides MinPeerProtocol (tests).
	MinPeerProtocol int
	// BeforeHandOver runs on the active at the start of a switchover,
	// while its work still runs: what it writes early (the metrics' open
	// blocks) need not be written while nothing runs.
	BeforeHandOver func(context.Context)
}

// Controller runs the role state machine.
type Controller struct {
	opts    Options
	log     *slog.Logger
	st      Store
	members *Members
	rec     *events.Recorder
	// now is the clock (a simulated one in the state-machine tests).
	now func() time.Time

	works map[string]Work

	mu           sync.Mutex
	paths        []*path
	peerID       string
	wit          *witness
	role         Role
	reason       string
	since        time.Time
	started      time.Time
	clk          clocks
	lastRecv     time.Time // last heartbeat received from the peer
	lastRecvBeat Beat
	activeStop   context.CancelFunc
	activeDone   chan struct{}
	recovering   atomic.Bool
	switching    atomic.Bool
	leaving      atomic.Pointer[leaveNote] // the standby said it is stopping on purpose (active side)
	stopAt       atomic.Pointer[time.Time] // when the active work was last told to stop
	runCtx       context.Context           // Run's context: active work started outside a tick lives in it
	lastTick     atomic.Pointer[time.Time]
	lease        *leaseClient
	// syncRecover runs automatic recoveries inside the tick (simulation).
	syncRecover bool
	// lastAutoRecover is touched only by the tick goroutine.
	lastAutoRecover time.Time
	ls              leaseState
	ready           chan struct{}
	readyOnce       sync.Once
}

// New returns a controller; it does no I/O.
func New(opts Options, st Store, members *Members, rec *events.Recorder, logger *slog.Logger) *Controller {
	return &Controller{opts: opts, log: logger.With("component", "ha"), st: st, members: members, rec: rec, now: time.Now,
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
	c.mu.Lock()
	c.runCtx = ctx
	c.mu.Unlock()
	c.st.SetWritable(false) // until a role is decided
	defer func() {
		c.stopActive()
		wg.Wait()
		// Stopping on purpose: a standby tells the active (see Leave).
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.Leave(lctx)
		cancel()
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
	c.role, c.reason, c.since = r, reason, c.now()
	if r == Fenced {
		c.clk.fencedAt = c.since
	}
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
			if at := c.stopAt.Load(); at != nil {
				c.log.Debug("active work stopped", "work", name, "took", time.Since(*at).Round(time.Millisecond))
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
		now := time.Now()
		c.stopAt.Store(&now)
		stop()
		<-done
	}
}

// resumeActive restarts the active work after a hand-over that did not
// happen, if this node is still the active and nothing restarted it.
func (c *Controller) resumeActive() {
	c.mu.Lock()
	resume, ctx := c.role == Active && c.activeStop == nil && c.runCtx != nil, c.runCtx
	c.mu.Unlock()
	if resume {
		c.startActive(ctx)
	}
}

func (c *Controller) currentRole() Role {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role
}

// Role is this appliance's current role (cheap: for every API request).
func (c *Controller) Role() Role { return c.currentRole() }
