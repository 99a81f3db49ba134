package ha

import (
	"context"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// clocks are the timers the rules read (guarded by c.mu). See DESIGN.md,
// "Invariants", for why each exists.
type clocks struct {
	seenLeader   bool      // a store leader was seen since this process started
	leaderSeenAt time.Time // the store last had a leader
	lastLeaderID string
	// clockFrom: the peer's silence counts from here at the earliest. A
	// pause, or the end of a cut-off, restarts it: silence measured while
	// this node could not hear anyone says nothing about the peer.
	clockFrom time.Time
	holdUntil time.Time // no promotion before this
	fencedAt  time.Time // when this node last was fenced
	cutOff    bool      // the last tick found this node cut off from peer and witness
}

// tick decides the role from the store's state, the peer and the witness.
func (c *Controller) tick(ctx context.Context) {
	now := c.now()
	if prev := c.lastTick.Load(); prev != nil {
		c.noticePause(now, now.Sub(*prev))
	}
	c.lastTick.Store(&now)
	st := c.st.Status()
	m := c.members.Get()
	if st.LeaderID != "" {
		c.mu.Lock()
		c.clk.seenLeader, c.clk.leaderSeenAt, c.clk.lastLeaderID = true, now, st.LeaderID
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
	c.watchCutOff(now)
	peerUp, beat := c.peer(now)
	if ok, why := c.compatible(beat); peerUp && !ok && !st.Leader {
		c.refusePeer(ctx, why)
		return
	}
	c.peerLeft(now) // voids a stopping standby's notice once it is back
	if peerUp && beat.Epoch > m.PeerEpoch {
		_ = c.members.Update(func(mm *Membership) error { mm.PeerEpoch = max(mm.PeerEpoch, beat.Epoch); return nil })
		m = c.members.Get()
	}
	alone := st.Leader && voters(st) <= 1
	// twin: both appliances lead a store alone (a healed split brain, or
	// one restarted). Whatever the peer's role — active, fenced, starting
	// — it leads its store and would act; only one that yielded (stale) or
	// is rejoining does not count.
	twin := alone && m.Yielded == "" && peerUp && beat.Alone && beat.Role != Stale && beat.Role != Recovering
	if twin && shouldYield(c.opts.Self.ID, m, beat) {
		c.yield(ctx, beat)
		m = c.members.Get()
	}
	switch {
	case m.Yielded != "":
		c.setRole(ctx, Stale, fmt.Sprintf("split brain healed: %s keeps the active role; this appliance's writes since the split are merged into it after `mamori recover`", m.Yielded))
	case alone:
		c.decideAlone(ctx, now, m, peerUp, twin, beat.ID)
	default:
		c.decidePaired(ctx, now, st, m, peerUp, beat)
	}
}

// decideAlone: this node leads a store of which it is the only voter.
func (c *Controller) decideAlone(ctx context.Context, now time.Time, m Membership, peerUp, twin bool, peerID string) {
	pairOnly := m.PeerInStore && c.opts.HA.Mode == config.PairOnly
	switch {
	case m.PeerInStore && c.leaseLost(now):
		// Only the witness's lease stops the other side from taking
		// over: without a fresh grant this node must not act.
		c.setRole(ctx, Fenced, "lease from the witness not renewed within half the detection time")
	case pairOnly && c.isCutOff(now):
		// Cut off from peer and witness it stops too: the peer may come
		// back (a resumed process, a split-brain twin) and take over
		// without being able to tell this node from a dead one.
		c.setRole(ctx, Fenced, "alone in the store and cut off from the peer and from every witness address")
	case twin && c.currentRole() != Active:
		// Not active now, and the peer leads alone too: become active
		// only once it has yielded, never alongside it.
		c.setRole(ctx, c.currentRole(), fmt.Sprintf("%s leads a store of its own too; waiting for it to yield", peerID))
	case pairOnly && (c.currentRole() == Starting || c.currentRole() == Fenced) && !peerUp && !c.lonePeerSilent(now):
		// Restarted alone, or fenced and reaching the witness again (a
		// resumed process, a healed cut): the peer may lead a store of
		// its own meanwhile (a split brain not healed yet). Act only once
		// it is heard (then the rules above decide) or has been silent
		// for a detection time while the witness answered. Found by
		// TestRandomPartitions: both paused in turn, each promoted at the
		// same epoch, and the resumed one went from fenced to active
		// before hearing its twin.
		c.setRole(ctx, c.currentRole(), fmt.Sprintf("alone in the store: waiting up to %s to hear %s before taking the active role", c.opts.HA.DetectionTime, peerID))
	default:
		c.setRole(ctx, Active, "store leader")
		c.boundWrites(now, m.PeerInStore)
	}
}

// decidePaired: the store has (or had) both appliances as voters.
func (c *Controller) decidePaired(ctx context.Context, now time.Time, st store.Status, m Membership, peerUp bool, beat Beat) {
	det := c.opts.HA.DetectionTime
	switch {
	case st.Leader && peerUp:
		c.setRole(ctx, Active, "store leader")
		c.boundWrites(now, false)
	case st.LeaderID != "" && !st.Leader && !(peerUp && beat.ID == st.LeaderID && beat.Alone):
		// A peer that leads a store alone cannot be this store's leader:
		// that view is left over (a resumed process reads heartbeats queued
		// before its pause), and adopting the peer's epoch from it would
		// let this node pass for up to date without the peer's data.
		c.setRole(ctx, Standby, "replicating from "+st.LeaderID)
		if beat.Role == Active && beat.ID == st.LeaderID {
			_ = c.members.RaiseEpoch(beat.Epoch)
		}
		if m.Left != nil { // back before the active re-formed alone: nothing to recover
			_ = c.members.Update(func(mm *Membership) error { mm.Left = nil; return nil })
		}
	case m.PeerEpoch > m.Epoch:
		// Checked before fencing: a returning node that learned of a newer
		// epoch is stale, not cut off, and stays so (whatever it hears
		// later) until recovered: it lacks what was written at that epoch.
		c.stale(ctx, fmt.Sprintf("peer %s was active at epoch %d; this appliance has epoch %d", m.Peer.ID, m.PeerEpoch, m.Epoch))
	case c.isCutOff(now):
		// Fence well inside the detection time, so the isolated side has
		// stopped before the other side may promote.
		c.setRole(ctx, Fenced, "cut off from the peer and from every witness address")
	case !st.Leader && st.LeaderID == "" && c.afterLeave(ctx, now):
		// The standby stopped on purpose and its store is gone: promoted.
	case peerUp:
		c.setRole(ctx, Standby, "peer reachable, waiting for the store to elect a leader")
		c.replicationPathDown(ctx, now, det)
	default:
		c.peerDown(ctx, now, det)
	}
}

// isCutOff: neither the peer nor a witness answered for half the
// detection time (after the first detection time since start, before
// which the probes have not had their chance).
func (c *Controller) isCutOff(now time.Time) bool {
	det := c.opts.HA.DetectionTime
	return now.Sub(c.started) >= det && !c.peerSeenWithin(now, det/2) && !c.witnessOK(now)
}

// watchCutOff restarts the clocks when a cut-off ends: whatever this node
// measured while it heard nobody (the peer's silence above all) is void,
// and the peer's heartbeat needs a detection time to tell whether it took
// over meanwhile. Found by the staged heal: a fenced ex-active that
// reached the witness address a moment before its peer promoted itself
// on a silence it had counted while cut off.
func (c *Controller) watchCutOff(now time.Time) {
	cut := c.isCutOff(now)
	c.mu.Lock()
	was := c.clk.cutOff
	c.clk.cutOff = cut
	c.mu.Unlock()
	if was && !cut {
		c.restartClocks(now, false)
		c.log.Warn("no longer cut off; timers restart and no promotion for a detection time")
	}
}

// restartClocks voids the silence measured so far and forbids promotion
// for a detection time; forgetRecv also drops the last heartbeat received
// (after a pause it describes the world before it).
func (c *Controller) restartClocks(now time.Time, forgetRecv bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clk.clockFrom, c.clk.holdUntil = now, now.Add(c.opts.HA.DetectionTime)
	if forgetRecv {
		c.lastRecv = time.Time{}
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
	c.restartClocks(now, true)
	c.log.Warn("this process was paused; timers restart and no promotion for a detection time", "paused_for", gap.Round(time.Millisecond))
}

// held says whether promotion is forbidden now (a pause or a cut-off
// ended less than a detection time ago).
func (c *Controller) held(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Before(c.clk.holdUntil)
}

// silentFor is how long the peer has been silent as far as this node can
// tell: since the store last had a leader, counted only from the last
// restart of the clocks and only while a witness answered (a node that
// reaches nobody cannot tell a dead peer from its own isolation).
func (c *Controller) silentFor(now time.Time) time.Duration {
	c.mu.Lock()
	from := c.clk.leaderSeenAt
	if c.clk.clockFrom.After(from) {
		from = c.clk.clockFrom
	}
	c.mu.Unlock()
	if w := c.witnessUpSince(now); w.After(from) {
		from = w
	}
	return now.Sub(from)
}

// lonePeerSilent: since this process started (and since the last restart
// of the clocks), the peer has been silent for a detection time while a
// witness answered.
func (c *Controller) lonePeerSilent(now time.Time) bool {
	if !c.witnessOK(now) || c.held(now) {
		return false
	}
	c.mu.Lock()
	from := c.started
	if c.clk.clockFrom.After(from) {
		from = c.clk.clockFrom
	}
	c.mu.Unlock()
	if w := c.witnessUpSince(now); w.After(from) {
		from = w
	}
	return now.Sub(from) >= c.opts.HA.DetectionTime
}

// senior: this node was the active when it lost its peer, and has not
// been fenced since. A fenced ex-active is never senior: while it was cut
// off the peer may have taken over.
func (c *Controller) senior() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.role == Active {
		return true
	}
	return c.clk.lastLeaderID == c.opts.Self.ID && c.clk.fencedAt.Before(c.clk.leaderSeenAt)
}

// boundWrites: in witness mode a lone active may write only while its
// lease is known to hold; the store refuses writes past that instant by
// itself, so a request served the moment a frozen process resumes cannot
// slip in before the next tick fences it.
func (c *Controller) boundWrites(now time.Time, lone bool) {
	if c.opts.HA.Mode != config.Witness || !lone {
		c.st.SetWritableUntil(time.Time{})
		return
	}
	c.mu.Lock()
	g := c.ls.lastGrant
	c.mu.Unlock()
	c.st.SetWritableUntil(g.Add(c.opts.HA.DetectionTime / 2))
}

// peerDown handles a leaderless store with the peer unreachable on every path.
func (c *Controller) peerDown(ctx context.Context, now time.Time, det time.Duration) {
	c.mu.Lock()
	seen := c.clk.seenLeader
	c.mu.Unlock()
	silent := c.silentFor(now)
	if c.opts.HA.Mode == config.Witness {
		c.peerDownWitness(ctx, now, seen, silent, det)
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
	switch r := c.currentRole(); {
	case r == Stale:
		return
	case silent < det || c.held(now):
		if r == Fenced {
			c.setRole(ctx, Fenced, fmt.Sprintf("reachable again; waiting up to %s for the peer's heartbeat before deciding", det))
		}
		return
	}
	c.promote(ctx, 0, fmt.Sprintf("peer %s unreachable on every heartbeat path for %s while the witness answered", c.peerName(), silent.Round(time.Millisecond)))
}

// promote makes this node the only voter and the active, at a new epoch.
// A zero epoch means "the next one"; in witness mode it is the one the
// witness granted.
func (c *Controller) promote(ctx context.Context, epoch uint64, reason string) {
	c.promoteAs(ctx, epoch, reason, events.Critical, "ha.failover")
}

// promoteAs is promote, recorded as an event of that severity and kind.
func (c *Controller) promoteAs(ctx context.Context, epoch uint64, reason string, sev events.Severity, kind string) {
	start := c.now()
	if epoch == 0 {
		_, beat := c.peer(start)
		epoch = max(c.members.Get().Epoch, beat.Epoch) + 1
	}
	p := Promotion{Epoch: epoch, At: start.UTC(), Senior: c.senior()}
	if err := c.members.Promote(p); err != nil {
		c.log.Error("promotion aborted: cannot persist epoch", "err", err)
		return
	}
	c.log.Warn("promoting to active", "reason", reason, "epoch", epoch, "senior", p.Senior)
	if err := c.st.PromoteAlone(); err != nil {
		c.log.Error("promotion failed", "err", err)
		return
	}
	if err := c.st.WaitLeader(10 * time.Second); err != nil {
		c.log.Error("no leadership after promotion", "err", err)
		return
	}
	c.setRole(ctx, Active, "promoted: "+reason)
	c.rec.Record(ctx, events.Event{Severity: sev, Kind: kind,
		Message: fmt.Sprintf("%s took over as active (epoch %d): %s", c.opts.Self.ID, epoch, reason),
		Attrs: map[string]string{"epoch": fmt.Sprint(epoch), "from": c.peerName(), "to": c.opts.Self.ID,
			"reason": reason, "promotion_ms": fmt.Sprint(c.now().Sub(start).Milliseconds())}})
}

// shouldYield decides a healed split brain (both sides promoted during a
// partition in which both reached the witness address, or the documented
// pair-only risk after a half-healed cut). Both sides decide from the
// same fixed facts — each one's epoch, seniority and promotion time, all
// persisted at promotion and sent in every heartbeat — so exactly one
// yields: the higher epoch wins; then the side that was active when it
// lost its peer; then the earlier promotion (it has been serving longer);
// then the lower node id.
func shouldYield(self string, m Membership, peer Beat) bool {
	mine := m.current()
	switch {
	case peer.Epoch != m.Epoch:
		return peer.Epoch > m.Epoch
	case peer.Senior != mine.Senior:
		return peer.Senior
	case !peer.PromotedAt.Equal(mine.At):
		return peer.PromotedAt.Before(mine.At)
	}
	return peer.ID < self
}

// replicationPathDown handles a store that has had no leader for twice
// the detection time although the peer answers heartbeats on another
// path: the replication path alone is down. The node that led last
// re-forms the store alone (with the witness's consent) so the pair stays
// writable; its peer then sees a higher epoch and goes stale.
func (c *Controller) replicationPathDown(ctx context.Context, now time.Time, det time.Duration) {
	c.mu.Lock()
	seen, self := c.clk.seenLeader, c.clk.lastLeaderID == c.opts.Self.ID
	c.mu.Unlock()
	silent := c.silentFor(now)
	if !seen || silent < 2*det || !self || c.held(now) {
		return
	}
	reason := fmt.Sprintf("store replication to %s failed for %s while it answers heartbeats", c.peerName(), silent.Round(time.Millisecond))
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
