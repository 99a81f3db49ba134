package ha

import (
	"context"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/internal/config"
)

// leaseState is what this node knows of the witness's lease.
type leaseState struct {
	lastContact  time.Time // any answer from the witness
	contactSince time.Time // first answer after the last gap
	lastGrant    time.Time // when the last granted request was sent
	holder       string
	epoch        uint64
	err          string
}

func (c *Controller) leaseClient() *leaseClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lease == nil {
		c.lease = newLeaseClient(c.opts.HA.Witness, c.opts.ClientTLS, min(time.Second, c.opts.HA.DetectionTime/3))
	}
	return c.lease
}

// leaseCall sends one request and records the outcome.
func (c *Controller) leaseCall(ctx context.Context, op string) (LeaseReply, error) {
	sent := time.Now()
	r, err := c.leaseClient().call(ctx, LeaseRequest{Op: op, Epoch: c.members.Get().Epoch, TTLms: c.opts.HA.DetectionTime.Milliseconds()})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.ls.err = err.Error()
		return r, err
	}
	now := time.Now()
	if c.ls.lastContact.IsZero() || now.Sub(c.ls.lastContact) >= c.opts.HA.DetectionTime/2 {
		c.ls.contactSince = now
	}
	c.ls.lastContact, c.ls.holder, c.ls.epoch, c.ls.err = now, r.Holder, r.Epoch, r.Reason
	if r.Granted {
		c.ls.lastGrant = sent
	}
	return r, nil
}

// leaseTick runs every heartbeat interval in witness mode: the leader
// keeps (or takes) the lease, everyone else just watches it.
func (c *Controller) leaseTick(ctx context.Context) {
	if !c.st.Status().Leader {
		_, _ = c.leaseCall(ctx, OpStatus)
		return
	}
	c.mu.Lock()
	mine := c.ls.holder == c.opts.Self.ID && c.ls.epoch == c.members.Get().Epoch
	c.mu.Unlock()
	op := OpRenew
	if !mine {
		op = OpAcquire
	}
	r, err := c.leaseCall(ctx, op)
	if err == nil && r.Granted {
		_ = c.members.RaiseEpoch(r.Epoch)
	}
}

// leaseLost says whether a lone active has gone too long without a grant.
func (c *Controller) leaseLost(now time.Time) bool {
	if c.opts.HA.Mode != config.Witness {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ls.lastGrant.IsZero() || now.Sub(c.ls.lastGrant) > c.opts.HA.DetectionTime/2
}

// peerDownWitness: the store is leaderless and the peer silent. Only the
// witness may make this node active, by granting it the lease.
func (c *Controller) peerDownWitness(ctx context.Context, now time.Time, seen bool, silentFor, det time.Duration) {
	if !seen || silentFor < det || c.currentRole() == Stale || c.held(now) {
		return
	}
	r, err := c.leaseCall(ctx, OpAcquire)
	switch {
	case err != nil:
		if now.Sub(c.started) >= det {
			c.setRole(ctx, Fenced, "cut off from the peer and from the witness: "+err.Error())
		}
	case !r.Granted:
		c.setRole(ctx, Standby, fmt.Sprintf("peer unreachable, but the witness refuses the lease: %s", r.Reason))
	default:
		c.promote(ctx, r.Epoch, fmt.Sprintf("peer %s unreachable on every heartbeat path for %s; witness granted epoch %d", c.peerName(), silentFor.Round(time.Millisecond), r.Epoch))
	}
}
