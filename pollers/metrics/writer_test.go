package metrics

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestWriter(t *testing.T, st Store, c *clock, groups int) *Writer {
	t.Helper()
	w := NewWriter(st, Config{Groups: groups, Flush: time.Minute}, nil)
	w.now = c.now
	return w
}

// value is a deterministic function of a series and time, so the test
// can say what any read must return.
func value(k Key, ts int64) float64 {
	return float64(len(k.Node))*100 + float64(ts/1000%3600)/10
}

var start = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// fill adds points every 30 s for d, flushing every minute of clock.
func fill(t *testing.T, w *Writer, c *clock, keys []Key, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	for end := c.t.Add(d); c.t.Before(end); {
		for _, k := range keys {
			w.Add(k, c.t, value(k, c.t.UnixMilli()))
		}
		c.t = c.t.Add(30 * time.Second)
		if c.t.Second() == 0 {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWriteReadRollupRetain(t *testing.T) {
	st := storetest.New(t, Migrations())
	ctx := context.Background()
	c := &clock{start}
	w := newTestWriter(t, st, c, 4)
	keys := []Key{{"web", "n1", ""}, {"web", "node-2", ""}, {"res", "n1", "cpu"}}
	fill(t, w, c, keys, 3*time.Hour)

	// Raw: every point back, from the store and from memory.
	got, err := w.Read(ctx, keys[:1], start, c.t, Raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Points); n != 360 {
		t.Fatalf("raw points: %d, want 360", n)
	}
	for i, p := range got[0].Points {
		ts := start.Add(time.Duration(i) * 30 * time.Second).UnixMilli()
		if int64(p[0]) != ts || p[1] != value(keys[0], ts) {
			t.Fatalf("raw point %d: %v, want [%d %v]", i, p, ts, value(keys[0], ts))
		}
	}
	// From the store alone (a standby): the finished windows' blocks and
	// the open windows' block and segments, all but the points after the
	// last flush.
	rows, err := st.Query(ctx, 0, `SELECT COUNT(*) FROM metric_blocks WHERE res = 0 AND seq > 0`)
	if err != nil || rows.Values[0][0].(int64) == 0 {
		t.Fatalf("no segments stored: %v %v", rows.Values, err)
	}
	got, err = newTestWriter(t, st, c, 4).Read(ctx, keys[:1], start, c.t, Raw, 0)
	if err != nil || len(got[0].Points) != 360 {
		t.Fatalf("from the store: %d raw points, want 360 (%v)", len(got[0].Points), err)
	}
	// 5 minutes: averages of ten points each, rolled or computed from raw.
	got, err = w.Read(ctx, keys[2:], start, c.t, FiveMin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Points); n != 36 {
		t.Fatalf("5m buckets: %d, want 36", n)
	}
	for i, p := range got[0].Points {
		b := start.Add(time.Duration(i) * 5 * time.Minute).UnixMilli()
		var sum float64
		for j := range 10 {
			sum += value(keys[2], b+int64(j)*30_000)
		}
		if int64(p[0]) != b || math.Abs(p[1]-sum/10) > 1e-9 || len(p) != 4 {
			t.Fatalf("5m bucket %d: %v, want [%d %v]", i, p, b, sum/10)
		}
	}
	// Hourly: three buckets of 120 points.
	got, err = w.Read(ctx, keys[1:2], start, c.t, Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Points); n != 3 {
		t.Fatalf("hourly buckets: %v, want 3", got[0].Points)
	}
	// The rollups of finished windows are in the store, not computed on read.
	rows, err = st.Query(ctx, 0, `SELECT res, COUNT(*), SUM(rolled) FROM metric_blocks GROUP BY res ORDER BY res`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("blocks by resolution (res, blocks, rolled): %v; rows written %d", rows.Values, w.RowsWritten())
	if len(rows.Values) != 3 {
		t.Fatalf("blocks by resolution: %v", rows.Values)
	}
	// Series catalogue.
	ks, err := w.Series(ctx, "web", 10)
	if err != nil || len(ks) != 2 {
		t.Fatalf("series of web: %v %v", ks, err)
	}

	// Retention: ten days later raw blocks go, rollups stay.
	c.t = c.t.Add(10 * 24 * time.Hour)
	n, err := w.Retain(ctx, c.t)
	if err != nil || n == 0 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	rows, _ = st.Query(ctx, 0, `SELECT res, COUNT(*) FROM metric_blocks GROUP BY res ORDER BY res`)
	if len(rows.Values) != 2 || rows.Values[0][0] != FiveMin {
		t.Fatalf("after retention: %v", rows.Values)
	}
}

// A new active (a new Writer on the same store, nothing in memory)
// keeps what the old one wrote in the open window, adds to it, and
// rolls up the windows the old one left.
func TestNewActiveContinues(t *testing.T) {
	st := storetest.New(t, Migrations())
	ctx := context.Background()
	c := &clock{start}
	keys := []Key{{"ping", "n1", "rtt_ms"}}
	old := newTestWriter(t, st, c, 2)
	fill(t, old, c, keys, 23*time.Minute) // flushed at each minute: 46 points written
	// Points after the last flush die with the old active.
	old.Add(keys[0], c.t.Add(time.Second), 999)

	w := newTestWriter(t, st, c, 2)
	fill(t, w, c, keys, 20*time.Minute)
	got, err := w.Read(ctx, keys, start, c.t, Raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Points); n != 86 {
		t.Fatalf("points after the change of active: %d, want 86", n)
	}
	for _, p := range got[0].Points {
		if p[1] == 999 {
			t.Fatal("a point never flushed came back")
		}
	}
	rows, err := st.Query(ctx, 0, `SELECT COUNT(*) FROM metric_blocks WHERE res = 0 AND rolled = 0 AND start < ?`, c.t.Add(-12*time.Minute).UnixMilli())
	if err != nil || rows.Values[0][0] != int64(0) {
		t.Fatalf("finished raw windows left unrolled: %v %v", rows.Values, err)
	}
}

// A late point (a custom metric for an earlier time) lands in its
// window, and the window is rolled up again.
func TestLatePoint(t *testing.T) {
	st := storetest.New(t, Migrations())
	ctx := context.Background()
	c := &clock{start}
	k := Key{"custom", "n1", "queue"}
	w := newTestWriter(t, st, c, 1)
	fill(t, w, c, []Key{k}, 40*time.Minute)
	late := start.Add(5*time.Minute + 10*time.Second)
	w.Add(k, late, 1e6)
	c.t = c.t.Add(time.Minute)
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w2 := newTestWriter(t, st, c, 1) // read from the store only
	got, err := w2.Read(ctx, []Key{k}, start.Add(5*time.Minute), start.Add(10*time.Minute-time.Millisecond), FiveMin, 0)
	if err != nil || len(got[0].Points) != 1 {
		t.Fatalf("bucket with the late point: %v %v", got, err)
	}
	if p := got[0].Points[0]; p[1] < 1e4 || p[3] != 1e6 { // average (1e6 + ten values near 100) / 11, max 1e6
		t.Fatalf("the late point is not in its 5-minute bucket: %v", got[0].Points)
	}
}

func TestAddRefusesNonFinite(t *testing.T) {
	w := NewWriter(nil, Config{}, nil)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		w.Add(Key{"m", "n", ""}, start, v)
	}
	if w.nonFinite.Load() != 3 || w.inMemory.Load() != 0 {
		t.Fatalf("non-finite values kept: %d refused, %d in memory", w.nonFinite.Load(), w.inMemory.Load())
	}
}

func TestAddDropsWhenFull(t *testing.T) {
	c := &clock{start}
	w := NewWriter(nil, Config{MaxPoints: 10}, nil)
	w.now = c.now
	for i := range 20 {
		w.Add(Key{"m", "n", ""}, start.Add(time.Duration(i)*time.Second), 1)
	}
	if w.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", w.Dropped())
	}
}

func TestResolution(t *testing.T) {
	c := &clock{start}
	w := NewWriter(nil, Config{}, nil)
	w.now = c.now
	for _, tc := range []struct {
		span time.Duration
		want int64
	}{{time.Hour, Raw}, {24 * time.Hour, Raw}, {7 * 24 * time.Hour, FiveMin}, {60 * 24 * time.Hour, Hour}, {400 * 24 * time.Hour, Hour}} {
		if got := w.Resolution(start.Add(-tc.span), start, 1000); got != tc.want {
			t.Errorf("span %v: %s, want %s", tc.span, ResName(got), ResName(tc.want))
		}
	}
}

// Points of a series arriving in any order (scripts posting at once)
// are read back in order, the later put winning at the same time.
func TestShuffledPoints(t *testing.T) {
	st := storetest.New(t, Migrations())
	ctx := context.Background()
	c := &clock{start.Add(time.Hour)}
	w := newTestWriter(t, st, c, 4)
	k := Key{"script", "n1", "queue"}
	order := rand.New(rand.NewPCG(3, 4)).Perm(5000)
	for _, i := range order {
		w.Add(k, start.Add(time.Duration(i)*100*time.Millisecond), float64(i))
	}
	w.Add(k, start.Add(100*time.Millisecond), -1) // replaces point 1
	check := func(what string) {
		t.Helper()
		got, err := w.Read(ctx, []Key{k}, start, start.Add(time.Hour), Raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(got[0].Points); n != 5000 {
			t.Fatalf("%s: %d points, want 5000", what, n)
		}
		for i, p := range got[0].Points {
			want := float64(i)
			if i == 1 {
				want = -1
			}
			if len(p) != 2 || p[1] != want || int64(p[0]) != start.Add(time.Duration(i)*100*time.Millisecond).UnixMilli() {
				t.Fatalf("%s: point %d is %v", what, i, p)
			}
		}
	}
	check("in memory")
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the flush")
	check2 := newTestWriter(t, st, c, 4)
	got, err := check2.Read(ctx, []Key{k}, start, start.Add(time.Hour), Raw, 0)
	if err != nil || len(got[0].Points) != 5000 {
		t.Fatalf("from the store: %v", err)
	}
}

// The inline hash is FNV-1a: groups of stored blocks do not move.
func TestGroupIsFNV(t *testing.T) {
	w := NewWriter(nil, Config{Groups: 1 << 30}, nil)
	for _, k := range []Key{{"", "", ""}, {"web-1", "n1", "x"}, {"監視", "ノード", ""}} {
		h := fnv.New32a()
		h.Write([]byte(k.Monitor + "\x00" + k.Node))
		if got, want := w.group(k), int(h.Sum32()%(1<<30)); got != want {
			t.Errorf("%v: group %d, want %d", k, got, want)
		}
	}
}

func TestCollectorsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := NewWriter(nil, Config{MaxPoints: 1}, nil)
	w.Add(Key{"m", "n", ""}, start, 1)
	w.Add(Key{"m", "n", ""}, start.Add(time.Second), 2)
	reg.MustRegister(w.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 5 {
		t.Fatalf("%d families, %v", len(mfs), err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "mamori_metrics_points_dropped_total" && mf.GetMetric()[0].GetCounter().GetValue() != 1 {
			t.Fatalf("dropped: %v", mf)
		}
	}
}

// More points than asked are combined in runs: average, min and max.
func TestThin(t *testing.T) {
	var pts []pt
	for i := range 10 {
		pts = append(pts, pt{int64(i), []float64{float64(i)}})
	}
	got := thin(pts, Raw, 4)                                              // runs of 3
	want := [][]float64{{0, 1, 0, 2}, {3, 4, 3, 5}, {6, 7, 6, 8}, {9, 9}} // a run of one is one result
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("thin: %v, want %v", got, want)
	}
	if got := thin(pts[:2], Raw, 4); fmt.Sprint(got) != "[[0 0] [1 1]]" {
		t.Fatalf("no thinning needed: %v", got)
	}
}
