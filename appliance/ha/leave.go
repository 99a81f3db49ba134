package ha

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/internal/config"
)

// LeavePath is where a standby that stops on purpose tells the active.
const LeavePath = "/internal/v1/peer/leaving"

// leaveGrace: the active re-forms alone at once only while the notice is
// this recent; a standby heard again from a new process is back, and the
// notice void.
const leaveGrace = 30 * time.Second

// Leave runs when this appliance stops on purpose (SIGTERM, systemctl
// stop, a package upgrade). A standby tells the active, which then
// re-forms the store alone as soon as this one's store is gone instead
// of after the detection time (a stopping standby would otherwise stall
// the active's writes for that long), and remembers that it left: on its
// return, stale, it recovers by itself. Best effort: if the active does
// not answer, the pair behaves as if this appliance had died.
func (c *Controller) Leave(ctx context.Context) {
	m := c.members.Get()
	if m.Peer == nil || c.currentRole() != Standby {
		return
	}
	if up, beat := c.peer(c.now()); !up || beat.Role != Active {
		return
	}
	c.mu.Lock()
	paths := c.paths
	c.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"id": c.opts.Self.ID})
	for _, p := range paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+p.addr+LeavePath, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.log.Info("the active did not take note of this standby stopping; it takes over after the detection time", "status", resp.StatusCode)
			return
		}
		now := time.Now().UTC()
		_ = c.members.Update(func(mm *Membership) error { mm.Left = &now; return nil })
		c.log.Info("told the active this standby is stopping on purpose", "active", m.Peer.ID)
		return
	}
}

// PeerLeaving: the standby says it is stopping on purpose (LeavePath).
// The active notes it; the tick re-forms the store alone once the
// standby's store is gone.
func (c *Controller) PeerLeaving(id string) error {
	m := c.members.Get()
	switch {
	case m.Peer == nil || m.Peer.ID != id:
		return fmt.Errorf("%w: %s is not this appliance's peer", ErrNotReady, id)
	case c.currentRole() != Active:
		return fmt.Errorf("%w: this appliance is %s, not active", ErrNotReady, c.currentRole())
	}
	now := c.now()
	c.leaving.Store(&leaveNote{at: now, started: c.freshestBeat(now).Started})
	c.log.Info("the standby is stopping on purpose: the store is re-formed alone as soon as it is gone", "peer", id)
	return nil
}

// leaveNote is a standby's notice that it is stopping: when, and the
// start time of the process that sent it.
type leaveNote struct {
	at      time.Time
	started time.Time
}

// peerLeft says whether the peer stopped on purpose recently and has not
// come back since: a heartbeat from a process started later than the one
// that left means it is back (restarted at once), and the notice is void.
func (c *Controller) peerLeft(now time.Time) bool {
	n := c.leaving.Load()
	if n == nil {
		return false
	}
	b := c.freshestBeat(now)
	if now.Sub(n.at) > leaveGrace || (!b.Started.IsZero() && !b.Started.Equal(n.started)) {
		c.leaving.Store(nil)
		return false
	}
	return true
}

// afterLeave re-forms the store alone at once when the standby that left
// on purpose is gone and this node led the store last: the detection
// time is for telling a dead peer from a cut-off one, and the peer said
// where it went. The pair-only witness must still answer (this node is
// not cut off); in witness mode the lease must be granted.
func (c *Controller) afterLeave(ctx context.Context, now time.Time) bool {
	if !c.peerLeft(now) {
		return false
	}
	c.mu.Lock()
	self := c.clk.lastLeaderID == c.opts.Self.ID
	c.mu.Unlock()
	if !self || c.held(now) {
		return false
	}
	reason := fmt.Sprintf("%s stopped on purpose (planned); this appliance continues alone", c.peerName())
	if c.opts.HA.Mode == config.Witness {
		r, err := c.leaseCall(ctx, OpAcquire)
		if err != nil || !r.Granted {
			return false
		}
		c.promoteAs(ctx, r.Epoch, reason, events.Warning, "ha.peer_left")
	} else {
		if !c.witnessOK(now) {
			return false
		}
		c.promoteAs(ctx, 0, reason, events.Warning, "ha.peer_left")
	}
	c.leaving.Store(nil)
	return true
}
