package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/backup"
	"github.com/mamori-ops/mamori/appliance/calendar"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/maintenance"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/internal/config"
	"github.com/mamori-ops/mamori/internal/gcpace"
	"github.com/mamori-ops/mamori/pollers/kinds"
	"github.com/mamori-ops/mamori/pollers/metrics"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/schedule"
	"github.com/mamori-ops/mamori/pollers/status"
	"github.com/mamori-ops/mamori/ui"
)

// loadConfig parses the common flags of every command.
func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	path := fs.String("config", defaultConfigPath(os.Getenv("MAMORI_CONFIG"), fileExists), "configuration file (default: $MAMORI_CONFIG, else "+installedConfig+" if it exists, else built-in defaults)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir)")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, name, args); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(*path)
	if errors.Is(err, os.ErrPermission) {
		return cfg, nil, fmt.Errorf("cannot read %s (permission denied): %s", *path, asServiceUser())
	}
	if err != nil {
		return cfg, nil, err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	return cfg, fs, nil
}

// installedConfig is where the packages install the configuration.
const installedConfig = "/etc/mamori/mamori.yaml"

// defaultConfigPath is the configuration file of a command run without
// --config: $MAMORI_CONFIG, else the installed file if there is one (so
// `mamori status` on an installed appliance needs no flag), else none
// (built-in defaults).
func defaultConfigPath(env string, exists func(string) bool) string {
	if env != "" {
		return env
	}
	if exists(installedConfig) {
		return installedConfig
	}
	return ""
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// asServiceUser says how to run this very command with the rights it
// lacked (the data directory and configuration belong to the mamori user).
func asServiceUser() string {
	return "run as root or as the mamori user: sudo -u mamori mamori " + strings.Join(os.Args[1:], " ")
}

func newLogger(cfg config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// errDataDirInUse: another mamori process (a running `mamori serve`) holds the data directory.
var errDataDirInUse = errors.New("data directory in use")

type inUseError string

func (e inUseError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another mamori process: stop it first", string(e))
}

func (e inUseError) Is(target error) bool { return target == errDataDirInUse }

// prepareDataDir creates the data directory and takes its lock, so two
// processes never share one store.
func prepareDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s cannot be created (%v): create it writable for the mamori user or set data_dir", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return nil, fmt.Errorf("data directory %s is not writable (%v): fix its owner or permissions, or set data_dir", dir, err)
	}
	os.Remove(probe)
	f, err := os.OpenFile(filepath.Join(dir, "mamori.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, inUseError(dir)
	}
	return f, nil
}

func nodeIPs(cfg config.Config) []net.IP {
	ips := []net.IP{net.ParseIP(cfg.Node.Address)}
	for _, a := range cfg.APIAddrs() {
		if h, _, err := net.SplitHostPort(a); err == nil && net.ParseIP(h) != nil {
			ips = append(ips, net.ParseIP(h))
		}
	}
	return ips
}

func serveCmd(ctx context.Context, args []string) error {
	cfg, _, err := loadConfig("serve", args, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	// Capabilities first: a drop starts this binary again.
	if err := trimCapabilities(cfg, log); err != nil {
		return err
	}
	// The ingest path allocates per message; collecting less often (GC
	// percent 300) costs memory the appliance has and saves CPU it needs,
	// but only while the runtime holds less than half the memory budget:
	// past it (a flood) the collector goes back to 100, and the memory
	// limit, 3/4 of the budget, stops the heap short of it (RSS once
	// stayed at 6.5 GiB after a flood). The last quarter is for what is not
	// Go heap: SQLite, the Raft log's mapped file, stacks.
	var pacer *gcpace.Pacer
	if os.Getenv("GOGC") == "" {
		pacer = &gcpace.Pacer{Relaxed: 300, Tight: 100, Threshold: uint64(cfg.Ingest.MemoryBudget / 2), Every: 250 * time.Millisecond}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.Ingest.MemoryBudget / 4 * 3)
	}
	lock, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	fb := &firstBoot{cfg: cfg, log: log.With("component", "setup")}
	err = serve(ctx, cfg, log, pacer, fb)
	if j := fb.pending(); j != nil && errors.Is(err, errReexec) {
		// Every part has stopped and the store is closed: install what
		// the founder gave, then start again as its peer.
		if err := j.Install(); err != nil {
			return fmt.Errorf("install the pairing: %w", err)
		}
		log.Info("pairing installed: starting again as the second appliance of the pair")
	}
	return err
}

// serve runs the appliance until ctx ends or fb re-forms it (errReexec).
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, pacer *gcpace.Pacer, fb *firstBoot) error {
	// Before anything else: no role yet, so no service address.
	serviceAddr, err := releaseServiceAddress(cfg, log)
	if err != nil {
		return err
	}
	// Identity first: every listener below serves with it.
	id := pairing.Identity{Dir: filepath.Join(cfg.DataDir, "tls")}
	if _, err := id.Bootstrap(cfg.Node.ID, nodeIPs(cfg), time.Now()); err != nil {
		return fmt.Errorf("node identity: %w", err)
	}
	skey, err := secrets.EnsureKey(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	box, err := secrets.NewBox(skey)
	if err != nil {
		return err
	}
	members, err := ha.OpenMembers(cfg.DataDir)
	if err != nil {
		return err
	}
	clusterTLS, err := id.ServerConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		return err
	}
	// The store takes only the pair's appliances: a witness's certificate
	// is of the same CA.
	clusterTLS.VerifyConnection = pairing.Members{SelfID: cfg.Node.ID, Pair: members}.VerifyConnection
	clientTLS, err := id.ClientConfig()
	if err != nil {
		return err
	}
	apiTLS, err := id.ServerConfig(tls.VerifyClientCertIfGiven)
	if err != nil {
		return err
	}
	if cfg.API.TLSCert != "" {
		if apiTLS, err = pairing.WithOperatorCert(apiTLS, cfg.Node.ID, cfg.API.TLSCert, cfg.API.TLSKey); err != nil {
			return err
		}
	}
	self := ha.NodeInfo{ID: cfg.Node.ID, ClusterAddr: cfg.ClusterAddr(), APIAddrs: cfg.APIAddrs()}

	st := store.New(store.Options{Dir: filepath.Join(cfg.DataDir, "store"), ID: cfg.Node.ID,
		Listen: cfg.ClusterAddr(), Addr: cfg.ClusterAddr(), ServerTLS: clusterTLS, ClientTLS: clientTLS,
		Tuning: cfg.Store}, log)
	rec := events.NewRecorder(st, cfg.Node.ID)
	authOpts := auth.DefaultOptions()
	authOpts.SessionTTL, authOpts.LockoutFailures = cfg.Auth.SessionTTL, cfg.Auth.LockoutFailures
	authOpts.LockoutWindow, authOpts.LockoutMaxWindow = cfg.Auth.LockoutWindow, cfg.Auth.LockoutMaxWindow
	authOpts.SourceFailures, authOpts.SourceWindow = cfg.Auth.SourceFailures, cfg.Auth.SourceWindow
	if l := cfg.Auth.LDAP; l != nil {
		authOpts.LDAP = &auth.LDAPConfig{URL: l.URL, StartTLS: l.StartTLS, CAFile: l.CAFile, BindDN: l.BindDN,
			BindSecret: func(ctx context.Context) (string, error) { return secrets.Reveal(ctx, st, box, l.BindCredential) },
			UserBase:   l.UserBase, UserFilter: l.UserFilter, GroupBase: l.GroupBase, GroupFilter: l.GroupFilter, GroupRoles: l.GroupRoles}
	}
	authSvc := auth.New(st, authOpts)
	migrations := allMigrations()
	var series *metrics.Writer
	ctl := ha.New(ha.Options{HA: cfg.HA, Self: self, ClientTLS: clientTLS, Events: st, Version: version,
		Migrate:        func(ctx context.Context) error { return st.Migrate(ctx, migrations) },
		BeforeHandOver: func(ctx context.Context) { _ = series.Flush(ctx) }}, st, members, rec, log)
	// Schedule part (issue 12): calendars and maintenance windows, read
	// from the replicated store by every caller through these two caches
	// (the API invalidates them on its writes); the monitor runner and the
	// notifier take them as their Calendar and Maintenance options. A
	// window's state is its row and the clock; the one active-only loop
	// deletes ad hoc mutes a month after they ended.
	calendars := calendar.NewCache(st)
	maint := maintenance.NewChecker(st, calendars)
	ctl.Register("maintenance-prune", workFunc(func(ctx context.Context) error { return maintenance.PruneLoop(ctx, st, log) }))
	ing, err := newIngest(cfg, st, clientTLS, apiTLS, ctl, authSvc.Audit, log)
	if err != nil {
		return err
	}
	ctl.Register("ingest-state", workFunc(func(ctx context.Context) error { ing.ingestor.Forget(); return ing.ingestor.ExpireLoop(ctx) }))
	ctl.Register("retention", workFunc(ing.retention.Run))
	// A new active honours the lockouts the old one replicated, before it answers anyone's password.
	ctl.Register("lockout-state", workFunc(func(ctx context.Context) error { _ = authSvc.SyncLockouts(ctx); <-ctx.Done(); return nil }))
	ctl.Register("idempotency-expiry", workFunc(func(ctx context.Context) error { return api.ExpireIdempotencyKeys(ctx, st) }))
	// A new active continues the audit chain from the replicated rows.
	ctl.Register("audit-chain", workFunc(func(ctx context.Context) error { authSvc.Audit.Forget(); <-ctx.Done(); return nil }))
	// The notifier's outbox is sent by the active only; the monitor runner
	// hands results to notifier.Judged.
	notifier := notify.New(notify.Options{Store: st, Host: cfg.Node.ID, Log: log.With("component", "notify"),
		Secret:   func(ctx context.Context, name string) (string, error) { return secrets.Reveal(ctx, st, box, name) },
		Calendar: calendars, Maintenance: maint})
	ctl.Register("notify", workFunc(notifier.Run))
	// issue 12, metrics: the series writer works on the active only; reads work on both.
	rm := cfg.Retention.Metrics
	series = metrics.NewWriter(st, metrics.Config{Flush: cfg.Metrics.Flush, KeepRaw: rm.Raw, Keep5m: rm.FiveMin, Keep1h: rm.Hour}, log)
	ctl.Register("metrics", workFunc(series.Run))
	reg := prometheus.NewRegistry()
	notifier.RegisterMetrics(reg)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctl.RegisterMetrics(reg)
	registerServiceAddress(serviceAddr, ctl, reg)
	ing.registerMetrics(reg)
	// Monitors (issue 12 core): the runner works on the active only; the
	// API reads its latest results there (live) over the stored rows.
	live := status.NewLive()
	ctl.Register("monitors", schedule.New(schedule.Options{Kinds: kinds.ByName, Registry: reg, CatchUp: max(30*time.Second, 3*cfg.HA.DetectionTime),
		Maintenance: maint, Calendar: calendars, Notifier: notifyJudged{notifier}, Metrics: seriesAdd{series},
		Secret: func(ctx context.Context, name string) (string, error) { return secrets.Reveal(ctx, st, box, name) }}, st, live, log))
	reg.MustRegister(series.Collectors()...) // issue 12, metrics
	pairSvc := pairing.NewService(cfg.DataDir, id, members, self, log)
	metricsToken, err := readMetricsToken(cfg.API.MetricsTokenFile)
	if err != nil {
		return err
	}
	console, built := ui.Bundle()
	if !built {
		log.Warn("web console not built: this binary serves a page saying so; run make build")
	}
	srv := api.New(api.Options{Listen: cfg.API.Listen, RedirectListen: cfg.API.RedirectListen, TLS: apiTLS, Registry: reg, Secrets: box, Ingestor: ing.ingestor, Spool: ing,
		IngestStatus: ing.forwarder.Status, Console: console, RefusalWindow: cfg.Auth.RefusedAuditWindow, ReadTimeout: cfg.API.ReadTimeout,
		WriteTimeout: cfg.API.WriteTimeout, IdleTimeout: cfg.API.IdleTimeout, MaxConns: cfg.API.MaxConnections,
		MaxConnsPerSource: cfg.API.MaxConnectionsPerSource, MetricsToken: metricsToken, Setup: fb, Snapshot: st.WriteSnapshot,
		PeerAPI: ctl.PeerAPI, Status: live, Calendars: calendars, Maintenance: maint, Notifier: notifier, Metrics: series}, ctl, pairSvc, st, authSvc, log)

	// Bind both ports before anything else, so a port in use is reported at once.
	if err := st.Listen(); err != nil {
		return err
	}
	defer st.Close()
	if err := srv.Listen(); err != nil {
		return err
	}
	if err := ing.receiver.Listen(); err != nil {
		return err
	}
	if err := ing.traps.Listen(); err != nil {
		return err
	}
	if err := openStore(ctx, st, members, cfg.DataDir, log); err != nil {
		return err
	}
	log.Info("mamori started", "node", cfg.Node.ID, "api", srv.Addr().String(), "cluster", cfg.ClusterAddr(), "data_dir", cfg.DataDir)

	// An online join ends this run with errReexec as the cause.
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	fb.stop = stop
	g, gctx := errgroup.WithContext(rctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return fb.announce(gctx, ctl.Ready(), authSvc) })
	g.Go(func() error { return ctl.Run(gctx) })
	if pacer != nil {
		g.Go(func() error { return pacer.Run(gctx) })
	}
	g.Go(func() error { return notifySystemd(gctx, ctl, st) })
	g.Go(func() error { return ing.spool.Run(gctx) })
	g.Go(func() error { return ing.pressure.Run(gctx) })
	g.Go(func() error { return ing.receiver.Run(gctx) })
	g.Go(func() error { return ing.forwarder.Run(gctx) })
	g.Go(func() error { return ing.traps.Run(gctx) })
	g.Go(func() error { return ing.usmLoop(gctx, st, box) })
	g.Go(func() error { return authSvc.LockoutLoop(gctx, ctl.Ready(), log.With("component", "auth")) })
	g.Go(func() error { return newMerger(cfg, st, ing, ctl, rec, log).Run(gctx) })
	err = g.Wait()
	if cause := context.Cause(rctx); errors.Is(cause, errReexec) {
		log.Info("mamori stopped to re-form")
		return cause
	}
	_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
	log.Info("mamori stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// allMigrations is the schema of this build, every feature's migrations.
func allMigrations() []store.Migration {
	var migrations []store.Migration
	for _, ms := range [][]store.Migration{events.Migrations(), auth.Migrations(), secrets.Migrations(), inventory.Migrations(), pipeline.Migrations(), api.Migrations(),
		monitor.Migrations(), status.Migrations(), maintenance.Migrations(), calendar.Migrations(), notify.Migrations(), metrics.Migrations()} {
		migrations = append(migrations, ms...)
	}
	return migrations
}

// openStore opens the store: a new founder bootstraps itself as the only
// voter, a new joiner joins its peer's store, anything else reopens.
func openStore(ctx context.Context, st *store.Store, members *ha.Members, dataDir string, log *slog.Logger) error {
	restore, sums, err := backup.Pending(dataDir)
	if err != nil {
		return err
	}
	if restore != "" && !st.IsNew() {
		// A store beside a pending restore is from a load that failed or
		// was interrupted on an earlier start (`mamori restore` refuses a
		// data directory with a store): it holds nothing else. Start over.
		log.Warn("discarding the store of an unfinished restore", "dir", st.Dir())
		if err := os.RemoveAll(st.Dir()); err != nil {
			return fmt.Errorf("discard the store of an unfinished restore: %w", err)
		}
	}
	isNew := st.IsNew()
	if err := st.Open(); err != nil {
		return err
	}
	m := members.Get()
	switch {
	case restore != "":
		return restoreStore(st, members, dataDir, restore, sums, log)
	case isNew && m.Joiner:
		log.Info("joining the peer's store", "peer", m.Peer.ID, "addr", m.Peer.ClusterAddr)
		jctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := st.Join(jctx, m.Peer.ClusterAddr); err != nil {
			return fmt.Errorf("%w: is mamori running on %s and reachable on %s?", err, m.Peer.ID, m.Peer.ClusterAddr)
		}
		log.Info("joined the peer's store")
		return members.Update(func(m *ha.Membership) error { m.StoreJoined = true; return nil })
	case isNew:
		if err := st.Bootstrap(); err != nil {
			return fmt.Errorf("bootstrap store: %w", err)
		}
		return members.RaiseEpoch(1)
	}
	return nil
}

// restoreStore makes a new store a cluster of one voter holding the
// backup's data (`mamori restore` left it in the data directory), and
// checks it against the backup's checksums before anything writes.
func restoreStore(st *store.Store, members *ha.Members, dataDir, db string, sums map[string]string, log *slog.Logger) error {
	start := time.Now()
	if err := st.Bootstrap(); err != nil {
		return fmt.Errorf("bootstrap store for the restore: %w", err)
	}
	if err := members.RaiseEpoch(1); err != nil {
		return err
	}
	keep := fmt.Sprintf("%s is kept and is loaded again at the next start; if it fails again, run `mamori restore` again into an empty data directory", db)
	if err := st.Restore(db, time.Minute); err != nil {
		return fmt.Errorf("%w: %s", err, keep)
	}
	got, err := st.Checksums(context.Background())
	if err != nil {
		return fmt.Errorf("restore: checksums of the loaded store: %w: %s", err, keep)
	}
	if diff := backup.Diff(sums, got); len(diff) > 0 {
		return fmt.Errorf("restore: the loaded store differs from the backup (%s): %s", strings.Join(diff, "; "), keep)
	}
	if err := backup.Done(dataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	log.Info("store restored from the backup", "tables", len(got), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// notifySystemd sends READY=1 once a role is decided and pings the
// watchdog only while the store is open and the controller is ticking.
func notifySystemd(ctx context.Context, ctl *ha.Controller, st *store.Store) error {
	select {
	case <-ctl.Ready():
	case <-ctx.Done():
		return nil
	}
	_, _ = daemon.SdNotify(false, daemon.SdNotifyReady)
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if ctl.Healthy() && st.Status().Open {
				_, _ = daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			}
		}
	}
}

// newMerger merges back what this appliance wrote while it was the losing
// side of a split brain, from the stores recoveries set aside.
func newMerger(cfg config.Config, st *store.Store, ing *ingest, ctl *ha.Controller, rec *events.Recorder, log *slog.Logger) *pipeline.Merger {
	return &pipeline.Merger{Self: cfg.Node.ID, Old: st.OldStores, Local: st, Spool: ing, Log: log.With("component", "merge"),
		Ready:  func() bool { r := ctl.Role(); return r == ha.Active || r == ha.Standby },
		Record: func(ctx context.Context, ev events.Event) { rec.Record(ctx, ev) },
		Prune: func(now time.Time) ([]string, error) {
			return st.PruneOld(cfg.HA.OldStoresKeep, cfg.HA.OldStoresMaxAge, now)
		}}
}

// readMetricsToken reads the /metrics bearer token (api.metrics_token_file).
func readMetricsToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("api.metrics_token_file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("api.metrics_token_file %s is readable by others (mode %s): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("api.metrics_token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("api.metrics_token_file %s: the token must be at least 16 characters", path)
	}
	return tok, nil
}

// workFunc adapts a function to ha.Work.
type workFunc func(ctx context.Context) error

func (f workFunc) Run(ctx context.Context) error { return f(ctx) }
