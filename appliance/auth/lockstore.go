package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// Lockout state is replicated so that a failover (or guessing against the
// other appliance) does not hand a guesser a fresh set of attempts: the
// active writes each failure's record to login_failures; every appliance
// merges that table into its own counters (SyncLockouts), and a new
// active does so before it answers anyone.

// failed records a failure locally and, where the store takes writes, in
// the replicated table; it returns the lock now in force.
// The source-wide record (user "*") holds the bucket's level in
// thousandths in count and the time of that level in last.
func (s *Service) failed(ctx context.Context, user, source string, now time.Time) time.Duration {
	d := s.lock.fail(user, source, now)
	b := s.src.fail(source, now)
	upsert := `INSERT INTO login_failures (user, source, count, until, last) VALUES (?,?,?,?,?)
			ON CONFLICT(user, source) DO UPDATE SET count = excluded.count, until = excluded.until, last = excluded.last`
	stmts := []store.Statement{{SQL: upsert, Args: []any{anyUser, source, int64(b.level * 1000), 0, b.at.UnixNano()}}}
	if f, ok := s.lock.get(user, source); ok {
		stmts = append(stmts, store.Statement{SQL: upsert, Args: []any{user, source, f.count, f.until.UnixNano(), f.last.UnixNano()}})
	}
	_, _ = s.st.Exec(ctx, stmts...) // a standby cannot write: its own counters still hold
	return d
}

// SyncLockouts merges the replicated failure records into this
// appliance's counters and, on the active, deletes records too old to
// matter.
func (s *Service) SyncLockouts(ctx context.Context) error {
	now := time.Now()
	rows, err := s.st.Query(ctx, store.Local, `SELECT user, source, count, until, last FROM login_failures WHERE last >= ?`,
		now.Add(-max(s.opts.LockoutMaxWindow, s.opts.SourceWindow)).UnixNano())
	if err != nil {
		return err
	}
	for _, v := range rows.Values {
		user, _ := v[0].(string)
		source, _ := v[1].(string)
		count, _ := v[2].(int64)
		until, _ := v[3].(int64)
		last, _ := v[4].(int64)
		if user == anyUser {
			s.src.merge(source, bucket{level: float64(count) / 1000, at: time.Unix(0, last)}, now)
			continue
		}
		s.lock.merge(user, source, failures{count: int(count), until: time.Unix(0, until), last: time.Unix(0, last)}, now)
	}
	_, _ = s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM login_failures WHERE last < ?`,
		Args: []any{now.Add(-2 * max(s.opts.LockoutMaxWindow, s.opts.SourceWindow)).UnixNano()}})
	return nil
}

// LockoutLoop keeps this appliance's counters merged with the replicated
// ones every few seconds until ctx ends, from when ready is closed (the
// appliance has a role, so its store holds the schema).
func (s *Service) LockoutLoop(ctx context.Context, ready <-chan struct{}, log *slog.Logger) error {
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	last := ""
	for {
		if err := s.SyncLockouts(ctx); err != nil && err.Error() != last {
			log.Warn("replicated lockouts not read", "err", err)
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(3 * time.Second):
		}
	}
}
