package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

const (
	ctxPrincipal  = "principal"
	ctxToken      = "token"
	ctxDetail     = "audit_detail"
	sessionCookie = "mamori_session"
)

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "no-store")
}

// authenticate finds the caller: a node certificate of this pair, else a
// bearer token or session cookie. Node and self routes need the certificate.
func (s *Server) authenticate(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		nodeID, certErr := peerID(c.Request)
		switch rt.Access {
		case Node, Self:
			switch {
			case certErr != nil:
				fail(c, http.StatusUnauthorized, "this route needs a node certificate of this pair")
			case rt.Access == Self && nodeID != s.pairing.SelfID():
				fail(c, http.StatusForbidden, "only this appliance's own certificate may call this route: run the command on the appliance itself")
			case !s.pairing.IsPairNode(nodeID):
				fail(c, http.StatusForbidden, "certificate "+nodeID+" is not a node of this pair")
			default:
				c.Set(ctxPrincipal, auth.SystemPrincipal(nodeID))
			}
			return
		}
		if certErr == nil && s.pairing.IsPairNode(nodeID) {
			c.Set(ctxPrincipal, auth.SystemPrincipal(nodeID))
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

// authorize checks the route's privilege.
func (s *Server) authorize(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if rt.Access != Priv {
			return
		}
		p, _ := principal(c)
		if !p.Can(rt.Function, rt.Action) {
			fail(c, http.StatusForbidden, fmt.Sprintf("your roles do not allow %s on %s: ask an administrator", rt.Action, rt.Function))
		}
	}
}

// audit writes one row per call of an audited route, after the handler
// (or the authorization that refused it) has decided the result.
func (s *Server) audit(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !rt.Audited {
			return
		}
		c.Next()
		p, _ := principal(c)
		s.writeAudit(c, p.User, rt.Method+" "+rt.Path, c.Request.URL.Path, fmt.Sprint(c.Writer.Status()), c.GetString(ctxDetail))
	}
}

func (s *Server) writeAudit(c *gin.Context, user, action, object, result, detail string) {
	e := auth.Entry{At: time.Now().UTC(), User: user, Source: sourceIP(c.Request), UserAgent: c.Request.UserAgent(), Action: action,
		Object: object, Result: result, Detail: detail}
	err := s.auth.Audit.Append(c.Request.Context(), e)
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
	s.log.Warn("audit row not written", "action", action, "user", user, "err", err)
}

func sourceIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
