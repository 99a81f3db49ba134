package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/ha"
)

// SwitchoverRequest is the body of a switchover request (optional).
type SwitchoverRequest struct {
	// TimeoutMs bounds the hand-over (default 60000, at most 600000).
	TimeoutMs int64 `json:"timeout_ms,omitempty"`
}

// switchover moves the active role to the other appliance on purpose
// (`mamori switchover`, the console's button, or the standby asking the
// active to hand over). It answers once the roles have changed.
func (s *Server) switchover(c *gin.Context) {
	var in SwitchoverRequest
	if c.Request.ContentLength > 0 && !decodeStrict(c, &in, `switchover request (expected {"timeout_ms": N} or no body)`) {
		return
	}
	timeout := time.Minute
	if in.TimeoutMs > 0 {
		timeout = min(time.Duration(in.TimeoutMs)*time.Millisecond, 10*time.Minute)
	}
	c.Set(ctxDetail, "planned switchover")
	rep, err := s.cluster.Switchover(c.Request.Context(), timeout)
	switch {
	case err == nil:
		c.JSON(http.StatusOK, rep)
	case errors.Is(err, ha.ErrNotPaired), errors.Is(err, ha.ErrNotReady), errors.Is(err, ha.ErrSwitching):
		fail(c, http.StatusConflict, err.Error())
	default:
		fail(c, http.StatusServiceUnavailable, err.Error())
	}
}
