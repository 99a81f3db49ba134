// Package api is mamori's HTTPS API: cluster status, events, pairing, and
// the node-to-node routes (heartbeats, event hand-over, recovery) that only
// a certificate of this pair may call. gin stays inside this package.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/calendar"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/maintenance"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/metrics"
)

// Cluster is the HA controller as the API sees it.
type Cluster interface {
	// Status is this node's view of the pair.
	Status(ctx context.Context) ha.Status
	// Heartbeat answers the peer's heartbeat.
	Heartbeat(in ha.Beat) ha.Beat
	// Recover rejoins the active as standby.
	Recover(ctx context.Context) error
	// Switchover moves the active role to the other appliance on purpose.
	Switchover(ctx context.Context, timeout time.Duration) (ha.SwitchoverReport, error)
	// PeerLeaving notes that the standby is stopping on purpose.
	PeerLeaving(id string) error
	// Role is this appliance's role (cheap).
	Role() ha.Role
	// ActiveTarget says where the active is: here, or the peer's API
	// address and node id, or unknown.
	ActiveTarget() (local bool, peerAPI, peerID string)
}

// Pairing issues codes and admits a joining appliance.
type Pairing interface {
	// Join redeems a pairing code and returns the joiner's identity.
	Join(ctx context.Context, req pairing.JoinRequest) (pairing.JoinResponse, error)
	// NewCode issues a one-time pairing code.
	NewCode(ttl time.Duration) (code string, expires time.Time, err error)
	// IsPairAppliance says whether a verified client certificate is one
	// of this pair's appliances: issued for the appliance role, under the
	// id of this appliance or its current peer.
	IsPairAppliance(p pairing.Peer) bool
	// SelfID is this appliance's node id.
	SelfID() string
	// Fingerprint is the pair CA fingerprint.
	Fingerprint() string
}

// Options configure the server.
type Options struct {
	Listen string
	// RedirectListen, if set, serves plain HTTP that only redirects to HTTPS.
	RedirectListen string
	TLS            *tls.Config
	Registry       *prometheus.Registry
	// Secrets seals credentials at rest.
	Secrets *secrets.Box
	// Ingestor stores batches forwarded by the peer's spool.
	Ingestor *pipeline.Ingestor
	// IngestStatus reports the local spool and forwarder (for /api/v1/cluster).
	IngestStatus func() pipeline.Status
	// Spool takes custom events posted to this appliance, durably.
	Spool interface {
		AppendDurable([][]byte) (int, error)
	}
	// RefusalWindow is how long refused attempts are counted before
	// their aggregate rows are written (default 1 minute).
	RefusalWindow time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout bound a request's
	// reading, its answer's writing and a keep-alive connection's wait
	// (defaults 1m, 2m, 2m).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns and MaxConnsPerSource bound open connections (defaults
	// 4096 and 256).
	MaxConns, MaxConnsPerSource int
	// MetricsToken, if set, is a bearer token that may read /metrics.
	MetricsToken string
	// PeerAPI, if set, gives the peer appliance's API addresses: its web
	// console may call this appliance after a failover (cors.go).
	PeerAPI func() []string
	// Console is the web console's files (index.html at the root), served
	// for paths outside the route table; nil serves none.
	Console fs.FS
	// Setup is the first-boot wizard's side of the appliance; nil
	// answers its routes with 404.
	Setup Setup
	// Monitors (issue 12 core): Kinds lists the monitor kinds (nil:
	// pollers/kinds.All); Status is the runner's latest results on the
	// active (nil: the replicated status rows only).
	Kinds  func() []check.Kind
	Status StatusSource
	// Schedule part (issue 12): the calendar cache and the maintenance
	// checker the monitor runner and the notifier share, invalidated by
	// the API's writes; nil: the server makes its own over the store.
	Calendars   *calendar.Cache
	Maintenance *maintenance.Checker
	// notify (issue 12): Notifier sends test notifications; nil answers them 503.
	Notifier *notify.Notifier
	// issue 12, metrics: the series store of numeric results (nil: its
	// routes answer 503) and, optionally, a monitor's thresholds for graphs.
	Metrics          *metrics.Writer
	MetricThresholds metricThresholdsFunc
	// Snapshot writes a consistent copy of this appliance's store (a
	// SQLite file) for `mamori backup`; nil answers its route 503.
	Snapshot func(w io.Writer) error
}

// Bounds of every request and answer.
const (
	maxHeaderBytes = 64 << 10 // request line and headers
	maxAnswerBytes = 4 << 20  // rows in one list answer (more: a cursor)
)

// Server is the API server.
type Server struct {
	opts    Options
	log     *slog.Logger
	cluster Cluster
	pairing Pairing
	events  Store
	auth    *auth.Service
	// refusals aggregates refused attempts into the audit log.
	refusals *auth.Refusals
	ln       net.Listener
	redir    net.Listener
	srv      *http.Server
	openapi  openAPIDoc
	// streams counts open live streams; closing ends them when the
	// server shuts down (Shutdown waits for no streaming answer).
	streams      atomic.Int64
	closing      chan struct{}
	streamTiming streamTiming
	calendars    *calendar.Cache
	maintenance  *maintenance.Checker
}

// Store is the data store as the API sees it.
type Store interface {
	events.Store
	// Checksums returns row counts and checksums per table of the local copy.
	Checksums(ctx context.Context) (map[string]string, error)
}

// New returns a server; it does no I/O.
func New(opts Options, c Cluster, p Pairing, ev Store, au *auth.Service, logger *slog.Logger) *Server {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.RefusalWindow, time.Minute}, {&opts.ReadTimeout, time.Minute}, {&opts.WriteTimeout, 2 * time.Minute}, {&opts.IdleTimeout, 2 * time.Minute}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4096
	}
	if opts.MaxConnsPerSource <= 0 {
		opts.MaxConnsPerSource = 256
	}
	s := &Server{opts: opts, log: logger.With("component", "api"), cluster: c, pairing: p, events: ev, auth: au, closing: make(chan struct{})}
	s.refusals = auth.NewRefusals(opts.RefusalWindow, s.appendAudit)
	s.calendars, s.maintenance = opts.Calendars, opts.Maintenance
	if s.calendars == nil {
		s.calendars = calendar.NewCache(ev)
	}
	if s.maintenance == nil {
		s.maintenance = maintenance.NewChecker(ev, s.calendars)
	}
	return s
}

// Listen binds the port, reporting a bind error at once.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("api port %s: %w", s.opts.Listen, err)
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mamori_api_connections_refused_total",
		Help: "API connections closed at once because too many were open (reason: total, per_source)."}, []string{"reason"})
	if s.opts.Registry != nil {
		if err := s.opts.Registry.Register(refused); err != nil {
			ln.Close()
			return err
		}
	}
	s.ln = newLimitListener(ln, s.opts.MaxConns, s.opts.MaxConnsPerSource, func(reason string) { refused.WithLabelValues(reason).Inc() })
	if s.opts.RedirectListen != "" {
		if s.redir, err = net.Listen("tcp", s.opts.RedirectListen); err != nil {
			ln.Close()
			return fmt.Errorf("redirect port %s: %w", s.opts.RedirectListen, err)
		}
	}
	return nil
}

// redirect answers every plain-HTTP request with a redirect to HTTPS.
func (s *Server) redirect() http.Handler {
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		http.Redirect(w, r, "https://"+net.JoinHostPort(host, port)+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	// Every connection is bounded in time (headers, whole request,
	// answer, idle keep-alive) and size (headers; bodies per route).
	s.srv = &http.Server{Handler: s.routes(), TLSConfig: s.opts.TLS, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: s.opts.ReadTimeout, WriteTimeout: s.opts.WriteTimeout, IdleTimeout: s.opts.IdleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)} // TLS handshake refusals are worth a warning
	s.srv.RegisterOnShutdown(func() { close(s.closing) })
	errc := make(chan error, 2)
	go func() { errc <- s.srv.Serve(tls.NewListener(s.ln, s.opts.TLS)) }()
	rctx, stopRefusals := context.WithCancel(context.WithoutCancel(ctx))
	refusalsDone := make(chan struct{})
	go func() { _ = s.refusals.Run(rctx); close(refusalsDone) }()
	// After the server: refusals of the last requests are counted too.
	defer func() { stopRefusals(); <-refusalsDone }()
	var redir *http.Server
	if s.redir != nil {
		redir = &http.Server{Handler: s.redirect(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- redir.Serve(s.redir) }()
		defer redir.Close()
	}
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

// Access says who may call a route.
type Access string

// Access kinds.
const (
	Public Access = "public" // anyone, including anonymous callers
	User   Access = "user"   // any logged-in user (or this pair's node certificate)
	Priv   Access = "priv"   // a user holding Route.Function/Route.Action
	Node   Access = "node"   // a node certificate of this pair only
	Self   Access = "self"   // this appliance's own certificate only (the CLI)
	// Metrics: a node certificate of this pair, the metrics bearer token
	// (api.metrics_token_file), or a user holding Route.Function/Action.
	Metrics Access = "metrics"
)

// Route is one entry of the route table. Every route declares its rule
// here; the privilege-matrix test is built from this table, so a route
// without a rule fails it.
type Route struct {
	Method, Path string
	Access       Access
	Function     auth.Function
	Action       auth.Action
	// Audited routes leave one audit row per call (state changes,
	// denied attempts). Login and logout write their own.
	Audited bool
	Handler gin.HandlerFunc
}

// Routes is the route table (exported for the privilege-matrix test).
func (s *Server) Routes() []Route { return s.table() }

func (s *Server) table() []Route {
	return []Route{
		{http.MethodGet, "/healthz", Public, "", "", false, s.health},
		{http.MethodGet, "/metrics", Metrics, auth.Cluster, auth.Read, false, s.metrics()},
		{http.MethodGet, OpenAPIPath, Public, "", "", false, s.openAPI},
		{http.MethodPost, "/api/v1/login", Public, "", "", false, s.login},
		{http.MethodPost, "/api/v1/pair/join", Public, "", "", true, s.pairJoin},
		{http.MethodGet, "/api/v1/setup", Public, "", "", false, s.setupStatus},
		{http.MethodPost, "/api/v1/setup/token", Public, "", "", true, s.setupToken},
		{http.MethodPost, "/api/v1/setup/admin", Public, "", "", true, s.setupAdmin},
		{http.MethodPost, "/api/v1/setup/pair/preview", Public, "", "", true, s.setupPairPreview},
		{http.MethodPost, "/api/v1/setup/pair/join", Public, "", "", true, s.setupPairJoin},
		{http.MethodPost, "/api/v1/pair/code", Priv, auth.Cluster, auth.Modify, true, s.newPairCode},
		{http.MethodPost, "/api/v1/logout", User, "", "", false, s.logout},
		{http.MethodPost, "/api/v1/logout/everywhere", User, "", "", true, s.logoutEverywhere},
		{http.MethodGet, "/api/v1/me", User, "", "", false, s.me},
		{http.MethodPost, "/api/v1/tokens", User, "", "", true, s.newToken},
		{http.MethodGet, "/api/v1/tokens", User, "", "", false, s.listTokens},
		{http.MethodDelete, "/api/v1/tokens/:id", User, "", "", true, s.revokeToken},
		{http.MethodPost, "/api/v1/me/totp", User, "", "", true, s.enrolTOTP},
		{http.MethodPost, "/api/v1/me/totp/confirm", User, "", "", true, s.confirmTOTP},
		{http.MethodGet, "/api/v1/cluster", Priv, auth.Cluster, auth.Read, false, s.clusterStatus},
		{http.MethodGet, "/api/v1/stream", User, "", "", false, s.stream},
		{http.MethodPost, "/api/v1/session/failover", User, "", "", false, s.sessionFailover},
		{http.MethodGet, "/api/v1/cluster/checksums", Priv, auth.Cluster, auth.Read, false, s.checksums},
		{http.MethodPost, "/api/v1/cluster/switchover", Priv, auth.Cluster, auth.Modify, true, s.switchover},
		{http.MethodGet, "/api/v1/events", Priv, auth.MonitorResult, auth.Read, false, s.listEvents},
		{http.MethodPost, "/api/v1/events", Priv, auth.MonitorResult, auth.Add, true, s.postEvents},
		{http.MethodGet, "/api/v1/events/count", Priv, auth.MonitorResult, auth.Read, false, s.countEvents},
		{http.MethodGet, "/api/v1/events/:id", Priv, auth.MonitorResult, auth.Read, false, s.getEvent},
		{http.MethodPost, "/api/v1/events/state", Priv, auth.MonitorResult, auth.Modify, true, s.setEventState},
		{http.MethodPost, "/api/v1/events/:id/comments", Priv, auth.MonitorResult, auth.Modify, true, s.commentEvent},
		{http.MethodGet, "/api/v1/credentials", Priv, auth.MonitorSetting, auth.Read, false, s.listCredentials},
		{http.MethodPost, "/api/v1/credentials", Priv, auth.MonitorSetting, auth.Add, true, s.putCredential},
		{http.MethodGet, "/api/v1/nodes", Priv, auth.Inventory, auth.Read, false, s.listNodes},
		{http.MethodPost, "/api/v1/nodes", Priv, auth.Inventory, auth.Add, true, s.putNode},
		{http.MethodPost, "/api/v1/nodes/:id/snmp/get", Priv, auth.MonitorResult, auth.Execute, true, s.snmpGet},
		{http.MethodGet, "/api/v1/scopes", Priv, auth.Inventory, auth.Read, false, s.listScopes},
		{http.MethodGet, "/api/v1/users", Priv, auth.Users, auth.Read, false, s.listUsers},
		{http.MethodPost, "/api/v1/users", Priv, auth.Users, auth.Add, true, s.createUser},
		{http.MethodDelete, "/api/v1/users/:name", Priv, auth.Users, auth.Modify, true, s.deleteUser},
		{http.MethodGet, "/api/v1/roles", Priv, auth.Users, auth.Read, false, s.listRoles},
		{http.MethodPost, "/api/v1/roles", Priv, auth.Users, auth.Add, true, s.createRole},
		{http.MethodGet, "/api/v1/audit", Priv, auth.Audit, auth.Read, false, s.listAudit},
		{http.MethodGet, "/api/v1/audit/verify", Priv, auth.Audit, auth.Read, false, s.verifyAudit},
		{http.MethodPost, ha.HeartbeatPath, Node, "", "", false, s.heartbeat},
		{http.MethodPost, ha.EventsPath, Node, "", "", false, s.peerEvents},
		{http.MethodPost, ha.SwitchoverPath, Node, "", "", true, s.switchover},
		{http.MethodPost, ha.LeavePath, Node, "", "", true, s.peerLeaving},
		{http.MethodPost, pipeline.IngestPath, Node, "", "", false, s.ingestBatch},
		{http.MethodGet, "/api/v1/syslog", Priv, auth.MonitorResult, auth.Read, false, s.listSyslog},
		{http.MethodGet, "/api/v1/traps", Priv, auth.MonitorResult, auth.Read, false, s.listTraps},
		{http.MethodPost, "/api/v1/custom-events", Priv, auth.MonitorResult, auth.Add, true, s.postCustomEvents},
		{http.MethodGet, "/api/v1/custom-events", Priv, auth.MonitorResult, auth.Read, false, s.listCustomEvents},
		{http.MethodGet, "/api/v1/rules", Priv, auth.MonitorSetting, auth.Read, false, s.listRules},
		{http.MethodPost, "/api/v1/rules", Priv, auth.MonitorSetting, auth.Add, true, s.putRule},
		{http.MethodDelete, "/api/v1/rules/:id", Priv, auth.MonitorSetting, auth.Modify, true, s.deleteRule},
		// Monitors and their status (issue 12 core).
		{http.MethodGet, "/api/v1/monitor-kinds", Priv, auth.MonitorSetting, auth.Read, false, s.listMonitorKinds},
		{http.MethodGet, "/api/v1/monitors", Priv, auth.MonitorSetting, auth.Read, false, s.listMonitors},
		{http.MethodPost, "/api/v1/monitors", Priv, auth.MonitorSetting, auth.Add, true, s.putMonitor},
		{http.MethodPost, "/api/v1/monitors/test", Priv, auth.MonitorSetting, auth.Execute, true, s.testMonitor},
		{http.MethodGet, "/api/v1/monitors/:id", Priv, auth.MonitorSetting, auth.Read, false, s.getMonitor},
		{http.MethodDelete, "/api/v1/monitors/:id", Priv, auth.MonitorSetting, auth.Modify, true, s.deleteMonitor},
		{http.MethodGet, "/api/v1/status", Priv, auth.MonitorResult, auth.Read, false, s.listStatus},
		// Schedule part (issue 12): calendars and maintenance windows.
		{http.MethodGet, "/api/v1/calendars", Priv, auth.Calendars, auth.Read, false, s.listCalendars},
		{http.MethodPost, "/api/v1/calendars", Priv, auth.Calendars, auth.Add, true, s.putCalendar},
		{http.MethodPost, "/api/v1/calendars/preview", Priv, auth.Calendars, auth.Read, false, s.previewCalendar},
		{http.MethodGet, "/api/v1/calendars/holidays", Priv, auth.Calendars, auth.Read, false, s.holidays},
		{http.MethodGet, "/api/v1/calendars/:id", Priv, auth.Calendars, auth.Read, false, s.getCalendar},
		{http.MethodDelete, "/api/v1/calendars/:id", Priv, auth.Calendars, auth.Modify, true, s.deleteCalendar},
		{http.MethodGet, "/api/v1/maintenance", Priv, auth.MonitorSetting, auth.Read, false, s.listWindows},
		{http.MethodPost, "/api/v1/maintenance", Priv, auth.MonitorSetting, auth.Add, true, s.putWindow},
		{http.MethodGet, "/api/v1/maintenance/active", Priv, auth.MonitorSetting, auth.Read, false, s.maintenanceActive},
		{http.MethodPost, "/api/v1/maintenance/mute", Priv, auth.MonitorSetting, auth.Add, true, s.mute},
		{http.MethodGet, "/api/v1/maintenance/:id", Priv, auth.MonitorSetting, auth.Read, false, s.getWindow},
		{http.MethodDelete, "/api/v1/maintenance/:id", Priv, auth.MonitorSetting, auth.Modify, true, s.deleteWindow},
		{http.MethodPost, "/api/v1/maintenance/:id/end", Priv, auth.MonitorSetting, auth.Modify, true, s.endWindow},
		// notify (issue 12): notification channels, rules, test send, log.
		{http.MethodGet, "/api/v1/notify/channels", Priv, auth.Notifications, auth.Read, false, s.listNotifyChannels},
		{http.MethodPost, "/api/v1/notify/channels", Priv, auth.Notifications, auth.Add, true, s.putNotifyChannel},
		{http.MethodDelete, "/api/v1/notify/channels/:id", Priv, auth.Notifications, auth.Modify, true, s.deleteNotifyChannel},
		{http.MethodPost, "/api/v1/notify/channels/test", Priv, auth.Notifications, auth.Execute, true, s.testNotifyChannel},
		{http.MethodGet, "/api/v1/notify/rules", Priv, auth.Notifications, auth.Read, false, s.listNotifyRules},
		{http.MethodPost, "/api/v1/notify/rules", Priv, auth.Notifications, auth.Add, true, s.putNotifyRule},
		{http.MethodDelete, "/api/v1/notify/rules/:id", Priv, auth.Notifications, auth.Modify, true, s.deleteNotifyRule},
		{http.MethodGet, "/api/v1/notify/log", Priv, auth.Notifications, auth.Read, false, s.notifyLog},
		// issue 12, metrics
		{http.MethodGet, "/api/v1/metrics", Priv, auth.MonitorResult, auth.Read, false, s.getMetrics},
		{http.MethodGet, "/api/v1/metrics/series", Priv, auth.MonitorResult, auth.Read, false, s.listMetricSeries},
		{http.MethodPost, "/api/v1/metrics", Priv, auth.MonitorResult, auth.Add, true, s.postMetrics},
		{http.MethodPost, "/internal/v1/recover", Self, "", "", true, s.recover},
		{http.MethodPost, "/internal/v1/switchover", Self, "", "", true, s.switchover},
		{http.MethodPost, "/internal/v1/pair/code", Self, "", "", true, s.pairCode},
		{http.MethodPost, "/internal/v1/admin", Self, "", "", true, s.createAdmin},
		{http.MethodGet, "/internal/v1/backup/store", Self, "", "", true, s.backupStore},
	}
}

// metrics serves the registry (a nil registry, as in the route table of
// the privilege-matrix test, serves nothing).
func (s *Server) metrics() gin.HandlerFunc {
	if s.opts.Registry == nil {
		return func(c *gin.Context) { c.Status(http.StatusNoContent) }
	}
	return gin.WrapH(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))
}

func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	_ = r.SetTrustedProxies(nil) // the source address in the audit log is the peer's, never a header
	r.Use(gin.Recovery(), s.securityHeaders)
	for _, rt := range s.table() {
		// audit wraps authentication and authorization, so refused
		// attempts are recorded too.
		r.Handle(rt.Method, rt.Path, s.audit(rt), s.authenticate(rt), s.authorize(rt), s.idempotent(rt), rt.Handler)
	}
	// Paths the table does not know are the web console's (its files and
	// client-side routes), except under /api/ and /internal/.
	r.NoRoute(s.console)
	// Browsers must not be able to make a logged-in operator's browser
	// change anything from another site.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginRefused))
	// The peer appliance's console is the one other origin allowed.
	return s.cors(r, cop.Handler(r))
}
