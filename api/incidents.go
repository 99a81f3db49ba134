package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/events"
)

// Incident handling: the event list with its filters, one event with its
// comments, state changes by ids or by filter, and comments. See
// DESIGN.md, "Events".

// eventFilters are the filters an event list and a state change by
// filter accept, by parameter name.
var eventFilters = map[string]func(f *events.Filter, v string) error{
	"kind": func(f *events.Filter, v string) error { f.Kind = v; return nil },
	"node": func(f *events.Filter, v string) error { f.Node = v; return nil },
	"q":    func(f *events.Filter, v string) error { f.Text = v; return nil },
	"scope": func(f *events.Filter, v string) error {
		f.Scope = strings.Split(v, ",")
		return nil
	},
	"severity": func(f *events.Filter, v string) error {
		for _, s := range strings.Split(v, ",") {
			sev := events.Severity(s)
			if !events.ValidSeverity(sev) {
				return fmt.Errorf("%q is not critical, unknown, warning or info", s)
			}
			f.Severities = append(f.Severities, sev)
		}
		return nil
	},
	"state": func(f *events.Filter, v string) error {
		for _, s := range strings.Split(v, ",") {
			st, err := events.ParseState(s)
			if err != nil {
				return fmt.Errorf("%q is not unconfirmed, confirming or confirmed", s)
			}
			f.States = append(f.States, st)
		}
		return nil
	},
	"since":  timeFilter(func(f *events.Filter) *time.Time { return &f.Since }),
	"until":  timeFilter(func(f *events.Filter) *time.Time { return &f.Until }),
	"after":  idFilter(func(f *events.Filter) *int64 { return &f.AfterID }),
	"before": idFilter(func(f *events.Filter) *int64 { return &f.BeforeID }),
}

func timeFilter(field func(*events.Filter) *time.Time) func(*events.Filter, string) error {
	return func(f *events.Filter, v string) error {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errors.New("an RFC 3339 time such as 2026-11-24T09:00:00Z")
		}
		*field(f) = t
		return nil
	}
}

func idFilter(field func(*events.Filter) *int64) func(*events.Filter, string) error {
	return func(f *events.Filter, v string) error {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return errors.New("an event id")
		}
		*field(f) = id
		return nil
	}
}

// parseEventFilter reads the filters of params; an unknown name (other
// than those in extra) is refused, naming the known ones.
func parseEventFilter(params map[string]string, extra ...string) (events.Filter, error) {
	var f events.Filter
	for _, k := range slices.Sorted(maps.Keys(params)) {
		set, ok := eventFilters[k]
		switch {
		case ok:
			if err := set(&f, params[k]); err != nil {
				return f, fmt.Errorf("%s: %w", k, err)
			}
		case !slices.Contains(extra, k):
			names := append(slices.Sorted(maps.Keys(eventFilters)), extra...)
			slices.Sort(names)
			return f, fmt.Errorf("unknown filter %q: use %s", k, strings.Join(names, ", "))
		}
	}
	return f, nil
}

// listEvents lists the caller's events: oldest first after ?after= (the
// default, for scripts that follow the table), or newest first before
// ?before= with ?order=desc (the console). Both page by id and answer
// "next" when more remain.
func (s *Server) listEvents(c *gin.Context) {
	params := map[string]string{}
	for k, v := range c.Request.URL.Query() {
		params[k] = v[0]
	}
	f, err := parseEventFilter(params, "limit", "order")
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if f.Limit, err = strconv.Atoi(c.DefaultQuery("limit", "1000")); err != nil || f.Limit < 1 || f.Limit > 10000 {
		fail(c, http.StatusBadRequest, "limit must be an integer 1..10000")
		return
	}
	order := c.DefaultQuery("order", "asc")
	if order != "asc" && order != "desc" {
		fail(c, http.StatusBadRequest, "order must be asc or desc")
		return
	}
	p, _ := principal(c)
	f.Desc, f.Scopes, f.MaxBytes = order == "desc", p.Scopes(), maxAnswerBytes
	evs, more, err := events.List(c.Request.Context(), s.events, f)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	pg := page{more: more}
	if more {
		pg.next = nextPage(c, order, evs[len(evs)-1].ID)
	}
	c.JSON(http.StatusOK, pg.add(gin.H{"events": evs}))
}

// countEvents says how many of the caller's events the filters select
// (the console shows it before a change by filter).
func (s *Server) countEvents(c *gin.Context) {
	params := map[string]string{}
	for k, v := range c.Request.URL.Query() {
		params[k] = v[0]
	}
	f, err := parseEventFilter(params)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	p, _ := principal(c)
	f.Scopes = p.Scopes()
	n, err := events.Count(c.Request.Context(), s.events, f)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	c.JSON(http.StatusOK, EventCount{Count: n})
}

func eventID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fail(c, http.StatusBadRequest, "the event id in the path must be a positive integer")
		return 0, false
	}
	return id, true
}

// eventFail answers a failed event operation.
func (s *Server) eventFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, events.ErrNotFound):
		fail(c, http.StatusNotFound, "no such event in your scopes")
	case errors.Is(err, events.ErrInvalid):
		fail(c, http.StatusBadRequest, err.Error())
	default:
		s.storeFail(c, err)
	}
}

// EventDetail is one event with its comments, oldest first.
type EventDetail struct {
	events.Event
	CommentList []events.Comment `json:"comment_list"`
}

func (s *Server) getEvent(c *gin.Context) {
	id, ok := eventID(c)
	if !ok {
		return
	}
	p, _ := principal(c)
	ev, cs, err := events.Get(c.Request.Context(), s.events, id, p.Scopes())
	if err != nil {
		s.eventFail(c, err)
		return
	}
	c.JSON(http.StatusOK, EventDetail{Event: ev, CommentList: cs})
}

func (s *Server) commentEvent(c *gin.Context) {
	id, ok := eventID(c)
	if !ok {
		return
	}
	var in CommentRequest
	if !decodeJSON(c, &in) {
		return
	}
	p, _ := principal(c)
	c.Set(ctxDetail, fmt.Sprintf("comment on event %d (%d bytes)", id, len(in.Text)))
	cm, err := events.AddComment(c.Request.Context(), s.events, id, p.Scopes(), events.Comment{At: time.Now().UTC(), User: p.User, Text: in.Text})
	if err != nil {
		s.eventFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cm)
}

// EventCount answers GET /api/v1/events/count.
type EventCount struct {
	Count int64 `json:"count"`
}

// CommentRequest is the body of POST /api/v1/events/:id/comments.
type CommentRequest struct {
	Text string `json:"text"`
}

// StateChanged answers a state change: how many events changed.
type StateChanged struct {
	State   events.State `json:"state"`
	Changed int64        `json:"changed"`
}

// StateChange is the body of POST /api/v1/events/state: the new state
// and either the ids of the events or a filter (the list's parameters:
// severity, state, scope, node, kind, q, since, until, after, before).
type StateChange struct {
	State  events.State      `json:"state"`
	IDs    []int64           `json:"ids,omitempty"`
	Filter map[string]string `json:"filter,omitempty"`
}

// maxStateIDs bounds a change by ids (a larger selection goes by filter).
const maxStateIDs = 10000

// setEventState changes the state of the caller's events selected by ids
// or by filter in one statement, and audits the request in one row
// naming how many changed. Events outside the caller's scopes are never
// touched, and not counted.
func (s *Server) setEventState(c *gin.Context) {
	var in StateChange
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 1<<20)).Decode(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad request body: "+err.Error())
		return
	}
	state, err := events.ParseState(string(in.State))
	if err != nil {
		fail(c, http.StatusBadRequest, "state: must be unconfirmed, confirming or confirmed")
		return
	}
	var f events.Filter
	how := "by filter"
	switch {
	case (in.IDs == nil) == (in.Filter == nil):
		fail(c, http.StatusBadRequest, "give either ids (a list of event ids) or filter (an object of list filters, {} for all your events)")
		return
	case in.IDs != nil:
		if len(in.IDs) == 0 || len(in.IDs) > maxStateIDs {
			fail(c, http.StatusBadRequest, fmt.Sprintf("ids: give 1..%d event ids, or use a filter", maxStateIDs))
			return
		}
		f.IDs, how = in.IDs, fmt.Sprintf("by %d ids", len(in.IDs))
	default:
		if f, err = parseEventFilter(in.Filter); err != nil {
			fail(c, http.StatusBadRequest, "filter: "+err.Error())
			return
		}
		b, _ := json.Marshal(in.Filter)
		how = "by filter " + string(b)
	}
	p, _ := principal(c)
	f.Scopes = p.Scopes()
	c.Set(ctxDetail, fmt.Sprintf("state %s %s: not applied", state, how))
	n, err := events.SetState(c.Request.Context(), s.events, events.Change{State: state, By: p.User, At: time.Now().UTC(), Where: f})
	if err != nil {
		s.eventFail(c, err)
		return
	}
	c.Set(ctxDetail, fmt.Sprintf("state %s: %d events changed %s", state, n, how))
	c.JSON(http.StatusOK, StateChanged{State: state, Changed: n})
}
