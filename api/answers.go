package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/store"
)

// Error codes in every error answer ({"error": "...", "code": "..."}), so
// a client can tell what to do without parsing the message.
const (
	// CodeNotActive: this appliance does not take writes now; nothing was
	// done. Retry after Retry-After, at the active named in the answer.
	CodeNotActive = "not_active"
	// CodeUnavailable: this appliance cannot read what the request needs
	// now (its store is being re-formed, recovered, or is stale); nothing
	// was done and the caller's session is not in question. Retry.
	CodeUnavailable = "unavailable"
	// CodeOutcomeUnknown: the write may or may not have been stored (the
	// appliance lost the active role while committing it). Retry it with
	// the same idempotency key: it is then stored at most once.
	CodeOutcomeUnknown = "outcome_unknown"
	// CodeKeyReused: an Idempotency-Key came back with a different request.
	CodeKeyReused = "idempotency_key_reused"
	// CodeKeyInFlight: a request with this Idempotency-Key is being served.
	CodeKeyInFlight = "idempotency_key_in_flight"
)

// codes name the other answers by status.
var codes = map[int]string{
	http.StatusBadRequest: "bad_request", http.StatusUnauthorized: "unauthenticated", http.StatusForbidden: "forbidden",
	http.StatusNotFound: "not_found", http.StatusConflict: "conflict", http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnprocessableEntity: "unprocessable", http.StatusTooManyRequests: "too_many_requests",
	http.StatusInternalServerError: "internal", http.StatusServiceUnavailable: CodeUnavailable,
	http.StatusInsufficientStorage: "insufficient_storage", http.StatusBadGateway: "bad_gateway",
}

func fail(c *gin.Context, status int, msg string) { failCode(c, status, codes[status], msg) }

func failCode(c *gin.Context, status int, code, msg string) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1") // every 503 says when to retry (the OpenAPI document promises it)
	}
	c.AbortWithStatusJSON(status, gin.H{"error": msg, "code": code})
}

// unavailable answers 503 with the code, Retry-After, and where the active
// is (Location, active_id, active_api), when this appliance knows.
func (s *Server) unavailable(c *gin.Context, code, msg string) {
	body := gin.H{"error": msg, "code": code, "role": s.cluster.Role()}
	local, api, id := s.cluster.ActiveTarget()
	switch {
	case local:
		body["active_id"] = s.pairing.SelfID()
	case api != "":
		body["active_id"], body["active_api"] = id, []string{api}
		c.Header("Location", "https://"+api+c.Request.URL.RequestURI())
	}
	c.Header("Retry-After", "1")
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, body)
}

// notActive tells the client that this appliance takes no writes now,
// and which one does.
func (s *Server) notActive(c *gin.Context) {
	switch r := s.cluster.Role(); r {
	case ha.Active:
		// The store refused although the role still says active: the
		// role is being given up (peer lost, fenced, split brain) or the
		// store is being re-formed.
		s.unavailable(c, CodeNotActive, "this appliance is giving up or re-forming the active role right now: retry in a moment (the answer names the active when one is known)")
	default:
		s.unavailable(c, CodeNotActive, "this appliance is "+string(r)+", not active: send writes to the active appliance")
	}
}

// authoritative says whether this appliance's store can be trusted to
// say "no such session" or "no such user": an active or standby. A
// starting, fenced, stale or recovering appliance may lack what the
// active wrote since (or hold no tables at all).
func (s *Server) authoritative() bool {
	r := s.cluster.Role()
	return r == ha.Active || r == ha.Standby
}

// storeFail answers a failed store operation for what it is.
func (s *Server) storeFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrOutcomeUnknown):
		s.unavailable(c, CodeOutcomeUnknown, err.Error()+": retry with the same idempotency key (the event uid, or the Idempotency-Key header) and it is stored at most once")
	case errors.Is(err, store.ErrNotLeader):
		s.notActive(c)
	case errors.Is(err, store.ErrStatement) && strings.Contains(err.Error(), "idempotency_keys"):
		failCode(c, http.StatusConflict, CodeKeyInFlight, "a request with this Idempotency-Key is being served or was just served: retry it to get its answer")
	case errors.Is(err, store.ErrClosed), !s.authoritative():
		s.unavailable(c, CodeUnavailable, "this appliance cannot read its store right now ("+err.Error()+"): retry in a moment")
	case errors.Is(err, store.ErrStatement):
		// The statement's text and the database's words are for the
		// log, not for whoever sent the request.
		s.log.Error("statement failed", "route", c.FullPath(), "err", err)
		fail(c, http.StatusInternalServerError, "internal error: the appliance's log has the details")
	default:
		fail(c, http.StatusInternalServerError, err.Error())
	}
}
