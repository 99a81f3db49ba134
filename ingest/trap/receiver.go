package trap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/internal/ratelimit"
	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/internal/udpconn"
)

// User is one USM user traps may come from. Several users may share a
// name (different keys per device group); each is tried in turn.
type User struct {
	Name         string `json:"name" yaml:"name"`
	Level        string `json:"level" yaml:"level"` // authPriv, authNoPriv, noAuthNoPriv
	AuthProtocol string `json:"auth_protocol,omitempty" yaml:"auth_protocol"`
	AuthKey      string `json:"-" yaml:"auth_key"`
	PrivProtocol string `json:"priv_protocol,omitempty" yaml:"priv_protocol"`
	PrivKey      string `json:"-" yaml:"priv_key"`
	// EngineID, hex, limits the user to traps from that engine; empty: any.
	EngineID string `json:"engine_id,omitempty" yaml:"engine_id"`
}

// Counters of a receiver; drops are by reason.
type Counters struct {
	Received     atomic.Uint64 // packets read
	Accepted     atomic.Uint64 // notifications handed to the sink
	Informs      atomic.Uint64 // informs answered
	Retransmits  atomic.Uint64 // informs received again from the same sender port (answered, stored once)
	Malformed    atomic.Uint64 // not decodable as SNMP, or not a notification
	BadCommunity atomic.Uint64 // v1/v2c with a community not configured
	AuthFailed   atomic.Uint64 // v3: unknown user, wrong keys, wrong engine, level too low
	Reports      atomic.Uint64 // v3 engine-discovery requests answered
	TimeWindow   atomic.Uint64 // v3 informs outside the time window (replays)
	SinkErrors   atomic.Uint64 // the spool refused (full or failing)
	// QueueFull counts packets refused because the decoders' queue (or
	// the sender's share of it) was full; RateLimited those over the
	// sender's rate limit; ReportsLimited engine-discovery requests not
	// answered (report rate bound); Truncated notifications whose
	// varbinds were cut to MaxVarbindBytes.
	QueueFull, RateLimited, ReportsLimited, Truncated atomic.Uint64
	// FairShare counts packets refused under pressure (see Pressed).
	FairShare atomic.Uint64
}

// Receiver listens for notifications on one UDP address.
type Receiver struct {
	Addr        string   // host:port; empty: no receiver
	Communities []string // accepted v1/v2c communities; empty: any
	// EngineID is this receiver's own engine ID (hex), reported to
	// senders of v3 informs; empty: one derived from Addr.
	EngineID string
	// EngineBoots counts this engine's starts (RFC 3414); it must grow
	// with every start so informs recorded before cannot be replayed.
	EngineBoots uint32
	Sink        func(Trap) error
	Log         *slog.Logger
	Workers     int // decoding goroutines; default: number of CPUs
	// QueueBytes bounds the packets waiting for a decoder; default 16 MiB.
	QueueBytes int
	// Limit, if not nil, bounds each sender's packets per second.
	Limit *ratelimit.PerSource
	// Fair is each sender's share in bytes per second, enforced while
	// Pressed says the receive path is under pressure (ingest/pressure),
	// before any decoding: decoding a 60 KB trap allocates 1.9 MB.
	Fair    *ratelimit.PerSource
	Pressed func() bool
	// Hold, when not nil, delays reading until it is closed (the USM
	// users' keys are loaded); packets wait in the kernel's buffer.
	Hold     chan struct{}
	Counters Counters

	informs  informMemory
	users    atomic.Pointer[userTable]
	queue    atomic.Pointer[queue]
	reports  *ratelimit.PerSource // engine-discovery answers per sender
	allRep   *ratelimit.PerSource // and in all
	conn     *udpconn.Conn
	started  time.Time
	engineID string // raw bytes
}

type userTable struct {
	table  *gosnmp.SnmpV3SecurityParametersTable
	byName map[string][]User
}

// SetUsers replaces the USM users; safe while running.
func (r *Receiver) SetUsers(users []User) error {
	t := &userTable{table: gosnmp.NewSnmpV3SecurityParametersTable(quiet), byName: map[string][]User{}}
	for _, u := range users {
		lvl, ok := snmp.Level(u.Level)
		if !ok {
			return fmt.Errorf("USM user %q: security level %q (authPriv, authNoPriv, noAuthNoPriv)", u.Name, u.Level)
		}
		if u.EngineID != "" {
			if _, err := hex.DecodeString(u.EngineID); err != nil {
				return fmt.Errorf("USM user %q: engine_id must be hex", u.Name)
			}
		}
		usm, err := snmp.USM(u.Name, lvl, u.AuthProtocol, u.AuthKey, u.PrivProtocol, u.PrivKey)
		if err != nil {
			return fmt.Errorf("USM user %q: %w", u.Name, err)
		}
		usm.Logger = quiet
		if err := t.table.Add(u.Name, usm); err != nil {
			return fmt.Errorf("USM user %q: %w", u.Name, err)
		}
		t.byName[u.Name] = append(t.byName[u.Name], u)
	}
	r.users.Store(t)
	return nil
}

var quiet = gosnmp.NewLogger(log.New(io.Discard, "", 0))

// Listen binds the UDP port, so a port in use is reported at start-up.
func (r *Receiver) Listen() error {
	if r.Addr == "" {
		return nil
	}
	var err error
	if r.conn, err = udpconn.Listen(r.Addr); err != nil {
		return fmt.Errorf("snmp trap receiver on %s: %w (port in use, or port < 1024 without CAP_NET_BIND_SERVICE)", r.Addr, err)
	}
	if b := r.conn.Buffer(); b < udpconn.BufferBytes && r.Log != nil {
		r.Log.Warn("trap receive buffer smaller than asked: raise net.core.rmem_max to 16777216 or grant CAP_NET_ADMIN", "granted_bytes", b)
	}
	if r.users.Load() == nil {
		_ = r.SetUsers(nil)
	}
	r.started = time.Now()
	r.engineID = r.localEngineID()
	if r.EngineBoots == 0 {
		r.EngineBoots = 1
	}
	return nil
}

// Queued is the bytes waiting for a decoder now.
func (r *Receiver) Queued() int64 {
	q := r.queue.Load()
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(q.bytes)
}

// UDPDropped counts datagrams the kernel dropped because the socket's
// buffer was full (a burst beyond what the decoders take).
func (r *Receiver) UDPDropped() uint64 { return r.conn.Dropped() }

// BoundAddr returns the bound address ("" before Listen or when disabled).
func (r *Receiver) BoundAddr() string {
	if r.conn == nil {
		return ""
	}
	return r.conn.LocalAddr().String()
}

func (r *Receiver) localEngineID() string {
	if b, err := hex.DecodeString(r.EngineID); err == nil && len(b) >= 5 && len(b) <= 32 {
		return string(b)
	}
	// RFC 3411 format 4 (text) under net-snmp's enterprise number.
	sum := sha256.Sum256([]byte(r.conn.LocalAddr().String()))
	return string(append([]byte{0x80, 0x00, 0x1f, 0x88, 0x04}, "mamori-"+hex.EncodeToString(sum[:6])...))
}

type packet struct {
	b    []byte
	from *net.UDPAddr
	src  netip.Addr
	at   time.Time
}

// Report answers (RFC 3414 discovery) are bounded per sender and in all:
// a report is larger than the request, so unbounded answers would make
// this receiver an amplifier towards spoofed source addresses.
const (
	reportsPerSource = 5
	reportsInAll     = 100
)

// Run reads and decodes until ctx ends. The read loop only copies
// packets to the decoders' queue (bounded in bytes, shared fairly
// between senders, see queue); what does not fit is refused and counted.
func (r *Receiver) Run(ctx context.Context) error {
	if r.conn == nil {
		<-ctx.Done()
		return nil
	}
	n := r.Workers
	if n <= 0 {
		n = runtime.NumCPU()
	}
	if r.Hold != nil {
		select {
		case <-r.Hold:
		case <-ctx.Done():
			return nil
		}
	}
	r.reports, r.allRep = ratelimit.New(reportsPerSource, 2*reportsPerSource), ratelimit.New(reportsInAll, reportsInAll)
	q := newQueue(r.QueueBytes)
	if r.QueueBytes <= 0 {
		q = newQueue(16 << 20)
	}
	r.queue.Store(q)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { r.decodeLoop(q) })
	}
	go func() { <-ctx.Done(); r.conn.Close() }()
	r.readLoop(ctx, q)
	q.close()
	wg.Wait()
	return nil
}

func (r *Receiver) readLoop(ctx context.Context, q *queue) {
	buf := make([]byte, 65536)
	for {
		k, from, err := r.conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		r.Counters.Received.Add(1)
		src, now := ratelimit.Addr(from.IP), time.Now()
		if !r.Limit.Allow(src, now) {
			r.Counters.RateLimited.Add(1)
			continue
		}
		if r.Pressed != nil && r.Pressed() && !r.Fair.AllowN(src, now, float64(k+packetOverhead)) {
			r.Counters.FairShare.Add(1)
			continue
		}
		if !q.admit(src, k) {
			r.Counters.QueueFull.Add(1)
			continue
		}
		q.put(packet{b: copyPacket(buf[:k]), from: from, src: src, at: now})
	}
}

func (r *Receiver) decodeLoop(q *queue) {
	d := &decoder{}
	for p, ok := q.pop(); ok; p, ok = q.pop() {
		r.handle(d, p)
		release(p.b)
	}
}

// decoder holds one goroutine's gosnmp state (never shared).
type decoder struct {
	withUsers *gosnmp.GoSNMP
	users     *userTable
	probe     *gosnmp.GoSNMP
}

func (r *Receiver) handle(d *decoder, p packet) {
	t, reply, err := r.Decode(d, p.b, p.from.IP.String(), p.at)
	if reply != nil && errors.Is(err, errEngineReport) && !r.reportAllowed(p) {
		reply = nil
	}
	if reply != nil {
		if _, werr := r.conn.WriteToUDP(reply, p.from); werr == nil && err == nil {
			r.Counters.Informs.Add(1)
		}
	}
	if err != nil {
		if r.Log != nil {
			r.Log.Debug("trap dropped", "from", p.from.String(), "err", err)
		}
		return
	}
	if t.PDU == "inform" && r.retransmitted(p.from.String(), t, p.at) {
		// Answered again (above): the sender missed our response, or
		// resent before we read its first copy. Stored once.
		r.Counters.Retransmits.Add(1)
		return
	}
	if t.Truncated > 0 {
		r.Counters.Truncated.Add(1)
	}
	if err := r.Sink(t); err != nil {
		r.Counters.SinkErrors.Add(1)
		return
	}
	r.Counters.Accepted.Add(1)
}

// reportAllowed takes a report token for the sender and in all.
func (r *Receiver) reportAllowed(p packet) bool {
	if r.reports.Allow(p.src, p.at) && r.allRep.Allow(netip.Addr{}, p.at) {
		return true
	}
	r.Counters.ReportsLimited.Add(1)
	return false
}

// Errors of Decode, by the counter they raise.
var (
	ErrMalformed    = errors.New("malformed SNMP packet")
	ErrCommunity    = errors.New("community not accepted")
	ErrAuth         = errors.New("v3 authentication failed")
	ErrTimeWindow   = errors.New("v3 inform outside the time window (a replay, or a sender out of sync)")
	errEngineReport = errors.New("engine discovery answered")
)

// Decode checks and decodes one packet; reply, when not nil, is the
// answer to send back (an inform response or an engine-ID report). It
// never panics on hostile input: a decoder panic counts as malformed.
func (r *Receiver) Decode(d *decoder, b []byte, source string, at time.Time) (t Trap, reply []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, reply, err = Trap{}, nil, fmt.Errorf("%w: decoder panic: %v", ErrMalformed, p)
		}
		switch {
		case errors.Is(err, ErrMalformed):
			r.Counters.Malformed.Add(1)
		case errors.Is(err, ErrCommunity):
			r.Counters.BadCommunity.Add(1)
		case errors.Is(err, ErrAuth):
			r.Counters.AuthFailed.Add(1)
		case errors.Is(err, ErrTimeWindow):
			r.Counters.TimeWindow.Add(1)
		case errors.Is(err, errEngineReport):
			r.Counters.Reports.Add(1)
		}
	}()
	if len(b) < 2 || b[0] != 0x30 {
		return t, nil, fmt.Errorf("%w: not a BER sequence", ErrMalformed)
	}
	users := r.users.Load()
	if d.users != users {
		d.users = users
		d.withUsers = &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, Logger: quiet}
		d.withUsers.SetTrapSecurityParametersTable(users.table)
		d.probe = &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, Logger: quiet,
			SecurityParameters: &gosnmp.UsmSecurityParameters{AuthoritativeEngineID: r.engineID,
				AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv, Logger: quiet}}
	}
	v3 := isV3(b)
	p, derr := d.withUsers.UnmarshalTrap(b, false)
	if v3 && derr != nil {
		// Not authentic for any user; maybe a sender of informs asking
		// for this receiver's engine ID first (RFC 3414 section 4).
		if q, perr := d.probe.UnmarshalTrap(b, true); perr == nil && q.PDUType == gosnmp.GetRequest && len(q.Variables) == 0 {
			rep, merr := r.report(q)
			if merr != nil {
				return t, nil, fmt.Errorf("%w: %v", ErrMalformed, merr)
			}
			return t, rep, errEngineReport
		}
		return t, nil, fmt.Errorf("%w: %v", ErrAuth, derr)
	}
	if derr != nil {
		return t, nil, fmt.Errorf("%w: %v", ErrMalformed, derr)
	}
	switch p.Version {
	case gosnmp.Version1, gosnmp.Version2c:
		if len(r.Communities) > 0 && !slices.Contains(r.Communities, p.Community) {
			return t, nil, ErrCommunity
		}
	case gosnmp.Version3:
		if err := checkUser(users, p); err != nil {
			return t, nil, err
		}
		if p.PDUType == gosnmp.InformRequest {
			if rep, err := r.checkTimeliness(p, at); err != nil {
				return t, rep, err
			}
		}
	}
	if t, err = fromPacket(p, source, at); err != nil {
		return t, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.PDUType == gosnmp.InformRequest {
		p.PDUType, p.Error, p.ErrorIndex = gosnmp.GetResponse, gosnmp.NoError, 0
		p.MsgFlags &^= gosnmp.Reportable
		if reply, err = p.MarshalMsg(); err != nil {
			return t, nil, fmt.Errorf("%w: inform response: %v", ErrMalformed, err)
		}
	}
	return t, reply, nil
}

// timeWindow is RFC 3414's timeliness window.
const timeWindow = 150

// checkTimeliness: for a v3 inform this receiver is the authoritative
// engine (RFC 3414 section 3.2 step 7), so the message must carry this
// receiver's engine ID, boots and a time within 150 s of its own; a
// recorded inform replayed later is refused (and counted), and the
// sender is told the current boots and time in an authenticated report
// so a legitimate sender resynchronises and resends.
func (r *Receiver) checkTimeliness(p *gosnmp.SnmpPacket, at time.Time) ([]byte, error) {
	usm, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok {
		return nil, fmt.Errorf("%w: not a USM message", ErrAuth)
	}
	now := uint32(at.Sub(r.started) / time.Second)
	switch {
	case usm.AuthoritativeEngineID != r.engineID:
		return nil, fmt.Errorf("%w: inform for engine %x, this receiver is %x", ErrTimeWindow, usm.AuthoritativeEngineID, r.engineID)
	case usm.AuthoritativeEngineBoots == r.EngineBoots && absDiff(usm.AuthoritativeEngineTime, now) <= timeWindow:
		return nil, nil
	}
	sp := usm.Copy().(*gosnmp.UsmSecurityParameters)
	sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime = r.EngineBoots, now
	rep := *p
	rep.PDUType, rep.SecurityParameters = gosnmp.Report, sp
	rep.MsgFlags = p.MsgFlags & gosnmp.AuthNoPriv // authenticated, not encrypted (RFC 3414 3.1.2)
	rep.Variables = []gosnmp.SnmpPDU{{Name: ".1.3.6.1.6.3.15.1.1.2.0", Type: gosnmp.Counter32, Value: uint32(r.Counters.TimeWindow.Load() + 1)}}
	b, err := rep.MarshalMsg()
	if err != nil {
		b = nil
	}
	return b, fmt.Errorf("%w: boots %d time %d, this receiver boots %d time %d", ErrTimeWindow,
		usm.AuthoritativeEngineBoots, usm.AuthoritativeEngineTime, r.EngineBoots, now)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// checkUser enforces what gosnmp does not: the security level the user
// is configured for (a user set up for authPriv must not be accepted
// unencrypted) and the engine ID the user is limited to.
func checkUser(users *userTable, p *gosnmp.SnmpPacket) error {
	usm, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok {
		return fmt.Errorf("%w: not a USM message", ErrAuth)
	}
	engine := hex.EncodeToString([]byte(usm.AuthoritativeEngineID))
	for _, u := range users.byName[usm.UserName] {
		lvl, _ := snmp.Level(u.Level)
		if p.MsgFlags&gosnmp.AuthPriv == lvl && (u.EngineID == "" || u.EngineID == engine) {
			return nil
		}
	}
	return fmt.Errorf("%w: user %q at this security level and engine %s is not configured", ErrAuth, usm.UserName, engine)
}

// report answers an engine-discovery request with this receiver's
// engine ID, boots and time.
func (r *Receiver) report(q *gosnmp.SnmpPacket) ([]byte, error) {
	usm, ok := q.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok {
		return nil, errors.New("not a USM message")
	}
	sp := usm.Copy().(*gosnmp.UsmSecurityParameters)
	sp.AuthoritativeEngineID = r.engineID
	sp.AuthoritativeEngineBoots = r.EngineBoots
	sp.AuthoritativeEngineTime = uint32(time.Since(r.started) / time.Second)
	q.PDUType, q.SecurityParameters = gosnmp.Report, sp
	q.MsgFlags &= gosnmp.AuthPriv
	q.Variables = []gosnmp.SnmpPDU{{Name: ".1.3.6.1.6.3.15.1.1.4.0", Type: gosnmp.Counter32, Value: uint32(r.Counters.Reports.Load() + 1)}}
	return q.MarshalMsg()
}

// isV3 reads the version field of a BER-encoded SNMP message.
func isV3(b []byte) bool {
	i := 1
	if i >= len(b) {
		return false
	}
	if b[i]&0x80 != 0 { // long length form
		i += int(b[i] & 0x7f)
	}
	i++
	return i+2 < len(b) && b[i] == 0x02 && b[i+1] == 1 && b[i+2] == 3
}
