package metrics

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Series is one series read back. A point is [unix ms, value] when it
// is one result, and [unix ms, average, min, max] when it stands for
// several (a 5-minute or hourly bucket, or a run of points averaged to
// stay within the number asked), so a graph can show the spikes an
// average hides.
type Series struct {
	Key
	Resolution string
	Points     [][]float64
}

// Resolution picks the stored resolution for a range: the finest whose
// points still reach back to from, and not finer than the range divided
// into points steps needs.
func (w *Writer) Resolution(from, to time.Time, points int) int64 {
	now := w.now()
	step := to.Sub(from) / time.Duration(max(points, 1))
	res := Raw
	if step >= 5*time.Minute || from.Before(now.Add(-w.cfg.KeepRaw)) {
		res = FiveMin
	}
	if step >= time.Hour || from.Before(now.Add(-w.cfg.Keep5m)) {
		res = Hour
	}
	return res
}

// Read returns each key's points in [from, to] at res, at most points
// of them (more are averaged in runs). On the active it includes what
// is in memory and not written yet; the 5-minute and hourly buckets of
// raw windows not rolled up yet are computed from the raw points.
func (w *Writer) Read(ctx context.Context, keys []Key, from, to time.Time, res int64, points int) ([]Series, error) {
	out := make([]Series, 0, len(keys))
	for _, k := range keys {
		pts, err := w.readKey(ctx, k, from.UnixMilli(), to.UnixMilli(), res)
		if err != nil {
			return nil, err
		}
		out = append(out, Series{Key: k, Resolution: ResName(res), Points: thin(pts, res, points)})
	}
	return out, nil
}

func (w *Writer) readKey(ctx context.Context, k Key, from, to, res int64) ([]pt, error) {
	if res == Raw {
		return w.readRes(ctx, k, Raw, from, to)
	}
	stored, err := w.readRes(ctx, k, res, from, to)
	if err != nil {
		return nil, err
	}
	tail, ok, err := w.unrolledFrom(ctx, k, from, to)
	if err != nil || !ok {
		return stored, err
	}
	tail -= mod(tail, res)
	raw, err := w.readRes(ctx, k, Raw, tail, to)
	if err != nil {
		return nil, err
	}
	recent := buckets(raw, FiveMin)
	if res == Hour {
		five, err := w.readRes(ctx, k, FiveMin, tail, to)
		if err != nil {
			return nil, err
		}
		recent = hours(mergePts(recent, five))
	}
	return mergePts(recent, stored), nil
}

// hours aggregates 5-minute buckets into hourly ones.
func hours(five []pt) []pt {
	var out []pt
	for i := 0; i < len(five); {
		h := five[i].t - mod(five[i].t, Hour)
		j := i
		for j < len(five) && five[j].t < h+Hour {
			j++
		}
		out = append(out, pt{h, combine(five[i:j])})
		i = j
	}
	return out
}

// readRes merges the stored blocks of k's group at res overlapping
// [from, to] with those in memory (memory wins at the same time).
func (w *Writer) readRes(ctx context.Context, k Key, res, from, to int64) ([]pt, error) {
	grp := w.group(k)
	id, stored, err := w.idOf(ctx, k)
	if err != nil || !stored {
		return w.memory(k, grp, res, from, to), err
	}
	rows, err := w.st.Query(ctx, store.Local, `SELECT start, data FROM metric_blocks WHERE res = ? AND grp = ? AND start > ? AND start <= ? ORDER BY start, seq`,
		res, grp, from-window(res), to)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	var pts []pt
	for _, v := range rows.Values {
		start, _ := v[0].(int64)
		data, _ := v[1].([]byte)
		pts = append(pts, pointsOf(data, start, id, from, to)...)
	}
	return mergePts(w.memory(k, grp, res, from, to), pts), nil
}

func pointsOf(data []byte, start, id, from, to int64) []pt {
	c, es, err := decodeBlock(data)
	if err != nil {
		return nil
	}
	for _, e := range es {
		if e.id == id {
			pts, _ := e.points(c, start)
			return within(pts, from, to)
		}
	}
	return nil
}

func within(pts []pt, from, to int64) []pt {
	out := pts[:0]
	for _, p := range pts {
		if p.t >= from && p.t <= to {
			out = append(out, p)
		}
	}
	return out
}

func (w *Writer) memory(k Key, grp int, res, from, to int64) []pt {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []pt
	for start := from - mod(from, window(res)); start <= to; start += window(res) {
		if b := w.blocks[blockID{res, grp, start}]; b != nil && b.series[k] != nil {
			out = append(out, within(b.series[k].points(), from, to)...)
		}
	}
	return out
}

// unrolledFrom is the start of the oldest raw window overlapping [from,
// to] of k's group whose rollups are not written (false: none).
func (w *Writer) unrolledFrom(ctx context.Context, k Key, from, to int64) (int64, bool, error) {
	grp := w.group(k)
	rows, err := w.st.Query(ctx, store.Local, `SELECT MIN(start) FROM metric_blocks WHERE rolled = 0 AND res = 0 AND grp = ? AND start > ? AND start <= ?`,
		grp, from-window(Raw), to)
	if err != nil {
		return 0, false, fmt.Errorf("read metrics: %w", err)
	}
	first, ok := int64(0), false
	if len(rows.Values) == 1 {
		first, ok = rows.Values[0][0].(int64)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, b := range w.blocks {
		if id.res == Raw && id.grp == grp && !b.rolled && id.start+window(Raw) > from && id.start <= to && (!ok || id.start < first) {
			first, ok = id.start, true
		}
	}
	return max(first, from), ok, nil
}

// mergePts merges two time-sorted lists; a wins at the same time.
func mergePts(a, b []pt) []pt {
	out := make([]pt, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].t < b[j].t):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].t < a[i].t:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// thin turns points into the answer's form, combining runs of them so
// that at most n remain (n ≤ 0: all).
func thin(pts []pt, res int64, n int) [][]float64 {
	run := 1
	if n > 0 && len(pts) > n {
		run = (len(pts) + n - 1) / n
	}
	out := make([][]float64, 0, (len(pts)+run-1)/run)
	for i := 0; i < len(pts); i += run {
		j := min(i+run, len(pts))
		if res == Raw && j == i+1 {
			out = append(out, []float64{float64(pts[i].t), pts[i].vs[0]})
			continue
		}
		var a []float64 // min, max, sum, count
		for _, p := range pts[i:j] {
			b := p.vs
			if res == Raw {
				b = []float64{p.vs[0], p.vs[0], p.vs[0], 1}
			}
			if a == nil {
				a = append([]float64(nil), b...)
				continue
			}
			a[0], a[1], a[2], a[3] = min(a[0], b[0]), max(a[1], b[1]), a[2]+b[2], a[3]+b[3]
		}
		out = append(out, []float64{float64(pts[i].t), a[2] / a[3], a[0], a[1]})
	}
	return out
}

// Series lists the series of a monitor (all monitors if ""), at most
// limit: those stored, and on the active those added since (written
// with the next flush).
func (w *Writer) Series(ctx context.Context, monitor string, limit int) ([]Key, error) {
	q, args := `SELECT monitor, node, item FROM metric_series`, []any{}
	if monitor != "" {
		q, args = q+` WHERE monitor = ?`, append(args, monitor)
	}
	rows, err := w.st.Query(ctx, store.Local, q+` ORDER BY monitor, node, item LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list metric series: %w", err)
	}
	seen := map[Key]bool{}
	out := make([]Key, 0, len(rows.Values))
	for _, v := range rows.Values {
		s := func(i int) string { x, _ := v[i].(string); return x }
		k := Key{s(0), s(1), s(2)}
		seen[k] = true
		out = append(out, k)
	}
	w.mu.Lock()
	for k := range w.cat.queued {
		if (monitor == "" || k.Monitor == monitor) && !seen[k] && len(out) < limit {
			seen[k] = true
			out = append(out, k)
		}
	}
	w.mu.Unlock()
	slices.SortFunc(out, Key.less)
	return out, nil
}
