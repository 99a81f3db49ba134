package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/ingest/trap"
	"github.com/mamori-ops/mamori/internal/sqlpage"
)

// ingestBatch stores a batch from the peer's spool (node certificates only).
func (s *Server) ingestBatch(c *gin.Context) {
	var b pipeline.Batch
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 256<<20)).Decode(&b); err != nil {
		fail(c, http.StatusBadRequest, "bad batch: "+err.Error())
		return
	}
	ack, err := s.opts.Ingestor.Ingest(c.Request.Context(), b)
	switch {
	case err != nil:
		s.storeFail(c, err)
	default:
		c.JSON(http.StatusOK, ack)
	}
}

// SyslogMessage is a stored syslog message as the API lists it: what the
// parser read, what it had to assume (Partial; empty when the line was
// read whole) and the line as received.
type SyslogMessage struct {
	ID         int64  `json:"id"`
	ReceivedAt string `json:"received_at"`
	Source     string `json:"source"`
	Transport  string `json:"transport"`
	Format     string `json:"format"` // rfc5424, rfc3164, raw (PRI not readable)
	Facility   int64  `json:"facility"`
	Severity   int64  `json:"severity"`
	Timestamp  string `json:"timestamp"` // the sender's, or the receive time when the line had none
	Hostname   string `json:"hostname"`
	AppName    string `json:"app_name"`
	ProcID     string `json:"proc_id"`
	MsgID      string `json:"msg_id"`
	// StructuredData is RFC 5424 structured data as sent.
	StructuredData string   `json:"structured_data,omitempty"`
	Text           string   `json:"text"`
	Partial        []string `json:"partial,omitempty"`
	// Raw is the line as received (without its line end) when it is
	// UTF-8; RawBase64 otherwise.
	Raw       string `json:"raw"`
	RawBase64 string `json:"raw_base64,omitempty"`
	Origin    string `json:"origin"`
	Scope     string `json:"scope"`
	Node      string `json:"node"`
	EventUID  string `json:"event_uid,omitempty"`
}

// filter is one search condition a message list accepts as a query
// parameter.
type filter struct {
	param string
	kind  string // eq, like, since, until, maxint
	col   string // column; for eq on two columns, "a|b"
}

// commonFilters apply to every message table (each adds "q" on its text).
var commonFilters = []filter{{"source", "eq", "source"}, {"node", "eq", "node"}, {"scope", "eq", "scope"},
	{"since", "since", "received_at"}, {"until", "until", "received_at"}}

// page is where a list answer stopped: more rows remain after it.
type page struct {
	more bool
	next string // the query string of the next page
}

// add puts the cursor into an answer that was cut.
func (pg page) add(out gin.H) gin.H {
	if pg.more {
		out["more"], out["next"] = true, pg.next
	}
	return out
}

// nextPage is the query string that continues after the row with id
// last, in the order asked.
func nextPage(c *gin.Context, order string, last any) string {
	q := c.Request.URL.Query()
	q.Del("after")
	q.Del("before")
	param := "after"
	if order == "desc" {
		param = "before"
	}
	q.Set(param, fmt.Sprint(last))
	return "?" + q.Encode()
}

// scoped lists rows of a message table visible to the caller, filtered
// by the query parameters (see commonFilters and extra), oldest first
// after the id in ?after=, or newest first before ?before= with
// ?order=desc. Messages carry the scope of the inventory node their
// sender is; a sender not in the inventory has the empty scope, visible
// to all-scope roles only. An unknown parameter is refused, naming it.
// The answer is cut at maxAnswerBytes of rows, with a cursor to the rest.
func (s *Server) scoped(c *gin.Context, cols, table string, extra ...filter) (store.Rows, page, bool) {
	filters := append(slices.Clone(commonFilters), extra...)
	known := map[string]bool{"after": true, "before": true, "limit": true, "order": true}
	for _, f := range filters {
		known[f.param] = true
	}
	for k := range c.Request.URL.Query() {
		if !known[k] {
			names := slices.Sorted(maps.Keys(known))
			fail(c, http.StatusBadRequest, "unknown query parameter "+strconv.Quote(k)+": use "+strings.Join(names, ", "))
			return store.Rows{}, page{}, false
		}
	}
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "1000"))
	if err != nil || limit < 1 || limit > 100000 {
		fail(c, http.StatusBadRequest, "limit must be an integer 1..100000")
		return store.Rows{}, page{}, false
	}
	order := c.DefaultQuery("order", "asc")
	if order != "asc" && order != "desc" {
		fail(c, http.StatusBadRequest, "order must be asc or desc")
		return store.Rows{}, page{}, false
	}
	where, args := []string{}, []any{}
	var pg page
	for _, page := range []struct{ param, op string }{{"after", ">"}, {"before", "<"}} {
		if v := c.Query(page.param); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fail(c, http.StatusBadRequest, page.param+" must be a message id")
				return store.Rows{}, pg, false
			}
			where, args = append(where, "id "+page.op+" ?"), append(args, id)
		}
	}
	for _, f := range filters {
		v := c.Query(f.param)
		if v == "" {
			continue
		}
		cond, arg, err := f.condition(v)
		if err != nil {
			fail(c, http.StatusBadRequest, f.param+": "+err.Error())
			return store.Rows{}, page{}, false
		}
		where = append(where, cond)
		args = append(args, arg...)
	}
	p, _ := principal(c)
	if scopes := p.Scopes(); scopes != nil {
		b, _ := json.Marshal(scopes)
		where, args = append(where, `scope IN (SELECT value FROM json_each(?))`), append(args, string(b))
	}
	q := `SELECT ` + cols + `, ` + sqlpage.Size(cols) + ` AS _size FROM ` + table
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id ` + order + ` LIMIT ?`
	rows, err := s.events.Query(c.Request.Context(), store.Local, sqlpage.Wrap(q, "id "+order), append(args, limit+1, maxAnswerBytes)...)
	if err != nil {
		s.authFail(c, err)
		return rows, pg, false
	}
	rows.Values, pg.more = sqlpage.Cut(rows.Values, limit)
	if pg.more {
		pg.next = nextPage(c, order, rows.Values[len(rows.Values)-1][0])
	}
	return rows, pg, true
}

func (f filter) condition(v string) (string, []any, error) {
	switch f.kind {
	case "like": // substring, case-insensitive for ASCII; % and _ are literal
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
		return f.col + ` LIKE ? ESCAPE '\'`, []any{"%" + esc + "%"}, nil
	case "since", "until":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return "", nil, errors.New("an RFC 3339 time such as 2026-11-24T09:00:00Z")
		}
		op := ">="
		if f.kind == "until" {
			op = "<"
		}
		return f.col + " " + op + " ?", []any{t.UTC().Format(time.RFC3339Nano)}, nil
	case "maxint":
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", nil, errors.New("an integer")
		}
		return f.col + " BETWEEN 0 AND ?", []any{n}, nil
	}
	if a, b, two := strings.Cut(f.col, "|"); two {
		return "(" + a + " = ? OR " + b + " = ?)", []any{v, v}, nil
	}
	return f.col + " = ?", []any{v}, nil
}

// syslogColumns are the columns listSyslog reads, in SyslogMessage's order.
const syslogColumns = `id, received_at, source, transport, format, facility, severity, ts, hostname, app_name, proc_id, msg_id, ` +
	`text, raw_head, parse_flags, origin, scope, node, event_uid`

// listSyslog lists stored syslog messages of the caller's scopes.
func (s *Server) listSyslog(c *gin.Context) {
	rows, pg, ok := s.scoped(c, syslogColumns, `syslog_messages`,
		filter{"q", "like", "text"}, filter{"host", "eq", "hostname"}, filter{"app", "eq", "app_name"}, filter{"max_severity", "maxint", "severity"}, filter{"facility", "eq", "facility"})
	if !ok {
		return
	}
	out := make([]SyslogMessage, 0, len(rows.Values))
	rd := pipeline.NewSyslogReader()
	for _, v := range rows.Values {
		out = append(out, syslogMessage(rd, v))
	}
	c.JSON(http.StatusOK, pg.add(gin.H{"messages": out}))
}

// syslogMessage is a row of syslogColumns as the API shows it (the list
// and the live stream).
func syslogMessage(rd *pipeline.SyslogReader, v []any) SyslogMessage {
	str := func(i int) string { x, _ := v[i].(string); return x }
	num := func(i int) int64 { x, _ := v[i].(int64); return x }
	d := rd.Detail(str(13), str(12), num(14), pipeline.HeadColumns{Facility: num(5), Severity: num(6), Timestamp: str(7),
		Host: str(8), App: str(9), ProcID: str(10), MsgID: str(11)})
	m := SyslogMessage{ID: num(0), ReceivedAt: str(1), Source: str(2), Transport: str(3), Format: str(4), Facility: num(5), Severity: num(6),
		Timestamp: str(7), Hostname: str(8), AppName: str(9), ProcID: str(10), MsgID: str(11), StructuredData: d.StructuredData, Text: str(12),
		Partial: d.Partial, Raw: string(d.Raw), Origin: str(15), Scope: str(16), Node: str(17), EventUID: str(18)}
	if !utf8.Valid(d.Raw) {
		m.Raw, m.RawBase64 = "", base64.StdEncoding.EncodeToString(d.Raw)
	}
	return m
}

// StoredTrap is a stored SNMP notification as the API lists it.
type StoredTrap struct {
	ID         int64          `json:"id"`
	ReceivedAt string         `json:"received_at"`
	Source     string         `json:"source"`
	Scope      string         `json:"scope"`
	Node       string         `json:"node"`
	Version    string         `json:"version"`
	PDU        string         `json:"pdu"`
	User       string         `json:"user,omitempty"`
	TrapOID    string         `json:"trap_oid"`
	TrapName   string         `json:"trap_name"`
	Uptime     int64          `json:"uptime"`
	Varbinds   []trap.Varbind `json:"varbinds"`
	Text       string         `json:"text"`
	EventUID   string         `json:"event_uid,omitempty"`
}

func (s *Server) listTraps(c *gin.Context) {
	rows, pg, ok := s.scoped(c, `id, received_at, source, scope, node, version, pdu, user, trap_oid, trap_name, uptime, varbinds, text, event_uid`, `snmp_traps`,
		filter{"q", "like", "text"}, filter{"trap", "eq", "trap_oid|trap_name"}, filter{"version", "eq", "version"})
	if !ok {
		return
	}
	out := make([]StoredTrap, 0, len(rows.Values))
	for _, v := range rows.Values {
		str := func(i int) string { x, _ := v[i].(string); return x }
		num := func(i int) int64 { x, _ := v[i].(int64); return x }
		t := StoredTrap{ID: num(0), ReceivedAt: str(1), Source: str(2), Scope: str(3), Node: str(4), Version: str(5), PDU: str(6), User: str(7),
			TrapOID: str(8), TrapName: str(9), Uptime: num(10), Text: str(12), EventUID: str(13)}
		_ = json.Unmarshal([]byte(str(11)), &t.Varbinds)
		out = append(out, t)
	}
	c.JSON(http.StatusOK, pg.add(gin.H{"traps": out}))
}

// StoredCustom is a stored custom event as the API lists it.
type StoredCustom struct {
	ID         int64             `json:"id"`
	ReceivedAt string            `json:"received_at"`
	Source     string            `json:"source"`
	Scope      string            `json:"scope"`
	Node       string            `json:"node"`
	Sender     string            `json:"sender"`
	Key        string            `json:"key"`
	Message    string            `json:"message"`
	Attrs      map[string]string `json:"attrs,omitempty"`
	EventUID   string            `json:"event_uid,omitempty"`
}

func (s *Server) listCustomEvents(c *gin.Context) {
	rows, pg, ok := s.scoped(c, `id, received_at, source, scope, node, sender, key, message, attrs, event_uid`, `custom_messages`,
		filter{"q", "like", "message"}, filter{"key", "eq", "key"})
	if !ok {
		return
	}
	out := make([]StoredCustom, 0, len(rows.Values))
	for _, v := range rows.Values {
		str := func(i int) string { x, _ := v[i].(string); return x }
		id, _ := v[0].(int64)
		e := StoredCustom{ID: id, ReceivedAt: str(1), Source: str(2), Scope: str(3), Node: str(4), Sender: str(5), Key: str(6), Message: str(7), EventUID: str(9)}
		_ = json.Unmarshal([]byte(str(8)), &e.Attrs)
		out = append(out, e)
	}
	c.JSON(http.StatusOK, pg.add(gin.H{"events": out}))
}

// CustomEventIn is one custom event as a program posts it.
type CustomEventIn struct {
	ID      string            `json:"id"`   // optional; the same id sent to both appliances is stored once
	Node    string            `json:"node"` // inventory node id or address it concerns; default: the poster's address
	Key     string            `json:"key"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs"`
}

// postCustomEvents spools custom events on this appliance (active or
// standby): they travel the same lossless path and rules as syslog.
func (s *Server) postCustomEvents(c *gin.Context) {
	var in CustomEventsRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 4<<20)).Decode(&in); err != nil {
		fail(c, http.StatusBadRequest, `bad request body: `+err.Error()+`: send {"events": [{"key": "...", "message": "..."}]}`)
		return
	}
	if len(in.Events) == 0 || len(in.Events) > 1000 {
		fail(c, http.StatusBadRequest, "send 1 to 1000 events")
		return
	}
	for i, e := range in.Events {
		if err := e.validate(); err != nil {
			fail(c, http.StatusBadRequest, "events["+strconv.Itoa(i)+"]."+err.Error())
			return
		}
	}
	if s.opts.Spool == nil {
		fail(c, http.StatusServiceUnavailable, "the ingest spool is not running")
		return
	}
	p, _ := principal(c)
	now := time.Now()
	recs := make([][]byte, len(in.Events))
	for i, e := range in.Events {
		node, ok := s.customTarget(c, p, i, e.Node)
		if !ok {
			return
		}
		id := e.ID
		if id == "" {
			id = keyedID(c, i, func() string { return "rnd-" + randomID() })
		}
		recs[i] = pipeline.Custom{Received: now, Source: c.RemoteIP(), Sender: p.User, ID: id, Node: node, Key: e.Key, Message: e.Message, Attrs: e.Attrs}.Encode()
	}
	c.Set(ctxDetail, strconv.Itoa(len(recs))+" custom events")
	if n, err := s.opts.Spool.AppendDurable(recs); err != nil {
		c.JSON(http.StatusInsufficientStorage, SpoolRefused{Error: "spool refused: " + err.Error() + ": resend the events from index " +
			strconv.Itoa(n) + " later (or to the other appliance)", Accepted: n})
		return
	}
	c.JSON(http.StatusAccepted, Accepted{Accepted: len(in.Events)})
}

// Limits of a custom event's fields.
const (
	maxCustomAttrs   = 64
	maxCustomAttrKey = 128
	maxCustomAttrVal = 4 << 10
)

func (e CustomEventIn) validate() error {
	switch {
	case e.Key == "" || len(e.Key) > 256:
		return errors.New("key: required, at most 256 bytes")
	case e.Message == "" || len(e.Message) > 64<<10:
		return errors.New("message: required, at most 64 KiB")
	case len(e.ID) > 128:
		return errors.New("id: at most 128 bytes")
	case len(e.Node) > 256:
		return errors.New("node: at most 256 bytes")
	case len(e.Attrs) > maxCustomAttrs:
		return fmt.Errorf("attrs: at most %d", maxCustomAttrs)
	}
	for k, v := range e.Attrs {
		if len(k) > maxCustomAttrKey || len(v) > maxCustomAttrVal {
			return fmt.Errorf("attrs: names at most %d bytes, values at most %d", maxCustomAttrKey, maxCustomAttrVal)
		}
	}
	return nil
}

// customTarget applies the scope rule to the i-th custom event and
// returns the node it is stored under: the node it names (by id or
// address), else the node whose address posted it (as the ingest
// resolves it). The caller must see that node; a caller that does not
// see every scope must name, or post from, a node of its scopes.
func (s *Server) customTarget(c *gin.Context, p auth.Principal, i int, named string) (string, bool) {
	ctx := c.Request.Context()
	field := "events[" + strconv.Itoa(i) + "].node"
	n, found, err := s.nodeByRef(ctx, named)
	if err == nil && !found && named == "" {
		field += " (empty: the node at your address " + c.RemoteIP() + ")"
		n, found, err = s.nodeByRef(ctx, c.RemoteIP())
	}
	if err != nil {
		s.authFail(c, err)
		return "", false
	}
	ev := auth.Object{Kind: "custom event", Scope: n.Scope}
	w := auth.Write{F: auth.MonitorResult, New: &ev}
	// The reference as the caller wrote it (an address found a node whose
	// id the caller may not see).
	ref := auth.Object{Kind: "node", ID: named, Scope: n.Scope}
	if ref.ID == "" {
		ref.ID = c.RemoteIP()
	}
	switch {
	case found:
		w.Refs = []auth.Ref{{Object: ref, Found: true, Field: field}}
	case !p.Covers(""):
		w.Refs = []auth.Ref{{Object: ref, Field: field}}
	default:
		return named, true // stored with the empty scope: seen by roles of every scope only
	}
	if err := p.MayWrite(w); err != nil {
		refused(c, err)
		return "", false
	}
	return n.ID, true
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) listRules(c *gin.Context) {
	p, _ := principal(c)
	scopes := p.Scopes()
	if scopes != nil {
		scopes = append(scopes, "") // rules for every scope are visible, not editable
	}
	rs, err := pipeline.ListRules(c.Request.Context(), s.events, scopes)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rules": rs})
}

// putRule creates or replaces a monitor rule. A rule for every scope
// ("") needs a role that sees every scope.
func (s *Server) putRule(c *gin.Context) {
	var r rules.Rule
	// Strict: a misspelt condition silently ignored would make a rule
	// match everything.
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		fail(c, http.StatusBadRequest, "bad rule: "+err.Error())
		return
	}
	p, _ := principal(c)
	after := ruleObject(r)
	w := auth.Write{F: auth.MonitorSetting, New: &after}
	var before any
	old, err := pipeline.GetRule(c.Request.Context(), s.events, r.ID)
	switch {
	case err == nil:
		o := ruleObject(old)
		w.Old, before = &o, old
	case !errors.Is(err, pipeline.ErrRuleNotFound):
		s.authFail(c, err)
		return
	}
	if !mayWrite(c, p, w, before, r) {
		return
	}
	err = pipeline.PutRule(c.Request.Context(), s.events, r)
	if errors.Is(err, rules.ErrInvalid) {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, RuleSaved{Rule: r.ID})
}

func (s *Server) deleteRule(c *gin.Context) {
	p, _ := principal(c)
	old, err := pipeline.GetRule(c.Request.Context(), s.events, c.Param("id"))
	switch {
	case errors.Is(err, pipeline.ErrRuleNotFound):
		fail(c, http.StatusNotFound, "no such rule")
		return
	case err != nil:
		s.authFail(c, err)
		return
	}
	o := ruleObject(old)
	if err := p.MayWrite(auth.Write{F: auth.MonitorSetting, Old: &o}); err != nil {
		refused(c, err)
		return
	}
	before, _ := json.Marshal(old)
	c.Set(ctxDetail, "before "+string(before))
	if err := pipeline.DeleteRule(c.Request.Context(), s.events, old.ID); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, RuleDeleted{Deleted: old.ID})
}
