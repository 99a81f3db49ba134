package ha

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
)

// SwitchoverPath is where a standby asks the active to hand the role over
// (the standby's `mamori switchover` or console button ends up there).
const SwitchoverPath = "/internal/v1/peer/switchover"

var (
	// ErrNotReady: a switchover needs an active and a standby in step.
	ErrNotReady = errors.New("no switchover now")
	// ErrSwitching: a switchover is already running.
	ErrSwitching = errors.New("a switchover is already running")
)

// SwitchoverReport says what a switchover did.
type SwitchoverReport struct {
	From       string  `json:"from"`
	To         string  `json:"to"`
	Epoch      uint64  `json:"epoch"`
	Seconds    float64 `json:"seconds"`     // from the request to the new active's role
	DrainMs    int64   `json:"drain_ms"`    // stopping the active work on the old active
	TransferMs int64   `json:"transfer_ms"` // handing over the store's leadership
	// Pulled: the active answered as an older build without the hand-over
	// route; the standby took the store's leadership through the cluster
	// port instead (the old active's work stopped as it lost it).
	Pulled bool `json:"pulled,omitempty"`
}

// Switchover moves the active role to the other appliance on purpose,
// with nothing lost: the active stops its active-only work (letting the
// writes it makes while stopping commit), refuses further writes, hands
// the store's leadership to the standby, and becomes its standby at once
// (its store stays a voter in step: no recovery). Called on the standby,
// it asks the active to do so. Clients and forwarders retry what the old
// active refused on the new one; the spools keep every message until the
// new active has stored it.
func (c *Controller) Switchover(ctx context.Context, timeout time.Duration) (SwitchoverReport, error) {
	m := c.members.Get()
	if m.Peer == nil {
		return SwitchoverReport{}, ErrNotPaired
	}
	if !c.switching.CompareAndSwap(false, true) {
		return SwitchoverReport{}, ErrSwitching
	}
	defer c.switching.Store(false)
	c.settle(ctx, min(timeout, 10*time.Second))
	switch r := c.currentRole(); r {
	case Active:
		return c.handOver(ctx, m.Peer.ID, timeout)
	case Standby:
		return c.takeOver(ctx, m.Peer.ID, timeout)
	default:
		return SwitchoverReport{}, fmt.Errorf("%w: this appliance is %s; a switchover moves the role between an active and a standby in step (see `mamori status`)", ErrNotReady, r)
	}
}

// settle waits (up to max) until one appliance is active and the other
// standby: a request that arrives while the store re-elects its leader
// (a blip under load, or the tail of another switchover) is served once
// the roles are clear again, rather than refused.
func (c *Controller) settle(ctx context.Context, max time.Duration) {
	deadline := c.now().Add(max)
	for c.now().Before(deadline) {
		up, beat := c.peer(c.now())
		r := c.currentRole()
		if !up || (r == Active && beat.Role == Standby) || (r == Standby && beat.Role == Active) {
			return // settled, or no peer to wait for
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readyToHandOver checks that the peer is a standby voter in step with this active.
func (c *Controller) readyToHandOver(peerID string) error {
	now := c.now()
	_, beat := c.peer(now)
	up := c.peerSeenWithin(now, max(3*c.opts.HA.HeartbeatInterval, time.Second))
	st := c.st.Status()
	switch {
	case !up:
		return fmt.Errorf("%w: %s does not answer heartbeats: it must be running as standby", ErrNotReady, peerID)
	case beat.Role != Standby:
		return fmt.Errorf("%w: %s is %s, not standby: bring it back first (`mamori recover` there)", ErrNotReady, peerID, beat.Role)
	case !hasServer(st, peerID) || voters(st) < 2:
		return fmt.Errorf("%w: %s is not a voter of this store", ErrNotReady, peerID)
	case !st.Leader:
		return fmt.Errorf("%w: this appliance does not lead the store", ErrNotReady)
	}
	return nil
}

// handOver runs on the active.
func (c *Controller) handOver(ctx context.Context, peerID string, timeout time.Duration) (SwitchoverReport, error) {
	if err := c.readyToHandOver(peerID); err != nil {
		return SwitchoverReport{}, err
	}
	start := c.now()
	rep := SwitchoverReport{From: c.opts.Self.ID, To: peerID}
	c.log.Warn("switchover: handing the active role over", "to", peerID)
	if c.opts.BeforeHandOver != nil {
		c.opts.BeforeHandOver(ctx)
	}
	// Drain: the active work stops, and what it writes while stopping (the
	// metrics' points since the flush above, a result in flight) still commits.
	drain := c.now()
	c.stopActive()
	rep.DrainMs = c.now().Sub(drain).Milliseconds()
	c.st.SetWritable(false)
	t0 := c.now()
	if err := c.st.TransferLeadership(peerID, timeout); err != nil {
		// Still the leader: carry on as the active (if leadership was lost
		// meanwhile, the next tick changes the role and stops the work).
		if c.st.Status().Leader {
			c.st.SetWritable(true)
		}
		c.resumeActive()
		c.log.Error("switchover failed", "err", err)
		return rep, fmt.Errorf("switchover: %w", err)
	}
	rep.TransferMs = c.now().Sub(t0).Milliseconds()
	if err := c.waitRoles(ctx, Standby, peerID, Active, timeout); err != nil {
		return rep, err
	}
	return c.switched(ctx, rep, start), nil
}

// takeOver runs on the standby: it asks the active to hand over, and
// pulls the leadership itself when the active is an older build.
func (c *Controller) takeOver(ctx context.Context, peerID string, timeout time.Duration) (SwitchoverReport, error) {
	if up, beat := c.peer(c.now()); !up || beat.Role != Active {
		return SwitchoverReport{}, fmt.Errorf("%w: %s is not active (or not reachable): nothing to take over from", ErrNotReady, peerID)
	}
	start := c.now()
	rep, err := c.askPeer(ctx, timeout)
	if !errors.Is(err, errNoRoute) {
		return rep, err
	}
	c.log.Warn("switchover: the active has no hand-over route (an older build); taking the store's leadership", "from", peerID)
	rep = SwitchoverReport{From: peerID, To: c.opts.Self.ID, Pulled: true}
	t0 := c.now()
	if err := c.st.TransferLeadership(c.opts.Self.ID, timeout); err != nil {
		return rep, fmt.Errorf("switchover: %w", err)
	}
	rep.TransferMs = c.now().Sub(t0).Milliseconds()
	if err := c.waitRoles(ctx, Active, peerID, Standby, timeout); err != nil {
		return rep, err
	}
	return c.switched(ctx, rep, start), nil
}

var errNoRoute = errors.New("the peer has no switchover route")

// askPeer posts to the active's hand-over route on each heartbeat path.
func (c *Controller) askPeer(ctx context.Context, timeout time.Duration) (SwitchoverReport, error) {
	c.mu.Lock()
	paths := c.paths
	c.mu.Unlock()
	body, _ := json.Marshal(map[string]int64{"timeout_ms": timeout.Milliseconds()})
	var rep SwitchoverReport
	lastErr := error(ErrPeerNotActive)
	for _, p := range paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+p.addr+SwitchoverPath, bytes.NewReader(body))
		if err != nil {
			return rep, err
		}
		req.Header.Set("Content-Type", "application/json")
		hc := &http.Client{Transport: p.client.Transport, Timeout: timeout + 10*time.Second}
		resp, err := hc.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return rep, json.Unmarshal(b, &rep)
		case resp.StatusCode == http.StatusNotFound:
			return rep, errNoRoute
		}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return rep, fmt.Errorf("switchover refused by the active: %s", e.Error)
		}
		return rep, fmt.Errorf("switchover refused by the active: HTTP %d", resp.StatusCode)
	}
	return rep, fmt.Errorf("switchover: the active cannot be reached: %w", lastErr)
}

// waitRoles waits until this node has role self and the peer reports role peer.
func (c *Controller) waitRoles(ctx context.Context, self Role, peerID string, peer Role, timeout time.Duration) error {
	deadline := c.now().Add(timeout)
	for {
		up, beat := c.peer(c.now())
		if c.currentRole() == self && up && beat.Role == peer {
			return nil
		}
		if c.now().After(deadline) {
			return fmt.Errorf("switchover: the store's leadership moved, but after %s this appliance is %s and %s is %s (see `mamori status`)",
				timeout, c.currentRole(), peerID, beat.Role)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *Controller) switched(ctx context.Context, rep SwitchoverReport, start time.Time) SwitchoverReport {
	rep.Epoch = c.members.Get().Epoch
	rep.Seconds = c.now().Sub(start).Seconds()
	c.log.Warn("switchover done", "from", rep.From, "to", rep.To, "seconds", rep.Seconds)
	c.rec.Record(ctx, events.Event{Severity: events.Warning, Kind: "ha.switchover",
		Message: fmt.Sprintf("planned switchover: %s is active, %s standby (%.2f s)", rep.To, rep.From, rep.Seconds),
		Attrs: map[string]string{"from": rep.From, "to": rep.To, "epoch": fmt.Sprint(rep.Epoch),
			"drain_ms": fmt.Sprint(rep.DrainMs), "transfer_ms": fmt.Sprint(rep.TransferMs), "pulled": fmt.Sprint(rep.Pulled)}})
	return rep
}
