package ha

import (
	"context"
	"fmt"
)

// The pair protocol: what a build expects of its peer's heartbeats,
// hand-over and store schema. Two builds pair when each accepts the
// other's protocol; a rolling upgrade (upgrade the standby, switch over,
// upgrade the other) runs the two side by side, so a build keeps
// accepting the protocol of the release before it. Raise Protocol when a
// build needs something of its peer that older builds lack, and
// MinPeerProtocol only when a release may no longer run beside an older
// one (say so in the release notes: upgrade through the release between).
const (
	// Protocol 1: builds without switchover (they send no protocol).
	// Protocol 2: switchover (the hand-over route), version in heartbeats.
	Protocol        = 2
	MinPeerProtocol = 1
)

func (c *Controller) minPeer() int {
	if c.opts.MinPeerProtocol > 0 {
		return c.opts.MinPeerProtocol
	}
	return MinPeerProtocol
}

// compatible says whether the peer that sent b and this build may run as
// a pair, and if not, why and what to do.
func (c *Controller) compatible(b Beat) (bool, string) {
	if b.ID == "" {
		return true, "" // nothing heard yet
	}
	theirs := max(b.Protocol, 1)
	ver := b.Version
	if ver == "" {
		ver = "an older build"
	}
	switch {
	case theirs < c.minPeer():
		return false, fmt.Sprintf("%s runs %s (pair protocol %d), which this build (%s) cannot pair with (it needs protocol %d or later): upgrade %s to a release that can, or install the previous release here",
			b.ID, ver, theirs, c.opts.Version, c.minPeer(), b.ID)
	case b.MinPeer > Protocol:
		return false, fmt.Sprintf("%s runs %s, which cannot pair with this build (%s, pair protocol %d; it needs %d or later): upgrade this appliance to a release that can",
			b.ID, ver, c.opts.Version, Protocol, b.MinPeer)
	}
	return true, ""
}

// refusePeer keeps this appliance out of the pair while the peer runs a
// build it cannot pair with: it waits without ever becoming standby or
// promoting, saying why (a store leader is not held back: the peer is the
// one out of place, and refuses on its side).
func (c *Controller) refusePeer(ctx context.Context, why string) {
	r := c.currentRole()
	if r == Standby || r == Active {
		r = Starting
	}
	c.setRole(ctx, r, "refused to pair: "+why)
}
