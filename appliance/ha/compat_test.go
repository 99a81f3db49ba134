package ha

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// A peer whose build this one cannot pair with keeps this appliance out:
// a standby-to-be waits (never standby, never promoting) and says what
// to do; an active stays active. Builds before the protocol field count
// as protocol 1 and pair with this one.
func TestIncompatiblePeerRefused(t *testing.T) {
	ctx := context.Background()
	follower := store.Status{Open: true, LeaderID: "a", Servers: twoVoters}
	leaderless := store.Status{Open: true, Servers: twoVoters}
	for _, tc := range []struct {
		name    string
		st      store.Status
		min     int
		beat    Beat
		want    Role
		because string
	}{
		{"an older build without a protocol pairs", follower, 0, Beat{ID: "a", Role: Active, Epoch: 1}, Standby, "replicating"},
		{"this build needs a newer peer", follower, 2, Beat{ID: "a", Role: Active, Epoch: 1, Version: "old"}, Starting, "upgrade a"},
		{"the peer needs a newer build", follower, 0, Beat{ID: "a", Role: Active, Epoch: 1, Protocol: 9, MinPeer: 9}, Starting, "upgrade this appliance"},
		{"refused, it never promotes", leaderless, 2, Beat{ID: "a", Role: Standby, Epoch: 1}, Starting, "refused to pair"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, fs := newTestController(t, true)
			c.opts.MinPeerProtocol = tc.min
			c.ensurePaths(c.members.Get().Peer)
			fs.set(tc.st)
			c.clk.seenLeader, c.clk.leaderSeenAt = true, time.Now().Add(-time.Minute)
			c.witnessAnswers(true)
			b := tc.beat
			b.At = time.Now()
			c.Heartbeat(b)
			for range 3 {
				c.tick(ctx)
			}
			if got := c.currentRole(); got != tc.want || !strings.Contains(c.reason, tc.because) {
				t.Fatalf("role %s (%s), want %s because %q", got, c.reason, tc.want, tc.because)
			}
			if fs.promoted != 0 {
				t.Fatalf("promoted %d times", fs.promoted)
			}
		})
	}
	// The store's leader stays active beside a peer it cannot pair with
	// (the peer refuses on its side).
	c, fs := newTestController(t, true)
	c.opts.MinPeerProtocol = 2
	c.ensurePaths(c.members.Get().Peer)
	fs.set(store.Status{Open: true, Leader: true, LeaderID: "b", Servers: twoVoters})
	c.witnessAnswers(true)
	c.Heartbeat(Beat{ID: "a", Role: Starting, Epoch: 1, At: time.Now()})
	c.tick(ctx)
	if c.currentRole() != Active {
		t.Fatalf("leader beside an incompatible peer: %s (%s)", c.currentRole(), c.reason)
	}
}
