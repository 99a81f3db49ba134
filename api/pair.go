package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
)

// pairJoin admits a joining appliance that presents a valid one-time code.
func (s *Server) pairJoin(c *gin.Context) {
	var req pairing.JoinRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 64<<10)).Decode(&req); err != nil {
		fail(c, http.StatusBadRequest, "bad join request: "+err.Error())
		return
	}
	resp, err := s.pairing.Join(c.Request.Context(), req)
	switch {
	case err == nil:
		c.JSON(http.StatusOK, resp)
	case errors.Is(err, pairing.ErrCodeUnknown), errors.Is(err, pairing.ErrCodeExpired), errors.Is(err, pairing.ErrCodeUsed):
		// The audit log has the attempt (aggregated); a log line each
		// would let anyone fill the disk.
		s.log.Debug("pairing code refused", "remote", c.ClientIP(), "node", req.Node.ID, "err", err)
		fail(c, http.StatusForbidden, err.Error()+": run `mamori pair init` on this appliance for a new code")
	case errors.Is(err, ha.ErrPaired):
		fail(c, http.StatusConflict, err.Error())
	case errors.Is(err, pairing.ErrBadRequest):
		fail(c, http.StatusBadRequest, err.Error())
	default:
		fail(c, http.StatusInternalServerError, err.Error())
	}
}

// pairCode issues a one-time pairing code (CLI on the appliance itself).
func (s *Server) pairCode(c *gin.Context) {
	var in PairCodeRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 4<<10)).Decode(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	code, exp, err := s.pairing.NewCode(time.Duration(in.TTLSeconds) * time.Second)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	c.JSON(http.StatusOK, PairCode{Code: code, Expires: exp, CAFingerprint: s.pairing.Fingerprint()})
}
