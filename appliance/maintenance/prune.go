package maintenance

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/periodic"
)

// KeepMutes is how long an ended ad hoc mute stays listed (its audit rows
// stay as long as the audit log): scripts that mute before every reboot
// would otherwise fill the list.
const KeepMutes = 30 * 24 * time.Hour

// Prune deletes the ad hoc mutes (ids "mute-…") that ended before
// before; scheduled windows are the operators' to delete. It returns how
// many it deleted.
func Prune(ctx context.Context, st Store, before time.Time) (int, error) {
	ws, err := List(ctx, st, nil)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, w := range ws {
		if strings.HasPrefix(w.ID, "mute-") && w.Kind == Once && w.To != nil && w.To.Before(before) {
			ids = append(ids, w.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	b, _ := json.Marshal(ids)
	_, err = st.Exec(ctx, store.Statement{SQL: `DELETE FROM maintenance_windows WHERE id IN (SELECT value FROM json_each(?))`, Args: []any{string(b)}}, bump)
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}

// PruneLoop prunes ended mutes older than KeepMutes every hour; it runs
// on the active only (ctl.Register), since only the active writes.
func PruneLoop(ctx context.Context, st Store, log *slog.Logger) error {
	prune := func(now time.Time) {
		if n, err := Prune(ctx, st, now.Add(-KeepMutes)); err != nil {
			log.Warn("prune ended mutes", "err", err)
		} else if n > 0 {
			log.Info("pruned ended mutes", "count", n)
		}
	}
	prune(time.Now())
	return periodic.Every(ctx, time.Hour, prune)
}
