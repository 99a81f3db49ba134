package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/kinds"
	"github.com/mamori-ops/mamori/pollers/monitor"
)

// MonitorKinds answers GET /api/v1/monitor-kinds: every kind with the
// fields of its form.
type MonitorKinds struct {
	Kinds []check.Kind `json:"kinds"`
}

// MonitorList answers GET /api/v1/monitors.
type MonitorList struct {
	Monitors []monitor.Monitor `json:"monitors"`
	// More: the page was cut; ask again with after = the last id.
	More bool `json:"more"`
}

// MonitorDeleted answers DELETE /api/v1/monitors/:id.
type MonitorDeleted struct {
	Deleted string `json:"deleted"`
}

// MonitorTestRequest is "test now": a monitor, saved or not, and
// optionally the one node of its scope to run on.
type MonitorTestRequest struct {
	Monitor monitor.Monitor `json:"monitor"`
	Node    string          `json:"node,omitempty"`
}

// MonitorTestItem is one item read, with its judgement.
type MonitorTestItem struct {
	check.Item
	Priority judge.Priority `json:"priority,omitempty"`
	Message  string         `json:"message,omitempty"`
	Skipped  bool           `json:"skipped,omitempty"`
}

// MonitorTestResult is the check's run on one node.
type MonitorTestResult struct {
	Node       string            `json:"node"`
	NodeName   string            `json:"node_name"`
	Priority   judge.Priority    `json:"priority"`
	Message    string            `json:"message"`
	Items      []MonitorTestItem `json:"items"`
	Raw        string            `json:"raw"`
	Error      string            `json:"error,omitempty"`
	DurationMS float64           `json:"duration_ms"`
}

// MonitorTestAnswer answers POST /api/v1/monitors/test.
type MonitorTestAnswer struct {
	Results []MonitorTestResult `json:"results"`
}

// Bounds of a "test now": the nodes of a scope monitor it runs on, and
// how long one check may keep the request waiting.
const (
	maxTestNodes   = 20
	maxTestTimeout = time.Minute
)

// kindList is the kinds the API offers (Options.Kinds, else pollers/kinds).
func (s *Server) kindList() []check.Kind {
	if s.opts.Kinds != nil {
		return s.opts.Kinds()
	}
	return kinds.All()
}

func (s *Server) kindByName(name string) (check.Kind, bool) {
	ks := s.kindList()
	i := slices.IndexFunc(ks, func(k check.Kind) bool { return k.Name == name })
	if i < 0 {
		return check.Kind{}, false
	}
	return ks[i], true
}

func (s *Server) listMonitorKinds(c *gin.Context) {
	ks := s.kindList()
	if ks == nil {
		ks = []check.Kind{}
	}
	c.JSON(http.StatusOK, MonitorKinds{Kinds: ks})
}

func monitorObject(m monitor.Monitor, scope string) auth.Object {
	return auth.Object{Kind: "monitor", ID: m.ID, Scope: scope, Owner: m.OwnerRole}
}

func (s *Server) listMonitors(c *gin.Context) {
	p, _ := principal(c)
	f := monitor.Filter{Kind: c.Query("kind"), Scope: c.Query("scope"), Node: c.Query("node"), After: c.Query("after"), Scopes: p.Scopes()}
	ms, more, err := monitor.List(c.Request.Context(), s.events, f)
	if err != nil {
		s.authFail(c, err)
		return
	}
	out := MonitorList{Monitors: make([]monitor.Monitor, 0, len(ms)), More: more}
	for _, m := range ms {
		out.Monitors = append(out.Monitors, m.Monitor)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getMonitor(c *gin.Context) {
	p, _ := principal(c)
	m, err := monitor.Get(c.Request.Context(), s.events, c.Param("id"))
	if errors.Is(err, monitor.ErrNotFound) || (err == nil && !p.Covers(m.EffectiveScope)) {
		fail(c, http.StatusNotFound, "no such monitor")
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, m.Monitor)
}

// decodeMonitor reads a monitor strictly (a misspelt threshold silently
// ignored would never alert) with omitted booleans on.
func decodeMonitor(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 256<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(c, http.StatusBadRequest, "bad monitor: "+err.Error())
		return false
	}
	return true
}

// putMonitor creates or replaces a monitor.
func (s *Server) putMonitor(c *gin.Context) {
	m := monitor.Defaults()
	if !decodeMonitor(c, &m) {
		return
	}
	m, scope, refs, ok := s.checkMonitor(c, m)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p, _ := principal(c)
	after := monitorObject(m, scope)
	w := auth.Write{F: auth.MonitorSetting, New: &after, Refs: refs}
	var before any
	old, err := monitor.Get(ctx, s.events, m.ID)
	switch {
	case err == nil:
		o := monitorObject(old.Monitor, old.EffectiveScope)
		w.Old, before = &o, old.Monitor
	case !errors.Is(err, monitor.ErrNotFound):
		s.authFail(c, err)
		return
	}
	if !mayWrite(c, p, w, before, m) {
		return
	}
	if err := monitor.Put(ctx, s.events, m); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// checkMonitor normalises m and finds its scope and the objects it
// names (its node, its credentials), answering a refusal itself.
func (s *Server) checkMonitor(c *gin.Context, m monitor.Monitor) (monitor.Monitor, string, []auth.Ref, bool) {
	m, err := monitor.Normalize(m, s.kindByName)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return m, "", nil, false
	}
	ctx := c.Request.Context()
	scope, refs, err := s.monitorRefs(ctx, m)
	if err != nil {
		s.authFail(c, err)
		return m, "", nil, false
	}
	if m.Scope != "" {
		p, _ := principal(c)
		known, err := s.scopeKnown(ctx, p, m.Scope)
		if err != nil {
			s.authFail(c, err)
			return m, "", nil, false
		}
		if !known {
			fail(c, http.StatusBadRequest, "scope: no node is in scope "+m.Scope+" and none of your roles names it: check the spelling, or add its nodes first")
			return m, "", nil, false
		}
	}
	return m, scope, refs, true
}

// monitorRefs are the node and credentials a monitor names, and the
// scope it is in (its own, or its node's).
func (s *Server) monitorRefs(ctx context.Context, m monitor.Monitor) (string, []auth.Ref, error) {
	scope := m.Scope
	var refs []auth.Ref
	if m.Node != "" {
		n, err := inventory.Get(ctx, s.events, m.Node)
		switch {
		case errors.Is(err, inventory.ErrNotFound):
			refs = append(refs, auth.Ref{Object: auth.Object{Kind: "node", ID: m.Node}, Field: "node"})
		case err != nil:
			return "", nil, err
		default:
			refs = append(refs, auth.Ref{Object: nodeObject(n), Found: true, Field: "node"})
			scope = n.Scope
		}
	}
	k, _ := s.kindByName(m.Kind)
	for field, name := range monitor.Credentials(m, k) {
		r, err := s.credentialRef(ctx, field, name)
		if err != nil {
			return "", nil, err
		}
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b auth.Ref) int { return strings.Compare(a.Field, b.Field) })
	return scope, refs, nil
}

// scopeKnown: a node carries the scope, or a role of the caller names it.
func (s *Server) scopeKnown(ctx context.Context, p auth.Principal, scope string) (bool, error) {
	if slices.Contains(p.Scopes(), scope) {
		return true, nil
	}
	ns, err := inventory.List(ctx, s.events, []string{scope})
	return len(ns) > 0, err
}

func (s *Server) deleteMonitor(c *gin.Context) {
	p, _ := principal(c)
	old, err := monitor.Get(c.Request.Context(), s.events, c.Param("id"))
	switch {
	case errors.Is(err, monitor.ErrNotFound):
		fail(c, http.StatusNotFound, "no such monitor")
		return
	case err != nil:
		s.authFail(c, err)
		return
	}
	o := monitorObject(old.Monitor, old.EffectiveScope)
	if err := p.MayWrite(auth.Write{F: auth.MonitorSetting, Old: &o}); err != nil {
		refused(c, err)
		return
	}
	before, _ := json.Marshal(old.Monitor)
	c.Set(ctxDetail, "before "+string(before))
	if err := monitor.Delete(c.Request.Context(), s.events, old.ID); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, MonitorDeleted{Deleted: old.ID})
}

// testMonitor runs a monitor's check once ("test now") through the same
// judgement as the runner and answers the raw result and the verdicts.
// Nothing is stored; the caller must be allowed to use the monitor's
// node and credentials.
func (s *Server) testMonitor(c *gin.Context) {
	in := MonitorTestRequest{Monitor: monitor.Defaults()}
	if !decodeMonitor(c, &in) {
		return
	}
	m, scope, refs, ok := s.checkMonitor(c, in.Monitor)
	if !ok {
		return
	}
	// The rule of a new monitor: the caller names its node and
	// credentials (saved or not, the check uses them) and sees its scope.
	p, _ := principal(c)
	obj := monitorObject(m, scope)
	if err := p.MayWrite(auth.Write{F: auth.MonitorSetting, New: &obj, Refs: refs}); err != nil {
		refused(c, err)
		return
	}
	c.Set(ctxDetail, "test of monitor "+m.ID+" ("+m.Kind+")")
	nodes, ok := s.testNodes(c, m, in.Node)
	if !ok {
		return
	}
	_, chk, err := monitor.Checker(s.kindByName, m)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	jd, err := monitor.Judge(m)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	out := MonitorTestAnswer{Results: make([]MonitorTestResult, len(nodes))}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Results[i] = s.testOne(c.Request.Context(), chk, jd, m, n)
		}()
	}
	wg.Wait()
	c.JSON(http.StatusOK, out)
}

// testNodes are the nodes a test runs on: the monitor's node, the one
// asked for (in its scope), or the first nodes of its scope.
func (s *Server) testNodes(c *gin.Context, m monitor.Monitor, only string) ([]inventory.Node, bool) {
	ctx := c.Request.Context()
	if m.Node != "" {
		n, err := inventory.Get(ctx, s.events, m.Node)
		if err != nil {
			s.authFail(c, err)
			return nil, false
		}
		return []inventory.Node{n}, true
	}
	ns, err := inventory.List(ctx, s.events, []string{m.Scope})
	if err != nil {
		s.authFail(c, err)
		return nil, false
	}
	if only != "" {
		i := slices.IndexFunc(ns, func(n inventory.Node) bool { return n.ID == only })
		if i < 0 {
			fail(c, http.StatusBadRequest, "node: "+only+" is not a node of scope "+m.Scope)
			return nil, false
		}
		return ns[i : i+1], true
	}
	if len(ns) == 0 {
		fail(c, http.StatusBadRequest, "scope: "+m.Scope+" has no nodes to test on")
		return nil, false
	}
	return ns[:min(len(ns), maxTestNodes)], true
}

func (s *Server) testOne(ctx context.Context, chk check.Checker, jd *judge.Judge, m monitor.Monitor, n inventory.Node) MonitorTestResult {
	if m.TimeoutD() > maxTestTimeout { // a request waits for it
		m.Timeout = maxTestTimeout.String()
	}
	secret := func(ctx context.Context, name string) (string, error) {
		return secrets.Reveal(ctx, s.events, s.opts.Secrets, name)
	}
	res, took := monitor.Run(ctx, chk, m, n, secret)
	v, items := jd.Result(res, nil)
	out := MonitorTestResult{Node: n.ID, NodeName: n.Name, Priority: v.Priority, Message: v.Message, Raw: res.Raw,
		DurationMS: float64(took.Microseconds()) / 1000, Items: make([]MonitorTestItem, 0, len(items))}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	for _, it := range items {
		out.Items = append(out.Items, MonitorTestItem{Item: it.Item, Priority: it.Priority, Message: it.Verdict.Message, Skipped: it.Skip})
	}
	return out
}
