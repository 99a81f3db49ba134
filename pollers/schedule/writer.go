package schedule

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/pollers/status"
)

// statusWriter writes unchanged-priority status rows in batches: rows
// of one key coalesce (the newest wins), so however often checks run, a
// row costs at most one replicated write per flush.
type statusWriter struct {
	st   Store
	log  *slog.Logger
	mu   sync.Mutex
	rows map[status.Key]status.Row
	// removes are targets whose rows go, written after the rows of the
	// same flush (so a queued row cannot bring them back).
	removes []store.Statement
}

// maxBatch bounds the statements of one write.
const maxBatch = 1000

func newStatusWriter(st Store, log *slog.Logger) *statusWriter {
	return &statusWriter{st: st, log: log, rows: map[status.Key]status.Row{}}
}

func (w *statusWriter) put(r status.Row) {
	w.mu.Lock()
	w.rows[r.Key()] = r
	w.mu.Unlock()
}

// remove drops a target's queued rows and deletes its stored ones.
func (w *statusWriter) remove(monitor, node string) {
	w.mu.Lock()
	for k := range w.rows {
		if k.Monitor == monitor && k.Node == node {
			delete(w.rows, k)
		}
	}
	w.removes = append(w.removes, status.Remove(monitor, node))
	w.mu.Unlock()
}

// removeKey drops one queued row and deletes its stored one.
func (w *statusWriter) removeKey(k status.Key) {
	w.mu.Lock()
	delete(w.rows, k)
	w.removes = append(w.removes, status.RemoveKey(k))
	w.mu.Unlock()
}

func (w *statusWriter) forget(k status.Key) {
	w.mu.Lock()
	delete(w.rows, k)
	w.mu.Unlock()
}

// run flushes every period until ctx ends, then once more.
func (w *statusWriter) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			w.flush(fctx)
			cancel()
			return
		case <-t.C:
			w.flush(ctx)
		}
	}
}

// flush writes what is queued, maxBatch rows per write; rows of a
// failed write go back unless a newer one came meanwhile.
func (w *statusWriter) flush(ctx context.Context) {
	w.mu.Lock()
	batch, removes := w.rows, w.removes
	w.rows, w.removes = map[status.Key]status.Row{}, nil
	w.mu.Unlock()
	stmts := make([]store.Statement, 0, min(len(batch), maxBatch))
	keys := make([]status.Key, 0, cap(stmts))
	write := func() {
		if len(stmts) == 0 {
			return
		}
		if _, err := w.st.Exec(ctx, stmts...); err != nil {
			w.log.Debug("status rows not written; kept for the next flush", "rows", len(stmts), "err", err)
			w.mu.Lock()
			for _, k := range keys {
				if _, newer := w.rows[k]; !newer {
					w.rows[k] = batch[k]
				}
			}
			w.mu.Unlock()
		}
		stmts, keys = stmts[:0], keys[:0]
	}
	for k, r := range batch {
		stmts = append(stmts, status.Upsert(r))
		keys = append(keys, k)
		if len(stmts) == maxBatch {
			write()
		}
	}
	write()
	for len(removes) > 0 {
		n := min(len(removes), maxBatch)
		if _, err := w.st.Exec(ctx, removes[:n]...); err != nil {
			w.log.Warn("status rows of removed monitors not deleted (they expire)", "err", err)
		}
		removes = removes[n:]
	}
}
