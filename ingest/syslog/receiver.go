package syslog

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/internal/ratelimit"
	"github.com/mamori-ops/mamori/internal/udpconn"
)

// MaxMessage is the largest message kept whole; longer ones are
// truncated and counted.
const MaxMessage = 64 << 10

// Record is one received message as it goes into the spool: raw bytes
// and where and when they came from. Parsing happens on the active.
type Record struct {
	Received  time.Time
	Source    string // sender IP
	Transport string // udp, tcp, tls
	Raw       []byte
}

// Encode serialises a record for the spool.
func (r Record) Encode() []byte {
	b := make([]byte, 0, 16+len(r.Source)+len(r.Transport)+len(r.Raw))
	b = append(b, 1) // version
	b = binary.BigEndian.AppendUint64(b, uint64(r.Received.UnixNano()))
	b = append(b, byte(len(r.Source)))
	b = append(b, r.Source...)
	b = append(b, byte(len(r.Transport)))
	b = append(b, r.Transport...)
	return append(b, r.Raw...)
}

// DecodeRecord reverses Encode.
func DecodeRecord(b []byte) (Record, error) {
	bad := errors.New("not a syslog spool record")
	if len(b) < 11 || b[0] != 1 {
		return Record{}, bad
	}
	r := Record{Received: time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9])))}
	i := 9
	n := int(b[i])
	if i+1+n >= len(b) {
		return Record{}, bad
	}
	r.Source, i = string(b[i+1:i+1+n]), i+1+n
	n = int(b[i])
	if i+1+n > len(b) {
		return Record{}, bad
	}
	r.Transport, i = string(b[i+1:i+1+n]), i+1+n
	r.Raw = b[i:]
	return r, nil
}

// Sink takes received records (the spool). It must not block for long:
// the UDP read loop calls it.
type Sink func(Record) error

// Counters of a receiver.
type Counters struct {
	Received, Truncated, SinkErrors, Conns atomic.Uint64
	// ConnsRefused counts TCP/TLS connections closed at once because
	// MaxConns were open (and none could give its slot up); SourceRefused
	// those refused because their address held MaxConnsPerSource;
	// Evicted those closed to make room for a newcomer (see connTable);
	// IdleClosed those closed after IdleTimeout; HandshakeFailed TLS
	// connections whose handshake failed or did not finish in time.
	ConnsRefused, SourceRefused, Evicted, IdleClosed, HandshakeFailed atomic.Uint64
	// RateLimited counts UDP datagrams refused by the per-source limit;
	// FairShare those refused under pressure (see Pressed), and Paced
	// the times a TCP/TLS connection was read slower for it.
	RateLimited, FairShare, Paced atomic.Uint64
}

// Receiver listens for syslog on UDP and/or TCP (optionally TLS, RFC 5425).
type Receiver struct {
	UDP, TCP, TLS string // listen addresses; empty: off
	TLSConfig     *tls.Config
	// MaxConns bounds open TCP+TLS connections (each costs at most
	// ConnBytes): a flood of connections is refused and counted, not a
	// memory exhaustion. Default 1000.
	MaxConns int
	// MaxConnsPerSource bounds one address's share; default MaxConns.
	MaxConnsPerSource int
	// IdleTimeout closes a connection silent that long (senders
	// reconnect); default 15 minutes. IdleWhenFull: while every slot is
	// taken, the connection silent the longest gives its slot to a
	// newcomer once silent that long; default 10 s.
	IdleTimeout, IdleWhenFull time.Duration
	// HandshakeTimeout bounds a TLS handshake; default 10 s.
	HandshakeTimeout time.Duration
	// UDPLimit, if not nil, bounds each sender's UDP datagrams per second.
	UDPLimit *ratelimit.PerSource
	// Fair is each sender's share in bytes per second, enforced while
	// Pressed says the receive path is under pressure (ingest/pressure):
	// UDP beyond it is refused, TCP/TLS is read no faster.
	Fair     *ratelimit.PerSource
	Pressed  func() bool
	Sink     Sink
	Log      *slog.Logger
	Counters Counters

	udp       *udpconn.Conn
	tcp, tlsL net.Listener
	conns     *connTable
	warned    atomic.Int64 // unix nanoseconds of the last "not spooled" warning
}

// ConnBytes is what one TCP/TLS connection costs at most: its read
// buffer, the frame being assembled (MaxMessage), TLS record buffers and
// its goroutine. The memory budget reserves this per MaxConns.
const ConnBytes = 128 << 10

// StoredOverhead is what a message costs when stored besides its bytes
// (spool record, row, indexes, Raft entry): a fair share in bytes counts
// it, so a flood of 1-byte datagrams (stored at ~540 bytes each) is not
// a million messages a second.
const StoredOverhead = 256

// readBuffer is each connection's bufio size.
const readBuffer = 16 << 10

// Listen binds every configured address, reporting bind errors at once.
func (r *Receiver) Listen() error {
	if r.UDP != "" {
		var err error
		if r.udp, err = udpconn.Listen(r.UDP); err != nil {
			return fmt.Errorf("syslog udp %s: %w", r.UDP, err)
		}
		if b := r.udp.Buffer(); b < udpconn.BufferBytes && r.Log != nil {
			r.Log.Warn("syslog UDP receive buffer smaller than asked: raise net.core.rmem_max to 16777216 or grant CAP_NET_ADMIN",
				"granted_bytes", b)
		}
	}
	var err error
	if r.TCP != "" {
		if r.tcp, err = net.Listen("tcp", r.TCP); err != nil {
			return fmt.Errorf("syslog tcp %s: %w", r.TCP, err)
		}
	}
	if r.TLS != "" {
		if r.tlsL, err = tls.Listen("tcp", r.TLS, r.TLSConfig); err != nil {
			return fmt.Errorf("syslog tls %s: %w", r.TLS, err)
		}
	}
	return nil
}

// UDPDropped counts datagrams the kernel dropped on the UDP socket
// because its buffer was full (the burst outran the receiver).
func (r *Receiver) UDPDropped() uint64 { return r.udp.Dropped() }

// Addrs returns the bound addresses (udp, tcp, tls), "" where off.
func (r *Receiver) Addrs() (udp, tcp, tlsAddr string) {
	if r.udp != nil {
		udp = r.udp.LocalAddr().String()
	}
	if r.tcp != nil {
		tcp = r.tcp.Addr().String()
	}
	if r.tlsL != nil {
		tlsAddr = r.tlsL.Addr().String()
	}
	return
}

// Run serves until ctx ends and returns after every goroutine ended.
func (r *Receiver) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if r.udp != nil {
		wg.Go(r.serveUDP)
	}
	slots := orDefault(r.MaxConns, 1000)
	r.conns = newConnTable(slots, orDefault(r.MaxConnsPerSource, slots),
		orDefault(r.IdleWhenFull, 10*time.Second)) // shared by TCP and TLS
	for _, l := range []struct {
		ln   net.Listener
		name string
	}{{r.tcp, "tcp"}, {r.tlsL, "tls"}} {
		if l.ln != nil {
			wg.Go(func() { r.serveStream(ctx, l.ln, l.name) })
		}
	}
	<-ctx.Done()
	if r.udp != nil {
		r.udp.Close()
	}
	for _, l := range []net.Listener{r.tcp, r.tlsL} {
		if l != nil {
			l.Close()
		}
	}
	wg.Wait()
	return nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// OpenConns is the number of TCP/TLS connections holding a slot.
func (r *Receiver) OpenConns() int {
	if r.conns == nil {
		return 0
	}
	return r.conns.Open()
}

func (r *Receiver) serveUDP() {
	buf := make([]byte, MaxMessage+1)
	for {
		n, from, err := r.udp.Read(buf)
		if err != nil {
			return
		}
		now, src := time.Now(), ratelimit.Addr(from.IP)
		if !r.UDPLimit.Allow(src, now) {
			r.Counters.RateLimited.Add(1)
			continue
		}
		if r.pressed() && !r.Fair.AllowN(src, now, float64(n+StoredOverhead)) {
			r.Counters.FairShare.Add(1)
			continue
		}
		if n > MaxMessage {
			n = MaxMessage
			r.Counters.Truncated.Add(1)
		}
		r.emit(Record{Received: now, Source: from.IP.String(), Transport: "udp", Raw: append([]byte(nil), buf[:n]...)})
	}
}

func (r *Receiver) pressed() bool { return r.Pressed != nil && r.Pressed() }

// pace waits while a connection's sender is past its fair share under
// pressure: the TCP window fills and the sender waits, nothing is lost.
func (r *Receiver) pace(ctx context.Context, tc *tracked, n int) {
	if n == 0 || !r.pressed() {
		return
	}
	if d := r.Fair.Wait(tc.addr, time.Now(), float64(n)); d > 0 {
		r.Counters.Paced.Add(1)
		sleepCtx(ctx, min(d, 5*time.Second))
	}
}

func (r *Receiver) emit(rec Record) {
	r.Counters.Received.Add(1)
	if err := r.Sink(rec); err != nil {
		n := r.Counters.SinkErrors.Add(1)
		// Once per 10 s at most: a line per refused message would turn a
		// full spool into a flood of the journal's disk.
		if now := time.Now().UnixNano(); r.Log != nil && now-r.warned.Load() >= int64(10*time.Second) {
			r.warned.Store(now)
			r.Log.Warn("syslog messages not spooled (counted in mamori_syslog_spool_errors_total)", "source", rec.Source, "err", err, "refused_so_far", n)
		}
	}
}

func (r *Receiver) serveStream(ctx context.Context, ln net.Listener, transport string) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors or the like: the next accept may
			// work; giving up would stop this receiver for good.
			sleepCtx(ctx, 50*time.Millisecond)
			continue
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		tc, evicted, a := r.conns.admit(c, host, time.Now())
		if evicted != nil {
			r.Counters.Evicted.Add(1)
		}
		switch a {
		case refusedFull:
			r.Counters.ConnsRefused.Add(1)
			c.Close()
			continue
		case refusedPerSource:
			r.Counters.SourceRefused.Add(1)
			c.Close()
			continue
		}
		r.Counters.Conns.Add(1)
		wg.Go(func() {
			defer r.conns.release(tc)
			r.serveConn(ctx, tc, transport)
		})
	}
}

// serveConn reads one connection's frames until it ends, is idle too
// long, or ctx ends.
func (r *Receiver) serveConn(ctx context.Context, tc *tracked, transport string) {
	defer tc.raw.Close()
	stop := context.AfterFunc(ctx, func() { tc.raw.Close() })
	defer stop()
	if tl, ok := tc.conn.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, orDefault(r.HandshakeTimeout, 10*time.Second))
		err := tl.HandshakeContext(hctx)
		cancel()
		if err != nil {
			r.Counters.HandshakeFailed.Add(1)
			return
		}
	}
	ic := idleConn{tracked: tc, idle: orDefault(r.IdleTimeout, 15*time.Minute), pace: func(n int) { r.pace(ctx, tc, n) }}
	rd := bufio.NewReaderSize(ic, readBuffer)
	err := ReadFrames(rd, func(b []byte, truncated bool) {
		if truncated {
			r.Counters.Truncated.Add(1)
		}
		r.emit(Record{Received: time.Now(), Source: tc.source, Transport: transport, Raw: b})
	})
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		r.Counters.IdleClosed.Add(1)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// ReadFrames splits a syslog stream into messages: RFC 6587 octet
// counting ("LEN SP MSG") where a frame starts with a digit, else
// non-transparent framing (up to LF or NUL). Oversized frames are
// truncated to MaxMessage and flagged, and the stream resynchronises.
//
// Nothing is buffered beyond one frame of MaxMessage bytes: the octet
// count is read from at most maxCountDigits digits and a space (peeked,
// never searched for), and anything else that starts with a digit is a
// line frame, itself bounded. Before, a stream of digits without a
// space was buffered whole (hundreds of MiB per connection).
func ReadFrames(r *bufio.Reader, emit func(b []byte, truncated bool)) error {
	for {
		c, err := r.Peek(1)
		if err != nil {
			return ignoreEOF(err)
		}
		if n, hdr, ok := octetHeader(r, c[0]); ok {
			err = octetFrame(r, n, hdr, emit)
		} else {
			err = lineFrame(r, emit)
		}
		if err != nil {
			return ignoreEOF(err)
		}
	}
}

// maxCountDigits bounds the octet count: 10 digits, as before.
const maxCountDigits = 10

// octetHeader recognises "LEN SP <" at the reader's position without
// consuming it, peeking one byte more at a time (a complete short frame
// is never held back waiting for bytes that are not coming). It returns
// the length and the header's size (digits and space).
func octetHeader(r *bufio.Reader, first byte) (n, hdr int, ok bool) {
	if first < '1' || first > '9' {
		return 0, 0, false
	}
	for k := 2; k <= maxCountDigits+2; k++ {
		b, err := r.Peek(k)
		if err != nil {
			return 0, 0, false // the stream ended in the header: a line frame takes it
		}
		switch c := b[k-1]; {
		case c >= '0' && c <= '9' && k <= maxCountDigits:
			continue
		case c != ' ':
			return 0, 0, false
		}
		// An octet-counted frame always goes on with "<PRI>".
		if b, err = r.Peek(k + 1); err != nil || b[k] != '<' {
			return 0, 0, false
		}
		n, err := strconv.Atoi(string(b[:k-1]))
		return n, k, err == nil
	}
	return 0, 0, false
}

func octetFrame(r *bufio.Reader, n, hdr int, emit func([]byte, bool)) error {
	if _, err := r.Discard(hdr); err != nil {
		return err
	}
	keep := min(n, MaxMessage)
	b := make([]byte, keep)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	if _, err := r.Discard(n - keep); err != nil {
		return err
	}
	emit(b, n > keep)
	return nil
}

func lineFrame(r *bufio.Reader, emit func([]byte, bool)) error {
	var b []byte
	truncated := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			if len(b) > 0 {
				emit(b, truncated)
			}
			return err
		}
		if c == '\n' || c == 0 {
			if t := trimFrame(b); len(t) > 0 {
				emit(t, truncated)
			}
			return nil
		}
		if len(b) < MaxMessage {
			b = append(b, c)
		} else {
			truncated = true
		}
	}
}

func trimFrame(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
