// Package config is mamori's one typed configuration tree: defaults are
// applied first, the YAML file is decoded on top (unknown keys are errors),
// and every field is validated at load so a mistake names its field instead
// of surfacing later as a strange runtime failure.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// HAMode says how the pair decides a failover.
type HAMode string

const (
	// PairOnly promotes the standby when the peer is unreachable on every
	// heartbeat path and a witness address still answers.
	PairOnly HAMode = "pair-only"
	// Witness promotes only with a lease granted by `mamori witness`.
	Witness HAMode = "witness"
)

// Config is the whole configuration of one appliance.
type Config struct {
	Node    Node    `yaml:"node"`
	DataDir string  `yaml:"data_dir"`
	API     API     `yaml:"api"`
	Cluster Cluster `yaml:"cluster"`
	HA      HA      `yaml:"ha"`
	Store   Store   `yaml:"store"`
	Auth    Auth    `yaml:"auth"`
	Ingest  Ingest  `yaml:"ingest"`
	// Retention bounds the stored history (messages, events).
	Retention Retention `yaml:"retention"`
	Log       Log       `yaml:"log"`
	// Metrics tunes the series store of numeric results (issue 12, metrics).
	Metrics Metrics `yaml:"metrics"`
}

// Metrics tunes the series writer (pollers/metrics/DESIGN.md).
type Metrics struct {
	// Flush is how often the active writes its open blocks: what a kill -9 of the active can lose.
	Flush time.Duration `yaml:"flush"`
}

// Retention bounds what the store keeps. The active deletes the oldest
// rows past a limit every Interval, BatchRows per statement.
type Retention struct {
	// Messages bounds syslog messages, traps and custom events together.
	Messages RetentionLimit `yaml:"messages"`
	Events   RetentionLimit `yaml:"events"`
	Interval time.Duration  `yaml:"interval"`
	// BatchRows is the most rows one delete (one Raft entry) removes.
	BatchRows int `yaml:"batch_rows"`
	// Metrics keeps each resolution of monitor series this long (issue 12, metrics).
	Metrics MetricsRetention `yaml:"metrics"`
}

// MetricsRetention is how long series are kept per resolution.
type MetricsRetention struct {
	Raw     time.Duration `yaml:"raw"`
	FiveMin time.Duration `yaml:"five_min"`
	Hour    time.Duration `yaml:"hour"`
}

// RetentionLimit is an age and a size; 0 turns either off.
type RetentionLimit struct {
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes is compared with an estimate of the rows' size (their
	// columns and a fixed overhead per row, close to SQLite's pages).
	MaxBytes int64 `yaml:"max_bytes"`
}

// RateLimit bounds what one sender address may send per second over
// UDP (there is no connection to push back on); 0 turns it off.
type RateLimit struct {
	PerSource float64 `yaml:"per_source"` // messages per second
	Burst     int     `yaml:"burst"`      // default: one second's worth
}

// ConnBytes is what the receive path reserves per TCP/TLS syslog
// connection (ingest/syslog.ConnBytes).
const ConnBytes = 128 << 10

// Ingest configures the receivers that run on both appliances.
type Ingest struct {
	Syslog Syslog `yaml:"syslog"`
	SNMP   SNMP   `yaml:"snmp"`
	// KeepUnmatched stores messages no monitor rule matched, for search;
	// false keeps only messages a rule raised an event for.
	KeepUnmatched bool `yaml:"keep_unmatched"`
	// DedupWindow is how long the active remembers a message to drop the
	// other appliance's copy of it (memory: about 135 bytes per message
	// still waiting for its second copy).
	DedupWindow time.Duration `yaml:"dedup_window"`
	// SpoolMaxBytes bounds the local spool; when full, new messages are
	// refused and counted (never dropped silently).
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
	// MemoryBudget bounds the process's memory under any traffic: it holds
	// TCP/TLS connections (ConnBytes each, at most a quarter of it), the
	// trap decoders' queue (1/32), the dedup memory (1/8) and the store's
	// Raft log cache (512 entries of about twice a forward batch, which is
	// 1/4096 of it: a quarter). The Go runtime keeps its heap under 3/4 of
	// it, collecting more often past half; past 3/5 the receive path is
	// under pressure (see FairSharePerSource).
	MemoryBudget int64 `yaml:"memory_budget"`
	// FairSharePerSource is what each sender address may send, in bytes
	// per second, while the receive path is under pressure (the spool's
	// backlog past an eighth of spool_max_bytes, the Go heap past 3/5 of
	// memory_budget, or the trap decoders' queue a quarter full): UDP
	// syslog and traps beyond it are refused (counted), TCP/TLS
	// connections are read no faster.
	FairSharePerSource int64 `yaml:"fair_share_per_source"`
}

// Syslog receivers; an empty address turns that receiver off.
type Syslog struct {
	UDP string `yaml:"udp"`
	TCP string `yaml:"tcp"`
	// TLS is the RFC 5425 receiver; it serves the appliance's certificate
	// (the operator's certificate when api.tls_cert is set).
	TLS string `yaml:"tls"`
	// Charset of bodies that are not UTF-8: utf-8, shift_jis or euc-jp.
	Charset string `yaml:"charset"`
	// TimeZone of RFC 3164 timestamps (which carry none); default: local.
	TimeZone string `yaml:"time_zone"`
	// MaxConnections bounds open TCP+TLS connections (ConnBytes each);
	// more are refused and counted.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a TCP/TLS connection silent that long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnectionsPerSource bounds one sender address's connections
	// (above MaxConnections: no bound but the fair sharing).
	MaxConnectionsPerSource int `yaml:"max_connections_per_source"`
	// IdleTimeoutWhenFull: while every connection slot is taken, the
	// connection silent the longest gives its slot to a newcomer once
	// silent that long (a newcomer also takes a slot from the address
	// holding the most).
	IdleTimeoutWhenFull time.Duration `yaml:"idle_timeout_when_full"`
	// HandshakeTimeout bounds a TLS handshake.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// UDPRateLimit bounds each sender's UDP datagrams.
	UDPRateLimit RateLimit `yaml:"udp_rate_limit"`
}

// SNMP is the trap receiver.
type SNMP struct {
	UDP string `yaml:"udp"` // empty turns the receiver off
	// Communities accepted from v1/v2c senders; empty accepts any.
	Communities []string `yaml:"communities"`
	// EngineID (hex) reported to v3 inform senders; default: derived.
	EngineID string `yaml:"engine_id"`
	// Users are the USM users of v3 senders. Keys are named credentials
	// (POST /api/v1/credentials), never written here.
	Users []SNMPUser `yaml:"users"`
	// MIBDirs are searched for MIB modules; every module found is loaded
	// so trap OIDs and varbinds show with names.
	MIBDirs []string `yaml:"mib_dirs"`
	// RateLimit bounds each sender's packets on the trap port.
	RateLimit RateLimit `yaml:"rate_limit"`
}

// SNMPUser is one USM user of trap senders; several may share a name.
type SNMPUser struct {
	Name           string `yaml:"name"`
	Level          string `yaml:"level"` // authPriv, authNoPriv, noAuthNoPriv
	AuthProtocol   string `yaml:"auth_protocol"`
	AuthCredential string `yaml:"auth_credential"`
	PrivProtocol   string `yaml:"priv_protocol"`
	PrivCredential string `yaml:"priv_credential"`
	EngineID       string `yaml:"engine_id"` // hex; limits the user to that sender engine
}

// Auth tunes logins and sessions.
type Auth struct {
	SessionTTL time.Duration `yaml:"session_ttl"`
	// After LockoutFailures wrong passwords for one account from one
	// address, that pair is refused for LockoutWindow, doubling with each
	// further failure up to LockoutMaxWindow.
	LockoutFailures  int           `yaml:"lockout_failures"`
	LockoutWindow    time.Duration `yaml:"lockout_window"`
	LockoutMaxWindow time.Duration `yaml:"lockout_max_window"`
	// SourceFailures failed logins per SourceWindow are allowed from one
	// address across all accounts (password spraying); beyond that rate
	// logins from that address are refused until it drains.
	SourceFailures int           `yaml:"source_failures"`
	SourceWindow   time.Duration `yaml:"source_window"`
	// RefusedAuditWindow: refused attempts beyond the first few of an
	// address are counted and written as one audit row per address,
	// user, action and result at the end of each such window.
	RefusedAuditWindow time.Duration `yaml:"refused_audit_window"`
	// LDAP, if present, lets directory users log in.
	LDAP *LDAP `yaml:"ldap"`
}

// LDAP is a directory whose users may log in, with their groups mapped to roles.
type LDAP struct {
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"start_tls"`
	CAFile   string `yaml:"ca_file"`
	BindDN   string `yaml:"bind_dn"`
	// BindCredential names the credential (POST /api/v1/credentials)
	// holding the service account's password: it is never in this file.
	BindCredential string              `yaml:"bind_credential"`
	UserBase       string              `yaml:"user_base"`
	UserFilter     string              `yaml:"user_filter"`
	GroupBase      string              `yaml:"group_base"`
	GroupFilter    string              `yaml:"group_filter"`
	GroupRoles     map[string][]string `yaml:"group_roles"`
}

// Node identifies this appliance.
type Node struct {
	// ID names the appliance in the pair; default: the host name.
	ID string `yaml:"id"`
	// Address is the IP the peer, agents and forwarders reach this appliance on.
	Address string `yaml:"address"`
}

// API is the HTTPS API and web UI listener.
type API struct {
	// Listen is host:port; an empty host listens on every interface.
	Listen string `yaml:"listen"`
	// Advertise lists the host:port addresses the peer uses for heartbeats,
	// one per network path; default: node.address with the listen port.
	Advertise []string `yaml:"advertise"`
	// TLSCert and TLSKey (PEM files) replace the appliance certificate
	// that browsers see; the pair's own links keep the appliance CA.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// RedirectListen, if set (e.g. ":80"), serves plain HTTP that only
	// redirects to the HTTPS port.
	RedirectListen string `yaml:"redirect_listen"`
	// ReadTimeout bounds reading a whole request, body included;
	// WriteTimeout writing its answer; IdleTimeout how long a keep-alive
	// connection may wait for its next request.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// MaxConnections bounds open API connections; MaxConnectionsPerSource
	// those from one address. More are closed at once and counted.
	MaxConnections          int `yaml:"max_connections"`
	MaxConnectionsPerSource int `yaml:"max_connections_per_source"`
	// MetricsTokenFile, if set, names a file (mode 0600) holding a bearer
	// token that may read /metrics (and nothing else). Without it only a
	// certificate of the pair and users with cluster read may.
	MetricsTokenFile string `yaml:"metrics_token_file"`
}

// Cluster is the node-to-node port (Raft and the cluster service, mutual TLS).
type Cluster struct {
	Port int `yaml:"port"`
}

// HA tunes failure detection and promotion.
type HA struct {
	Mode HAMode `yaml:"mode"`
	// HeartbeatInterval is how often the peer is probed on each path.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// DetectionTime is how long the peer must be silent on every path
	// before the standby takes over.
	DetectionTime time.Duration `yaml:"detection_time"`
	// WitnessAddresses (pair-only) are probed to tell "the peer is gone"
	// from "I am cut off": ICMP for a bare IP, TCP for host:port.
	// Empty means the default gateway.
	WitnessAddresses []string `yaml:"witness_addresses"`
	// Witness (witness mode) is the host:port of `mamori witness`.
	Witness string `yaml:"witness"`
	// AutoRecover lets a returning node with an old epoch rejoin as
	// standby by itself instead of waiting for `mamori recover`.
	AutoRecover bool `yaml:"auto_recover"`
	// OldStoresKeep and OldStoresMaxAge bound the stores that recoveries
	// set aside (<data_dir>/store.old): once merged back, only the newest
	// OldStoresKeep younger than OldStoresMaxAge are kept. One not merged
	// yet is kept whatever its age: it may hold acknowledged writes.
	OldStoresKeep   int           `yaml:"old_stores_keep"`
	OldStoresMaxAge time.Duration `yaml:"old_stores_max_age"`
	// ServiceAddress is the address the active holds (off when empty).
	ServiceAddress ServiceAddress `yaml:"service_address"`
}

// ServiceAddress is a virtual IPv4 address that the active appliance adds
// to a named interface (announcing it with gratuitous ARP) and removes when
// it stops being active, so that clients have one address for the pair.
type ServiceAddress struct {
	// Address in CIDR form ("10.0.0.10/24"); empty turns the feature off.
	Address string `yaml:"address"`
	// Interface is the network interface that carries the address.
	Interface string `yaml:"interface"`
}

// Enabled says whether a service address is configured.
func (s ServiceAddress) Enabled() bool { return s.Address != "" }

// Store tunes the embedded rqlite store.
type Store struct {
	HeartbeatTimeout  time.Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout   time.Duration `yaml:"election_timeout"`
	LeaderLease       time.Duration `yaml:"leader_lease"`
	ApplyTimeout      time.Duration `yaml:"apply_timeout"`
	SnapshotThreshold uint64        `yaml:"snapshot_threshold"`
	SnapshotInterval  time.Duration `yaml:"snapshot_interval"`
	// BatchMax is the most statements the batching writer puts in one Raft entry.
	BatchMax int `yaml:"batch_max"`
	// RaftLogLevel is passed to hashicorp/raft (which logs to stderr).
	RaftLogLevel string `yaml:"raft_log_level"`
}

// Log configures slog output.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the configuration used when no file is given: a single
// appliance on this machine.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		Node:    Node{ID: host, Address: "127.0.0.1"},
		DataDir: "/var/lib/mamori",
		API: API{Listen: ":8443", ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
			MaxConnections: 4096, MaxConnectionsPerSource: 256},
		Cluster: Cluster{Port: 7443},
		HA: HA{
			Mode:              PairOnly,
			HeartbeatInterval: 250 * time.Millisecond,
			DetectionTime:     3 * time.Second,
			OldStoresKeep:     3,
			OldStoresMaxAge:   30 * 24 * time.Hour,
		},
		Store: Store{
			HeartbeatTimeout:  500 * time.Millisecond,
			ElectionTimeout:   500 * time.Millisecond,
			LeaderLease:       250 * time.Millisecond,
			ApplyTimeout:      5 * time.Second,
			SnapshotThreshold: 1024,
			SnapshotInterval:  2 * time.Second,
			BatchMax:          500,
			RaftLogLevel:      "ERROR",
		},
		Ingest: Ingest{Syslog: Syslog{UDP: ":514", TCP: ":514", TLS: ":6514", Charset: "utf-8", MaxConnections: 1000, IdleTimeout: 15 * time.Minute,
			MaxConnectionsPerSource: 100, IdleTimeoutWhenFull: 10 * time.Second, HandshakeTimeout: 10 * time.Second},
			SNMP: SNMP{UDP: ":162", MIBDirs: []string{"/usr/share/snmp/mibs"}}, KeepUnmatched: true, DedupWindow: time.Hour, SpoolMaxBytes: 2 << 30,
			MemoryBudget: 2 << 30, FairSharePerSource: 1 << 20},
		Retention: Retention{Messages: RetentionLimit{MaxAge: 90 * 24 * time.Hour, MaxBytes: 10 << 30},
			Events: RetentionLimit{MaxAge: 365 * 24 * time.Hour, MaxBytes: 2 << 30}, Interval: 10 * time.Second, BatchRows: 5000,
			Metrics: MetricsRetention{Raw: 7 * 24 * time.Hour, FiveMin: 90 * 24 * time.Hour, Hour: 2 * 365 * 24 * time.Hour}},
		Metrics: Metrics{Flush: time.Minute},
		Auth: Auth{SessionTTL: 12 * time.Hour, LockoutFailures: 5, LockoutWindow: 30 * time.Second, LockoutMaxWindow: 15 * time.Minute,
			SourceFailures: 20, SourceWindow: 10 * time.Minute, RefusedAuditWindow: time.Minute},
		Log: Log{Level: "info", Format: "text"},
	}
}

// Load reads path (empty: defaults only) and validates the result.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, cfg.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	if err := decode(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func decode(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nameFields(b, err)
	}
	return nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// nameFields adds the dotted field name to yaml's "line N:" messages, so
// an operator reads "line 3 (ha.detection_time): cannot unmarshal …".
func nameFields(b []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(b, &root) != nil {
		return err
	}
	paths := map[int]string{}
	collectPaths(&root, "", paths)
	msg := lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, _ := strconv.Atoi(lineRE.FindStringSubmatch(m)[1])
		if p, ok := paths[n]; ok {
			return fmt.Sprintf("line %d (%s): ", n, p)
		}
		return m
	})
	return errors.New(msg)
}

func collectPaths(n *yaml.Node, prefix string, out map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectPaths(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			out[n.Content[i].Line] = key
			collectPaths(n.Content[i+1], key, out)
		}
	}
}

// Validate checks every field and names the first wrong one.
func (c Config) Validate() error {
	for _, check := range []func() error{
		func() error { return nonEmpty("node.id", c.Node.ID) },
		func() error { return isIP("node.address", c.Node.Address) },
		func() error { return nonEmpty("data_dir", c.DataDir) },
		func() error { return hostPort("api.listen", c.API.Listen) },
		c.validateAdvertise,
		c.validateAPI,
		func() error { return port("cluster.port", c.Cluster.Port) },
		c.validateHA,
		c.validateStore,
		c.validateAuth,
		c.validateIngest,
		c.validateBudget,
		c.validateRetention,
		c.validateLog,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateAPI() error {
	a := c.API
	if (a.TLSCert == "") != (a.TLSKey == "") {
		return invalid("api.tls_cert", "set both api.tls_cert and api.tls_key, or neither")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"api.read_timeout", a.ReadTimeout}, {"api.write_timeout", a.WriteTimeout}, {"api.idle_timeout", a.IdleTimeout}} {
		if d.v < time.Second || d.v > time.Hour {
			return invalid(d.name, "%s is outside 1s..1h", d.v)
		}
	}
	if a.MaxConnections < 1 || a.MaxConnections > 1000000 {
		return invalid("api.max_connections", "%d is outside 1..1000000", a.MaxConnections)
	}
	if a.MaxConnectionsPerSource < 1 || a.MaxConnectionsPerSource > a.MaxConnections {
		return invalid("api.max_connections_per_source", "%d is outside 1..api.max_connections (%d)", a.MaxConnectionsPerSource, a.MaxConnections)
	}
	if c.API.RedirectListen != "" {
		return hostPort("api.redirect_listen", c.API.RedirectListen)
	}
	return nil
}

func (c Config) validateAdvertise() error {
	for i, a := range c.API.Advertise {
		if err := hostPort(fmt.Sprintf("api.advertise[%d]", i), a); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateHA() error {
	h := c.HA
	switch h.Mode {
	case PairOnly:
	case Witness:
		if err := hostPort("ha.witness", h.Witness); err != nil {
			return err
		}
	default:
		return invalid("ha.mode", "%q is not a mode; use %q or %q", h.Mode, PairOnly, Witness)
	}
	if err := positive("ha.heartbeat_interval", h.HeartbeatInterval); err != nil {
		return err
	}
	if h.DetectionTime < 2*h.HeartbeatInterval {
		return invalid("ha.detection_time", "%s must be at least twice ha.heartbeat_interval (%s)", h.DetectionTime, h.HeartbeatInterval)
	}
	if h.DetectionTime <= c.Store.HeartbeatTimeout {
		return invalid("ha.detection_time", "%s must be longer than store.heartbeat_timeout (%s)", h.DetectionTime, c.Store.HeartbeatTimeout)
	}
	if h.OldStoresKeep < 1 {
		return invalid("ha.old_stores_keep", "%d: keep at least the newest set-aside store", h.OldStoresKeep)
	}
	if h.OldStoresMaxAge < 0 {
		return invalid("ha.old_stores_max_age", "%s must not be negative (0: no age limit)", h.OldStoresMaxAge)
	}
	for i, w := range h.WitnessAddresses {
		if net.ParseIP(w) == nil && hostPort("", w) != nil {
			return invalid(fmt.Sprintf("ha.witness_addresses[%d]", i), "%q is neither an IP address nor host:port", w)
		}
	}
	return h.ServiceAddress.validate()
}

func (s ServiceAddress) validate() error {
	if !s.Enabled() {
		if s.Interface != "" {
			return invalid("ha.service_address.address", "empty while interface %q is set: give the address as IP/prefix (e.g. 10.0.0.10/24), or remove the interface", s.Interface)
		}
		return nil
	}
	ip, _, err := net.ParseCIDR(s.Address)
	if err != nil {
		return invalid("ha.service_address.address", "%q is not IP/prefix: write it as e.g. 10.0.0.10/24", s.Address)
	}
	if ip.To4() == nil {
		return invalid("ha.service_address.address", "%q is IPv6: only an IPv4 service address is supported (announced by gratuitous ARP)", s.Address)
	}
	if !ip.IsGlobalUnicast() {
		return invalid("ha.service_address.address", "%q is not a unicast host address: use an unused address of the interface's subnet", s.Address)
	}
	if strings.TrimSpace(s.Interface) == "" {
		return invalid("ha.service_address.interface", "must name the network interface that carries %s (e.g. eth0; `ip link` lists them)", s.Address)
	}
	if len(s.Interface) > 15 || strings.ContainsAny(s.Interface, "/ \t") {
		return invalid("ha.service_address.interface", "%q is not an interface name (`ip link` lists them)", s.Interface)
	}
	return nil
}

func (c Config) validateStore() error {
	s := c.Store
	for name, d := range map[string]time.Duration{
		"store.heartbeat_timeout": s.HeartbeatTimeout, "store.election_timeout": s.ElectionTimeout,
		"store.leader_lease": s.LeaderLease, "store.apply_timeout": s.ApplyTimeout,
		"store.snapshot_interval": s.SnapshotInterval,
	} {
		if err := positive(name, d); err != nil {
			return err
		}
	}
	if s.LeaderLease > s.HeartbeatTimeout {
		return invalid("store.leader_lease", "%s must not exceed store.heartbeat_timeout (%s)", s.LeaderLease, s.HeartbeatTimeout)
	}
	if s.SnapshotThreshold == 0 {
		return invalid("store.snapshot_threshold", "must be positive")
	}
	if s.BatchMax < 1 || s.BatchMax > 10000 {
		return invalid("store.batch_max", "%d is outside 1..10000", s.BatchMax)
	}
	switch s.RaftLogLevel {
	case "DEBUG", "INFO", "WARN", "ERROR":
		return nil
	}
	return invalid("store.raft_log_level", "%q is not one of DEBUG, INFO, WARN, ERROR", s.RaftLogLevel)
}

func (c Config) validateAuth() error {
	a := c.Auth
	for name, d := range map[string]time.Duration{"auth.session_ttl": a.SessionTTL, "auth.lockout_window": a.LockoutWindow, "auth.lockout_max_window": a.LockoutMaxWindow} {
		if err := positive(name, d); err != nil {
			return err
		}
	}
	if a.LockoutFailures < 1 || a.LockoutFailures > 100 {
		return invalid("auth.lockout_failures", "%d is outside 1..100", a.LockoutFailures)
	}
	if a.LockoutMaxWindow < a.LockoutWindow {
		return invalid("auth.lockout_max_window", "must not be shorter than auth.lockout_window")
	}
	if a.SourceFailures < 1 || a.SourceFailures > 1000000 {
		return invalid("auth.source_failures", "%d is outside 1..1000000", a.SourceFailures)
	}
	if err := positive("auth.source_window", a.SourceWindow); err != nil {
		return err
	}
	if a.RefusedAuditWindow < time.Second || a.RefusedAuditWindow > time.Hour {
		return invalid("auth.refused_audit_window", "%s is outside 1s..1h", a.RefusedAuditWindow)
	}
	if l := a.LDAP; l != nil {
		switch {
		case !strings.HasPrefix(l.URL, "ldap://") && !strings.HasPrefix(l.URL, "ldaps://"):
			return invalid("auth.ldap.url", "%q must start with ldap:// or ldaps://", l.URL)
		case l.BindDN == "" || l.BindCredential == "":
			return invalid("auth.ldap.bind_credential", "a service account (bind_dn) and the credential holding its password are needed")
		case l.UserBase == "" || strings.Count(l.UserFilter, "%s") != 1:
			return invalid("auth.ldap.user_filter", "user_base and a user_filter with one %%s (the user name) are needed")
		case l.GroupBase == "" || strings.Count(l.GroupFilter, "%s") != 1:
			return invalid("auth.ldap.group_filter", "group_base and a group_filter with one %%s (the user's DN) are needed")
		case len(l.GroupRoles) == 0:
			return invalid("auth.ldap.group_roles", "map at least one group to a role")
		}
	}
	return nil
}

func (c Config) validateIngest() error {
	sy := c.Ingest.Syslog
	for name, a := range map[string]string{"ingest.syslog.udp": sy.UDP, "ingest.syslog.tcp": sy.TCP, "ingest.syslog.tls": sy.TLS, "ingest.snmp.udp": c.Ingest.SNMP.UDP} {
		if a != "" {
			if err := hostPort(name, a); err != nil {
				return err
			}
		}
	}
	if sy.MaxConnections < 1 || sy.MaxConnections > 100000 {
		return invalid("ingest.syslog.max_connections", "must be 1..100000")
	}
	if sy.IdleTimeout < time.Second {
		return invalid("ingest.syslog.idle_timeout", "must be at least 1s")
	}
	switch sy.Charset {
	case "utf-8", "shift_jis", "euc-jp":
	default:
		return invalid("ingest.syslog.charset", "%q is not utf-8, shift_jis or euc-jp", sy.Charset)
	}
	if sy.TimeZone != "" {
		if _, err := time.LoadLocation(sy.TimeZone); err != nil {
			return invalid("ingest.syslog.time_zone", "%q is not a time zone such as Asia/Tokyo", sy.TimeZone)
		}
	}
	for i, u := range c.Ingest.SNMP.Users {
		f := fmt.Sprintf("ingest.snmp.users[%d]", i)
		switch {
		case u.Name == "":
			return invalid(f+".name", "required")
		case u.Level != "authPriv" && u.Level != "authNoPriv" && u.Level != "noAuthNoPriv":
			return invalid(f+".level", "%q is not authPriv, authNoPriv or noAuthNoPriv", u.Level)
		case u.Level != "noAuthNoPriv" && u.AuthCredential == "":
			return invalid(f+".auth_credential", "required at level %s: the name of a credential holding the auth key", u.Level)
		case u.Level == "authPriv" && u.PrivCredential == "":
			return invalid(f+".priv_credential", "required at level authPriv: the name of a credential holding the privacy key")
		}
		if _, err := hex.DecodeString(u.EngineID); err != nil {
			return invalid(f+".engine_id", "must be hex")
		}
	}
	if _, err := hex.DecodeString(c.Ingest.SNMP.EngineID); err != nil || (c.Ingest.SNMP.EngineID != "" && (len(c.Ingest.SNMP.EngineID) < 10 || len(c.Ingest.SNMP.EngineID) > 64)) {
		return invalid("ingest.snmp.engine_id", "must be 5 to 32 bytes in hex")
	}
	if c.Ingest.DedupWindow < time.Minute || c.Ingest.DedupWindow > 24*time.Hour {
		return invalid("ingest.dedup_window", "must be between 1m and 24h")
	}
	if c.Ingest.SpoolMaxBytes < 1<<20 {
		return invalid("ingest.spool_max_bytes", "must be at least 1 MiB")
	}
	return nil
}

func (c Config) validateBudget() error {
	in := c.Ingest
	if in.MemoryBudget < 512<<20 {
		return invalid("ingest.memory_budget", "%d bytes: give mamori at least 512 MiB (536870912); the store alone holds up to 256 MiB of recent writes", in.MemoryBudget)
	}
	if need := int64(in.Syslog.MaxConnections) * ConnBytes; need > in.MemoryBudget/4 {
		return invalid("ingest.syslog.max_connections", "%d connections need %d MiB, more than a quarter of ingest.memory_budget (%d MiB): lower max_connections or raise the budget",
			in.Syslog.MaxConnections, need>>20, in.MemoryBudget>>20)
	}
	if in.FairSharePerSource < 64<<10 {
		return invalid("ingest.fair_share_per_source", "%d bytes/s: allow every sender at least 64 KiB/s (65536) under pressure", in.FairSharePerSource)
	}
	sy := in.Syslog
	if sy.MaxConnectionsPerSource < 1 {
		return invalid("ingest.syslog.max_connections_per_source", "%d: allow at least 1 (more than max_connections means no limit)", sy.MaxConnectionsPerSource)
	}
	for name, d := range map[string]time.Duration{"ingest.syslog.idle_timeout_when_full": sy.IdleTimeoutWhenFull, "ingest.syslog.handshake_timeout": sy.HandshakeTimeout} {
		if d < 100*time.Millisecond || d > sy.IdleTimeout {
			return invalid(name, "%s must be between 100ms and ingest.syslog.idle_timeout (%s)", d, sy.IdleTimeout)
		}
	}
	for name, r := range map[string]RateLimit{"ingest.syslog.udp_rate_limit": sy.UDPRateLimit, "ingest.snmp.rate_limit": in.SNMP.RateLimit} {
		if r.PerSource < 0 || r.Burst < 0 {
			return invalid(name, "per_source and burst must not be negative (0 turns the limit off)")
		}
	}
	return nil
}

func (c Config) validateRetention() error {
	r := c.Retention
	for name, l := range map[string]RetentionLimit{"retention.messages": r.Messages, "retention.events": r.Events} {
		if l.MaxAge != 0 && l.MaxAge < time.Minute {
			return invalid(name+".max_age", "%s: use at least 1m, or 0 for no age limit", l.MaxAge)
		}
		if l.MaxBytes != 0 && l.MaxBytes < 1<<20 {
			return invalid(name+".max_bytes", "%d: use at least 1 MiB (1048576), or 0 for no size limit", l.MaxBytes)
		}
	}
	if r.Interval < time.Second || r.Interval > time.Hour {
		return invalid("retention.interval", "%s must be between 1s and 1h", r.Interval)
	}
	if r.BatchRows < 100 || r.BatchRows > 100000 {
		return invalid("retention.batch_rows", "%d is outside 100..100000", r.BatchRows)
	}
	if f := c.Metrics.Flush; f < time.Second || f > 10*time.Minute {
		return invalid("metrics.flush", "%s must be between 1s and 10m", f)
	}
	m := r.Metrics
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"raw", m.Raw}, {"five_min", m.FiveMin}, {"hour", m.Hour}} {
		if f.v < time.Hour {
			return invalid("retention.metrics."+f.name, "%s: keep each resolution at least 1h", f.v)
		}
	}
	return nil
}

func (c Config) validateLog() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return invalid("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
		return nil
	}
	return invalid("log.format", "%q is not text or json", c.Log.Format)
}

// ClusterAddr is the advertised node-to-node address (Raft and cluster service).
func (c Config) ClusterAddr() string {
	return net.JoinHostPort(c.Node.Address, strconv.Itoa(c.Cluster.Port))
}

// APIAddrs are the addresses the peer probes for heartbeats, one per path.
func (c Config) APIAddrs() []string {
	if len(c.API.Advertise) > 0 {
		return c.API.Advertise
	}
	_, p, _ := net.SplitHostPort(c.API.Listen)
	return []string{net.JoinHostPort(c.Node.Address, p)}
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

func nonEmpty(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "must not be empty")
	}
	return nil
}

func isIP(field, v string) error {
	if net.ParseIP(v) == nil {
		return invalid(field, "%q is not an IP address", v)
	}
	return nil
}

func hostPort(field, v string) error {
	_, p, err := net.SplitHostPort(v)
	if err != nil {
		return invalid(field, "%q is not host:port", v)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return invalid(field, "port %q is not a number", p)
	}
	return port(field, n)
}

func port(field string, n int) error {
	if n < 1 || n > 65535 {
		return invalid(field, "port %d is outside 1..65535", n)
	}
	return nil
}

func positive(field string, d time.Duration) error {
	if d <= 0 {
		return invalid(field, "must be a positive duration such as 500ms")
	}
	return nil
}
