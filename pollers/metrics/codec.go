package metrics

import (
	"errors"
	"math"
	"math/bits"
)

// The codec is Gorilla's (Pelkonen et al., VLDB 2015), written for this
// package: timestamps (unix ms) as a delta of deltas in variable-length
// buckets, values XORed with the previous one and only the meaningful
// bits kept. Points of a monitor come at a steady interval with a small
// jitter, and values change little from one check to the next, so a
// point costs about one to three bytes instead of sixteen. A stream has
// one or more value columns per timestamp: raw series have one (the
// value), rollups four (min, max, sum, count).

// errCorrupt: a stored stream ended early or held an impossible code.
var errCorrupt = errors.New("metrics: corrupt chunk")

type bitWriter struct {
	buf  []byte
	free uint8 // unused low bits of the last byte
}

func (w *bitWriter) write(v uint64, n uint8) {
	for n > 0 {
		if w.free == 0 {
			w.buf = append(w.buf, 0)
			w.free = 8
		}
		k := min(n, w.free)
		chunk := byte((v >> (n - k)) & (1<<k - 1))
		w.buf[len(w.buf)-1] |= chunk << (w.free - k)
		w.free -= k
		n -= k
	}
}

func (w *bitWriter) bit(b bool) {
	if b {
		w.write(1, 1)
	} else {
		w.write(0, 1)
	}
}

type bitReader struct {
	buf []byte
	pos uint // bit position
}

func (r *bitReader) read(n uint8) (uint64, error) {
	if r.pos+uint(n) > uint(len(r.buf))*8 {
		return 0, errCorrupt
	}
	var v uint64
	for n > 0 {
		byteI, off := r.pos/8, uint8(r.pos%8)
		k := min(n, 8-off)
		b := uint64(r.buf[byteI]>>(8-off-k)) & (1<<k - 1)
		v = v<<k | b
		r.pos += uint(k)
		n -= k
	}
	return v, nil
}

// dodBuckets are the delta-of-delta ranges: a prefix of ones ended by a
// zero (none for the last), then a signed value of the given width.
// Zero (the steady case) costs one bit; scheduler jitter of up to ±2 s
// costs 15.
var dodBuckets = []struct {
	prefix, plen, width uint8
}{{0b10, 2, 7}, {0b110, 3, 12}, {0b1110, 4, 20}, {0b1111, 4, 64}}

type colState struct {
	prev        uint64 // the first value is coded against 0
	lead, trail uint8
}

// encoder appends points to one stream. The first point is coded like
// the others, against a base (the block's window start, and zero for
// values): a block holds many short streams, and 16 bytes of raw first
// point in each would cost more than their other points.
type encoder struct {
	w       bitWriter
	n       int
	base    int64
	t, d    int64 // previous timestamp and delta
	cols    []colState
	started bool
}

func newEncoder(cols int, base int64) *encoder {
	return &encoder{cols: make([]colState, cols), base: base}
}

// add appends one point; vs has one value per column. Timestamps must
// increase (the caller re-encodes for a point out of order).
func (e *encoder) add(t int64, vs []float64) {
	if !e.started {
		e.writeDoD(t - e.base)
		e.started = true
	} else {
		d := t - e.t
		e.writeDoD(d - e.d)
		e.d = d
	}
	e.t = t
	for i, v := range vs {
		e.cols[i].writeValue(&e.w, math.Float64bits(v))
	}
	e.n++
}

func (e *encoder) writeDoD(dod int64) {
	if dod == 0 {
		e.w.bit(false)
		return
	}
	for _, b := range dodBuckets {
		lim := int64(1) << (b.width - 1)
		if b.width == 64 || (dod >= -lim && dod < lim) {
			e.w.write(uint64(b.prefix), b.plen)
			e.w.write(uint64(dod)&mask(b.width), b.width)
			return
		}
	}
}

func mask(width uint8) uint64 {
	if width == 64 {
		return math.MaxUint64
	}
	return 1<<width - 1
}

func (c *colState) writeValue(w *bitWriter, v uint64) {
	prev := c.prev
	x := v ^ prev
	c.prev = v
	if x == 0 {
		w.bit(false)
		return
	}
	lead, trail := uint8(bits.LeadingZeros64(x)), uint8(bits.TrailingZeros64(x))
	if lead > 31 {
		lead = 31 // five bits hold it
	}
	reuse := c.lead+c.trail > 0 && lead >= c.lead && trail >= c.trail
	xorBits := 3 + 5 + 6 + int(64-lead-trail)
	if reuse {
		xorBits = 2 + int(64-c.lead-c.trail)
	}
	if sc, d, ok := decimalStep(prev, v); ok && decimalBits(d) < xorBits {
		w.write(0b111, 3)
		w.write(uint64(sc), 3)
		writeDelta(w, d)
		return
	}
	if reuse {
		// Fits the previous window: reuse it.
		w.write(0b10, 2)
		w.write(x>>c.trail, 64-c.lead-c.trail)
		return
	}
	sig := 64 - lead - trail
	w.write(0b110, 3)
	w.write(uint64(lead), 5)
	w.write(uint64(sig-1), 6) // 1..64 stored as 0..63
	w.write(x>>trail, sig)
	c.lead, c.trail = lead, trail
}

// Values that are decimals with few digits (a response time of 12.34 ms,
// a percentage of 87.5) have noisy binary mantissas, so their XOR keeps
// about 50 bits. Such a value is also coded as a step from the previous
// one in units of 10^-scale, when that is shorter and decodes to the same
// bits: the decoder does exactly the arithmetic the encoder checked.
var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// scaled is round(v × 10^sc) when it is an exact integer of at most 52 bits.
func scaled(v float64, sc int) (int64, bool) {
	r := math.Round(v * pow10[sc])
	if math.IsNaN(r) || math.Abs(r) > 1<<52 {
		return 0, false
	}
	return int64(r), true
}

func decimalStep(prevBits, vBits uint64) (int, int64, bool) {
	prev, v := math.Float64frombits(prevBits), math.Float64frombits(vBits)
	for sc := range pow10 {
		pi, ok1 := scaled(prev, sc)
		vi, ok2 := scaled(v, sc)
		if !ok1 || !ok2 || math.Float64bits(float64(vi)/pow10[sc]) != vBits {
			continue
		}
		if d := vi - pi; d >= -(1<<25) && d < 1<<25 {
			return sc, d, true
		}
	}
	return 0, 0, false
}

// A decimal step: '0' and 7 bits, '10' and 14, '11' and 26 (signed).
var deltaBuckets = []struct{ prefix, plen, width uint8 }{{0b0, 1, 7}, {0b10, 2, 14}, {0b11, 2, 26}}

func bucketOf(d int64) int {
	for i, b := range deltaBuckets {
		if lim := int64(1) << (b.width - 1); d >= -lim && d < lim {
			return i
		}
	}
	return len(deltaBuckets) - 1
}

func decimalBits(d int64) int {
	b := deltaBuckets[bucketOf(d)]
	return 3 + 3 + int(b.plen) + int(b.width)
}

func writeDelta(w *bitWriter, d int64) {
	b := deltaBuckets[bucketOf(d)]
	w.write(uint64(b.prefix), b.plen)
	w.write(uint64(d)&mask(b.width), b.width)
}

func readDelta(r *bitReader) (int64, error) {
	b, err := r.read(1)
	if err != nil {
		return 0, err
	}
	i := 0
	if b == 1 {
		if b, err = r.read(1); err != nil {
			return 0, err
		}
		i = 1 + int(b)
	}
	width := deltaBuckets[i].width
	v, err := r.read(width)
	if err != nil {
		return 0, err
	}
	if v&(1<<(width-1)) != 0 {
		v |= ^mask(width)
	}
	return int64(v), nil
}

// bytes is the stream so far (shared with the encoder: copy to keep).
func (e *encoder) bytes() []byte { return e.w.buf }

// decode reads n points of cols columns from a stream whose encoder had
// base, calling f for each (vs is reused between calls).
func decode(buf []byte, n, cols int, base int64, f func(t int64, vs []float64)) error {
	r := bitReader{buf: buf}
	t, d := base, int64(0)
	st := make([]colState, cols)
	vs := make([]float64, cols)
	for i := range n {
		dod, err := readDoD(&r)
		if err != nil {
			return err
		}
		if i == 0 {
			t += dod
		} else {
			d += dod
			t += d
		}
		for c := range st {
			v, err := st[c].readValue(&r)
			if err != nil {
				return err
			}
			vs[c] = math.Float64frombits(v)
		}
		f(t, vs)
	}
	return nil
}

func readDoD(r *bitReader) (int64, error) {
	ones := uint8(0)
	for ones < 4 {
		b, err := r.read(1)
		if err != nil {
			return 0, err
		}
		if b == 0 {
			break
		}
		ones++
	}
	if ones == 0 {
		return 0, nil
	}
	width := dodBuckets[ones-1].width
	v, err := r.read(width)
	if err != nil {
		return 0, err
	}
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= ^mask(width) // sign-extend
	}
	return int64(v), nil
}

func (c *colState) readValue(r *bitReader) (uint64, error) {
	b, err := r.read(1)
	if err != nil || b == 0 {
		return c.prev, err
	}
	if b, err = r.read(1); err != nil {
		return 0, err
	}
	if b == 0 {
		if c.lead+c.trail == 0 {
			return 0, errCorrupt // reuse of a window never set
		}
		return c.readXOR(r)
	}
	if b, err = r.read(1); err != nil {
		return 0, err
	}
	if b == 1 {
		return c.readDecimal(r)
	}
	lead, err := r.read(5)
	if err != nil {
		return 0, err
	}
	sig, err := r.read(6)
	if err != nil {
		return 0, err
	}
	if lead+sig+1 > 64 {
		return 0, errCorrupt
	}
	c.lead, c.trail = uint8(lead), uint8(64-lead-sig-1)
	return c.readXOR(r)
}

func (c *colState) readXOR(r *bitReader) (uint64, error) {
	x, err := r.read(64 - c.lead - c.trail)
	if err != nil {
		return 0, err
	}
	c.prev ^= x << c.trail
	return c.prev, nil
}

func (c *colState) readDecimal(r *bitReader) (uint64, error) {
	sc, err := r.read(3)
	if err != nil {
		return 0, err
	}
	if int(sc) >= len(pow10) {
		return 0, errCorrupt
	}
	d, err := readDelta(r)
	if err != nil {
		return 0, err
	}
	pi, ok := scaled(math.Float64frombits(c.prev), int(sc))
	if !ok {
		return 0, errCorrupt
	}
	c.prev = math.Float64bits(float64(pi+d) / pow10[sc])
	return c.prev, nil
}
