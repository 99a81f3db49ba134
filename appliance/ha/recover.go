package ha

import (
	"context"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
)

// yield ends this side of a healed split brain: no write from now on, the
// decision persisted (a restart must not make this node active again
// before it has heard its peer), an event for the operators.
func (c *Controller) yield(ctx context.Context, peer Beat) {
	c.st.SetWritable(false)
	if err := c.members.Update(func(m *Membership) error { m.Yielded = peer.ID; return nil }); err != nil {
		c.log.Error("cannot persist the split-brain decision", "err", err)
	}
	c.log.Error("split brain: both appliances were active; yielding", "peer", peer.ID, "peer_epoch", peer.Epoch)
	c.rec.Record(ctx, events.Event{Severity: events.Critical, Kind: "ha.split_brain",
		Message: fmt.Sprintf("both appliances were active (they could not reach each other, both reached the witness address); %s keeps the active role, %s yields: its writes since the split are merged into %s once it is recovered (`mamori recover`)", peer.ID, c.opts.Self.ID, peer.ID),
		Attrs:   map[string]string{"winner": peer.ID, "loser": c.opts.Self.ID, "epoch": fmt.Sprint(peer.Epoch)}})
}

// autoRecover retries recovery of a stale node every few seconds, where
// the operator enabled it.
func (c *Controller) autoRecover(ctx context.Context, now time.Time) {
	left := c.members.Get().Left != nil
	if !(c.opts.HA.AutoRecover || left) || c.currentRole() != Stale || now.Sub(c.lastAutoRecover) < 2*time.Second {
		return
	}
	c.lastAutoRecover = now
	run := func() {
		if err := c.Recover(ctx); err != nil {
			c.log.Warn("automatic recovery failed; will retry", "err", err)
		}
	}
	if c.syncRecover { // the state-machine simulation steps one goroutine
		run()
		return
	}
	go run()
}

func (c *Controller) stale(ctx context.Context, reason string) {
	c.setRole(ctx, Stale, reason+": run `mamori recover`")
}

// Recover brings this node back as standby of the active peer: the local
// store is set aside (kept, dated: see OldStores) and replaced by a copy
// of the active's while the active keeps serving. Rows written here after
// a split brain are merged back from the set-aside store by the merger.
func (c *Controller) Recover(ctx context.Context) error {
	m := c.members.Get()
	if m.Peer == nil {
		return ErrNotPaired
	}
	if c.st.Status().Leader && m.Yielded == "" {
		return ErrIsActive
	}
	if up, beat := c.peer(c.now()); !up || beat.Role != Active {
		return ErrPeerNotActive
	}
	if !c.recovering.CompareAndSwap(false, true) {
		return ErrBusy
	}
	defer c.recovering.Store(false)
	start := c.now()
	c.setRole(ctx, Recovering, "rejoining "+m.Peer.ID)
	aside, err := c.st.Rejoin(ctx, m.Peer.ClusterAddr, fmt.Sprintf("epoch%d", m.Epoch))
	if aside != "" {
		c.log.Warn("store set aside", "path", aside)
	}
	if err != nil {
		c.setRole(ctx, Stale, "recovery failed: "+err.Error())
		return fmt.Errorf("recover: %w", err)
	}
	if err := c.st.WaitLeader(30 * time.Second); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	_, beat := c.peer(c.now())
	if err := c.members.Update(func(mm *Membership) error {
		mm.Epoch, mm.Yielded, mm.Left = max(mm.Epoch, beat.Epoch), "", nil
		return nil
	}); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	c.setRole(ctx, Standby, "recovered from "+m.Peer.ID)
	c.rec.Record(ctx, events.Event{Severity: events.Info, Kind: "ha.recovered",
		Message: fmt.Sprintf("%s rejoined %s as standby in %s; its previous store is kept in %s", c.opts.Self.ID, m.Peer.ID, c.now().Sub(start).Round(time.Millisecond), aside),
		Attrs:   map[string]string{"epoch": fmt.Sprint(beat.Epoch), "duration_ms": fmt.Sprint(c.now().Sub(start).Milliseconds()), "set_aside": aside}})
	return nil
}
