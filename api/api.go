// Package api is mamori's HTTPS API: cluster status, events, pairing, and
// the node-to-node routes (heartbeats, event hand-over, recovery) that only
// a certificate of this pair may call. gin stays inside this package.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
)

// Cluster is the HA controller as the API sees it.
type Cluster interface {
	// Status is this node's view of the pair.
	Status(ctx context.Context) ha.Status
	// Heartbeat answers the peer's heartbeat.
	Heartbeat(in ha.Beat) ha.Beat
	// Recover rejoins the active as standby.
	Recover(ctx context.Context) error
}

// Pairing issues codes and admits a joining appliance.
type Pairing interface {
	// Join redeems a pairing code and returns the joiner's identity.
	Join(ctx context.Context, req pairing.JoinRequest) (pairing.JoinResponse, error)
	// NewCode issues a one-time pairing code.
	NewCode(ttl time.Duration) (code string, expires time.Time, err error)
	// IsPairNode says whether a verified certificate CN belongs to this pair.
	IsPairNode(id string) bool
	// SelfID is this appliance's node id.
	SelfID() string
	// Fingerprint is the pair CA fingerprint.
	Fingerprint() string
}

// Options configure the server.
type Options struct {
	Listen   string
	TLS      *tls.Config
	Registry *prometheus.Registry
}

// Server is the API server.
type Server struct {
	opts    Options
	log     *slog.Logger
	cluster Cluster
	pairing Pairing
	events  Store
	ln      net.Listener
	srv     *http.Server
}

// Store is the data store as the API sees it.
type Store interface {
	events.Store
	// Checksums returns row counts and checksums per table of the local copy.
	Checksums(ctx context.Context) (map[string]string, error)
}

// New returns a server; it does no I/O.
func New(opts Options, c Cluster, p Pairing, ev Store, logger *slog.Logger) *Server {
	return &Server{opts: opts, log: logger.With("component", "api"), cluster: c, pairing: p, events: ev}
}

// Listen binds the port, reporting a bind error at once.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("api port %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	s.srv = &http.Server{Handler: s.routes(), TLSConfig: s.opts.TLS, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)} // TLS handshake refusals are worth a warning
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(tls.NewListener(s.ln, s.opts.TLS)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Route is one entry of the route table (also used to build the
// privilege matrix when authorisation arrives).
type Route struct {
	Method, Path string
	// Access says who may call it: "public", "node" (a certificate of
	// this pair) or "self" (this appliance's own certificate: the CLI).
	Access  string
	Handler gin.HandlerFunc
}

func (s *Server) table() []Route {
	return []Route{
		{http.MethodGet, "/healthz", "public", s.health},
		{http.MethodGet, "/metrics", "public", gin.WrapH(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))},
		{http.MethodGet, "/api/v1/cluster", "public", s.clusterStatus},
		{http.MethodGet, "/api/v1/cluster/checksums", "public", s.checksums},
		{http.MethodGet, "/api/v1/events", "public", s.listEvents},
		{http.MethodPost, "/api/v1/events", "public", s.postEvents},
		{http.MethodPost, "/api/v1/pair/join", "public", s.pairJoin},
		{http.MethodPost, ha.HeartbeatPath, "node", s.heartbeat},
		{http.MethodPost, ha.EventsPath, "node", s.peerEvents},
		{http.MethodPost, "/internal/v1/recover", "self", s.recover},
		{http.MethodPost, "/internal/v1/pair/code", "self", s.pairCode},
	}
}

func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	for _, rt := range s.table() {
		r.Handle(rt.Method, rt.Path, s.guard(rt.Access), rt.Handler)
	}
	r.NoRoute(func(c *gin.Context) { fail(c, http.StatusNotFound, "no such route: see /api/v1/cluster") })
	return r
}

// guard checks node and self routes against the verified client certificate.
func (s *Server) guard(access string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if access == "public" {
			return
		}
		id, err := peerID(c.Request)
		switch {
		case err != nil:
			fail(c, http.StatusUnauthorized, "this route needs a node certificate of this pair")
		case access == "self" && id != s.pairing.SelfID():
			fail(c, http.StatusForbidden, "only this appliance's own certificate may call this route: run the command on the appliance itself")
		case access == "node" && !s.pairing.IsPairNode(id):
			fail(c, http.StatusForbidden, "certificate "+id+" is not a node of this pair")
		}
	}
}

func fail(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, gin.H{"error": msg})
}
