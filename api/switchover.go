package api

import (
	"errors"
	"net/http"
	"strings"
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

// LeaveNotice is the standby's notice that it is stopping.
type LeaveNotice struct {
	ID string `json:"id"`
}

// LeaveAnswer says the active took note of the standby stopping.
type LeaveAnswer struct {
	// Noted: the active re-forms the store alone as soon as the
	// standby's store is gone (not after the detection time).
	Noted bool `json:"noted"`
}

// peerLeaving: the standby says it is stopping on purpose (systemctl
// stop, a package upgrade). Only the peer itself may say so.
func (s *Server) peerLeaving(c *gin.Context) {
	p, _ := principal(c)
	var in LeaveNotice
	if !decodeStrict(c, &in, `leave notice (expected {"id": NODE})`) {
		return
	}
	if in.ID != strings.TrimPrefix(p.User, "node:") {
		fail(c, http.StatusForbidden, "only the appliance itself may say it is stopping")
		return
	}
	if err := s.cluster.PeerLeaving(in.ID); err != nil {
		fail(c, http.StatusConflict, err.Error())
		return
	}
	c.JSON(http.StatusOK, LeaveAnswer{Noted: true})
}
