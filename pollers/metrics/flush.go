package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Flush writes every changed block: one upsert per block, the blocks of
// one group in one transaction (a raw window's "rolled" mark commits
// with the rollups computed from it). Raw windows that are over (the
// window plus two flush periods for late points) are rolled up into
// their 5-minute and hourly buckets first.
func (w *Writer) Flush(ctx context.Context) error {
	now := w.now().UnixMilli()
	var errs []error
	if err := w.adoptUnrolled(ctx); err != nil {
		errs = append(errs, err)
	}
	toRoll := w.prepareRoll(now)
	errs = append(errs, w.load(ctx)...)
	w.roll(toRoll)
	errs = append(errs, w.load(ctx)...) // the hourly blocks the roll-up touched
	errs = append(errs, w.write(ctx)...)
	w.evict(now)
	return errors.Join(errs...)
}

func (w *Writer) grace() int64 { return 2 * w.cfg.Flush.Milliseconds() }

// prepareRoll lists the raw blocks to roll up and creates the 5-minute
// blocks they go into, so that the next load reads those too.
func (w *Writer) prepareRoll(now int64) []*block {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*block
	for id, b := range w.blocks {
		if id.res == Raw && !b.rolled && now >= id.start+window(Raw)+w.grace() {
			out = append(out, b)
			w.blockLocked(rollupID(FiveMin, id.grp, id.start))
		}
	}
	return out
}

func rollupID(res int64, grp int, t int64) blockID {
	return blockID{res, grp, t - mod(t, window(res))}
}

// load merges the stored row into every block not yet merged. A block
// is never written before this succeeded: that would replace what the
// previous active wrote.
func (w *Writer) load(ctx context.Context) []error {
	if err := w.readCatalog(ctx); err != nil {
		return []error{err} // stored blocks name series the catalogue must know
	}
	w.mu.Lock()
	var ids []blockID
	for id, b := range w.blocks {
		if !b.loaded {
			ids = append(ids, id)
		}
	}
	w.mu.Unlock()
	var errs []error
	for _, id := range ids {
		rows, err := w.st.Query(ctx, store.Local, `SELECT seq, data, rolled FROM metric_blocks WHERE res = ? AND grp = ? AND start = ? ORDER BY seq`, id.res, id.grp, id.start)
		if err != nil {
			errs = append(errs, fmt.Errorf("read metric block: %w", err))
			continue
		}
		var stored []entry
		rolled := false
		for _, v := range rows.Values {
			seq, _ := v[0].(int64)
			data, _ := v[1].([]byte)
			if r, _ := v[2].(int64); seq == 0 {
				rolled = r == 1
			}
			_, es, err := decodeBlock(data)
			if err != nil {
				w.log.Error("metrics: a stored block is corrupt; it is replaced by the points held in memory", "res", id.res, "grp", id.grp, "start", id.start, "seq", seq, "err", err)
				continue
			}
			stored = append(stored, es...)
		}
		w.mergeStored(id, stored, rolled)
	}
	return errs
}

func (w *Writer) mergeStored(id blockID, stored []entry, rolled bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.blocks[id]
	if b == nil {
		return
	}
	for _, e := range stored {
		k, known := w.cat.keys[e.id]
		pts, err := e.points(cols(id.res), id.start)
		if err != nil || !known {
			w.log.Error("metrics: a stored series cannot be read; its points in this block are dropped", "id", e.id, "known", known, "err", err)
			continue
		}
		s := b.series[k]
		if s == nil {
			s = newSeries(cols(id.res), id.start)
			b.series[k] = s
		}
		before := s.enc.n
		s.merge(pts)
		b.points += int64(s.enc.n - before)
		w.inMemory.Add(int64(s.enc.n - before))
	}
	b.loaded = true
	b.full = true // one row again, the segments deleted
	// Unchanged in memory and rolled in the store: nothing to roll again.
	if id.res == Raw && b.dirty == 0 && rolled {
		b.rolled = true
	}
}

// roll computes the 5-minute buckets of each finished raw window, then
// the hourly buckets of its hour from the (loaded) 5-minute block.
// Buckets are set, never added to, so rolling twice is harmless.
func (w *Writer) roll(raws []*block) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range raws {
		fid := rollupID(FiveMin, b.id.grp, b.id.start)
		if !b.loaded || !w.blocks[fid].loaded {
			continue // retried at the next flush
		}
		for k, s := range b.series {
			for _, bk := range buckets(s.points(), FiveMin) {
				w.putLocked(fid, k, bk.t, bk.vs)
			}
		}
		w.rollHoursLocked(fid, b.id.start)
		b.rolled = true
		b.full = true // written again whole with its mark: the segments compacted
		b.dirty++
	}
}

func (w *Writer) rollHoursLocked(fid blockID, rawStart int64) {
	h := rawStart - mod(rawStart, Hour)
	hid := rollupID(Hour, fid.grp, h)
	for k, s := range w.blocks[fid].series {
		var in []pt
		for _, p := range s.points() {
			if p.t >= h && p.t < h+Hour {
				in = append(in, p)
			}
		}
		if len(in) > 0 {
			w.putLocked(hid, k, h, combine(in))
		}
	}
}

// buckets aggregates raw points (one column) into buckets of width res:
// min, max, sum, count at the bucket's start.
func buckets(pts []pt, res int64) []pt {
	var out []pt
	for _, p := range pts {
		t := p.t - mod(p.t, res)
		v := p.vs[0]
		if n := len(out); n > 0 && out[n-1].t == t {
			a := out[n-1].vs
			a[0], a[1], a[2], a[3] = min(a[0], v), max(a[1], v), a[2]+v, a[3]+1
			continue
		}
		out = append(out, pt{t, []float64{v, v, v, 1}})
	}
	return out
}

// combine merges rollup buckets into one.
func combine(in []pt) []float64 {
	a := append([]float64(nil), in[0].vs...)
	for _, p := range in[1:] {
		a[0], a[1], a[2], a[3] = min(a[0], p.vs[0]), max(a[1], p.vs[1]), a[2]+p.vs[2], a[3]+p.vs[3]
	}
	return a
}

// pending is one group's statements and what they write.
type pending struct {
	stmts  []store.Statement
	writes []written
}

// written is what a successful write changes in a block.
type written struct {
	b     *block
	mark  uint64          // b.dirty when encoded
	full  bool            // the whole block: segments start again at 1
	wrote map[*series]int // each series' points now stored
}

func (w *Writer) write(ctx context.Context) []error {
	var errs []error
	if err := w.writeCatalog(ctx); err != nil {
		errs = append(errs, err) // blocks with uncatalogued series wait
	}
	byGroup := w.collect()
	var mu sync.Mutex
	work := make(chan *pending)
	var wg sync.WaitGroup
	// Several transactions at once: the store's batching writer puts
	// them into one Raft entry.
	for range 8 {
		wg.Go(func() {
			for p := range work {
				err := w.exec(ctx, p.stmts)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				w.done(p.writes, err == nil)
			}
		})
	}
	for _, p := range byGroup {
		work <- p
	}
	close(work)
	wg.Wait()
	return errs
}

// done records what a group's transaction did: blocks clean as of their
// encoding and where their next segment starts; or, if it failed, that
// blocks meant to be rewritten whole still are.
func (w *Writer) done(ws []written, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range ws {
		switch {
		case !ok:
			x.b.full = x.b.full || x.full
			continue
		case x.full:
			x.b.next = 1
		default:
			x.b.next++
		}
		x.b.clean = max(x.b.clean, x.mark)
		for s, n := range x.wrote {
			s.wrote = n
		}
	}
}

func (w *Writer) exec(ctx context.Context, stmts []store.Statement) error {
	if _, err := w.st.Exec(ctx, stmts...); err != nil {
		return fmt.Errorf("write metric blocks: %w", err)
	}
	w.rows.Add(uint64(len(stmts)))
	for _, st := range stmts {
		for _, a := range st.Args {
			if b, ok := a.([]byte); ok {
				w.bytes.Add(uint64(len(b)))
			}
		}
	}
	return nil
}

const upsertBlock = `INSERT INTO metric_blocks (res, grp, start, seq, points, rolled, data) VALUES (?, ?, ?, 0, ?, ?, ?)
	ON CONFLICT (res, grp, start, seq) DO UPDATE SET points = excluded.points, rolled = excluded.rolled, data = excluded.data`

// collect encodes every loaded, changed block (under the lock, so the
// encoding is consistent), grouped by group.
func (w *Writer) collect() map[int]*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	by := map[int]*pending{}
	for _, b := range w.blocks {
		if !b.loaded || b.dirty == b.clean {
			continue
		}
		stmts, x, ok := w.encodeLocked(b)
		if !ok {
			continue // a series is not catalogued yet: the next flush
		}
		p := by[b.id.grp]
		if p == nil {
			p = &pending{}
			by[b.id.grp] = p
		}
		p.stmts = append(p.stmts, stmts...)
		p.writes = append(p.writes, x)
	}
	return by
}

const (
	upsertSegment = `INSERT INTO metric_blocks (res, grp, start, seq, points, rolled, data) VALUES (0, ?, ?, ?, ?, 1, ?)
	ON CONFLICT (res, grp, start, seq) DO UPDATE SET points = excluded.points, data = excluded.data`
	deleteSegments = `DELETE FROM metric_blocks WHERE res = 0 AND grp = ? AND start = ? AND seq > 0`
)

// encodeLocked is the statements writing b: the whole block (and, for a
// raw block with segments, their deletion), or a segment of the raw
// points added since the last write (a retried segment replaces itself).
func (w *Writer) encodeLocked(b *block) ([]store.Statement, written, bool) {
	x := written{b: b, mark: b.dirty, full: b.full || b.id.res != Raw || b.next == 0, wrote: map[*series]int{}}
	part := b.series
	if !x.full {
		part = map[Key]*series{}
		for k, s := range b.series {
			if s.enc.n > s.wrote {
				tail := newSeries(len(s.enc.cols), b.id.start)
				for _, p := range s.points()[s.wrote:] {
					tail.enc.add(p.t, p.vs)
				}
				part[k] = tail
			}
			x.wrote[s] = s.enc.n
		}
	}
	data, ok := encodeBlock(cols(b.id.res), part, w.cat.ids)
	if !ok {
		return nil, x, false
	}
	if !x.full {
		n := 0
		for _, s := range part {
			n += s.enc.n
		}
		return []store.Statement{{SQL: upsertSegment, Args: []any{b.id.grp, b.id.start, b.next, n, data}}}, x, true
	}
	b.full = false // set again if the write fails (done)
	n := int64(0)
	for _, s := range b.series {
		n += int64(s.enc.n)
		x.wrote[s] = s.enc.n
	}
	w.inMemory.Add(n - b.points)
	b.points = n
	rolled := 0
	if b.id.res != Raw || b.rolled {
		rolled = 1
	}
	stmts := []store.Statement{{SQL: upsertBlock, Args: []any{b.id.res, b.id.grp, b.id.start, b.points, rolled, data}}}
	if b.id.res == Raw && b.next != 1 {
		stmts = append(stmts, store.Statement{SQL: deleteSegments, Args: []any{b.id.grp, b.id.start}})
	}
	return stmts, x, true
}

// evict forgets blocks that are written: rollup blocks at once, raw
// blocks once rolled up and over; a late point brings one back (merged
// with the store again).
func (w *Writer) evict(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, b := range w.blocks {
		// A written rollup block is read again when the next raw window
		// rolls into it (every 10 minutes a group): keeping every group's
		// for hours would hold hundreds of MB at 300,000 series.
		over := id.res != Raw || now >= id.start+window(id.res)+window(Raw)+2*w.grace()
		if b.loaded && b.dirty == b.clean && (id.res != Raw || b.rolled) && over {
			w.inMemory.Add(-b.points)
			delete(w.blocks, id)
		}
	}
}

// adoptUnrolled takes over finished raw windows whose rollups were never
// written (the previous active died first, or a late point reopened
// one): the next roll-up does them.
func (w *Writer) adoptUnrolled(ctx context.Context) error {
	before := w.now().UnixMilli() - window(Raw) - w.grace()
	rows, err := w.st.Query(ctx, store.Local, `SELECT grp, start FROM metric_blocks WHERE rolled = 0 AND res = 0 AND start < ? LIMIT 10000`, before)
	if err != nil {
		return fmt.Errorf("list unrolled metric blocks: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range rows.Values {
		g, _ := v[0].(int64)
		s, _ := v[1].(int64)
		w.blockLocked(blockID{Raw, int(g), s})
	}
	return nil
}
