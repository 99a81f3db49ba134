package ha

import (
	"context"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// ensurePaths (re)builds the heartbeat paths when the peer changes.
func (c *Controller) ensurePaths(peer *NodeInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peerID == peer.ID && len(c.paths) == len(peer.APIAddrs) {
		return
	}
	timeout := min(max(2*c.opts.HA.HeartbeatInterval, 500*time.Millisecond), c.opts.HA.DetectionTime/2)
	c.paths = nil
	for _, a := range peer.APIAddrs {
		c.paths = append(c.paths, newPath(a, peer.ID, c.opts.ClientTLS, timeout))
	}
	c.peerID = peer.ID
	if c.wit == nil && c.opts.HA.Mode == config.PairOnly {
		c.wit = &witness{addrs: c.witnessAddrs(), window: c.opts.HA.DetectionTime / 2}
	}
}

func (c *Controller) witnessAddrs() []string {
	if len(c.opts.HA.WitnessAddresses) > 0 {
		return c.opts.HA.WitnessAddresses
	}
	gw, err := DefaultGateway()
	if err != nil {
		c.log.Warn("no witness address", "err", err)
		return nil
	}
	return []string{gw}
}

func (c *Controller) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.HA.HeartbeatInterval)
	defer t.Stop()
	inflight := map[*path]bool{}
	done := make(chan *path, 16)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-done:
			delete(inflight, p)
		case <-t.C:
			c.mu.Lock()
			paths := slices.Clone(c.paths)
			c.mu.Unlock()
			mine := c.beat()
			for _, p := range paths {
				if inflight[p] {
					continue // a hung path never delays the others
				}
				inflight[p] = true
				go func() { p.beat(ctx, mine); done <- p }()
			}
		}
	}
}

func (c *Controller) witnessLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.HA.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.opts.HA.Mode == config.Witness {
			c.leaseTick(ctx)
			continue
		}
		c.mu.Lock()
		w := c.wit
		c.mu.Unlock()
		if w != nil {
			w.probe(ctx, min(time.Second, c.opts.HA.DetectionTime/3))
		}
	}
}

// beat is this node's heartbeat message.
func (c *Controller) beat() Beat {
	st := c.st.Status()
	m := c.members.Get()
	p := m.current()
	return Beat{ID: c.opts.Self.ID, Role: c.currentRole(), Epoch: m.Epoch, AppliedIndex: st.AppliedIndex,
		At: c.now().UTC(), Alone: st.Leader && voters(st) <= 1, Senior: p.Senior, PromotedAt: p.At,
		Version: c.opts.Version, Protocol: Protocol, MinPeer: c.minPeer(), Started: c.started}
}

// Heartbeat answers a heartbeat from the peer (served on the API port).
func (c *Controller) Heartbeat(in Beat) Beat {
	c.mu.Lock()
	if in.ID == c.peerID || c.peerID == "" {
		c.lastRecv = c.now()
		c.lastRecvBeat = in
	}
	c.mu.Unlock()
	return c.beat()
}

// peer says whether the peer answered within the detection time on any
// path (or sent us a heartbeat), and the freshest thing it told us.
func (c *Controller) peer(now time.Time) (bool, Beat) {
	return c.peerSeenWithin(now, c.opts.HA.DetectionTime), c.freshestBeat(now)
}

func (c *Controller) peerSeenWithin(now time.Time, window time.Duration) bool {
	c.mu.Lock()
	paths, recv := c.paths, c.lastRecv
	c.mu.Unlock()
	if !recv.IsZero() && now.Sub(recv) < window {
		return true
	}
	for _, p := range paths {
		if ps, _ := p.status(now, window); ps.Up {
			return true
		}
	}
	return false
}

func (c *Controller) freshestBeat(now time.Time) Beat {
	c.mu.Lock()
	paths, best := c.paths, c.lastRecvBeat
	c.mu.Unlock()
	for _, p := range paths {
		if _, b := p.status(now, 0); b.At.After(best.At) {
			best = b
		}
	}
	return best
}

func (c *Controller) witnessOK(now time.Time) bool {
	if c.opts.HA.Mode == config.Witness {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.ls.lastContact.IsZero() && now.Sub(c.ls.lastContact) < c.opts.HA.DetectionTime/2
	}
	c.mu.Lock()
	w := c.wit
	c.mu.Unlock()
	return w != nil && w.status(now, c.opts.HA.DetectionTime/2).OK
}

// witnessUpSince is when the witness's current run of answers began
// (zero if it does not answer now).
func (c *Controller) witnessUpSince(now time.Time) time.Time {
	if !c.witnessOK(now) {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opts.HA.Mode == config.Witness {
		return c.ls.contactSince
	}
	c.wit.mu.Lock()
	defer c.wit.mu.Unlock()
	return c.wit.upSince
}

func (c *Controller) peerName() string {
	if m := c.members.Get(); m.Peer != nil {
		return m.Peer.ID
	}
	return "(none)"
}

// PeerStatus is what this node knows of its peer.
type PeerStatus struct {
	ID           string       `json:"id"`
	Reachable    bool         `json:"reachable"`
	Role         Role         `json:"role,omitempty"`
	Epoch        uint64       `json:"epoch"`
	AppliedIndex uint64       `json:"applied_index"`
	ClusterAddr  string       `json:"cluster_addr"`
	APIAddrs     []string     `json:"api_addrs"`
	Paths        []PathStatus `json:"paths"`
	// ClockOffsetMs is the peer's wall clock minus this node's, from the
	// up path with the shortest round trip; absent while no path is up.
	// Decisions use no wall clock, but events, messages and monitor
	// slots from the two appliances are ordered by it (`mamori doctor`
	// judges it).
	ClockOffsetMs *float64 `json:"clock_offset_ms,omitempty"`
	// Version and Protocol are the peer's build and pair protocol (absent
	// for builds before protocol 2).
	Version  string `json:"version,omitempty"`
	Protocol int    `json:"protocol,omitempty"`
}

// Status is the whole HA picture of this node, for `mamori status` and
// GET /api/v1/cluster.
type Status struct {
	NodeID        string         `json:"node_id"`
	Role          Role           `json:"role"`
	Reason        string         `json:"reason"`
	Since         time.Time      `json:"since"`
	Epoch         uint64         `json:"epoch"`
	Mode          string         `json:"mode"`
	Paired        bool           `json:"paired"`
	ActiveID      string         `json:"active_id,omitempty"`
	ActiveAPI     []string       `json:"active_api,omitempty"`
	Peer          *PeerStatus    `json:"peer,omitempty"`
	Witness       *WitnessStatus `json:"witness,omitempty"`
	Store         store.Status   `json:"store"`
	LagEntries    uint64         `json:"lag_entries"`
	LastFailover  *events.Event  `json:"last_failover,omitempty"`
	ActiveWork    []string       `json:"active_work"`
	PendingEvents int            `json:"pending_events"`
	AutoRecover   bool           `json:"auto_recover"`
	// Promotion is this appliance's latest promotion; HoldUntil, when in
	// the future, is until when it may not promote (after a pause or a
	// cut-off); Yielded names the peer it yielded a split brain to.
	Promotion *Promotion `json:"promotion,omitempty"`
	HoldUntil time.Time  `json:"hold_until,omitzero"`
	Yielded   string     `json:"yielded,omitempty"`
	// OldStores are stores set aside by recoveries, kept until merged
	// and then within ha.old_stores_keep / ha.old_stores_max_age.
	OldStores []store.OldStore `json:"old_stores"`
}

// Status reports this node's view.
func (c *Controller) Status(ctx context.Context) Status {
	now := time.Now()
	m := c.members.Get()
	c.mu.Lock()
	s := Status{NodeID: c.opts.Self.ID, Role: c.role, Reason: c.reason, Since: c.since, Epoch: m.Epoch,
		Mode: string(c.opts.HA.Mode), Paired: m.Peer != nil, Store: c.st.Status(), AutoRecover: c.opts.HA.AutoRecover,
		PendingEvents: c.rec.PendingCount(), ActiveWork: []string{}, Promotion: m.Promotion, Yielded: m.Yielded,
		OldStores: c.st.OldStores()}
	if c.clk.holdUntil.After(now) {
		s.HoldUntil = c.clk.holdUntil
	}
	if c.activeStop != nil {
		for name := range c.works {
			s.ActiveWork = append(s.ActiveWork, name)
		}
		slices.Sort(s.ActiveWork)
	}
	paths, wit := c.paths, c.wit
	c.mu.Unlock()
	if s.Role == Active {
		s.ActiveID, s.ActiveAPI = c.opts.Self.ID, c.opts.Self.APIAddrs
	}
	if m.Peer != nil {
		s.Peer = c.peerStatus(now, m.Peer, paths)
		// The peer is active if it says so, or if the store follows it
		// (known from Raft before the first heartbeat answers).
		if s.Peer.Role == Active || (s.Role == Standby && s.Store.LeaderID == m.Peer.ID) {
			s.ActiveID, s.ActiveAPI = m.Peer.ID, m.Peer.APIAddrs
		}
		if s.Peer.AppliedIndex > s.Store.AppliedIndex {
			s.LagEntries = s.Peer.AppliedIndex - s.Store.AppliedIndex
		}
	}
	if c.opts.HA.Mode == config.Witness && m.Peer != nil {
		c.mu.Lock()
		ls := c.ls
		c.mu.Unlock()
		s.Witness = &WitnessStatus{Mode: "witness", Addresses: []string{c.opts.HA.Witness}, OK: c.witnessOK(now),
			LastOK: ls.lastContact, Error: ls.err, Holder: ls.holder, LeaseEpoch: ls.epoch}
	} else if wit != nil {
		ws := wit.status(now, c.opts.HA.DetectionTime/2)
		s.Witness = &ws
	}
	if evs, err := events.Latest(ctx, c.opts.Events, "ha.failover"); err == nil {
		s.LastFailover = evs
	}
	return s
}

func (c *Controller) peerStatus(now time.Time, peer *NodeInfo, paths []*path) *PeerStatus {
	ps := &PeerStatus{ID: peer.ID, ClusterAddr: peer.ClusterAddr, APIAddrs: peer.APIAddrs, Paths: []PathStatus{}}
	var best *PathStatus
	for _, p := range paths {
		st, _ := p.status(now, c.opts.HA.DetectionTime)
		ps.Paths = append(ps.Paths, st)
		if st.Up && (best == nil || st.RTTms < best.RTTms) {
			best = &st
		}
	}
	if best != nil {
		ps.ClockOffsetMs = &best.ClockOffsetMs
	}
	ps.Reachable = c.peerSeenWithin(now, c.opts.HA.DetectionTime)
	if ps.Reachable {
		b := c.freshestBeat(now)
		ps.Role, ps.Epoch, ps.AppliedIndex = b.Role, b.Epoch, b.AppliedIndex
		ps.Version, ps.Protocol = b.Version, b.Protocol
	}
	return ps
}

// ActiveTarget says where the active is, cheaply: this node, or the
// peer (its first API address and node id), or nowhere known.
func (c *Controller) ActiveTarget() (local bool, peerAPI, peerID string) {
	if c.currentRole() == Active {
		return true, "", ""
	}
	m := c.members.Get()
	if m.Peer == nil || len(m.Peer.APIAddrs) == 0 {
		return false, "", ""
	}
	// The peer is active if it says so, or if the store follows it
	// (known from Raft before the first heartbeat answers).
	if up, b := c.peer(c.now()); (up && b.Role == Active) || c.st.Status().LeaderID == m.Peer.ID {
		return false, m.Peer.APIAddrs[0], m.Peer.ID
	}
	return false, "", ""
}

// SplitSafe says whether a write this appliance's store acknowledges now
// is safe from a split brain: unpaired, witness mode (the lease never
// lets two appliances act), or both voters in the store. A lone active
// in pair-only mode may be the losing side of a split brain it cannot
// see; what it stores is merged back from its set-aside store, and the
// receive spools keep their records until an acknowledgement that is safe.
func (c *Controller) SplitSafe() bool {
	if c.members.Get().Peer == nil || c.opts.HA.Mode == config.Witness {
		return true
	}
	return voters(c.st.Status()) >= 2
}

// PeerAPI is the API addresses of the peer, if paired (cheap: the web
// console on this appliance may call them after a failover).
func (c *Controller) PeerAPI() []string {
	if m := c.members.Get(); m.Peer != nil {
		return slices.Clone(m.Peer.APIAddrs)
	}
	return nil
}
