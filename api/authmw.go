package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

const (
	ctxPrincipal    = "principal"
	ctxToken        = "token"
	ctxDetail       = "audit_detail"
	ctxAudited      = "audited" // the handler wrote its own audit row
	ctxMetricsToken = "metrics_token"
	sessionCookie   = "mamori_session"
)

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", s.csp())
	h.Set("Cache-Control", "no-store")
}

// authenticate finds the caller: a node certificate of this pair, else a
// bearer token or session cookie. Node and self routes need the certificate.
func (s *Server) authenticate(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		peer, certErr := peerOf(c.Request)
		member := certErr == nil && s.pairing.IsPairAppliance(peer)
		switch rt.Access {
		case Node, Self:
			switch {
			case certErr != nil:
				fail(c, http.StatusUnauthorized, "this route needs a node certificate of this pair")
			case !member:
				fail(c, http.StatusForbidden, "certificate "+peer.ID+" ("+certRoleName(peer.Role)+") is not an appliance of this pair")
			case rt.Access == Self && peer.ID != s.pairing.SelfID():
				fail(c, http.StatusForbidden, "only this appliance's own certificate may call this route: run the command on the appliance itself")
			case rt.Access == Self && rt.Path != "/internal/v1/recover" && s.cluster.Role() == ha.Starting:
				s.stillStarting(c)
			default:
				c.Set(ctxPrincipal, auth.SystemPrincipal(peer.ID))
				if rt.Access == Self {
					// The CLI's operations (recover) may run for minutes.
					_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
				}
			}
			return
		}
		if member {
			c.Set(ctxPrincipal, auth.SystemPrincipal(peer.ID))
			return
		}
		if rt.Access == Metrics && s.isMetricsToken(token(c.Request)) {
			c.Set(ctxPrincipal, auth.Principal{User: "metrics-token"})
			c.Set(ctxMetricsToken, true)
			return
		}
		if tok := token(c.Request); tok != "" {
			p, err := s.session(c.Request.Context(), tok)
			switch {
			case err == nil:
				c.Set(ctxPrincipal, p)
				c.Set(ctxToken, tok)
			case !errors.Is(err, auth.ErrUnauthenticated) && rt.Access != Public:
				// The session may well be valid: this appliance cannot
				// tell now. A 401 would throw an operator out in the
				// middle of a failover.
				s.unavailable(c, CodeUnavailable, "this appliance cannot check sessions right now ("+err.Error()+"): retry in a moment; your session is not in question")
				return
			}
		}
		if _, ok := c.Get(ctxPrincipal); !ok && rt.Access != Public {
			fail(c, http.StatusUnauthorized, auth.ErrUnauthenticated.Error())
		}
	}
}

// session reads the principal of a session or token. "No such session"
// is believed only from an appliance whose store is authoritative; a
// standby that does not know a session yet waits briefly for
// replication (it was perhaps created on the active a moment ago).
func (s *Server) session(ctx context.Context, tok string) (auth.Principal, error) {
	deadline := time.Now().Add(time.Second)
	for {
		p, err := s.auth.Authenticate(ctx, tok)
		if !errors.Is(err, auth.ErrUnauthenticated) {
			return p, err
		}
		switch s.cluster.Role() {
		case ha.Active:
			return p, err
		case ha.Standby:
			if time.Now().After(deadline) || ctx.Err() != nil {
				return p, err
			}
			time.Sleep(100 * time.Millisecond)
		default:
			return p, fmt.Errorf("this appliance is %s and its store may lack recent sessions", s.cluster.Role())
		}
	}
}

func certRoleName(r pairing.CertRole) string {
	if r == pairing.CertLegacy {
		return "issued before certificate roles"
	}
	return "role " + string(r)
}

func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		return ck.Value
	}
	return ""
}

func principal(c *gin.Context) (auth.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return auth.Principal{}, false
	}
	p, ok := v.(auth.Principal)
	return p, ok
}

// isMetricsToken says whether tok is the metrics bearer token.
func (s *Server) isMetricsToken(tok string) bool {
	want := s.opts.MetricsToken
	return want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1
}

// authorize checks the route's privilege.
func (s *Server) authorize(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if rt.Access != Priv && rt.Access != Metrics || c.GetBool(ctxMetricsToken) {
			return
		}
		p, _ := principal(c)
		if !p.Can(rt.Function, rt.Action) {
			fail(c, http.StatusForbidden, fmt.Sprintf("your roles do not allow %s on %s: ask an administrator", rt.Action, rt.Function))
		}
	}
}

// audit records a call once the handler (or the authentication or
// authorization that refused it) has decided the result: one row per
// call of an audited route, and every refused attempt on any route —
// 401, 403, and anything an anonymous caller tried on an audited route
// (pairing) — through the refusal aggregation, so a flood of them adds
// a bounded number of rows. Handlers that write their own rows (login)
// mark the call with ctxAudited.
func (s *Server) audit(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if c.GetBool(ctxAudited) {
			return
		}
		status := c.Writer.Status()
		p, known := principal(c)
		action, result := rt.Method+" "+rt.Path, strconv.Itoa(status)
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden || (rt.Audited && !known && status/100 != 2):
			s.refuse(c.Request, p.User, action, c.Request.URL.Path, result, c.GetString(ctxDetail))
		case rt.Audited:
			s.writeAudit(c, p.User, action, c.Request.URL.Path, result, c.GetString(ctxDetail))
		}
	}
}

// entry is an audit row about request r.
func entry(r *http.Request, user, action, object, result, detail string) auth.Entry {
	return auth.Entry{At: time.Now().UTC(), User: user, Source: sourceIP(r), UserAgent: r.UserAgent(), Action: action,
		Object: object, Result: result, Detail: detail}
}

// writeAudit writes one audit row about the request now.
func (s *Server) writeAudit(c *gin.Context, user, action, object, result, detail string) {
	c.Set(ctxAudited, true)
	s.appendAudit(c.Request.Context(), entry(c.Request, user, action, object, result, detail))
}

// refuse records a refused attempt through the aggregation.
func (s *Server) refuse(r *http.Request, user, action, object, result, detail string) {
	s.refusals.Add(r.Context(), entry(r, user, action, object, result, detail))
}

// refuseLogin records a refused login (the login route writes its own rows).
func (s *Server) refuseLogin(c *gin.Context, user, result string) {
	c.Set(ctxAudited, true)
	s.refuse(c.Request, user, "login", c.Request.URL.Path, result, "")
}

// appendAudit chains e into the audit log, or, where this appliance
// cannot write it, spools it for the active.
func (s *Server) appendAudit(ctx context.Context, e auth.Entry) {
	err := s.auth.Audit.Append(ctx, e)
	if err == nil {
		return
	}
	// Not the active (a refused write, a login attempt on the standby):
	// the ingest spool carries the entry to the active, which chains it.
	if s.opts.Spool != nil {
		rec := pipeline.AuditRecord{ID: randomID(), Entry: e}
		_, serr := s.opts.Spool.AppendDurable([][]byte{rec.Encode()})
		if serr == nil {
			return
		}
		err = fmt.Errorf("%v; spooling it failed too: %v", err, serr)
	}
	s.log.Warn("audit row not written", "action", e.Action, "user", e.User, "err", err)
}

// crossOriginRefused answers (and audits) a request that a browser sent
// on another site's behalf.
func (s *Server) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	s.refuse(r, "", r.Method+" "+r.URL.Path, r.URL.Path, "refused: cross-origin request", "Origin: "+r.Header.Get("Origin")+", Sec-Fetch-Site: "+r.Header.Get("Sec-Fetch-Site"))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(gin.H{"error": "cross-origin request refused: use the console of this appliance", "code": codes[http.StatusForbidden]})
}

func sourceIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// stillStarting answers the CLI's routes while no role is decided: the
// schema is migrated only when this appliance becomes active, so a write
// now would meet missing tables ("no such table: roles"). The CLI waits
// on this answer (Retry-After, role "starting") and then says so.
func (s *Server) stillStarting(c *gin.Context) {
	msg := "starting: schema not ready (the store is open but no role is decided yet"
	if r := s.cluster.Status(c.Request.Context()).Reason; r != "" {
		msg += ": " + r
	}
	c.Header("Retry-After", "1")
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"code": CodeUnavailable, "role": ha.Starting, "error": msg + "); retry in a moment"})
}
