package ha

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/internal/fileutil"
)

// NodeInfo is how the pair reaches one appliance.
type NodeInfo struct {
	ID          string   `json:"id"`
	ClusterAddr string   `json:"cluster_addr"`
	APIAddrs    []string `json:"api_addrs"`
}

// Membership is this appliance's view of its pair, kept in <data>/pair.json.
type Membership struct {
	Peer *NodeInfo `json:"peer,omitempty"`
	// Joiner is true on the appliance that joined the other's store.
	Joiner bool `json:"joiner,omitempty"`
	// StoreJoined is set once the joiner's store has been admitted.
	StoreJoined bool `json:"store_joined,omitempty"`
	// Epoch is the highest pair epoch this appliance knows.
	Epoch uint64 `json:"epoch"`
	// PeerInStore is set once the peer has been a voter of this store:
	// from then on the peer holds the data and could take over, so a
	// node left alone in the store needs the witness's lease to act.
	PeerInStore bool `json:"peer_in_store,omitempty"`
	// Promotion is this appliance's latest promotion: with the epoch it
	// decides a healed split brain, the same way after a restart.
	Promotion *Promotion `json:"promotion,omitempty"`
	// PeerEpoch is the highest epoch the peer ever reported. Above Epoch,
	// this appliance is behind (the peer was active at an epoch it never
	// followed): it is stale, across restarts, until recovered.
	PeerEpoch uint64 `json:"peer_epoch,omitempty"`
	// Yielded names the peer this appliance yielded to after a split
	// brain: it stays out of the active role, across restarts, until
	// `mamori recover` has made it the peer's standby.
	Yielded string `json:"yielded,omitempty"`
	// Left is set when this appliance, as standby, stopped on purpose and
	// the active took note (it re-forms the store alone at once): on its
	// return it is stale and recovers by itself, having left on purpose.
	Left *time.Time `json:"left,omitempty"`
}

// Promotion is one promotion of an appliance to active.
type Promotion struct {
	Epoch uint64    `json:"epoch"`
	At    time.Time `json:"at"`
	// Senior: the appliance was the active when it lost its peer (it kept
	// serving), rather than a standby or returning appliance taking over.
	Senior bool `json:"senior,omitempty"`
}

// current is the promotion that made the current epoch (zero if this
// appliance did not promote itself at this epoch).
func (m Membership) current() Promotion {
	if m.Promotion != nil && m.Promotion.Epoch == m.Epoch {
		return *m.Promotion
	}
	return Promotion{}
}

// Members guards the membership file.
type Members struct {
	path string
	mu   sync.Mutex
	m    Membership
}

// ErrPaired: the appliance already has a different peer.
var ErrPaired = errors.New("already paired")

// OpenMembers loads <dataDir>/pair.json (absent: unpaired, epoch 0).
func OpenMembers(dataDir string) (*Members, error) {
	p := &Members{path: filepath.Join(dataDir, "pair.json")}
	if err := fileutil.ReadJSON(p.path, &p.m); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return p, nil
}

// Get returns a copy of the membership.
func (p *Members) Get() Membership {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.m
	if m.Peer != nil {
		peer := *m.Peer
		m.Peer = &peer
	}
	return m
}

// Update changes the membership and persists it before returning.
func (p *Members) Update(f func(*Membership) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.m
	if err := f(&m); err != nil {
		return err
	}
	if err := fileutil.WriteJSON(p.path, m); err != nil {
		return fmt.Errorf("save pair state: %w", err)
	}
	p.m = m
	return nil
}

// SetPeer records the peer admitted at pairing; a different peer is refused.
func (p *Members) SetPeer(peer NodeInfo) error {
	return p.Update(func(m *Membership) error {
		if m.Peer != nil && m.Peer.ID != peer.ID {
			return fmt.Errorf("%w with %s: unpair it first", ErrPaired, m.Peer.ID)
		}
		m.Peer = &peer
		return nil
	})
}

// Promote records a promotion and its epoch, durably, before the store is
// re-formed.
func (p *Members) Promote(pr Promotion) error {
	return p.Update(func(m *Membership) error {
		m.Epoch, m.Promotion = max(m.Epoch, pr.Epoch), &pr
		return nil
	})
}

// RaiseEpoch records epoch if it is higher than the one known.
func (p *Members) RaiseEpoch(epoch uint64) error {
	if p.Get().Epoch >= epoch {
		return nil
	}
	return p.Update(func(m *Membership) error {
		if epoch > m.Epoch {
			m.Epoch = epoch
		}
		return nil
	})
}
