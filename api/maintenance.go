package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/calendar"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/maintenance"
)

// Maintenance windows (issue 12): CRUD, the ad hoc mute of scripts and
// its "end now", and whether a node, scope or monitor is in maintenance
// now (what the runner and the notifier ask the Checker, for scripts and
// for the failover test). Every write invalidates the Checker.

func windowObject(w maintenance.Window) auth.Object {
	return auth.Object{Kind: "maintenance window", ID: w.ID, Scope: w.Scope, Owner: w.OwnerRole}
}

// WindowState is a window with its state now.
type WindowState struct {
	maintenance.Window
	maintenance.State
}

// WindowList is GET /api/v1/maintenance.
type WindowList struct {
	Windows []WindowState `json:"windows"`
	Now     time.Time     `json:"now"`
}

// WindowSaved answers a stored window.
type WindowSaved struct {
	Window string `json:"window"`
}

// WindowDeleted answers a deleted window.
type WindowDeleted struct {
	Deleted string `json:"deleted"`
}

// MuteSaved answers an ad hoc mute: the window and when it ends.
type MuteSaved struct {
	Window string    `json:"window"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// MaintenanceActive answers whether a node, scope or monitor is in
// maintenance at an instant, as the Checker says.
type MaintenanceActive struct {
	Active bool      `json:"active"`
	Window string    `json:"window,omitempty"`
	At     time.Time `json:"at"`
}

// windowRefs are the objects a window names: its nodes, scopes and
// calendar. A scope is a name, not an object: naming it needs seeing it.
// Monitors are not checked here yet (the monitor model is another part's).
func (s *Server) windowRefs(ctx context.Context, w maintenance.Window) ([]auth.Ref, error) {
	var refs []auth.Ref
	for _, id := range w.Nodes {
		n, err := inventory.Get(ctx, s.events, id)
		switch {
		case errors.Is(err, inventory.ErrNotFound):
			refs = append(refs, auth.Ref{Object: auth.Object{Kind: "node", ID: id}, Field: "nodes"})
		case err != nil:
			return nil, err
		default:
			refs = append(refs, auth.Ref{Object: nodeObject(n), Found: true, Field: "nodes"})
		}
	}
	for _, sc := range w.Scopes {
		refs = append(refs, auth.Ref{Object: auth.Object{Kind: "scope", ID: sc, Scope: sc}, Found: true, Field: "scopes"})
	}
	if w.Kind == maintenance.Calendar {
		cal, err := calendar.Get(ctx, s.events, w.CalendarID)
		switch {
		case errors.Is(err, calendar.ErrNotFound):
			refs = append(refs, auth.Ref{Object: auth.Object{Kind: "calendar", ID: w.CalendarID}, Field: "calendar"})
		case err != nil:
			return nil, err
		default:
			// A calendar for every scope may be followed by anyone.
			o := calendarObject(cal)
			if o.Scope == "" {
				o.Scope = w.Scope
			}
			refs = append(refs, auth.Ref{Object: o, Found: true, Field: "calendar"})
		}
	}
	return refs, nil
}

func (s *Server) listWindows(c *gin.Context) {
	p, _ := principal(c)
	ws, err := maintenance.List(c.Request.Context(), s.events, p.Scopes())
	if err != nil {
		s.storeFail(c, err)
		return
	}
	now := time.Now().UTC()
	status := c.Query("status")
	out := []WindowState{}
	for _, w := range ws {
		st := s.maintenance.StateOf(c.Request.Context(), w, now)
		if status == "" || status == st.Status {
			out = append(out, WindowState{Window: w, State: st})
		}
	}
	c.JSON(http.StatusOK, WindowList{Windows: out, Now: now})
}

// visibleWindow loads a window the caller sees (else answers 404).
func (s *Server) visibleWindow(c *gin.Context) (maintenance.Window, bool) {
	p, _ := principal(c)
	w, err := maintenance.Get(c.Request.Context(), s.events, c.Param("id"))
	switch {
	case errors.Is(err, maintenance.ErrNotFound) || (err == nil && !p.Covers(w.Scope)):
		fail(c, http.StatusNotFound, "no such maintenance window: "+c.Param("id"))
		return w, false
	case err != nil:
		s.storeFail(c, err)
		return w, false
	}
	return w, true
}

func (s *Server) getWindow(c *gin.Context) {
	if w, ok := s.visibleWindow(c); ok {
		c.JSON(http.StatusOK, WindowState{Window: w, State: s.maintenance.StateOf(c.Request.Context(), w, time.Now())})
	}
}

func (s *Server) putWindow(c *gin.Context) {
	var w maintenance.Window
	if !decodeStrict(c, &w, "maintenance window") {
		return
	}
	if err := w.Validate(); err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	p, _ := principal(c)
	old, err := maintenance.Get(c.Request.Context(), s.events, w.ID)
	var before *maintenance.Window
	switch {
	case err == nil:
		before = &old
		w.CreatedBy, w.CreatedAt = old.CreatedBy, old.CreatedAt
	case errors.Is(err, maintenance.ErrNotFound):
		w.CreatedBy, w.CreatedAt = p.User, time.Now().UTC()
	default:
		s.storeFail(c, err)
		return
	}
	if s.writeWindow(c, p, before, w) {
		c.JSON(http.StatusOK, WindowSaved{Window: w.ID})
	}
}

// writeWindow applies the scope rule (before nil: a new window) and
// stores w; false when it answered a refusal or failure.
func (s *Server) writeWindow(c *gin.Context, p auth.Principal, before *maintenance.Window, w maintenance.Window) bool {
	ctx := c.Request.Context()
	after := windowObject(w)
	wr := auth.Write{F: auth.MonitorSetting, New: &after}
	var b any
	if before != nil {
		o := windowObject(*before)
		wr.Old, b = &o, *before
	}
	refs, err := s.windowRefs(ctx, w)
	if err != nil {
		s.storeFail(c, err)
		return false
	}
	wr.Refs = refs
	if !mayWrite(c, p, wr, b, w) {
		return false
	}
	if err := maintenance.Put(ctx, s.events, w); err != nil {
		s.storeFail(c, err)
		return false
	}
	s.maintenance.Invalidate()
	return true
}

func (s *Server) deleteWindow(c *gin.Context) {
	p, _ := principal(c)
	old, err := maintenance.Get(c.Request.Context(), s.events, c.Param("id"))
	switch {
	case errors.Is(err, maintenance.ErrNotFound):
		fail(c, http.StatusNotFound, "no such maintenance window")
		return
	case err != nil:
		s.storeFail(c, err)
		return
	}
	o := windowObject(old)
	if err := p.MayWrite(auth.Write{F: auth.MonitorSetting, Old: &o}); err != nil {
		refused(c, err)
		return
	}
	b, _ := json.Marshal(old)
	c.Set(ctxDetail, "before "+string(b))
	if err := maintenance.Delete(c.Request.Context(), s.events, old.ID); err != nil {
		s.storeFail(c, err)
		return
	}
	s.maintenance.Invalidate()
	c.JSON(http.StatusOK, WindowDeleted{Deleted: old.ID})
}

// mute creates an ad hoc one-off window from now: one call for a script.
func (s *Server) mute(c *gin.Context) {
	var m maintenance.Mute
	if !decodeStrict(c, &m, "mute") {
		return
	}
	p, _ := principal(c)
	scope := m.WindowScope
	switch {
	case scope != "":
	case m.Scope != "":
		scope = m.Scope
	case m.Node != "":
		n, err := inventory.Get(c.Request.Context(), s.events, m.Node)
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			s.storeFail(c, err)
			return
		}
		scope = n.Scope // a node not found is refused by the scope rule below
	}
	now := time.Now().UTC()
	w, err := m.Window(now, scope, p.User)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if s.writeWindow(c, p, nil, w) {
		c.JSON(http.StatusCreated, MuteSaved{Window: w.ID, From: *w.From, To: *w.To})
	}
}

// endWindow ends a window now (a mute lifted early, a maintenance done).
func (s *Server) endWindow(c *gin.Context) {
	old, ok := s.visibleWindow(c)
	if !ok {
		return
	}
	p, _ := principal(c)
	o := windowObject(old)
	if err := p.MayWrite(auth.Write{F: auth.MonitorSetting, Old: &o, New: &o}); err != nil {
		refused(c, err)
		return
	}
	now := time.Now().UTC()
	w, err := maintenance.End(c.Request.Context(), s.events, old.ID, now)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	s.maintenance.Invalidate()
	c.Set(ctxDetail, "ended "+old.ID+" at "+now.Format(time.RFC3339))
	c.JSON(http.StatusOK, WindowState{Window: w, State: s.maintenance.StateOf(c.Request.Context(), w, now)})
}

// maintenanceActive says what the Checker says for a node (its scope
// taken from the inventory unless given), a scope or a monitor.
func (s *Server) maintenanceActive(c *gin.Context) {
	p, _ := principal(c)
	node, scope, monitor := c.Query("node"), c.Query("scope"), c.Query("monitor")
	if node == "" && scope == "" && monitor == "" {
		fail(c, http.StatusBadRequest, "give node, scope or monitor")
		return
	}
	at := time.Now().UTC()
	if q := c.Query("at"); q != "" {
		t, err := time.Parse(time.RFC3339, q)
		if err != nil {
			fail(c, http.StatusBadRequest, "at: an RFC 3339 time, like 2026-01-02T15:04:05Z")
			return
		}
		at = t
	}
	if node != "" && scope == "" {
		n, err := inventory.Get(c.Request.Context(), s.events, node)
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			s.storeFail(c, err)
			return
		}
		scope = n.Scope
	}
	if scope != "" && !p.Covers(scope) {
		fail(c, http.StatusNotFound, "no such node or scope in your scopes")
		return
	}
	id, ok := s.maintenance.Active(c.Request.Context(), node, scope, monitor, at)
	c.JSON(http.StatusOK, MaintenanceActive{Active: ok, Window: id, At: at})
}

// calendarUsers names the objects that follow a calendar.
func (s *Server) calendarUsers(c *gin.Context, id string) ([]string, error) {
	ws, err := maintenance.UsingCalendar(c.Request.Context(), s.events, id)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, "maintenance window "+w)
	}
	return out, err
}
