package api

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// The web console of one appliance calls the other after a failover
// (ui/src/live/failover.ts). The other appliance therefore answers
// cross-origin requests from its peer's console origins — https:// and
// each of the peer's API addresses — and from no other origin: the
// CORS headers name that origin only, the CSP's connect-src names those
// origins only, and every other cross-origin request meets
// http.CrossOriginProtection as before. Those calls carry the session as
// a bearer token (a cookie is per origin), never a cookie, so CORS needs
// no credentials and a page of the peer's origin cannot ride on an
// operator's cookie here.

// peerOrigins are the console origins of the peer appliance.
func (s *Server) peerOrigins() []string {
	if s.opts.PeerAPI == nil {
		return nil
	}
	var out []string
	for _, a := range s.opts.PeerAPI() {
		if o := originOf(a); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// originOf is the browser's spelling of https://addr (no :443).
func originOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return ""
	}
	if port == "443" {
		port = ""
	}
	h := host
	if strings.Contains(host, ":") {
		h = "[" + host + "]"
	}
	if port != "" {
		h += ":" + port
	}
	return "https://" + strings.ToLower(h)
}

// corsHeaders are the request headers the console sends cross-origin.
const corsHeaders = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"

// cors answers the peer console's requests (preflights included) and
// passes every other request to guarded (the cross-origin protection).
func (s *Server) cors(api, guarded http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !slices.Contains(s.peerOrigins(), origin) {
			guarded.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Retry-After, Location")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// csp is the Content-Security-Policy: contentSecurityPolicy with the
// peer's console origins added to connect-src (and nothing else).
func (s *Server) csp() string {
	peers := s.peerOrigins()
	if len(peers) == 0 {
		return contentSecurityPolicy
	}
	return strings.Replace(contentSecurityPolicy, "connect-src 'self'", "connect-src 'self' "+strings.Join(peers, " "), 1)
}

// sessionFailover gives the console what it needs to go on at the peer
// after a failover: the session as a bearer token (the cookie is
// HttpOnly and per origin; the console keeps the token in memory only)
// and the peer's console origins. A POST, so another site cannot make a
// browser ask for it (http.CrossOriginProtection).
func (s *Server) sessionFailover(c *gin.Context) {
	peers := s.peerOrigins()
	if peers == nil {
		peers = []string{}
	}
	c.JSON(http.StatusOK, SessionFailover{Token: c.GetString(ctxToken), PeerOrigins: peers})
}

// SessionFailover is what the console needs to go on at the peer.
type SessionFailover struct {
	// Token is the session as a bearer token (kept in memory only).
	Token string `json:"token"`
	// PeerOrigins are the peer appliance's console origins (https://host:port).
	PeerOrigins []string `json:"peer_origins"`
}
