package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/periodic"
)

// Limit bounds one kind of stored history; zero values mean no limit.
type Limit struct {
	MaxAge time.Duration
	// MaxBytes is compared with an estimate: rows (by id range) times the
	// average size of the newest rows' columns plus rowOverhead.
	MaxBytes int64
}

// Retention deletes stored messages and events past their age or size,
// oldest first, in bounded batches (one statement, one Raft entry each),
// so a flood grows the store only up to the limits. It is active-only
// work. It never touches what exactly-once delivery rests on (watermarks,
// the dedup log) and the merge of a split brain's events stops at the
// oldest event the pair still holds (see Merger.newEvents), so a deleted
// event is not merged back.
type Retention struct {
	Store Store
	// Messages bounds syslog messages, traps and custom events together:
	// past MaxBytes the oldest go first, whatever their kind.
	Messages Limit
	Events   Limit
	Batch    int           // rows per delete; default 5,000
	Interval time.Duration // between runs; default 10 s
	Log      *slog.Logger

	deleted [4]atomic.Uint64 // by retained table
}

// rowOverhead is what a row costs besides its text columns: the row id
// and integer columns, the b-tree cell and the index entries (measured
// with SQLite's page counts; see TestRetentionEstimate).
const rowOverhead = 96

// retained are the tables retention deletes from; the first three are
// the messages.
var retained = []struct{ name, at, size string }{
	{"syslog_messages", "received_at", "length(origin)+length(received_at)+length(source)+length(transport)+length(format)+length(ts)" +
		"+length(hostname)+length(app_name)+length(proc_id)+length(msg_id)+length(text)+length(scope)+length(node)+length(event_uid)+length(received_at)+length(raw_head)"},
	{"snmp_traps", "received_at", "length(origin)+length(received_at)+length(source)+length(scope)+length(node)+length(version)+length(pdu)" +
		"+length(user)+length(trap_oid)+length(trap_name)+length(varbinds)+length(text)+length(event_uid)"},
	{"custom_messages", "received_at", "length(origin)+length(received_at)+length(source)+length(scope)+length(node)+length(sender)" +
		"+length(key)+length(message)+length(attrs)+length(event_uid)"},
	// events: the columns, then the keys of its indexes (at, uid; and
	// state, severity, node, kind of the console's filters, migration 102).
	{"events", "at", "length(uid)+length(at)+length(severity)+length(kind)+length(node)+length(message)+length(attrs)+length(scope)+length(at)+length(uid)" +
		"+length(state)+length(state_by)+length(state_at)+length(state)+length(severity)+length(node)+length(kind)"},
}

// RetainedTables names the tables retention deletes from (metric labels).
func RetainedTables() []string {
	out := make([]string, len(retained))
	for i, t := range retained {
		out[i] = t.name
	}
	return out
}

// Deleted counts the rows deleted from RetainedTables()[i].
func (r *Retention) Deleted(i int) uint64 { return r.deleted[i].Load() }

// maxBatchesPerRun stops one run that cannot catch up (it resumes at
// the next tick), so a fault never spins.
const maxBatchesPerRun = 1000

// Run applies the limits every Interval until ctx ends.
func (r *Retention) Run(ctx context.Context) error {
	iv := r.Interval
	if iv <= 0 {
		iv = 10 * time.Second
	}
	return periodic.Every(ctx, iv, func(now time.Time) {
		if _, err := r.Apply(ctx, now); err != nil && ctx.Err() == nil && r.Log != nil {
			r.Log.Warn("retention run stopped; it resumes at the next tick", "err", err)
		}
	})
}

// Apply deletes batch after batch until every limit holds; it returns
// the rows deleted.
func (r *Retention) Apply(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for range maxBatchesPerRun {
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
		n, err := r.step(ctx, now)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// tableStats is what one retained table holds, estimated cheaply.
type tableStats struct {
	minID, rows int64
	rowBytes    float64
	oldest      string // the `at` of the row with the lowest id
}

func (s tableStats) bytes() float64 { return float64(s.rows) * s.rowBytes }

func (r *Retention) stats(ctx context.Context, i int) (tableStats, error) {
	t := retained[i]
	// One MIN or MAX per subquery: SQLite reads them off the primary key
	// only then (MIN and MAX in one SELECT scan the whole table).
	q := fmt.Sprintf(`SELECT (SELECT MIN(id) FROM %[1]s), (SELECT MAX(id) FROM %[1]s),
		(SELECT AVG(sz) FROM (SELECT %[2]s AS sz FROM %[1]s ORDER BY id DESC LIMIT 1000)), (SELECT %[3]s FROM %[1]s ORDER BY id LIMIT 1)`,
		t.name, t.size, t.at)
	rows, err := r.Store.Query(ctx, store.Local, q)
	if err != nil || len(rows.Values) != 1 {
		return tableStats{}, fmt.Errorf("retention stats of %s: %w", t.name, err)
	}
	v := rows.Values[0]
	lo, ok := v[0].(int64)
	if !ok {
		return tableStats{}, nil // empty
	}
	hi, _ := v[1].(int64)
	avg, _ := v[2].(float64)
	oldest, _ := v[3].(string)
	return tableStats{minID: lo, rows: hi - lo + 1, rowBytes: avg + rowOverhead, oldest: oldest}, nil
}

// step deletes one batch where a limit is exceeded: ages first, then
// the size of messages, then of events. It returns the rows deleted.
func (r *Retention) step(ctx context.Context, now time.Time) (int64, error) {
	st := make([]tableStats, len(retained))
	for i := range retained {
		var err error
		if st[i], err = r.stats(ctx, i); err != nil {
			return 0, err
		}
	}
	for i := range retained {
		lim := r.limit(i)
		if cutoff := now.Add(-lim.MaxAge).UTC().Format(time.RFC3339Nano); lim.MaxAge > 0 && st[i].rows > 0 && st[i].oldest < cutoff {
			return r.deleteOldest(ctx, i, st[i], r.batch(), cutoff)
		}
	}
	if i, k := r.overSize(st[:3], r.Messages.MaxBytes); k > 0 {
		return r.deleteOldest(ctx, i, st[i], k, "")
	}
	if _, k := r.overSize(st[3:], r.Events.MaxBytes); k > 0 {
		return r.deleteOldest(ctx, 3, st[3], k, "")
	}
	return 0, nil
}

func (r *Retention) limit(i int) Limit {
	if i == 3 {
		return r.Events
	}
	return r.Messages
}

func (r *Retention) batch() int64 {
	if r.Batch <= 0 {
		return 5000
	}
	return int64(r.Batch)
}

// overSize says, for tables sharing maxBytes, which one holds the oldest
// row (its index in st) and how many of its oldest rows to delete.
func (r *Retention) overSize(st []tableStats, maxBytes int64) (int, int64) {
	total := 0.0
	pick := -1
	for i, s := range st {
		total += s.bytes()
		if s.rows > 0 && (pick < 0 || s.oldest < st[pick].oldest) {
			pick = i
		}
	}
	if maxBytes <= 0 || pick < 0 || total <= float64(maxBytes) {
		return 0, 0
	}
	k := int64((total-float64(maxBytes))/st[pick].rowBytes) + 1
	return pick, min(k, r.batch(), st[pick].rows)
}

// deleteOldest deletes up to k rows of table i from its lowest id on
// (only those older than cutoff, when given), and records in the same
// transaction how far deletion went (retention_horizon: the merge of a
// split brain's events must not bring back what retention deleted).
func (r *Retention) deleteOldest(ctx context.Context, i int, s tableStats, k int64, cutoff string) (int64, error) {
	t := retained[i]
	where, args := `id < ?`, []any{s.minID + k}
	if cutoff != "" {
		where, args = fmt.Sprintf(`id < ? AND %s < ?`, t.at), []any{s.minID + k, cutoff}
	}
	horizon := store.Statement{SQL: fmt.Sprintf(`INSERT INTO retention_horizon (tbl, deleted_id, deleted_at)
		SELECT ?, MAX(id), MAX(%s) FROM %s WHERE %s AND true
		ON CONFLICT(tbl) DO UPDATE SET deleted_id = MAX(deleted_id, excluded.deleted_id), deleted_at = MAX(deleted_at, excluded.deleted_at)`,
		t.at, t.name, where), Args: append([]any{t.name}, args...)}
	res, err := r.Store.Exec(ctx, horizon, store.Statement{SQL: fmt.Sprintf(`DELETE FROM %s WHERE %s`, t.name, where), Args: args})
	if err != nil {
		return 0, fmt.Errorf("retention of %s: %w", t.name, err)
	}
	// The lowest id is always in the window and, when a cutoff is given,
	// older than it: every step deletes at least one row.
	n := res[1].RowsAffected
	r.deleted[i].Add(uint64(n))
	return n, nil
}

// Horizon is the `at` of the newest row retention deleted from table
// ("" when none): rows older than it are gone by policy.
func Horizon(ctx context.Context, st Store, table string) (string, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT deleted_at FROM retention_horizon WHERE tbl = ?`, table)
	if err != nil {
		return "", fmt.Errorf("retention horizon: %w", err)
	}
	if len(rows.Values) == 0 {
		return "", nil
	}
	at, _ := rows.Values[0][0].(string)
	return at, nil
}
