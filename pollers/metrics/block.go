package metrics

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Key names one series: the monitor, the node it checked, and the item
// ("" for kinds that read one value).
type Key struct{ Monitor, Node, Item string }

func (k Key) less(o Key) int {
	return strings.Compare(k.Monitor+"\x00"+k.Node+"\x00"+k.Item, o.Monitor+"\x00"+o.Node+"\x00"+o.Item)
}

// pt is one decoded point: its time (unix ms) and one value per column.
type pt struct {
	t  int64
	vs []float64
}

// series is one series' points inside one block, encoded as they come
// against the block's window start.
type series struct {
	enc *encoder
	// late are points at or before the last encoded one (a custom metric
	// for an earlier time, posts from several scripts crossing, a rollup
	// bucket computed again), merged into the stream by settle: re-encoding
	// at each would cost the whole stream per point.
	late []pt
	// wrote is how many of the stream's points are stored (a segment
	// holds those after it).
	wrote int
}

func newSeries(cols int, base int64) *series { return &series{enc: newEncoder(cols, base)} }

// put adds a point; at the same time as another, the later put wins.
func (s *series) put(t int64, vs []float64) {
	if s.enc.n == 0 || t > s.enc.t {
		s.enc.add(t, vs)
		return
	}
	s.late = append(s.late, pt{t, slices.Clone(vs)})
}

// settle merges the late points into the stream.
func (s *series) settle() {
	if len(s.late) == 0 {
		return
	}
	late := s.late
	s.late = nil
	slices.SortStableFunc(late, func(a, b pt) int { return cmpInt(a.t, b.t) })
	dedup := late[:0]
	for _, p := range late {
		if n := len(dedup); n > 0 && dedup[n-1].t == p.t {
			dedup[n-1] = p // the later put
			continue
		}
		dedup = append(dedup, p)
	}
	s.reencode(mergePts(dedup, s.points()))
}

// merge adds stored points that this series does not hold at the same
// time (what is in memory is newer).
func (s *series) merge(stored []pt) {
	if len(stored) == 0 {
		return
	}
	s.reencode(mergePts(s.points(), stored))
}

func (s *series) reencode(pts []pt) {
	s.enc = newEncoder(len(s.enc.cols), s.enc.base)
	for _, p := range pts {
		s.enc.add(p.t, p.vs)
	}
}

func (s *series) points() []pt {
	s.settle()
	out := make([]pt, 0, s.enc.n)
	_ = decode(s.enc.bytes(), s.enc.n, len(s.enc.cols), s.enc.base, func(t int64, vs []float64) {
		out = append(out, pt{t, slices.Clone(vs)})
	})
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A stored block: a version byte, the column count, the series count,
// then per series its id (catalog.go), point count and stream length,
// then the streams. A reader finds its series in the header and decodes only
// its stream.
const blockVersion = 2

// encodeBlock encodes a block whose series all have an id (false: one
// has none yet).
func encodeBlock(cols int, ss map[Key]*series, ids map[Key]int64) ([]byte, bool) {
	keys := make([]Key, 0, len(ss))
	for k, s := range ss {
		if _, ok := ids[k]; !ok {
			return nil, false
		}
		s.settle()
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int { return cmpInt(ids[a], ids[b]) })
	b := []byte{blockVersion}
	b = binary.AppendUvarint(b, uint64(cols))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(ids[k]))
		s := ss[k]
		b = binary.AppendUvarint(b, uint64(s.enc.n))
		b = binary.AppendUvarint(b, uint64(len(s.enc.bytes())))
	}
	for _, k := range keys {
		b = append(b, ss[k].enc.bytes()...)
	}
	return b, true
}

// entry is one series of a decoded block header.
type entry struct {
	id     int64
	n      int
	stream []byte
}

// maxBlockSeries bounds what a corrupt header may make a reader allocate.
const maxBlockSeries = 1 << 20

func decodeBlock(b []byte) (cols int, out []entry, err error) {
	r := reader{b: b}
	if v := r.byte(); v != blockVersion {
		return 0, nil, fmt.Errorf("%w: block version %d", errCorrupt, v)
	}
	cols, n := int(r.uvarint()), r.uvarint()
	if r.err != nil || cols < 1 || cols > 8 || n > maxBlockSeries {
		return 0, nil, errCorrupt
	}
	out = make([]entry, 0, n)
	lens := make([]uint64, 0, n)
	for range n {
		var e entry
		e.id = int64(r.uvarint())
		e.n = int(r.uvarint())
		lens = append(lens, r.uvarint())
		if r.err != nil || e.n < 0 {
			return 0, nil, errCorrupt
		}
		out = append(out, e)
	}
	for i := range out {
		out[i].stream = r.bytes(lens[i])
	}
	if r.err != nil {
		return 0, nil, r.err
	}
	return cols, out, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// points decodes one entry's stream.
func (e entry) points(cols int, base int64) ([]pt, error) {
	if e.n > len(e.stream)*8 { // a point takes at least two bits
		return nil, errCorrupt
	}
	out := make([]pt, 0, e.n)
	err := decode(e.stream, e.n, cols, base, func(t int64, vs []float64) { out = append(out, pt{t, slices.Clone(vs)}) })
	return out, err
}
