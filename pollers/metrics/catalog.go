package metrics

import (
	"context"
	"fmt"

	"github.com/mamori-ops/mamori/appliance/store"
)

// The catalogue (metric_series) gives each series a number; blocks name
// series by it, not by their key (a key costs ~30 bytes in every block
// of every flush, a number two or three). Numbers are SQLite row ids,
// assigned by the same replicated statements on both appliances, and never
// reused: a catalogue row is never deleted.

type catalog struct {
	ids    map[Key]int64
	keys   map[int64]Key
	loaded int64 // the highest id read
	queued map[Key]bool
	fresh  []Key // to insert at the next flush
}

func newCatalog() catalog {
	return catalog{ids: map[Key]int64{}, keys: map[int64]Key{}, queued: map[Key]bool{}}
}

// noteLocked queues a series for the catalogue the first time it is seen.
func (w *Writer) noteLocked(k Key) {
	if _, ok := w.cat.ids[k]; ok || w.cat.queued[k] {
		return
	}
	w.cat.queued[k] = true
	w.cat.fresh = append(w.cat.fresh, k)
}

// readCatalog reads the catalogue rows added since the last read.
func (w *Writer) readCatalog(ctx context.Context) error {
	for {
		w.mu.Lock()
		after := w.cat.loaded
		w.mu.Unlock()
		rows, err := w.st.Query(ctx, store.Local, `SELECT id, monitor, node, item FROM metric_series WHERE id > ? ORDER BY id LIMIT 50000`, after)
		if err != nil {
			return fmt.Errorf("read the metric series catalogue: %w", err)
		}
		w.mu.Lock()
		for _, v := range rows.Values {
			id, _ := v[0].(int64)
			s := func(i int) string { x, _ := v[i].(string); return x }
			k := Key{s(1), s(2), s(3)}
			w.cat.ids[k], w.cat.keys[id] = id, k
			delete(w.cat.queued, k)
			w.cat.loaded = max(w.cat.loaded, id)
		}
		w.mu.Unlock()
		if len(rows.Values) < 50000 {
			return nil
		}
	}
}

// writeCatalog inserts the series seen since the last flush, then reads
// their numbers.
func (w *Writer) writeCatalog(ctx context.Context) error {
	// A new active queues every series it sees; most are catalogued already.
	if err := w.readCatalog(ctx); err != nil {
		return err
	}
	w.mu.Lock()
	var fresh []Key
	for _, k := range w.cat.fresh {
		if _, ok := w.cat.ids[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	w.cat.fresh = nil
	w.mu.Unlock()
	now := w.now().UnixMilli()
	for len(fresh) > 0 {
		n := min(len(fresh), 1000)
		stmts := make([]store.Statement, n)
		for i, k := range fresh[:n] {
			stmts[i] = store.Statement{SQL: `INSERT INTO metric_series (monitor, node, item, first_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				Args: []any{k.Monitor, k.Node, k.Item, now}}
		}
		if err := w.exec(ctx, stmts); err != nil {
			w.mu.Lock()
			w.cat.fresh = append(w.cat.fresh, fresh...) // next flush
			w.mu.Unlock()
			return err
		}
		fresh = fresh[n:]
	}
	return w.readCatalog(ctx)
}

// idOf is a series' number (false: not catalogued, so no points stored).
func (w *Writer) idOf(ctx context.Context, k Key) (int64, bool, error) {
	w.mu.Lock()
	id, ok := w.cat.ids[k]
	w.mu.Unlock()
	if ok {
		return id, true, nil
	}
	rows, err := w.st.Query(ctx, store.Local, `SELECT id FROM metric_series WHERE monitor = ? AND node = ? AND item = ?`, k.Monitor, k.Node, k.Item)
	if err != nil {
		return 0, false, fmt.Errorf("read metrics: %w", err)
	}
	if len(rows.Values) != 1 {
		return 0, false, nil
	}
	id, _ = rows.Values[0][0].(int64)
	return id, true, nil
}
