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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/mib"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/ingest/spool"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/trap"
	"github.com/mamori-ops/mamori/internal/config"
	"github.com/mamori-ops/mamori/internal/fileutil"
)

// loadConfig parses the common flags of every command.
func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	path := fs.String("config", os.Getenv("MAMORI_CONFIG"), "configuration file (default: built-in defaults)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return cfg, nil, err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	return cfg, fs, nil
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
		return nil, fmt.Errorf("data directory %s is in use by another mamori process: stop it first", dir)
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
	if os.Getenv("GOGC") == "" {
		// The ingest path allocates per message; collecting less often
		// costs memory the appliance has and saves CPU it needs.
		debug.SetGCPercent(300)
	}
	lock, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()

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
	if l := cfg.Auth.LDAP; l != nil {
		authOpts.LDAP = &auth.LDAPConfig{URL: l.URL, StartTLS: l.StartTLS, CAFile: l.CAFile, BindDN: l.BindDN,
			BindSecret: func(ctx context.Context) (string, error) { return secrets.Reveal(ctx, st, box, l.BindCredential) },
			UserBase:   l.UserBase, UserFilter: l.UserFilter, GroupBase: l.GroupBase, GroupFilter: l.GroupFilter, GroupRoles: l.GroupRoles}
	}
	authSvc := auth.New(st, authOpts)
	var migrations []store.Migration
	for _, ms := range [][]store.Migration{events.Migrations(), auth.Migrations(), secrets.Migrations(), inventory.Migrations(), pipeline.Migrations()} {
		migrations = append(migrations, ms...)
	}
	ctl := ha.New(ha.Options{HA: cfg.HA, Self: self, ClientTLS: clientTLS, Events: st,
		Migrate: func(ctx context.Context) error { return st.Migrate(ctx, migrations) }}, st, members, rec, log)
	ing, err := newIngest(cfg, st, clientTLS, apiTLS, ctl, authSvc.Audit.AppendWith, log)
	if err != nil {
		return err
	}
	ctl.Register("ingest-state", workFunc(func(ctx context.Context) error { ing.ingestor.Forget(); return ing.ingestor.ExpireLoop(ctx) }))
	// A new active honours the lockouts the old one replicated, before it answers anyone's password.
	ctl.Register("lockout-state", workFunc(func(ctx context.Context) error { _ = authSvc.SyncLockouts(ctx); <-ctx.Done(); return nil }))
	// A new active continues the audit chain from the replicated rows.
	ctl.Register("audit-chain", workFunc(func(ctx context.Context) error { authSvc.Audit.Forget(); <-ctx.Done(); return nil }))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctl.RegisterMetrics(reg)
	ing.registerMetrics(reg)
	pairSvc := pairing.NewService(cfg.DataDir, id, members, self, log)
	srv := api.New(api.Options{Listen: cfg.API.Listen, RedirectListen: cfg.API.RedirectListen, TLS: apiTLS, Registry: reg, Secrets: box, Ingestor: ing.ingestor, Spool: ing}, ctl, pairSvc, st, authSvc, log)

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
	if err := openStore(ctx, st, members, log); err != nil {
		return err
	}
	log.Info("mamori started", "node", cfg.Node.ID, "api", srv.Addr().String(), "cluster", cfg.ClusterAddr(), "data_dir", cfg.DataDir)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return ctl.Run(gctx) })
	g.Go(func() error { return notifySystemd(gctx, ctl, st) })
	g.Go(func() error { return ing.spool.Run(gctx) })
	g.Go(func() error { return ing.receiver.Run(gctx) })
	g.Go(func() error { return ing.forwarder.Run(gctx) })
	g.Go(func() error { return ing.traps.Run(gctx) })
	g.Go(func() error { return ing.usmLoop(gctx, st, box) })
	g.Go(func() error { return authSvc.LockoutLoop(gctx) })
	err = g.Wait()
	_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
	log.Info("mamori stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// openStore opens the store: a new founder bootstraps itself as the only
// voter, a new joiner joins its peer's store, anything else reopens.
func openStore(ctx context.Context, st *store.Store, members *ha.Members, log *slog.Logger) error {
	isNew := st.IsNew()
	if err := st.Open(); err != nil {
		return err
	}
	m := members.Get()
	switch {
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

// workFunc adapts a function to ha.Work.
type workFunc func(ctx context.Context) error

func (f workFunc) Run(ctx context.Context) error { return f(ctx) }

// ingest is the receive path: receivers → spool → forwarder → the
// active's ingestor. It runs on both appliances.
type ingest struct {
	spool     *spool.Spool
	receiver  *syslog.Receiver
	traps     *trap.Receiver
	ingestor  *pipeline.Ingestor
	forwarder *pipeline.Forwarder
	users     []config.SNMPUser
	log       *slog.Logger
}

func newIngest(cfg config.Config, st *store.Store, clientTLS, serverTLS *tls.Config, ctl *ha.Controller,
	audit func(context.Context, []auth.Entry, func([]store.Statement) error) error, log *slog.Logger) (*ingest, error) {
	loc := time.Local
	if tz := cfg.Ingest.Syslog.TimeZone; tz != "" {
		loc, _ = time.LoadLocation(tz) // validated at load
	}
	sp, err := spool.Open(filepath.Join(cfg.DataDir, "spool", "ingest"), spool.Options{MaxBytes: cfg.Ingest.SpoolMaxBytes})
	if err != nil {
		return nil, fmt.Errorf("ingest spool: %w", err)
	}
	sy := cfg.Ingest.Syslog
	rcv := &syslog.Receiver{UDP: sy.UDP, TCP: sy.TCP, TLS: sy.TLS, TLSConfig: serverTLS, Log: log.With("component", "syslog"),
		Sink: func(r syslog.Record) error { _, err := sp.Append(r.Encode()); return err }}
	sn := cfg.Ingest.SNMP
	boots, err := nextEngineBoots(filepath.Join(cfg.DataDir, "snmp-engine-boots"))
	if err != nil {
		return nil, err
	}
	traps := &trap.Receiver{Addr: sn.UDP, Communities: sn.Communities, EngineID: sn.EngineID, EngineBoots: boots, Hold: make(chan struct{}), Log: log.With("component", "snmptrap"),
		Sink: func(t trap.Trap) error { _, err := sp.Append(t.Encode()); return err }}
	var names func(string) string
	if sn.UDP != "" {
		names = mib.Load(sn.MIBDirs).Name
	}
	ingr := pipeline.NewIngestor(st, syslog.NewParser(loc, syslog.Charset(sy.Charset)), pipeline.Options{KeepUnmatched: cfg.Ingest.KeepUnmatched, Names: names,
		DedupWindow: cfg.Ingest.DedupWindow, Audit: audit})
	fw := &pipeline.Forwarder{Spool: sp, Origin: cfg.Node.ID + "/" + sp.ID(), Ingestor: ingr, TLS: clientTLS, Log: log.With("component", "forwarder"),
		Target: func() pipeline.Target {
			local, peer, id := ctl.ActiveTarget()
			return pipeline.Target{Local: local, Peer: peer, SNI: id}
		}}
	return &ingest{spool: sp, receiver: rcv, traps: traps, ingestor: ingr, forwarder: fw, users: sn.Users, log: log}, nil
}

// nextEngineBoots counts this appliance's starts for SNMPv3 (RFC 3414
// snmpEngineBoots), durably, before the trap receiver answers anyone.
func nextEngineBoots(path string) (uint32, error) {
	var n uint32
	if b, err := os.ReadFile(path); err == nil {
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 31)
		n = uint32(v)
	}
	n++
	if err := fileutil.WriteAtomic(path, []byte(strconv.FormatUint(uint64(n), 10)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("snmp engine boots: %w", err)
	}
	return n, nil
}

// AppendDurable puts records into the local spool and returns once they
// are on disk (custom events from the API: 202 means spooled for good).
func (in *ingest) AppendDurable(bs [][]byte) (int, error) { return in.spool.AppendDurable(bs) }

// usmLoop opens the USM users' keys (named credentials, replicated to both
// appliances) now and every 2 s, so a key changed through the API
// reaches both trap receivers without a restart.
//
// The trap receiver holds its packets (in the kernel's buffer) until the
// first pass could read the store, so a v3 trap arriving in the first
// seconds after a start is not dropped for want of its user's keys.
func (in *ingest) usmLoop(ctx context.Context, st *store.Store, box *secrets.Box) error {
	release := sync.OnceFunc(func() { close(in.traps.Hold) })
	defer release()
	if len(in.users) == 0 {
		return nil
	}
	warned := map[string]string{}
	var last []trap.User
	for {
		storeDown := false
		var users []trap.User
		for _, u := range in.users {
			tu := trap.User{Name: u.Name, Level: u.Level, AuthProtocol: u.AuthProtocol, PrivProtocol: u.PrivProtocol, EngineID: u.EngineID}
			var err error
			if u.AuthCredential != "" {
				tu.AuthKey, err = secrets.Reveal(ctx, st, box, u.AuthCredential)
			}
			if err == nil && u.PrivCredential != "" {
				tu.PrivKey, err = secrets.Reveal(ctx, st, box, u.PrivCredential)
			}
			if err != nil && !errors.Is(err, secrets.ErrInvalid) {
				storeDown = true // not open yet: try again soon
				break
			}
			if err != nil {
				if warned[u.Name] != err.Error() {
					in.log.Warn("SNMP USM user left out until its credentials exist", "user", u.Name, "err", err)
					warned[u.Name] = err.Error()
				}
				continue
			}
			delete(warned, u.Name)
			users = append(users, tu)
		}
		wait := 2 * time.Second
		if storeDown {
			wait = 100 * time.Millisecond
		} else {
			if !slices.Equal(users, last) {
				if err := in.traps.SetUsers(users); err != nil {
					in.log.Error("SNMP USM users", "err", err)
				}
				last = users
			}
			release()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (in *ingest) registerMetrics(reg prometheus.Registerer) {
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mamori", Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mamori", Name: name, Help: help}, f)
	}
	c, tc, ic := &in.receiver.Counters, &in.traps.Counters, &in.ingestor.Counters
	reg.MustRegister(
		counter("syslog_received_total", "Syslog messages received on this appliance.", c.Received.Load),
		counter("syslog_truncated_total", "Syslog messages longer than 64 KiB, truncated.", c.Truncated.Load),
		counter("syslog_spool_errors_total", "Received messages the spool refused (full or failing).", c.SinkErrors.Load),
		counter("snmptrap_packets_total", "UDP packets received on the trap port.", tc.Received.Load),
		counter("snmptrap_received_total", "Authentic notifications spooled.", tc.Accepted.Load),
		counter("snmptrap_informs_answered_total", "Informs answered.", tc.Informs.Load),
		counter("snmptrap_engine_reports_total", "v3 engine-discovery requests answered.", tc.Reports.Load),
		counter("snmptrap_spool_errors_total", "Notifications the spool refused (full or failing).", tc.SinkErrors.Load),
		counter("spool_refused_total", "Records refused because the spool was full.", func() uint64 { return in.spool.Stats().Refused }),
		gauge("spool_bytes", "Bytes held in the local spool.", func() float64 { return float64(in.spool.Stats().Bytes) }),
		counter("spooled_total", "Records appended to the local spool.", func() uint64 { return in.spool.Stats().Appended }),
		counter("spool_write_errors_total", "Writes the disk refused (full or failing); the spool retries by itself.", func() uint64 { return in.spool.Stats().WriteErrors }),
		counter("forwarded_total", "Spool records acknowledged by the active.", in.forwarder.Forwarded),
		counter("forward_failures_total", "Batches that could not be delivered (retried).", in.forwarder.Failures),
		gauge("forward_lag_records", "Spool records not yet acknowledged by the active.", func() float64 {
			return float64(in.spool.Stats().NextSeq - 1 - min(in.forwarder.Acked(), in.spool.Stats().NextSeq-1))
		}),
		counter("ingest_duplicates_total", "Second copies of a message (received by both appliances), not stored again.", ic.Duplicates.Load),
		counter("ingest_events_total", "Events raised by monitor rules.", ic.Events.Load),
		counter("ingest_parse_errors_total", "Syslog messages that did not parse (kept raw).", ic.ParseErrors.Load),
		counter("ingest_bad_records_total", "Spool records that could not be decoded.", ic.BadRecords.Load),
	)
	dropped := prometheus.NewDesc("mamori_ingest_dropped_total", "Messages not stored, by reason.", []string{"reason"}, nil)
	stored := prometheus.NewDesc("mamori_ingest_stored_total", "Messages stored on this appliance while active, by kind.", []string{"kind"}, nil)
	reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{dropped, stored}, collect: func(ch chan<- prometheus.Metric) {
		for reason, n := range map[string]uint64{"rule": ic.RuleDrops.Load(), "unmatched": ic.Unmatched.Load(), "malformed_trap": tc.Malformed.Load(),
			"bad_community": tc.BadCommunity.Load(), "v3_auth": tc.AuthFailed.Load(), "v3_time_window": tc.TimeWindow.Load(), "spool_full": in.spool.Stats().Refused, "spool_write_failed": in.spool.Stats().Lost,
			"syslog_truncated": c.Truncated.Load(), "udp_buffer_syslog": in.receiver.UDPDropped(), "udp_buffer_trap": in.traps.UDPDropped()} {
			ch <- prometheus.MustNewConstMetric(dropped, prometheus.CounterValue, float64(n), reason)
		}
		for i, k := range pipeline.Kinds {
			ch <- prometheus.MustNewConstMetric(stored, prometheus.CounterValue, float64(ic.Stored[i].Load()), k)
		}
	}})
}

// collectorFunc is a prometheus.Collector made of functions.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
