// Package store embeds rqlite (Raft-replicated SQLite) as a library: one
// mutual-TLS port carries Raft and rqlite's cluster service, writes go
// through one batching writer, and the store can be re-formed in-process
// (promotion to a single voter, rejoin after recovery) without dropping the
// port. rqlite types stay inside this package; callers see Statement, Rows
// and Status.
package store

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rqlite/rqlite/v8/cluster"
	rstore "github.com/rqlite/rqlite/v8/store"
	"github.com/rqlite/rqlite/v8/tcp"

	"github.com/mamori-ops/mamori/internal/config"
)

var (
	// ErrNotLeader: this node cannot accept writes (it is standby or fenced).
	ErrNotLeader = errors.New("not the active appliance")
	// ErrClosed: the store is closed or between generations.
	ErrClosed = errors.New("store closed")
	// ErrJoin: joining the peer's store failed.
	ErrJoin = errors.New("join failed")
	// ErrOutcomeUnknown: the write was handed to Raft, then this node
	// lost the leadership (or the store closed) before it learned whether
	// the entry committed. It may be stored (the peer may have it) or
	// not: retry with the same idempotency key.
	ErrOutcomeUnknown = errors.New("the write may or may not have been stored: this appliance lost the active role while committing it")
	// ErrStatement: a statement itself failed (a constraint, bad SQL); the
	// store is fine and nothing of the request was applied.
	ErrStatement = errors.New("statement failed")
)

// Options configure a Store.
type Options struct {
	Dir    string // rqlite directory (<data_dir>/store)
	ID     string // node id
	Listen string // host:port to bind for the cluster port
	Addr   string // advertised host:port of the cluster port (default: the bound address)
	// OldDir is where Rejoin sets the replaced store aside (default: Dir + ".old").
	OldDir string
	// ServerTLS must require and verify client certificates; ClientTLS
	// presents this node's certificate. Both nil means plaintext (tests only).
	ServerTLS, ClientTLS *tls.Config
	Tuning               config.Store
}

// Store is the embedded, replicated store of one appliance.
type Store struct {
	opts Options
	log  *slog.Logger

	ln     net.Listener
	mux    *tcp.Mux
	pump   *pump
	proxy  *proxy
	svc    *cluster.Service
	client *cluster.Client
	raftD  *muxDialer
	adv    net.Addr

	mu  sync.Mutex // serialises generation changes
	gen *generation

	writer *writer
	// fenced refuses every write even while this node leads the store:
	// the HA controller sets it whenever this node is not the active.
	fenced atomic.Bool
	// until, when set, refuses writes past an instant (monotonic, as a
	// duration since base): a lone active in witness mode may write only
	// while its lease holds.
	base  time.Time
	until atomic.Int64
}

type generation struct {
	rs *rstore.Store
	ly *layer
}

// New returns a store; it does no I/O.
func New(opts Options, logger *slog.Logger) *Store {
	s := &Store{opts: opts, log: logger.With("component", "store"), proxy: &proxy{}, base: time.Now()}
	s.writer = newWriter(s, opts.Tuning.BatchMax)
	return s
}

// Listen binds the cluster port and starts the mux and the cluster
// service, so a bind error is reported at once.
func (s *Store) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("cluster port %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	if s.opts.ServerTLS != nil {
		ln = tls.NewListener(ln, s.opts.ServerTLS)
	}
	if s.opts.Addr == "" {
		s.opts.Addr = s.ln.Addr().String()
	}
	adv, err := net.ResolveTCPAddr("tcp", s.opts.Addr)
	if err != nil {
		s.ln.Close()
		return fmt.Errorf("cluster address %s: %w", s.opts.Addr, err)
	}
	s.adv = adv
	s.mux, _ = tcp.NewMux(ln, adv)
	// The mux reports refused connections (no or foreign certificate,
	// plaintext) when it fails to read the header byte through TLS.
	s.mux.Logger = log.New(warnWriter{s.log}, "", 0)
	s.pump = &pump{ln: s.mux.Listen(cluster.MuxRaftHeader)}
	s.svc = cluster.New(s.mux.Listen(cluster.MuxClusterHeader), s.proxy, s.proxy, nil)
	s.svc.SetAPIAddr(s.opts.Addr)
	if err := s.svc.Open(); err != nil {
		s.ln.Close()
		return fmt.Errorf("cluster service: %w", err)
	}
	s.raftD = &muxDialer{header: cluster.MuxRaftHeader, tls: s.opts.ClientTLS}
	s.client = cluster.NewClient(&muxDialer{header: cluster.MuxClusterHeader, tls: s.opts.ClientTLS}, 5*time.Second)
	_ = s.client.SetLocal(s.opts.Addr, s.svc)
	go s.mux.Serve()
	go s.pump.run()
	go s.writer.run()
	return nil
}

// SetWritable opens or closes the store to writes from this node.
func (s *Store) SetWritable(ok bool) { s.fenced.Store(!ok) }

// SetWritableUntil refuses writes from the instant t on (zero: no bound).
func (s *Store) SetWritableUntil(t time.Time) {
	if t.IsZero() {
		s.until.Store(0)
		return
	}
	s.until.Store(max(int64(t.Sub(s.base)), 1))
}

// writable says whether this node may write now.
func (s *Store) writable() bool {
	if s.fenced.Load() {
		return false
	}
	u := s.until.Load()
	return u == 0 || int64(time.Since(s.base)) < u
}

// IsNew reports whether the store directory holds no Raft state yet.
func (s *Store) IsNew() bool { return rstore.IsNewNode(s.opts.Dir) }

// Open opens the store's current generation from its directory.
func (s *Store) Open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openGen()
}

func (s *Store) openGen() error {
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return fmt.Errorf("store directory: %w", err)
	}
	ly := s.pump.newLayer(s.raftD, s.adv)
	rs := rstore.New(ly, &rstore.Config{
		DBConf: rstore.NewDBConfig(),
		Dir:    s.opts.Dir,
		ID:     s.opts.ID,
		Logger: log.New(slogWriter{s.log}, "", 0),
	})
	t := s.opts.Tuning
	rs.HeartbeatTimeout = t.HeartbeatTimeout
	rs.ElectionTimeout = t.ElectionTimeout
	rs.LeaderLeaseTimeout = t.LeaderLease
	rs.ApplyTimeout = t.ApplyTimeout
	rs.SnapshotThreshold = t.SnapshotThreshold
	// A snapshot checkpoints the WAL into the database; at ingest rates
	// of 5 MB/s a 4 MiB threshold snapshotted every second (7% of the
	// active's CPU).
	rs.SnapshotThresholdWALSize = 64 << 20
	rs.SnapshotInterval = t.SnapshotInterval
	rs.RaftLogLevel = t.RaftLogLevel
	rs.AutoVacInterval = 0
	// No request compression: on a LAN between two appliances CPU is the
	// scarcer resource (deflate of the ingest batches was 12% of the
	// active's CPU under a 25,000 msg/s load).
	rs.SetRequestCompression(math.MaxInt32, math.MaxInt32)
	if err := rs.Open(); err != nil {
		ly.Close()
		return fmt.Errorf("open store: %w", err)
	}
	s.gen = &generation{rs: rs, ly: ly}
	s.proxy.cur.Store(rs)
	return nil
}

func (s *Store) closeGen() {
	g := s.gen
	if g == nil {
		return
	}
	s.gen = nil
	s.proxy.cur.Store(nil)
	g.ly.closeOutbound()
	if err := g.rs.Close(true); err != nil {
		s.log.Warn("close store generation", "err", err)
	}
	g.ly.Close()
}

// Bootstrap makes a new store a cluster of one voter: this node.
func (s *Store) Bootstrap() error {
	rs, err := s.current()
	if err != nil {
		return err
	}
	return rs.Bootstrap(rstore.NewServer(s.opts.ID, s.opts.Addr, true))
}

// Join asks the store at peerAddr (its cluster port) to admit this node
// as a voter, retrying until ctx ends.
func (s *Store) Join(ctx context.Context, peerAddr string) error {
	j := cluster.NewJoiner(s.client, 1<<30, 250*time.Millisecond)
	if _, err := j.Do(ctx, []string{peerAddr}, s.opts.ID, s.opts.Addr, cluster.VoterSuffrage(true)); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJoin, peerAddr, err)
	}
	return nil
}

// WaitLeader waits until a leader is known.
func (s *Store) WaitLeader(timeout time.Duration) error {
	rs, err := s.current()
	if err != nil {
		return err
	}
	_, err = rs.WaitForLeader(timeout)
	return err
}

// PromoteAlone re-forms the store as a cluster with this node as the only
// voter (rqlite's peers.json recovery). Every committed entry is kept: with
// two voters each acknowledged write is in this node's log.
func (s *Store) PromoteAlone() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeGen()
	peers := []map[string]any{{"id": s.opts.ID, "address": s.opts.Addr, "non_voter": false}}
	b, _ := json.Marshal(peers)
	if err := os.WriteFile(filepath.Join(s.opts.Dir, "raft", "peers.json"), b, 0o600); err != nil {
		return fmt.Errorf("write peers.json: %w", err)
	}
	return s.openGen()
}

// Rejoin sets this node's store aside (under OldDir, dated and labelled)
// and joins the store at peerAddr as a new voter, catching up from the
// peer's snapshot. It returns the set-aside directory ("" when the store
// it replaced was only a half-joined copy from an earlier failed attempt,
// which is removed). The set-aside store is never deleted here: it may
// hold acknowledged writes that a split brain left on this side, which
// are merged back from it (see PruneOld for retention).
func (s *Store) Rejoin(ctx context.Context, peerAddr, label string) (string, error) {
	if err := s.settleAlone(); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.closeGen()
	aside, err := s.setAside(label)
	if err == nil {
		err = s.openGen()
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(s.opts.Dir, rejoinMarker), nil, 0o600)
	}
	s.mu.Unlock()
	if err != nil {
		return aside, err
	}
	if err := s.Join(ctx, peerAddr); err != nil {
		return aside, err
	}
	return aside, os.Remove(filepath.Join(s.opts.Dir, rejoinMarker))
}

// settleAlone: a store of which this node is the only voter has
// committed every entry of its log, but applies the tail only once it
// leads again (shortly after a start). Its database must hold all of it
// before it is set aside: what is merged back is read from there. A
// strong read goes through the log after every earlier entry, so its
// answer means they are applied. (A two-voter store's committed entries
// are on the peer already.)
func (s *Store) settleAlone() error {
	st := s.Status()
	if len(st.Servers) != 1 || st.Servers[0].ID != s.opts.ID {
		return nil
	}
	if err := s.WaitLeader(30 * time.Second); err != nil {
		return fmt.Errorf("this appliance's store does not lead itself yet (%v): retry in a moment", err)
	}
	if _, err := s.Query(context.Background(), Strong, `SELECT 1`); err != nil {
		return fmt.Errorf("this appliance's store has not applied its own log yet (%v): retry in a moment", err)
	}
	return nil
}

// rejoinMarker in a store directory says it was opened empty to join a
// peer and has not been admitted yet: there is nothing in it to keep.
const rejoinMarker = ".rejoining"

// setAside moves the store directory to OldDir/<UTC time>-<label>.
func (s *Store) setAside(label string) (string, error) {
	if _, err := os.Stat(filepath.Join(s.opts.Dir, rejoinMarker)); err == nil {
		return "", os.RemoveAll(s.opts.Dir)
	}
	if _, err := os.Stat(s.opts.Dir); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err := os.MkdirAll(s.oldDir(), 0o700); err != nil {
		return "", fmt.Errorf("set aside the store: %w", err)
	}
	name := time.Now().UTC().Format("20060102T150405.000Z")
	if label != "" {
		name += "-" + label
	}
	aside := filepath.Join(s.oldDir(), name)
	if err := os.Rename(s.opts.Dir, aside); err != nil {
		return "", fmt.Errorf("set aside the store: %w", err)
	}
	return aside, nil
}

func (s *Store) oldDir() string {
	if s.opts.OldDir != "" {
		return s.opts.OldDir
	}
	return s.opts.Dir + ".old"
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.opts.Dir }

// Close stops the store and the cluster port.
func (s *Store) Close() {
	s.writer.stop()
	s.mu.Lock()
	s.closeGen()
	s.mu.Unlock()
	if s.svc != nil {
		s.svc.Close()
	}
	if s.ln != nil {
		s.ln.Close()
	}
}

func (s *Store) current() (*rstore.Store, error) {
	rs := s.proxy.cur.Load()
	if rs == nil {
		return nil, ErrClosed
	}
	return rs, nil
}

// warnWriter logs the mux's complaints about refused connections.
type warnWriter struct{ l *slog.Logger }

func (w warnWriter) Write(p []byte) (int, error) {
	msg := string(trimNL(p))
	if strings.HasPrefix(msg, "mux serving") {
		w.l.Debug("cluster port serving", "detail", msg)
	} else {
		w.l.Warn("cluster port connection refused", "detail", msg)
	}
	return len(p), nil
}

// slogWriter routes rqlite's store logger into slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("rqlite", "msg", string(trimNL(p)))
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && p[len(p)-1] == '\n' {
		p = p[:len(p)-1]
	}
	return p
}
