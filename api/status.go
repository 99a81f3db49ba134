package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/status"
)

// StatusSource is the runner's latest results in memory (on the active;
// empty elsewhere).
type StatusSource interface {
	// Rows returns the live rows f selects (the scope list aside).
	Rows(f status.Filter, now time.Time) []status.Row
}

// StatusList answers GET /api/v1/status.
type StatusList struct {
	Rows   []status.Row         `json:"rows"`
	Scopes []status.ScopeRollup `json:"scopes"`
	// More: more rows than one answer holds; narrow the filter.
	More bool `json:"more"`
}

// listStatus answers the latest result per node × monitor (× item) of
// the caller's scopes, with stale ones marked, rolled up per scope. On
// the active the runner's in-memory results overlay the stored rows
// (which are refreshed slowly to spare the replicated store).
func (s *Server) listStatus(c *gin.Context) {
	p, _ := principal(c)
	f := status.Filter{Scope: c.Query("scope"), Node: c.Query("node"), Monitor: c.Query("monitor"), Priority: judge.Priority(c.Query("priority")),
		Scopes: p.Scopes()}
	if f.Priority != "" && !judge.Valid(f.Priority) {
		fail(c, http.StatusBadRequest, "priority: one of critical, unknown, warning, info")
		return
	}
	// The priority is filtered after the live rows replaced the stored
	// ones: a stored row's priority may be one the runner has left.
	want := f.Priority
	f.Priority = ""
	now := time.Now()
	stored, more, err := status.List(c.Request.Context(), s.events, f, now)
	if err != nil {
		s.authFail(c, err)
		return
	}
	var live []status.Row
	if s.opts.Status != nil {
		for _, r := range s.opts.Status.Rows(f, now) {
			if p.Covers(r.Scope) {
				live = append(live, r)
			}
		}
	}
	rows := slices.DeleteFunc(status.Merge(stored, live), func(r status.Row) bool { return want != "" && r.Priority != want })
	c.JSON(http.StatusOK, StatusList{Rows: rows, Scopes: status.Rollup(rows), More: more})
}
