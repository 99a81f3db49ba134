package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Field limits of an audit row: whatever a caller sends (a 1 MB
// User-Agent, a user name of a megabyte), a row stays small.
const (
	maxAuditShort  = 128 // user, action, result
	maxAuditSource = 64
	maxAuditUA     = 256
	maxAuditObject = 512
	maxAuditDetail = 16 << 10
)

// bounded is e with every field cut to its limit (marked as cut).
func (e Entry) bounded() Entry {
	e.User = truncate(e.User, maxAuditShort)
	e.Source = truncate(e.Source, maxAuditSource)
	e.UserAgent = truncate(e.UserAgent, maxAuditUA)
	e.Action = truncate(e.Action, maxAuditShort)
	e.Object = truncate(e.Object, maxAuditObject)
	e.Result = truncate(e.Result, maxAuditShort)
	e.Detail = truncate(e.Detail, maxAuditDetail)
	return e
}

// truncate cuts s to at most limit bytes on a UTF-8 boundary, saying how
// much was cut.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	mark := fmt.Sprintf("…[%d bytes cut]", len(s)-limit)
	cut := max(limit-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Budgets of one aggregation window. A flood adds at most
// refusalImmediate + refusalKeys + refusalSources + 1 rows per window,
// whatever its size and however many sources it comes from.
const (
	refusalImmediate          = 200  // rows written as they happen
	refusalImmediatePerSource = 5    // of which from one source
	refusalKeys               = 2000 // (source, user, action, result) counted
	refusalKeysPerSource      = 256  // of which from one source
	refusalSources            = 1000 // sources counted beyond their keys
)

// AggregatedFormat is the detail of a row that stands for many refused
// attempts: the count, the source, the user (or "several users") and
// the window.
const AggregatedFormat = "aggregated: %d more refused attempts from %s for %s in the last %s"

// Refusals writes refused attempts (wrong passwords, 401, 403,
// cross-origin requests, pairing codes) to the audit log so that a flood
// adds a bounded number of rows: the first few of each source in a
// window are written as they happen, the rest are counted and written as
// one row per (source, user, action, result) when the window ends, with
// further fallbacks per source and for everyone, each bounded.
type Refusals struct {
	window time.Duration
	write  func(context.Context, Entry)

	mu        sync.Mutex
	immediate int
	perSource map[string]int // rows written at once this window
	keyCount  map[string]int // keys counted per source this window
	keys      map[refusalKey]*tally
	sources   map[string]*tally // refusals of a source beyond its keys
	rest      tally             // refusals beyond every budget
}

type refusalKey struct{ source, user, action, result string }

type tally struct {
	n    int
	last Entry
}

// NewRefusals aggregates over window and writes rows with write.
func NewRefusals(window time.Duration, write func(context.Context, Entry)) *Refusals {
	r := &Refusals{window: window, write: write}
	r.reset()
	return r
}

func (r *Refusals) reset() {
	r.immediate, r.rest = 0, tally{}
	r.perSource, r.keyCount = map[string]int{}, map[string]int{}
	r.keys, r.sources = map[refusalKey]*tally{}, map[string]*tally{}
}

// Add records one refused attempt.
func (r *Refusals) Add(ctx context.Context, e Entry) {
	e = e.bounded()
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	r.mu.Lock()
	src := e.Source
	if r.immediate < refusalImmediate && r.perSource[src] < refusalImmediatePerSource {
		r.immediate++
		r.perSource[src]++
		r.mu.Unlock()
		r.write(ctx, e)
		return
	}
	defer r.mu.Unlock()
	k := refusalKey{src, e.User, e.Action, e.Result}
	t := r.keys[k]
	switch {
	case t != nil:
	case len(r.keys) < refusalKeys && r.keyCount[src] < refusalKeysPerSource:
		t = &tally{}
		r.keys[k] = t
		r.keyCount[src]++
	case r.sources[src] != nil:
		t = r.sources[src]
	case len(r.sources) < refusalSources:
		t = &tally{}
		r.sources[src] = t
	default:
		t = &r.rest
	}
	t.n++
	t.last = e
}

// Run writes each window's counted refusals when it ends, until ctx
// ends (then once more, so nothing counted is lost at a clean stop).
func (r *Refusals) Run(ctx context.Context) error {
	t := time.NewTicker(r.window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			r.Flush(fctx)
			cancel()
			return nil
		case <-t.C:
			r.Flush(ctx)
		}
	}
}

// Flush ends the window: one row per counted key, source and the rest.
func (r *Refusals) Flush(ctx context.Context) {
	r.mu.Lock()
	keys, sources, rest := r.keys, r.sources, r.rest
	r.reset()
	r.mu.Unlock()
	window := r.window.String()
	var rows []Entry
	for k, t := range keys {
		user := k.user
		if user == "" {
			user = "no user"
		}
		rows = append(rows, r.row(t, fmt.Sprintf(AggregatedFormat, t.n, k.source, user, window)))
	}
	for src, t := range sources {
		e := r.row(t, fmt.Sprintf(AggregatedFormat, t.n, src, "several users and routes", window))
		e.User, e.Action, e.Object, e.Result = "", "refused attempts", "", "refused"
		rows = append(rows, e)
	}
	if rest.n > 0 {
		e := r.row(&rest, fmt.Sprintf(AggregatedFormat, rest.n, "many further sources", "several users and routes", window))
		e.User, e.Source, e.UserAgent, e.Action, e.Object, e.Result = "", "", "", "refused attempts", "", "refused"
		rows = append(rows, e)
	}
	slices.SortFunc(rows, func(a, b Entry) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
	for _, e := range rows {
		r.write(ctx, e)
	}
}

// row is the aggregate of t: the last attempt's fields, at its time.
func (r *Refusals) row(t *tally, detail string) Entry {
	e := t.last
	e.Detail = detail
	return e
}
