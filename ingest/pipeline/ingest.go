// Package pipeline moves received messages from each appliance's spool to
// the store of the active, exactly once. Both appliances receive (senders
// send to both), spool, and forward to whoever is active; the active
// parses, drops the second copy of a message both appliances received, and
// stores messages together with a per-origin watermark in one transaction.
// A spool entry is trimmed only once that transaction (replicated to both
// voters) acknowledged it, so a crash or failover at any moment loses
// nothing and a resend after it stores nothing twice.
package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/internal/periodic"
)

// Item is one spooled record of an origin (an appliance's spool).
type Item struct {
	Seq     uint64 `json:"seq"`
	Payload []byte `json:"payload"`
}

// Batch is what a forwarder sends.
type Batch struct {
	Origin string `json:"origin"` // node id + spool id
	Items  []Item `json:"items"`
}

// Ack is the active's answer: everything of Origin up to Watermark is stored.
type Ack struct {
	Watermark uint64 `json:"watermark"`
	Stored    int    `json:"stored"`
	Duplicate int    `json:"duplicate"`
	// Replicated: the store that holds them cannot be set aside by a
	// split brain (both voters have it, or no split brain is possible);
	// only then may the sender trim its spool.
	Replicated bool `json:"replicated"`
}

// Migrations create the message store (versions 500-599).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 500, Name: "syslog ingest", SQL: []string{
		`CREATE TABLE syslog_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, received_at TEXT NOT NULL,
			source TEXT NOT NULL, transport TEXT NOT NULL, format TEXT NOT NULL, facility INTEGER NOT NULL, severity INTEGER NOT NULL,
			ts TEXT NOT NULL, hostname TEXT NOT NULL, app_name TEXT NOT NULL, proc_id TEXT NOT NULL, msg_id TEXT NOT NULL, text TEXT NOT NULL)`,
		`CREATE INDEX syslog_received ON syslog_messages (received_at)`,
		`CREATE TABLE ingest_watermarks (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL)`,
		`CREATE TABLE ingest_dedup (key TEXT NOT NULL, origin TEXT NOT NULL, n INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (key, origin))`,
	}}, {Version: 501, Name: "traps, custom messages, monitor rules", SQL: []string{
		`ALTER TABLE syslog_messages ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE syslog_messages ADD COLUMN node TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE syslog_messages ADD COLUMN event_uid TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX syslog_scope ON syslog_messages (scope, id)`,
		`CREATE TABLE snmp_traps (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, received_at TEXT NOT NULL,
			source TEXT NOT NULL, scope TEXT NOT NULL, node TEXT NOT NULL, version TEXT NOT NULL, pdu TEXT NOT NULL, user TEXT NOT NULL,
			trap_oid TEXT NOT NULL, trap_name TEXT NOT NULL, uptime INTEGER NOT NULL, varbinds TEXT NOT NULL, text TEXT NOT NULL,
			event_uid TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX snmp_traps_scope ON snmp_traps (scope, id)`,
		`CREATE TABLE custom_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, received_at TEXT NOT NULL,
			source TEXT NOT NULL, scope TEXT NOT NULL, node TEXT NOT NULL, sender TEXT NOT NULL, key TEXT NOT NULL, message TEXT NOT NULL,
			attrs TEXT NOT NULL, event_uid TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX custom_messages_scope ON custom_messages (scope, id)`,
		`CREATE TABLE monitor_rules (id TEXT PRIMARY KEY, scope TEXT NOT NULL, position INTEGER NOT NULL, def TEXT NOT NULL,
			owner_role TEXT NOT NULL DEFAULT '')`,
	}}, {Version: 502, Name: "dedup state as one row per batch", SQL: []string{
		`DROP TABLE ingest_dedup`,
		// keys: for each message key the batch touched, 16 bytes of key and
		// the origin's copy count after the batch (uvarint).
		`CREATE TABLE ingest_dedup_log (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, at INTEGER NOT NULL, keys BLOB NOT NULL)`,
		`CREATE INDEX ingest_dedup_log_at ON ingest_dedup_log (at)`,
	}}, {Version: 503, Name: "dedup snapshots", SQL: []string{
		// snapshot rows hold memory as it was (entries still waiting for a
		// copy), replayed as they are; batch rows replay as batches did.
		`ALTER TABLE ingest_dedup_log ADD COLUMN snapshot INTEGER NOT NULL DEFAULT 0`,
	}}, {Version: 504, Name: "syslog: the raw line, what a partial parse assumed", SQL: []string{
		// The line as received (without its line end) is always
		// retrievable, byte for byte, at the cost of its header only: the
		// text of a UTF-8 line is its tail, so raw_head + text is the line
		// (structured data is read back from it). A line whose text was
		// decoded (Shift_JIS, EUC-JP, invalid bytes) is kept whole in
		// raw_head as base64. See pipeline.SyslogReader.
		`ALTER TABLE syslog_messages ADD COLUMN raw_head TEXT NOT NULL DEFAULT ''`,
		// parse_flags: syslog.NoteBits of what the parser assumed, and
		// FlagRawBase64; -1 on rows stored before, whose raw line is unknown.
		`ALTER TABLE syslog_messages ADD COLUMN parse_flags INTEGER NOT NULL DEFAULT -1`,
	}}, {Version: 505, Name: "retention horizon", SQL: []string{
		// How far retention deleted, per table: the id and `at` of the
		// newest row deleted (see Retention and Merger.newEvents).
		`CREATE TABLE retention_horizon (tbl TEXT PRIMARY KEY, deleted_id INTEGER NOT NULL, deleted_at TEXT NOT NULL)`,
	}}}
}

// Store is what the ingestor needs.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Options of an ingestor.
type Options struct {
	// KeepUnmatched stores messages no rule matched, for search; when
	// false only messages a rule notified on are kept (with their event).
	KeepUnmatched bool
	// Names gives the MIB name of an OID ("" when unknown).
	Names func(oid string) string
	// Audit chains audit entries another appliance recorded, writing them
	// with exec (the batch's transaction); nil drops them.
	Audit func(ctx context.Context, es []auth.Entry, exec func([]store.Statement) error) error
	// MergeAudit keeps the merged audit entries the chain does not hold
	// yet, with the statements that remember them (auth's PrepareMerge).
	MergeAudit func(ctx context.Context, ms []auth.Merged) ([]auth.Entry, []store.Statement, error)
	// SplitSafe says whether what the store acknowledges now is safe from
	// a split brain (see Ack.Replicated); nil means always.
	SplitSafe func() bool
	// DedupWindow: how long copies are remembered (default DedupWindow).
	// Memory: about 135 bytes per message still waiting for its second copy.
	DedupWindow time.Duration
	// DedupMaxEntries bounds the messages remembered (EntryBytes each);
	// past it the oldest are forgotten and counted. 0: no bound.
	DedupMaxEntries int
	// MaxBatchBytes bounds the payload stored from one batch (one Raft
	// entry, which the store's log cache holds in memory for a while):
	// a larger batch is stored in part and acknowledged up to there, and
	// its sender resends the rest. 0: no bound.
	MaxBatchBytes int
}

// Ingestor runs on the active.
type Ingestor struct {
	st       Store
	parser   *syslog.Parser
	opts     Options
	Counters Counters

	rules     *rules.Set
	rulesAt   time.Time
	sources   map[string]source
	sourcesAt time.Time

	mu     sync.Mutex
	loaded bool
	marks  map[string]uint64
	// copies: how many copies of a message (same sender, same bytes;
	// for traps, same content) each origin delivered. An origin's k-th
	// copy is new only if no other origin delivered k copies: so the
	// second appliance's copy is dropped, but a sender repeating a line
	// is not.
	copies dedupState
}

// NewIngestor returns the ingestor; it does no I/O.
func NewIngestor(st Store, parser *syslog.Parser, opts Options) *Ingestor {
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = DedupWindow
	}
	return &Ingestor{st: st, parser: parser, opts: opts}
}

// Forget drops cached state; call whenever this node becomes active.
func (in *Ingestor) Forget() {
	in.mu.Lock()
	in.loaded = false
	in.rulesAt, in.sourcesAt = time.Time{}, time.Time{}
	in.mu.Unlock()
}

func (in *Ingestor) load(ctx context.Context) error {
	in.marks, in.copies = map[string]uint64{}, dedupState{}
	rows, err := in.st.Query(ctx, store.Strong, `SELECT origin, seq FROM ingest_watermarks`)
	if err != nil {
		return err
	}
	for _, v := range rows.Values {
		o, _ := v[0].(string)
		s, _ := v[1].(int64)
		in.marks[o] = uint64(s)
	}
	for after := int64(0); ; {
		rows, err = in.st.Query(ctx, store.Local, `SELECT id, origin, at, keys, snapshot FROM ingest_dedup_log WHERE id > ? ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		for _, v := range rows.Values {
			after, _ = v[0].(int64)
			o, _ := v[1].(string)
			at, _ := v[2].(int64)
			blob, _ := v[3].([]byte)
			snap, _ := v[4].(int64)
			if err := in.copies.replay(o, at, blob, snap == 1); err != nil {
				return fmt.Errorf("dedup row %d: %w", after, err)
			}
		}
		if len(rows.Values) < 1000 {
			break
		}
	}
	in.Counters.DedupEvicted.Add(uint64(in.copies.limit(in.opts.DedupMaxEntries)))
	in.loaded = true
	return nil
}

// Ingest stores a batch and returns the origin's new watermark.
func (in *Ingestor) Ingest(ctx context.Context, b Batch) (Ack, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.loaded {
		if err := in.load(ctx); err != nil {
			return Ack{}, fmt.Errorf("ingest state: %w", err)
		}
	}
	if len(b.Items) > 0 { // an empty batch only asks for the watermark
		in.refresh(ctx)
	}
	mark := in.marks[b.Origin]
	ack := Ack{Watermark: mark, Replicated: in.opts.SplitSafe == nil || in.opts.SplitSafe()}
	pending := map[dkey]uint32{} // key → this origin's count after the batch
	var fresh []received
	size := 0
	for _, it := range b.Items {
		if it.Seq <= mark {
			continue // resent after a lost ack: already stored
		}
		if size += len(it.Payload); in.opts.MaxBatchBytes > 0 && size > in.opts.MaxBatchBytes && mark > ack.Watermark {
			in.Counters.PartialBatches.Add(1)
			break // the rest next time: the watermark says where to resume
		}
		mark = it.Seq
		r, err := decodeItem(it.Payload)
		if err != nil {
			in.Counters.BadRecords.Add(1)
			continue // not decodable: a spool written by another version; counted
		}
		n, ok := pending[r.key]
		if !ok {
			n = in.copies.count(r.key, b.Origin)
		}
		n++
		pending[r.key] = n
		if n <= in.copies.maxOther(r.key, b.Origin) {
			ack.Duplicate++
			continue
		}
		r.copy = int(n)
		fresh = append(fresh, r)
	}
	if mark == ack.Watermark {
		return ack, nil // nothing new
	}
	now := time.Now().Unix()
	stmts, stats := in.statements(b.Origin, fresh)
	if len(pending) > 0 {
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO ingest_dedup_log (origin, at, keys) VALUES (?,?,?)`,
			Args: []any{b.Origin, now, encodeCounts(pending)}})
	}
	stmts = append(stmts, store.Statement{SQL: `INSERT INTO ingest_watermarks (origin, seq) VALUES (?, ?)
		ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq`, Args: []any{b.Origin, mark}})
	audits, merged, err := in.merged(ctx, fresh, auditEntries(b.Origin, fresh))
	if err != nil {
		in.loaded = false
		return Ack{}, fmt.Errorf("merge: %w", err)
	}
	stmts = append(stmts, merged...)
	exec := func(more []store.Statement) error {
		_, err := in.st.Exec(ctx, append(stmts, more...)...)
		return err
	}
	if len(audits) > 0 && in.opts.Audit != nil {
		err = in.opts.Audit(ctx, audits, exec)
		in.Counters.Audit.Add(uint64(len(audits)))
	} else {
		err = exec(nil)
	}
	if err != nil {
		in.loaded = false
		return Ack{}, fmt.Errorf("store batch: %w", err)
	}
	for key, n := range pending {
		in.copies.set(key, b.Origin, n, now)
	}
	in.Counters.DedupEvicted.Add(uint64(in.copies.limit(in.opts.DedupMaxEntries)))
	in.marks[b.Origin] = mark
	in.Counters.Duplicates.Add(uint64(ack.Duplicate))
	stats.add(&in.Counters)
	ack.Watermark, ack.Stored = mark, stats.stored[0]+stats.stored[1]+stats.stored[2]
	// Asked after the commit: a store that was alone at commit time and
	// has a voter now has handed the rows to it.
	ack.Replicated = in.opts.SplitSafe == nil || in.opts.SplitSafe()
	return ack, nil
}

// merged adds to audits the batch's merged audit entries not held yet,
// and returns the statements storing the merged rows.
func (in *Ingestor) merged(ctx context.Context, fresh []received, audits []auth.Entry) ([]auth.Entry, []store.Statement, error) {
	stmts, ms := mergeStatements(fresh)
	if len(ms) == 0 || in.opts.MergeAudit == nil {
		return audits, stmts, nil
	}
	es, more, err := in.opts.MergeAudit(ctx, ms)
	if err != nil {
		return nil, nil, err
	}
	in.Counters.Merged.Add(uint64(len(es) + len(stmts)))
	return append(audits, es...), append(stmts, more...), nil
}

// spooledSuffix ends the detail of audit entries the spool carried.
const spooledSuffix = " while it was not active]"

// auditEntries returns the batch's audit entries, marked with the
// appliance that recorded them.
func auditEntries(origin string, fresh []received) []auth.Entry {
	var es []auth.Entry
	node, _, _ := strings.Cut(origin, "/")
	for _, r := range fresh {
		if r.kind == kindAudit {
			e := r.audit
			e.Detail = strings.TrimSpace(e.Detail + " [recorded on " + node + spooledSuffix)
			es = append(es, e)
		}
	}
	return es
}

// DedupWindow is the default of Options.DedupWindow: how long the copies
// of a message are remembered. The second appliance's copy of a message
// must reach the active within it (it normally does within a second; a
// standby cut off for longer drains its spool after recovery, well
// inside an hour).
const DedupWindow = time.Hour

// Expire forgets copies older than the dedup window, in bounded batches;
// it runs on the active (see ExpireLoop).
func (in *Ingestor) Expire(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-in.opts.DedupWindow).Unix()
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.loaded {
		_, err := in.st.Exec(ctx, store.Statement{SQL: `DELETE FROM ingest_dedup_log WHERE rowid IN
			(SELECT rowid FROM ingest_dedup_log WHERE at < ? LIMIT 10000)`, Args: []any{cutoff}})
		return err
	}
	in.copies.expire(cutoff)
	return in.compact(ctx, now)
}

// compact replaces the stored dedup rows by a snapshot of what memory
// holds (messages still waiting for their second copy), so a new active
// reads a minute of batches and one small snapshot at takeover, not the
// whole window. The caller holds in.mu: no batch is stored meanwhile.
func (in *Ingestor) compact(ctx context.Context, now time.Time) error {
	rows, err := in.st.Query(ctx, store.Strong, `SELECT COALESCE(MAX(id), 0) FROM ingest_dedup_log`)
	if err != nil || len(rows.Values) != 1 {
		return err
	}
	upTo, _ := rows.Values[0][0].(int64)
	byOrigin := map[string]map[dkey]uint32{}
	for k, e := range in.copies {
		for _, c := range e.counts {
			if byOrigin[c.origin] == nil {
				byOrigin[c.origin] = map[dkey]uint32{}
			}
			byOrigin[c.origin][k] = c.n
		}
	}
	stmts := []store.Statement{{SQL: `DELETE FROM ingest_dedup_log WHERE id <= ?`, Args: []any{upTo}}}
	for origin, counts := range byOrigin {
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO ingest_dedup_log (origin, at, keys, snapshot) VALUES (?,?,?,1)`,
			Args: []any{origin, now.Unix(), encodeCounts(counts)}})
	}
	if _, err := in.st.Exec(ctx, stmts...); err != nil {
		in.loaded = false // reload from whatever the store holds
		return err
	}
	return nil
}

// ExpireLoop runs Expire every minute until ctx ends.
func (in *Ingestor) ExpireLoop(ctx context.Context) error {
	return periodic.Every(ctx, time.Minute, func(now time.Time) { _ = in.Expire(ctx, now) })
}
