package pipeline

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/trap"
)

// Counters of the active's ingestor.
type Counters struct {
	Stored      [3]atomic.Uint64 // messages stored, by kind (syslog, trap, custom)
	Events      atomic.Uint64    // events raised by rules
	RuleDrops   atomic.Uint64    // messages a drop rule discarded
	Unmatched   atomic.Uint64    // messages no rule matched and not kept
	Duplicates  atomic.Uint64    // second copies of a message
	BadRecords  atomic.Uint64    // spool records that could not be decoded
	ParseErrors atomic.Uint64    // syslog messages kept raw because they did not parse
	Audit       atomic.Uint64    // audit entries recorded on the other appliance, chained here
	Merged      atomic.Uint64    // rows merged back after a split brain (events, audit entries)
	// DedupEvicted counts messages forgotten by the dedup memory bound
	// (Options.DedupMaxEntries) before their second copy came.
	DedupEvicted atomic.Uint64
	// PartialBatches counts batches stored in part (Options.MaxBatchBytes).
	PartialBatches atomic.Uint64
}

// Kinds, indexing Counters.Stored.
var Kinds = []string{rules.Syslog, rules.Trap, rules.Custom}

// kindAudit marks audit records among received items (no rules, no kind counter).
const kindAudit = 3

// Custom is an event a program posted over HTTPS (the custom trap of
// older systems); it travels the same spool and rules as syslog and traps.
type Custom struct {
	Received time.Time         `json:"received"`
	Source   string            `json:"source"` // the poster's address
	Sender   string            `json:"sender"` // the API user whose token posted it
	ID       string            `json:"id"`     // the poster's id, or one made at receipt: the dedup key
	Node     string            `json:"node,omitempty"`
	Key      string            `json:"key"`
	Message  string            `json:"message"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

const customKind = 3

// AuditRecord is an audit entry an appliance recorded while it could not
// write to the store (not active: a refused write, a login attempt on the
// standby). The spool carries it to the active, which chains it into the
// audit log exactly once.
type AuditRecord struct {
	ID    string     `json:"id"` // random: the dedup key
	Entry auth.Entry `json:"entry"`
}

const auditKind = 4

// Encode serialises an audit record for the spool.
func (a AuditRecord) Encode() []byte {
	b, _ := json.Marshal(a)
	return append([]byte{auditKind}, b...)
}

// Encode serialises a custom event for the spool.
func (c Custom) Encode() []byte {
	b, _ := json.Marshal(c)
	return append([]byte{customKind}, b...)
}

// received is one decoded spool record that is new.
type received struct {
	kind   int // index into Kinds
	key    dkey
	copy   int
	syslog syslog.Record
	parsed syslog.Message
	trap   trap.Trap
	custom Custom
	audit  auth.Entry
	merge  MergeRecord
}

func decodeItem(b []byte) (received, error) {
	switch {
	case len(b) == 0:
		return received{}, errors.New("empty record")
	case trap.IsRecord(b):
		t, err := trap.Decode(b)
		return received{kind: 1, key: t.DedupKey(), trap: t}, err
	case b[0] == mergeKind:
		return decodeMerge(b[1:])
	case b[0] == auditKind:
		var a AuditRecord
		if err := json.Unmarshal(b[1:], &a); err != nil {
			return received{}, err
		}
		return received{kind: kindAudit, key: hashKey("audit", a.ID), audit: a.Entry}, nil
	case b[0] == customKind:
		var c Custom
		if err := json.Unmarshal(b[1:], &c); err != nil {
			return received{}, err
		}
		return received{kind: 2, key: hashKey("custom", c.Source, c.ID), custom: c}, nil
	}
	r, err := syslog.DecodeRecord(b)
	return received{kind: 0, key: hashKey(r.Source, string(r.Raw)), syslog: r}, err
}

type batchStats struct {
	stored                          [3]int
	events, drops, unmatched, parse int
}

func (s batchStats) add(c *Counters) {
	for i, n := range s.stored {
		c.Stored[i].Add(uint64(n))
	}
	c.Events.Add(uint64(s.events))
	c.RuleDrops.Add(uint64(s.drops))
	c.Unmatched.Add(uint64(s.unmatched))
	c.ParseErrors.Add(uint64(s.parse))
}

// statements parses the new messages, runs the rules and returns the
// inserts: the message (kept when a rule notified, or when unmatched
// messages are kept) and the event a notifying rule raises. Event uids
// derive from the message's dedup key, so storing twice stores once.
func (in *Ingestor) statements(origin string, fresh []received) ([]store.Statement, batchStats) {
	var st batchStats
	var tables [4]rowSet // syslog, trap, custom messages; events
	for i := range fresh {
		r := &fresh[i]
		if r.kind == kindAudit || r.kind == kindMerge {
			continue // written by Ingest: see auditEntries, mergeStatements
		}
		m, at := in.message(r)
		if r.kind == 0 && m.Kind == "" {
			st.parse++
		}
		m.Kind = Kinds[r.kind]
		rule := in.rules.Match(&m)
		eventUID := ""
		switch {
		case rule != nil && rule.Action == rules.Drop:
			st.drops++
			continue
		case rule != nil:
			eventUID = "in-" + hex.EncodeToString(r.key[:]) + "-" + strconv.Itoa(r.copy)
			attrs, _ := json.Marshal(map[string]string{"rule": rule.ID, "rule_name": rule.Name, "source": m.Source, "kind": m.Kind})
			node := m.Node
			if node == "" {
				node = m.Source
			}
			tables[3].add(eventUID, at, rule.Priority, "monitor."+m.Kind, node, rules.Render(rule, &m), string(attrs), m.Scope)
			st.events++
		case !in.opts.KeepUnmatched:
			st.unmatched++
			continue
		}
		in.row(&tables[r.kind], origin, r, &m, at, eventUID)
		st.stored[r.kind]++
	}
	var stmts []store.Statement
	for i := range tables {
		stmts = tables[i].statements(i, stmts)
	}
	return stmts, st
}

// inserts are the tables rows go to (rowSet order) and their columns.
var inserts = [4]struct{ head, cols string }{
	{`INSERT INTO syslog_messages`, `origin, received_at, source, transport, format, facility, severity, ts, hostname, app_name, proc_id, msg_id, text, scope, node, event_uid, ` +
		`raw_head, parse_flags`},
	{`INSERT INTO snmp_traps`, `origin, received_at, source, scope, node, version, pdu, user, trap_oid, trap_name, uptime, varbinds, text, event_uid`},
	{`INSERT INTO custom_messages`, `origin, received_at, source, scope, node, sender, key, message, attrs, event_uid`},
	// Event uids derive from the message: a message stored twice raises one event.
	{`INSERT OR IGNORE INTO events`, `uid, at, severity, kind, node, message, attrs, scope`},
}

// rowSet collects rows of one table. They are inserted 1,000 at a time
// from ONE parameter, a JSON array of rows that SQLite unpacks with
// json_each: rqlite encodes every parameter as a protobuf message (in
// the Raft log, and decoded again by both appliances), which cost more
// than the inserts themselves with one parameter per value.
type rowSet struct {
	rows int
	buf  []byte // the rows of the current chunk, JSON, without the brackets
	out  []string
	cols int
}

func (rs *rowSet) add(vals ...any) {
	rs.cols = len(vals)
	if rs.rows > 0 {
		rs.buf = append(rs.buf, ',')
	}
	rs.buf = append(rs.buf, '[')
	for i, v := range vals {
		if i > 0 {
			rs.buf = append(rs.buf, ',')
		}
		switch x := v.(type) {
		case string:
			rs.buf = appendJSONString(rs.buf, x)
		case int:
			rs.buf = strconv.AppendInt(rs.buf, int64(x), 10)
		case int64:
			rs.buf = strconv.AppendInt(rs.buf, x, 10)
		default:
			panic(fmt.Sprintf("rowSet: unsupported %T", v))
		}
	}
	rs.buf = append(rs.buf, ']')
	rs.rows++
	if rs.rows == 1000 {
		rs.flush()
	}
}

func (rs *rowSet) flush() {
	if rs.rows > 0 {
		rs.out = append(rs.out, "["+string(rs.buf)+"]")
		rs.buf, rs.rows = rs.buf[:0], 0
	}
}

func (rs *rowSet) statements(i int, out []store.Statement) []store.Statement {
	rs.flush()
	if len(rs.out) == 0 {
		return out
	}
	sel := make([]string, rs.cols)
	for c := range sel {
		sel[c] = "v->>" + strconv.Itoa(c)
	}
	// Each row is converted once to SQLite's binary JSON (a materialized
	// CTE, so the conversion is not repeated per column): extracting the
	// columns from the text row parsed it again for each one, and took
	// more than half of the insert (measured with SQLite 3.50: 134k →
	// 287k rows/s for syslog rows of 18 columns).
	sql := `WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each(?)) ` + inserts[i].head + ` (` + inserts[i].cols + `) SELECT ` +
		strings.Join(sel, ", ") + ` FROM r`
	for _, chunk := range rs.out {
		out = append(out, store.Statement{SQL: sql, Args: []any{chunk}})
	}
	return out
}

// appendJSONString appends s as a JSON string (invalid UTF-8 becomes
// U+FFFD, as encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// message prepares what rules see; Kind is left empty for a syslog
// message that did not parse (counted, kept raw).
func (in *Ingestor) message(r *received) (rules.Message, string) {
	var m rules.Message
	switch r.kind {
	case 0:
		p, err := in.parser.Parse(r.syslog.Raw, r.syslog.Received)
		m = rules.Message{Source: r.syslog.Source, Facility: p.Facility, Severity: p.Severity, Host: p.Hostname, App: p.AppName, Text: p.Text}
		if err == nil {
			m.Kind = rules.Syslog
		}
		r.parsed = p
		m.Scope, m.Node = in.sourceOf(addrKey(r.syslog.Source))
		return m, r.syslog.Received.UTC().Format(time.RFC3339Nano)
	case 1:
		t := &r.trap
		if in.opts.Names != nil {
			t.TrapName = in.opts.Names(t.TrapOID)
			for i := range t.Varbinds {
				t.Varbinds[i].Name = in.opts.Names(t.Varbinds[i].OID)
			}
		}
		m = rules.Message{Source: t.Source, Host: t.Source, App: t.User, Text: t.Text(), TrapOID: t.TrapOID, TrapName: t.TrapName}
		m.Scope, m.Node = in.sourceOf(addrKey(t.Source))
		return m, t.Received.UTC().Format(time.RFC3339Nano)
	default:
		c := &r.custom
		m = rules.Message{Source: c.Source, Host: c.Node, App: c.Key, Text: c.Message}
		m.Scope, m.Node = in.sourceOf(idKey(c.Node))
		if m.Node == "" {
			m.Scope, m.Node = in.sourceOf(addrKey(c.Node))
		}
		if m.Node == "" {
			m.Scope, m.Node = in.sourceOf(addrKey(c.Source))
		}
		return m, c.Received.UTC().Format(time.RFC3339Nano)
	}
}

func (in *Ingestor) row(rs *rowSet, origin string, r *received, m *rules.Message, at, eventUID string) {
	switch r.kind {
	case 0:
		p := &r.parsed
		ts := p.Timestamp.Format(time.RFC3339Nano)
		head, flags := rawColumns(r.syslog.Raw, p.Text, headColumns(p, ts), in.parser.Location())
		rs.add(origin, at, r.syslog.Source, r.syslog.Transport, string(p.Format), p.Facility, p.Severity, ts,
			p.Hostname, p.AppName, p.ProcID, p.MsgID, p.Text, m.Scope, m.Node, eventUID, head, flags|syslog.NoteBits(p.Partial))
	case 1:
		t := &r.trap
		vb, _ := json.Marshal(t.Varbinds)
		rs.add(origin, at, t.Source, m.Scope, m.Node, t.Version, t.PDU, t.User, t.TrapOID, t.TrapName, int64(t.Uptime), string(vb), m.Text, eventUID)
	default:
		c := &r.custom
		attrs, _ := json.Marshal(c.Attrs)
		rs.add(origin, at, c.Source, m.Scope, m.Node, c.Sender, c.Key, c.Message, string(attrs), eventUID)
	}
}

// source is what the inventory says of a sender address or node id.
type source struct{ node, scope string }

// Keys of Ingestor.sources: node ids and addresses apart, so that a node
// whose id reads like another node's address never takes its messages.
func addrKey(addr string) string { return "a:" + addr }
func idKey(id string) string     { return "n:" + id }

func (in *Ingestor) sourceOf(key string) (scope, node string) {
	if s, ok := in.sources[key]; ok {
		return s.scope, s.node
	}
	return "", ""
}

// refresh reloads the rules (every 2 s) and the inventory's addresses
// (every 10 s) from the store; the active's own copy is current.
func (in *Ingestor) refresh(ctx context.Context) {
	now := time.Now()
	if now.Sub(in.rulesAt) > 2*time.Second {
		if rs, err := ListRules(ctx, in.st, nil); err == nil {
			if set, err := rules.Compile(rs); err == nil {
				in.rules, in.rulesAt = set, now
			}
		}
	}
	if now.Sub(in.sourcesAt) > 2*time.Second {
		rows, err := in.st.Query(ctx, store.Local, `SELECT id, address, scope FROM nodes`)
		if err == nil {
			m := make(map[string]source, 2*len(rows.Values))
			for _, v := range rows.Values {
				id, _ := v[0].(string)
				addr, _ := v[1].(string)
				scope, _ := v[2].(string)
				if held, ok := m[addrKey(addr)]; ok && held.node != id {
					// Two nodes with one address (written before
					// addresses were unique): the messages belong to
					// neither, so neither scope sees another's.
					m[addrKey(addr)] = source{}
				} else {
					m[addrKey(addr)] = source{node: id, scope: scope}
				}
				m[idKey(id)] = source{node: id, scope: scope}
			}
			in.sources, in.sourcesAt = m, now
		}
	}
}
