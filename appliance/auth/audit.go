package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/sqlpage"
)

// Entry is one audit record.
type Entry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	Source    string    `json:"source"`
	UserAgent string    `json:"user_agent"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Result    string    `json:"result"`
	Detail    string    `json:"detail,omitempty"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// digest is the chain hash of an entry: SHA-256 over its fields and the
// previous entry's hash, so changing or removing any row breaks the chain.
func (e Entry) digest() string {
	b, _ := json.Marshal([]any{e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.User, e.Source, e.UserAgent, e.Action, e.Object, e.Result, e.Detail, e.PrevHash})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// auditor appends to the chain. Only the active writes; the head (last
// seq and hash) is cached and reloaded after any failed write, so a new
// active continues the chain from the replicated rows.
type auditor struct {
	st     Store
	mu     sync.Mutex
	loaded bool
	seq    int64
	hash   string
}

// Append adds an entry to the chain.
func (a *auditor) Append(ctx context.Context, e Entry) error {
	return a.AppendWith(ctx, []Entry{e}, func(stmts []store.Statement) error {
		_, err := a.st.Exec(ctx, stmts...)
		return err
	})
}

// AppendWith chains entries and hands their statements to exec, which
// must write them in one transaction (with whatever else belongs to it:
// the ingest path writes audit rows recorded on the other appliance in
// the transaction that advances its spool watermark, so they are stored
// exactly once).
func (a *auditor) AppendWith(ctx context.Context, es []Entry, exec func([]store.Statement) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		if err := a.loadHead(ctx); err != nil {
			return err
		}
	}
	seq, hash := a.seq, a.hash
	stmts := make([]store.Statement, 0, len(es)+1)
	for _, e := range es {
		e = e.bounded()
		e.Seq, e.PrevHash = seq+1, hash
		if e.At.IsZero() {
			e.At = time.Now().UTC()
		}
		e.Hash = e.digest()
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO audit (seq, at, user, source, user_agent, action, object, result, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			Args: []any{e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.User, e.Source, e.UserAgent, e.Action, e.Object, e.Result, e.Detail, e.PrevHash, e.Hash}})
		seq, hash = e.Seq, e.Hash
	}
	if len(es) > 0 {
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
			Args: []any{seq, hash}})
	}
	if err := exec(stmts); err != nil {
		a.loaded = false
		return fmt.Errorf("audit: %w", err)
	}
	a.seq, a.hash = seq, hash
	return nil
}

func (a *auditor) loadHead(ctx context.Context) error {
	rows, err := a.st.Query(ctx, store.Strong, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	a.seq, a.hash = 0, ""
	if len(rows.Values) == 1 {
		a.seq, _ = rows.Values[0][0].(int64)
		a.hash, _ = rows.Values[0][1].(string)
	}
	a.loaded = true
	return nil
}

// Forget drops the cached head (call on every role change).
func (a *auditor) Forget() {
	a.mu.Lock()
	a.loaded = false
	a.mu.Unlock()
}

// VerifyReport is the result of walking the chain.
type VerifyReport struct {
	Rows     int64    `json:"rows"`
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
}

// ErrTampered: the audit chain does not verify.
var ErrTampered = errors.New("audit log does not verify")

// Verify walks the whole chain on this node's copy: every row's hash, the
// link to its predecessor, contiguous sequence numbers and the head.
func Verify(ctx context.Context, st Store) (VerifyReport, error) {
	rep := VerifyReport{OK: true, Problems: []string{}}
	prev := ""
	var last int64
	for after := int64(0); ; {
		es, err := listEntries(ctx, st, after, 5000)
		if err != nil {
			return rep, err
		}
		for _, e := range es {
			rep.Rows++
			switch {
			case e.Seq != last+1:
				rep.problem("rows %d..%d are missing (deleted)", last+1, e.Seq-1)
			case e.PrevHash != prev:
				rep.problem("row %d does not link to row %d", e.Seq, last)
			}
			if e.digest() != e.Hash {
				rep.problem("row %d was changed after it was written", e.Seq)
			}
			prev, last = e.Hash, e.Seq
		}
		if len(es) < 5000 {
			break
		}
		after = last
	}
	head, err := st.Query(ctx, store.Local, `SELECT seq, hash FROM audit_head WHERE id = 1`)
	if err != nil {
		return rep, err
	}
	if len(head.Values) == 1 {
		hs, _ := head.Values[0][0].(int64)
		hh, _ := head.Values[0][1].(string)
		if hs != last || hh != prev {
			rep.problem("the newest rows (after %d, up to %d) are missing", last, hs)
		}
	}
	return rep, nil
}

func (r *VerifyReport) problem(format string, args ...any) {
	r.OK = false
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// AuditFilter narrows ListAudit; zero fields match everything.
type AuditFilter struct {
	After  int64
	Limit  int
	User   string
	Action string // substring
	Since  time.Time
	Until  time.Time
	// MaxBytes bounds the entries' size in one answer (0: 4 MiB).
	MaxBytes int
}

const auditColumns = `seq, at, user, source, user_agent, action, object, result, detail, prev_hash, hash`

// ListAudit returns matching entries, oldest first, and whether more
// remain after them (the limit or f.MaxBytes cut the list).
func ListAudit(ctx context.Context, st Store, f AuditFilter) ([]Entry, bool, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 1000
	}
	if f.MaxBytes <= 0 {
		f.MaxBytes = 4 << 20
	}
	q := `SELECT ` + auditColumns + `, ` + sqlpage.Size(auditColumns) + ` AS _size FROM audit WHERE seq > ?`
	args := []any{f.After}
	if f.User != "" {
		q += ` AND user = ?`
		args = append(args, f.User)
	}
	if f.Action != "" {
		q += ` AND instr(action, ?) > 0`
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, f.Until.UTC().Format(time.RFC3339Nano))
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, f.Limit+1, f.MaxBytes)
	rows, err := st.Query(ctx, store.Local, sqlpage.Wrap(q, "seq ASC"), args...)
	if err != nil {
		return nil, false, err
	}
	vals, more := sqlpage.Cut(rows.Values, f.Limit)
	return scanEntries(vals), more, nil
}

func listEntries(ctx context.Context, st Store, after int64, limit int) ([]Entry, error) {
	return queryEntries(ctx, st, `SELECT seq, at, user, source, user_agent, action, object, result, detail, prev_hash, hash
		FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

func queryEntries(ctx context.Context, st Store, q string, args ...any) ([]Entry, error) {
	rows, err := st.Query(ctx, store.Local, q, args...)
	if err != nil {
		return nil, err
	}
	return scanEntries(rows.Values), nil
}

func scanEntries(vals [][]any) []Entry {
	out := make([]Entry, 0, len(vals))
	for _, v := range vals {
		s := func(i int) string { x, _ := v[i].(string); return x }
		seq, _ := v[0].(int64)
		at, _ := time.Parse(time.RFC3339Nano, s(1))
		out = append(out, Entry{Seq: seq, At: at, User: s(2), Source: s(3), UserAgent: s(4), Action: s(5), Object: s(6),
			Result: s(7), Detail: s(8), PrevHash: s(9), Hash: s(10)})
	}
	return out
}

// Merged is an audit entry written on the appliance that yielded a split
// brain, as it stood in that appliance's chain.
type Merged struct {
	From  string `json:"from"`
	Entry Entry  `json:"entry"`
}

// PrepareMerge returns, of entries written on another appliance during a
// split brain, those this chain does not hold yet — neither as the same
// row (same seq and hash: written before the split) nor as an earlier
// merge — marked as merged from that appliance, and the statements that
// remember them; write both in one transaction (AppendWith's exec).
func (a *auditor) PrepareMerge(ctx context.Context, ms []Merged) ([]Entry, []store.Statement, error) {
	if len(ms) == 0 {
		return nil, nil, nil
	}
	keys := make([][2]any, len(ms))
	for i, m := range ms {
		keys[i] = [2]any{m.Entry.Seq, m.Entry.Hash}
	}
	b, _ := json.Marshal(keys)
	rows, err := a.st.Query(ctx, store.Strong, `SELECT json_extract(j.value, '$[1]') FROM json_each(?) j
		WHERE EXISTS (SELECT 1 FROM audit WHERE seq = json_extract(j.value, '$[0]') AND hash = json_extract(j.value, '$[1]'))
		   OR EXISTS (SELECT 1 FROM audit_merged WHERE hash = json_extract(j.value, '$[1]'))`, string(b))
	if err != nil {
		return nil, nil, fmt.Errorf("audit merge: %w", err)
	}
	held := map[string]bool{}
	for _, v := range rows.Values {
		h, _ := v[0].(string)
		held[h] = true
	}
	var es []Entry
	var stmts []store.Statement
	for _, m := range ms {
		if held[m.Entry.Hash] {
			continue
		}
		held[m.Entry.Hash] = true
		e := m.Entry
		e.Detail = strings.TrimSpace(fmt.Sprintf("%s [merged from %s after a split brain: its audit row %d]", e.Detail, m.From, e.Seq))
		es = append(es, e)
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO audit_merged (hash, from_node, seq) VALUES (?, ?, ?)`,
			Args: []any{m.Entry.Hash, m.From, m.Entry.Seq}})
	}
	return es, stmts, nil
}
