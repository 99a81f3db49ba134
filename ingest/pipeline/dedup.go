package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
)

// dkey identifies "the same message" (a 128-bit hash).
type dkey [16]byte

// dedupState holds, per message key, each origin's copy count and when
// the key was last seen (unix seconds). Origins are few (one spool per
// appliance and generation), so counts are a short slice.
type dedupState map[dkey]*dentry

type dentry struct {
	counts []ocount
	last   int64
}

type ocount struct {
	origin string
	n      uint32
}

func (d dedupState) count(k dkey, origin string) uint32 {
	if e := d[k]; e != nil {
		for _, c := range e.counts {
			if c.origin == origin {
				return c.n
			}
		}
	}
	return 0
}

func (d dedupState) maxOther(k dkey, origin string) uint32 {
	var m uint32
	if e := d[k]; e != nil {
		for _, c := range e.counts {
			if c.origin != origin {
				m = max(m, c.n)
			}
		}
	}
	return m
}

// set records an origin's copy count. Once both appliances' spools have
// delivered the same number of copies the entry is complete and is
// dropped: counting both from zero again keeps their difference (zero),
// so a later repeat is judged exactly as before, and memory holds only
// messages still waiting for their second copy (normally for under a
// second; during a standby outage, what arrived meanwhile). Replaying the
// stored batches in order drops the same entries.
func (d dedupState) set(k dkey, origin string, n uint32, at int64) {
	if e := d.put(k, origin, n, at); len(e.counts) == 2 && e.counts[0].n == e.counts[1].n {
		delete(d, k)
	}
}

// put records a count without dropping a complete entry (replaying a
// snapshot, which holds only incomplete ones).
func (d dedupState) put(k dkey, origin string, n uint32, at int64) *dentry {
	e := d[k]
	if e == nil {
		e = &dentry{}
		d[k] = e
	}
	e.last = max(e.last, at)
	found := false
	for i := range e.counts {
		if e.counts[i].origin == origin {
			e.counts[i].n, found = n, true
		}
	}
	if !found {
		e.counts = append(e.counts, ocount{origin, n})
	}
	return e
}

func (d dedupState) expire(cutoff int64) {
	for k, e := range d {
		if e.last < cutoff {
			delete(d, k)
		}
	}
}

// EntryBytes is what one entry of dedupState costs in memory (measured
// about 135 bytes; rounded up for the map's growth).
const EntryBytes = 160

// limit bounds the entries held to maxEntries (0: no bound): past it, the
// entries seen longest ago are forgotten, down to 7/8 of maxEntries, and
// their number is returned. Before, a lone active (its peer away, or a
// flood sent to one appliance only) held every message of the window:
// an hour at 20,000 msg/s was about 10 GB. A forgotten message whose
// second copy still comes is stored twice: the bound trades that for an
// appliance that stays up.
func (d dedupState) limit(maxEntries int) int {
	if maxEntries <= 0 || len(d) <= maxEntries {
		return 0
	}
	drop := len(d) - (maxEntries - maxEntries/8)
	seen := map[int64]int{}
	for _, e := range d {
		seen[e.last]++
	}
	secs := slices.Sorted(maps.Keys(seen))
	cutoff, older := secs[0], 0 // entries before cutoff all go, some at cutoff too
	for _, s := range secs {
		if older+seen[s] >= drop {
			cutoff = s
			break
		}
		older += seen[s]
	}
	atCutoff := drop - older
	for k, e := range d {
		if e.last < cutoff || e.last == cutoff && atCutoff > 0 {
			if e.last == cutoff {
				atCutoff--
			}
			delete(d, k)
		}
	}
	return drop
}

// encodeCounts serialises a batch's counts: key, then uvarint count.
func encodeCounts(m map[dkey]uint32) []byte {
	b := make([]byte, 0, len(m)*18)
	for k, n := range m {
		b = append(b, k[:]...)
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

// replay applies one stored batch of counts (or a snapshot's).
func (d dedupState) replay(origin string, at int64, b []byte, snapshot bool) error {
	for len(b) > 0 {
		if len(b) < 17 {
			return errors.New("truncated key")
		}
		var k dkey
		copy(k[:], b[:16])
		n, w := binary.Uvarint(b[16:])
		if w <= 0 {
			return errors.New("bad count")
		}
		if snapshot {
			d.put(k, origin, uint32(n), at)
		} else {
			d.set(k, origin, uint32(n), at)
		}
		b = b[16+w:]
	}
	return nil
}

// hashKey derives a key from parts.
func hashKey(parts ...string) dkey {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var k dkey
	copy(k[:], h.Sum(nil))
	return k
}
