package doctor

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

// Clock difference limits between the pair. No HA decision reads the
// wall clock (detection, leases and holds run on each node's monotonic
// clock), but each appliance stamps what it receives and records with
// its own: events and messages from the two then sort wrongly, and
// monitor slots are aligned to the wall clock, so after a failover or
// switchover a monitor runs a slot twice or skips one when the new
// active's clock differs by a good part of the interval (10 s for the
// shortest usual intervals). Past a second the console's timelines
// already mislead; past five seconds a 10 s monitor is at risk.
const (
	ClockWarn = time.Second
	ClockFail = 5 * time.Second
)

// ServiceAddress is ha.service_address as the doctor reads it.
type ServiceAddress struct {
	Address   string `yaml:"address"` // "10.0.0.10/24"; empty: off
	Interface string `yaml:"interface"`
}

// ClusterInput is what the running appliance's checks look at.
type ClusterInput struct {
	Status ha.Status
	Ingest *pipeline.Status
	// Service is ha.service_address; Held says whether Service.Address
	// is on Service.Interface now (nil when it could not be read).
	Service ServiceAddress
	Held    *bool
}

// Cluster judges the running appliance: role, peer paths, witness,
// store, clock difference, receive path and service address.
func Cluster(in ClusterInput) Report {
	st := in.Status
	r := Report{role(st)}
	if st.Peer == nil {
		r = append(r, warn("peer", "pair it: `mamori pair init` here, then `mamori pair join` on the second appliance", "%s is not paired: no failover", st.NodeID))
	} else {
		r = append(r, peerPaths(st.Peer)...)
		r = append(r, clock(st.Peer))
	}
	if w := witness(st); w != nil {
		r = append(r, *w)
	}
	r = append(r, storeCheck(st))
	if in.Ingest != nil {
		r = append(r, ingest(*in.Ingest))
	}
	return append(r, serviceAddress(st.Role, in.Service, in.Held))
}

// ingest judges the receive path's forwarding. Its last error stays
// until the next successful send, so it counts only while records wait.
func ingest(in pipeline.Status) Result {
	if in.Waiting > 0 && (in.LastError != "" || in.Target == "") {
		return warn("ingest", "check the active appliance and the path to it (`mamori status`)",
			"%d received records wait in the spool; forwarding to %s is retrying: %s", in.Waiting, orNone(in.Target), orNone(in.LastError))
	}
	where := "forwarded to " + orNone(in.Target)
	if in.Target == "local" {
		where = "stored here (active)"
	}
	return ok("ingest", "%d received records waiting to be %s", in.Waiting, where)
}

func role(st ha.Status) Result {
	switch st.Role {
	case ha.Active, ha.Standby:
		return ok("role", "%s is %s at epoch %d (%s)", st.NodeID, st.Role, st.Epoch, st.Reason)
	case ha.Starting, ha.Recovering:
		return warn("role", "wait a moment and run doctor again; if it stays, see the log (journalctl -u mamori)", "%s is %s: %s", st.NodeID, st.Role, st.Reason)
	case ha.Stale:
		return fail("role", "run `mamori recover` on this appliance (it rejoins the active as standby)", "%s is stale (it returned with an old epoch): %s", st.NodeID, st.Reason)
	case ha.Fenced:
		return fail("role", "restore this appliance's network to its peer and witness; it resumes by itself", "%s fenced itself: %s", st.NodeID, st.Reason)
	}
	return warn("role", "see `mamori status`", "%s is %s: %s", st.NodeID, st.Role, st.Reason)
}

func peerPaths(p *ha.PeerStatus) Report {
	var r Report
	up := 0
	for _, ps := range p.Paths {
		if ps.Up {
			up++
		}
	}
	for _, ps := range p.Paths {
		switch {
		case ps.Up:
			r = append(r, ok("peer", "%s reachable on %s (rtt %.1f ms)", p.ID, ps.Addr, ps.RTTms))
		case up == 0:
			r = append(r, fail("peer", fmt.Sprintf("is mamori running on %s (systemctl status mamori there)? check the network to %s (firewall: its API port)", p.ID, ps.Addr),
				"%s unreachable on %s: %s", p.ID, ps.Addr, orNone(ps.Error)))
		default:
			r = append(r, warn("peer", "check that network path: the pair has lost a redundant heartbeat path", "%s unreachable on %s (other paths up): %s", p.ID, ps.Addr, orNone(ps.Error)))
		}
	}
	if len(p.Paths) == 0 {
		r = append(r, warn("peer", "wait a moment (heartbeats start after the role is decided)", "no heartbeat path to %s yet", p.ID))
	}
	return r
}

func clock(p *ha.PeerStatus) Result {
	if p.ClockOffsetMs == nil {
		return warn("clock", "run doctor again once the peer answers heartbeats", "clock difference to %s unknown (no path up)", p.ID)
	}
	off := time.Duration(*p.ClockOffsetMs * float64(time.Millisecond))
	abs := time.Duration(math.Abs(float64(off)))
	what := fmt.Sprintf("%s's clock differs by %s from this appliance's", p.ID, off.Round(time.Millisecond))
	const action = "synchronise both appliances with NTP (timedatectl set-ntp true; chronyc tracking shows the offset)"
	switch {
	case abs > ClockFail:
		return fail("clock", action, "%s (over %s: monitor slots are repeated or skipped after a failover)", what, ClockFail)
	case abs > ClockWarn:
		return warn("clock", action, "%s (over %s: events of the two appliances sort wrongly)", what, ClockWarn)
	}
	return ok("clock", "%s", what)
}

func witness(st ha.Status) *Result {
	w := st.Witness
	if w == nil {
		return nil
	}
	where := strings.Join(w.Addresses, ", ")
	if w.OK {
		r := ok("witness", "%s witness %s answers", w.Mode, orNone(where))
		return &r
	}
	action := "make one of ha.witness_addresses answer (ICMP, or TCP for host:port) from this appliance"
	if w.Mode == "witness" {
		action = "check that `mamori witness serve` runs on " + where + " and is reachable"
	}
	r := warn("witness", action, "%s witness %s does not answer (%s): the standby will not take over if the active fails", w.Mode, orNone(where), orNone(w.Error))
	return &r
}

func storeCheck(st ha.Status) Result {
	s := st.Store
	if !s.Open {
		return fail("store", "see the log (journalctl -u mamori)", "the store is %s", orNone(s.RaftState))
	}
	voters := 0
	for _, v := range s.Servers {
		if v.Voter {
			voters++
		}
	}
	what := fmt.Sprintf("%s, %d voters, leader %s, lag %d entries", s.RaftState, voters, orNone(s.LeaderID), st.LagEntries)
	switch {
	case st.Peer != nil && voters < 2:
		return warn("store", "the peer rejoins by itself when it returns; if it does not, run `mamori recover` on it", "%s: the peer is not a voter (this appliance stores alone)", what)
	case s.LeaderID == "":
		return warn("store", "wait a moment; if it stays, check the cluster port between the pair", "%s: no leader", what)
	case st.LagEntries > 10000:
		return warn("store", "check the network and disk of the standby", "%s: the standby is far behind", what)
	}
	return ok("store", "%s", what)
}

func serviceAddress(role ha.Role, sa ServiceAddress, held *bool) Result {
	if sa.Address == "" {
		return ok("service address", "not configured")
	}
	what := fmt.Sprintf("%s on %s", sa.Address, sa.Interface)
	switch {
	case held == nil:
		return warn("service address", "check that interface "+sa.Interface+" exists (ip addr)", "cannot read the addresses of %s", sa.Interface)
	case role == ha.Active && *held:
		return ok("service address", "this active holds %s", what)
	case role == ha.Active:
		return fail("service address", "see the log (journalctl -u mamori) for why adding it failed; it needs CAP_NET_ADMIN", "this appliance is active but does not hold %s: clients of the service address reach nothing", what)
	case *held:
		return fail("service address", "remove it (ip addr del "+sa.Address+" dev "+sa.Interface+") and see the log: only the active may hold it", "this appliance is %s but holds %s", role, what)
	}
	return ok("service address", "this %s does not hold %s (the active does)", role, what)
}

// InterfaceHolds says whether interface name has the address of cidr.
func InterfaceHolds(name, cidr string) (bool, error) {
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil {
		if ip = net.ParseIP(cidr); ip == nil {
			return false, fmt.Errorf("%q is not an address", cidr)
		}
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return false, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true, nil
		}
	}
	return false, nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
