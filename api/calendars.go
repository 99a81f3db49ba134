package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/calendar"
)

// Calendars of business time (issue 12): CRUD, and a preview of a saved
// or unsaved calendar for the console's editor. Writes go through the
// scope rule like every object and invalidate the calendar cache.

func calendarObject(c calendar.Calendar) auth.Object {
	return auth.Object{Kind: "calendar", ID: c.ID, Scope: c.Scope, Owner: c.OwnerRole}
}

// CalendarList is GET /api/v1/calendars.
type CalendarList struct {
	Calendars []calendar.Calendar `json:"calendars"`
}

// CalendarSaved answers a stored calendar.
type CalendarSaved struct {
	Calendar string `json:"calendar"`
}

// CalendarDeleted answers a deleted calendar.
type CalendarDeleted struct {
	Deleted string `json:"deleted"`
}

// CalendarPreviewRequest asks for the hours of a calendar: a saved one
// (id) or the one being edited (calendar).
type CalendarPreviewRequest struct {
	ID       string             `json:"id,omitempty"`
	Calendar *calendar.Calendar `json:"calendar,omitempty"`
	// From is the first day (default now); Days how many (1..62, default 7);
	// Transitions how many next openings and closings (0..50, default 10).
	From        *time.Time `json:"from,omitempty"`
	Days        int        `json:"days,omitempty"`
	Transitions int        `json:"transitions,omitempty"`
}

// CalendarPreview answers a preview.
type CalendarPreview struct {
	// OpenNow: whether the calendar is open at from.
	OpenNow     bool                  `json:"open_now"`
	TimeZone    string                `json:"time_zone"`
	Days        []calendar.DayPreview `json:"days"`
	Transitions []calendar.Transition `json:"transitions"`
}

func (s *Server) listCalendars(c *gin.Context) {
	p, _ := principal(c)
	scopes := p.Scopes()
	if scopes != nil {
		scopes = append(scopes, "") // calendars for every scope are usable by all
	}
	cs, err := calendar.List(c.Request.Context(), s.events, scopes)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	c.JSON(http.StatusOK, CalendarList{Calendars: cs})
}

func (s *Server) getCalendar(c *gin.Context) {
	cal, ok := s.visibleCalendar(c, c.Param("id"))
	if ok {
		c.JSON(http.StatusOK, cal)
	}
}

// visibleCalendar loads a calendar the caller sees (else answers 404).
func (s *Server) visibleCalendar(c *gin.Context, id string) (calendar.Calendar, bool) {
	p, _ := principal(c)
	cal, err := calendar.Get(c.Request.Context(), s.events, id)
	switch {
	case errors.Is(err, calendar.ErrNotFound) || (err == nil && !p.Covers(cal.Scope) && cal.Scope != ""):
		fail(c, http.StatusNotFound, "no such calendar: "+id)
		return cal, false
	case err != nil:
		s.storeFail(c, err)
		return cal, false
	}
	return cal, true
}

func (s *Server) putCalendar(c *gin.Context) {
	var cal calendar.Calendar
	if !decodeStrict(c, &cal, "calendar") {
		return
	}
	if err := cal.Validate(); err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	ctx := c.Request.Context()
	p, _ := principal(c)
	after := calendarObject(cal)
	w := auth.Write{F: auth.Calendars, New: &after}
	var before any
	old, err := calendar.Get(ctx, s.events, cal.ID)
	switch {
	case err == nil:
		o := calendarObject(old)
		w.Old, before = &o, old
	case !errors.Is(err, calendar.ErrNotFound):
		s.storeFail(c, err)
		return
	}
	if !mayWrite(c, p, w, before, cal) {
		return
	}
	if err := calendar.Put(ctx, s.events, cal); err != nil {
		s.storeFail(c, err)
		return
	}
	s.calendars.Invalidate()
	c.JSON(http.StatusOK, CalendarSaved{Calendar: cal.ID})
}

// deleteCalendar removes a calendar no maintenance window follows.
func (s *Server) deleteCalendar(c *gin.Context) {
	ctx := c.Request.Context()
	p, _ := principal(c)
	old, err := calendar.Get(ctx, s.events, c.Param("id"))
	switch {
	case errors.Is(err, calendar.ErrNotFound):
		fail(c, http.StatusNotFound, "no such calendar")
		return
	case err != nil:
		s.storeFail(c, err)
		return
	}
	o := calendarObject(old)
	if err := p.MayWrite(auth.Write{F: auth.Calendars, Old: &o}); err != nil {
		refused(c, err)
		return
	}
	users, err := s.calendarUsers(c, old.ID)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	if len(users) > 0 {
		fail(c, http.StatusConflict, "calendar "+old.ID+" is used by "+strings.Join(users, ", ")+": change or delete those first")
		return
	}
	b, _ := json.Marshal(old)
	c.Set(ctxDetail, "before "+string(b))
	if err := calendar.Delete(ctx, s.events, old.ID); err != nil {
		s.storeFail(c, err)
		return
	}
	s.calendars.Invalidate()
	c.JSON(http.StatusOK, CalendarDeleted{Deleted: old.ID})
}

func (s *Server) previewCalendar(c *gin.Context) {
	var in CalendarPreviewRequest
	if !decodeStrict(c, &in, "preview request") {
		return
	}
	var cal calendar.Calendar
	switch {
	case in.Calendar != nil:
		cal = *in.Calendar
	case in.ID != "":
		var ok bool
		if cal, ok = s.visibleCalendar(c, in.ID); !ok {
			return
		}
	default:
		fail(c, http.StatusBadRequest, "give id (a saved calendar) or calendar (one being edited)")
		return
	}
	from := time.Now()
	if in.From != nil {
		from = *in.From
	}
	days, n := in.Days, in.Transitions
	if days == 0 {
		days = 7
	}
	if in.Transitions == 0 {
		n = 10
	}
	if days < 1 || days > 62 || n < 0 || n > 50 {
		fail(c, http.StatusBadRequest, "days is 1..62 and transitions 0..50")
		return
	}
	preview, err := calendar.Preview(cal, from, days)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	open, trs, _ := calendar.Transitions(cal, from, n)
	c.JSON(http.StatusOK, CalendarPreview{OpenNow: open, TimeZone: cal.TimeZone, Days: preview, Transitions: trs})
}

// HolidayRules answers GET /api/v1/calendars/holidays: rules to add to a
// calendar, and what was left out.
type HolidayRules struct {
	Rules []calendar.Rule `json:"rules"`
	Note  string          `json:"note,omitempty"`
}

// holidays answers a country's public holidays as calendar rules, for
// the editor to add (country jp; from a year, for 1..10 years).
func (s *Server) holidays(c *gin.Context) {
	from, years := time.Now().Year(), 3
	for _, q := range []struct {
		name string
		v    *int
	}{{"from", &from}, {"years", &years}} {
		if raw := c.Query(q.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				fail(c, http.StatusBadRequest, q.name+": a whole number")
				return
			}
			*q.v = n
		}
	}
	rules, note, err := calendar.Holidays(c.DefaultQuery("country", "jp"), from, years)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	c.JSON(http.StatusOK, HolidayRules{Rules: rules, Note: note})
}

// decodeStrict decodes a JSON body refusing unknown fields: a misspelt
// rule or target silently ignored would change what is open or muted.
func decodeStrict(c *gin.Context, v any, what string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 256<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(c, http.StatusBadRequest, "bad "+what+": "+err.Error())
		return false
	}
	return true
}
