package metrics

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Store is what the package needs of the replicated store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Resolutions, as stored in metric_blocks.res: the bucket width in ms (0: raw points).
const (
	Raw     int64 = 0
	FiveMin int64 = 5 * 60 * 1000
	Hour    int64 = 60 * 60 * 1000
)

// window is how much time one block of a resolution covers. Short
// windows keep the rewrite of an open block small; long ones keep the
// blocks a range read needs few (DESIGN.md).
func window(res int64) int64 {
	switch res {
	case FiveMin:
		return 2 * Hour
	case Hour:
		return 24 * Hour
	}
	return 10 * 60 * 1000
}

func cols(res int64) int {
	if res == Raw {
		return 1
	}
	return 4 // min, max, sum, count
}

// ResName is a resolution's name in the API.
func ResName(res int64) string {
	switch res {
	case FiveMin:
		return "5m"
	case Hour:
		return "1h"
	}
	return "raw"
}

// Config tunes the writer; zero values take the defaults.
type Config struct {
	Flush  time.Duration // how often open blocks are written (default 60 s): a kill -9 loses at most this much
	Groups int           // series are hashed into this many groups, one row per group and window (default 1024)
	// Retention per resolution (defaults 7 days, 90 days, 2 years).
	KeepRaw, Keep5m, Keep1h time.Duration
	MaxPoints               int64            // points held in memory before Add drops (default 20 million)
	DeleteBatch             int              // blocks per retention delete (default 500)
	Now                     func() time.Time // the clock (tests and benchmarks); nil: time.Now
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Flush, time.Minute)
	def(&c.KeepRaw, 7*24*time.Hour)
	def(&c.Keep5m, 90*24*time.Hour)
	def(&c.Keep1h, 2*365*24*time.Hour)
	if c.Groups <= 0 {
		c.Groups = 1024
	}
	if c.MaxPoints <= 0 {
		c.MaxPoints = 20_000_000
	}
	if c.DeleteBatch <= 0 {
		c.DeleteBatch = 500
	}
	return c
}

type blockID struct {
	res   int64
	grp   int
	start int64
}

// block is one stored row being built in memory.
type block struct {
	id     blockID
	series map[Key]*series
	points int64
	loaded bool   // the stored row (if any) is merged in
	dirty  uint64 // changes since creation
	clean  uint64 // the value of dirty last written
	rolled bool   // raw: its rollups are written
	// full: the next write rewrites the whole block (seq 0) and deletes
	// its segments; otherwise a raw block appends a segment of the points
	// added since its last write, numbered next.
	full bool
	next int64
}

// Writer keeps the series of numeric monitor results in compressed
// blocks and writes them to the replicated store (see DESIGN.md).
// Add may be called anywhere; only Run (on the active) writes.
type Writer struct {
	st  Store
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	blocks   map[blockID]*block
	cat      catalog
	inMemory atomic.Int64
	dropped  atomic.Uint64
	// nonFinite counts NaN and infinite values refused.
	nonFinite atomic.Uint64
	rows      atomic.Uint64 // rows written (upserts, markers, catalog, deletes)
	bytes     atomic.Uint64 // block bytes written
	running   atomic.Bool
}

// NewWriter returns a writer over st.
func NewWriter(st Store, cfg Config, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Writer{st: st, cfg: cfg.withDefaults(), log: log.With("component", "metrics"), now: now,
		blocks: map[blockID]*block{}, cat: newCatalog()}
}

// Dropped counts points refused because memory was full.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// RowsWritten counts replicated rows written (the figure DESIGN.md is about).
func (w *Writer) RowsWritten() uint64 { return w.rows.Load() }

// BytesWritten counts the block bytes written (each flush rewrites the open blocks).
func (w *Writer) BytesWritten() uint64 { return w.bytes.Load() }

// group is FNV-1a of monitor, a zero byte and node, modulo Groups
// (inline: hash/fnv allocates, and Add runs for every result).
func (w *Writer) group(k Key) int {
	h := uint32(2166136261)
	step := func(c byte) { h = (h ^ uint32(c)) * 16777619 }
	for i := 0; i < len(k.Monitor); i++ {
		step(k.Monitor[i])
	}
	step(0)
	for i := 0; i < len(k.Node); i++ {
		step(k.Node[i])
	}
	return int(h % uint32(w.cfg.Groups))
}

// Add records one value. It never waits for the store: the point goes
// into its open block in memory, written by the next flush.
func (w *Writer) Add(k Key, at time.Time, v float64) {
	// NaN and ±Inf are no measurement (the judgement says the check
	// failed), and JSON cannot carry them to a graph.
	if math.IsNaN(v) || math.IsInf(v, 0) {
		w.nonFinite.Add(1)
		return
	}
	if w.inMemory.Load() >= w.cfg.MaxPoints {
		w.dropped.Add(1)
		return
	}
	t := at.UnixMilli()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.putLocked(blockID{Raw, w.group(k), t - mod(t, window(Raw))}, k, t, []float64{v})
	w.noteLocked(k)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func (w *Writer) blockLocked(id blockID) *block {
	b := w.blocks[id]
	if b == nil {
		b = &block{id: id, series: map[Key]*series{}}
		w.blocks[id] = b
	}
	return b
}

func (w *Writer) putLocked(id blockID, k Key, t int64, vs []float64) {
	b := w.blockLocked(id)
	s := b.series[k]
	if s == nil {
		s = newSeries(cols(id.res), id.start)
		b.series[k] = s
	}
	if s.enc.n > 0 && t <= s.enc.t || id.res != Raw || b.rolled {
		b.full = true // not a plain append: rewrite the block
	}
	s.put(t, vs)
	b.points++ // recounted when the block is encoded (a put may replace a point)
	w.inMemory.Add(1)
	b.dirty++
	if id.res == Raw {
		b.rolled = false
	}
}

// Run writes open blocks every Flush period and applies retention,
// until ctx ends; then it writes once more and forgets what it held
// (a later term as active starts from the store again).
func (w *Writer) Run(ctx context.Context) error {
	w.running.Store(true)
	defer w.running.Store(false)
	defer w.forget()
	if err := w.adoptUnrolled(ctx); err != nil && ctx.Err() == nil {
		w.log.Warn("metrics: could not read blocks the previous active left unrolled; retrying at the next flush", "err", err)
	}
	t := time.NewTicker(w.cfg.Flush)
	defer t.Stop()
	nextRetention := w.now()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = w.Flush(fctx)
			cancel()
			return nil
		case <-t.C:
		}
		if err := w.Flush(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("metrics flush failed; the points stay in memory and are written at the next one", "err", err)
		}
		if now := w.now(); !now.Before(nextRetention) {
			if _, err := w.Retain(ctx, now); err != nil && ctx.Err() == nil {
				w.log.Warn("metrics retention stopped; it resumes later", "err", err)
			}
			nextRetention = now.Add(5 * time.Minute)
		}
	}
}

// Running says whether Run is writing (this appliance is the active).
func (w *Writer) Running() bool { return w.running.Load() }

func (w *Writer) forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.blocks = map[blockID]*block{}
	w.cat = newCatalog()
	w.inMemory.Store(0)
}
