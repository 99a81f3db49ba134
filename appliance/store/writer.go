package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// writer is the one batching writer: concurrent Exec calls are gathered
// into one transaction per Raft entry, so throughput is bounded by
// statements per fsync, not calls per fsync.
type writer struct {
	s    *Store
	max  int
	reqs chan *writeReq
	quit chan struct{}
	once sync.Once
	done chan struct{}
}

type writeReq struct {
	stmts []Statement
	res   []Result
	err   error
	done  chan struct{}
}

func newWriter(s *Store, max int) *writer {
	return &writer{s: s, max: max, reqs: make(chan *writeReq, 4096), quit: make(chan struct{}), done: make(chan struct{})}
}

func (w *writer) submit(ctx context.Context, stmts []Statement) ([]Result, error) {
	r := &writeReq{stmts: stmts, done: make(chan struct{})}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-w.quit:
		return nil, ErrClosed
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (w *writer) stop() { w.once.Do(func() { close(w.quit) }) }

func (w *writer) run() {
	defer close(w.done)
	for {
		var first *writeReq
		select {
		case first = <-w.reqs:
		case <-w.quit:
			w.drain()
			return
		}
		w.flush(w.gather(first))
	}
}

// gather takes whatever else is already queued, up to max statements.
func (w *writer) gather(first *writeReq) []*writeReq {
	batch := []*writeReq{first}
	n := len(first.stmts)
	for n < w.max {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
			n += len(r.stmts)
		default:
			return batch
		}
	}
	return batch
}

// flush executes a batch in one transaction; if a statement failed (the
// transaction was rolled back), each request is retried alone so one bad
// statement fails only its own caller. Any other failure is every
// request's: retrying after an unknown outcome could apply a write twice.
func (w *writer) flush(batch []*writeReq) {
	if len(batch) > 1 {
		var all []Statement
		for _, r := range batch {
			all = append(all, r.stmts...)
		}
		res, err := w.s.execDirect(all)
		if err == nil && len(res) == len(all) {
			off := 0
			for _, r := range batch {
				r.res = res[off : off+len(r.stmts)]
				off += len(r.stmts)
				close(r.done)
			}
			return
		}
		if err == nil || !errors.Is(err, ErrStatement) {
			if err == nil {
				err = fmt.Errorf("%w: %d results for %d statements", ErrOutcomeUnknown, len(res), len(all))
			}
			for _, r := range batch {
				r.err = err
				close(r.done)
			}
			return
		}
	}
	for _, r := range batch {
		r.res, r.err = w.s.execDirect(r.stmts)
		close(r.done)
	}
}

func (w *writer) drain() {
	for {
		select {
		case r := <-w.reqs:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}
