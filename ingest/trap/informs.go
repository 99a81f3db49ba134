package trap

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// informMemory remembers the informs received lately, so a sender's
// retransmission of one (it resends until it gets our response: a
// response lost on the way, or sent while this receiver held its packets
// at start) is answered again but stored once. A retransmission comes
// from the same address and port with the same content, sysUpTime
// included; a new notification, even an identical one, carries a later
// uptime or comes from a new sender process (port).
type informMemory struct {
	mu   sync.Mutex
	seen map[[16]byte]time.Time
}

const (
	informWindow = 2 * time.Minute // net-snmp gives up after 6 tries, seconds apart
	informMax    = 1 << 16         // entries at most (about 3 MiB)
)

func informKey(from string, t Trap) [16]byte {
	h := sha256.New()
	for _, s := range []string{from, t.Version, t.User, t.EngineID, t.TrapOID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	_ = binary.Write(h, binary.BigEndian, t.Uptime)
	for _, v := range t.Varbinds {
		for _, s := range []string{v.OID, v.Type, v.Value} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// retransmitted records the inform and says whether it was seen within
// the window.
func (r *Receiver) retransmitted(from string, t Trap, now time.Time) bool {
	m := &r.informs
	k := informKey(from, t)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[[16]byte]time.Time{}
	}
	if at, ok := m.seen[k]; ok && now.Sub(at) < informWindow {
		return true
	}
	if len(m.seen) >= informMax {
		for k2, at := range m.seen {
			if now.Sub(at) >= informWindow {
				delete(m.seen, k2)
			}
		}
		if len(m.seen) >= informMax {
			clear(m.seen) // a flood of distinct informs: forget rather than grow
		}
	}
	m.seen[k] = now
	return false
}
