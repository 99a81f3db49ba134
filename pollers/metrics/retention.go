package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// maxDeletesPerRun stops a run that cannot catch up; the next resumes.
const maxDeletesPerRun = 200

// Retain deletes blocks whose whole window is older than their
// resolution's retention, oldest first, at most DeleteBatch blocks per
// statement (one Raft entry each, so a large backlog never makes one
// huge entry). It returns the blocks deleted.
func (w *Writer) Retain(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, r := range []struct {
		res  int64
		keep time.Duration
	}{{Raw, w.cfg.KeepRaw}, {FiveMin, w.cfg.Keep5m}, {Hour, w.cfg.Keep1h}} {
		before := now.Add(-r.keep).UnixMilli() - window(r.res)
		for range maxDeletesPerRun {
			if ctx.Err() != nil {
				return total, ctx.Err()
			}
			res, err := w.st.Exec(ctx, store.Statement{SQL: `DELETE FROM metric_blocks WHERE rowid IN
				(SELECT rowid FROM metric_blocks WHERE res = ? AND start < ? ORDER BY start LIMIT ?)`, Args: []any{r.res, before, w.cfg.DeleteBatch}})
			if err != nil {
				return total, fmt.Errorf("metrics retention (%s): %w", ResName(r.res), err)
			}
			n := res[0].RowsAffected
			total += n
			w.rows.Add(uint64(n))
			if n < int64(w.cfg.DeleteBatch) {
				break
			}
		}
	}
	return total, nil
}
