package ha

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	probing "github.com/prometheus-community/pro-bing"
	"golang.org/x/sys/unix"

	"github.com/mamori-ops/mamori/internal/caps"
)

// HeartbeatPath is the URL path of the peer heartbeat on the API port.
const HeartbeatPath = "/internal/v1/heartbeat"

// Beat is what each appliance tells the other on every heartbeat.
type Beat struct {
	ID           string    `json:"id"`
	Role         Role      `json:"role"`
	Epoch        uint64    `json:"epoch"`
	AppliedIndex uint64    `json:"applied_index"`
	At           time.Time `json:"at"`
	// Alone: this node leads a store of which it is the only voter.
	Alone bool `json:"alone,omitempty"`
	// Senior and PromotedAt describe the promotion that made Epoch (see
	// shouldYield); zero when this node did not promote itself at Epoch.
	Senior     bool      `json:"senior,omitempty"`
	PromotedAt time.Time `json:"promoted_at,omitzero"`
	// Version is the sender's build; Protocol its pair protocol and
	// MinPeer the lowest it pairs with (see compatible). Builds before
	// protocol 2 send neither: they count as protocol 1.
	Version string `json:"version,omitempty"`
	// Started is when the sender's process started: a standby heard with
	// a later one than when it said it was stopping is back (see Leave).
	Started  time.Time `json:"started,omitzero"`
	Protocol int       `json:"protocol,omitempty"`
	MinPeer  int       `json:"min_peer_protocol,omitempty"`
}

// PathStatus is the health of one heartbeat path to the peer.
type PathStatus struct {
	Addr   string    `json:"addr"`
	Up     bool      `json:"up"`
	LastOK time.Time `json:"last_ok,omitzero"`
	RTTms  float64   `json:"rtt_ms"`
	Error  string    `json:"error,omitempty"`
	// ClockOffsetMs is the peer's wall clock minus this node's, measured
	// on this path's last answer (within half its round trip).
	ClockOffsetMs float64 `json:"clock_offset_ms"`
}

// path probes the peer on one address.
type path struct {
	addr   string
	client *http.Client
	mu     sync.Mutex
	lastOK time.Time
	rtt    time.Duration
	err    string
	reply  Beat
	// offset is the peer's wall clock minus this node's, from the last
	// answer: its At against the middle of the round trip (the error is
	// at most half the round trip).
	offset time.Duration
}

// The server name is the peer's node id: it selects the appliance
// certificate even where the operator installed their own for the web UI.
func newPath(addr, peerID string, tlsCfg *tls.Config, timeout time.Duration) *path {
	tc := &tls.Config{}
	if tlsCfg != nil {
		tc = tlsCfg.Clone()
	}
	tc.ServerName = peerID
	tr := &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 1, TLSHandshakeTimeout: timeout}
	return &path{addr: addr, client: &http.Client{Transport: tr, Timeout: timeout}}
}

// beat sends one heartbeat and records the outcome.
func (p *path) beat(ctx context.Context, mine Beat) {
	start := time.Now()
	reply, err := p.post(ctx, mine)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.err = err.Error()
		return
	}
	p.lastOK, p.rtt, p.err, p.reply = time.Now(), time.Since(start), "", reply
	if !reply.At.IsZero() {
		p.offset = reply.At.Sub(start.Add(p.rtt / 2))
	}
}

func (p *path) post(ctx context.Context, mine Beat) (Beat, error) {
	b, _ := json.Marshal(mine)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+p.addr+HeartbeatPath, bytes.NewReader(b))
	if err != nil {
		return Beat{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return Beat{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Beat{}, fmt.Errorf("heartbeat: HTTP %d", resp.StatusCode)
	}
	var reply Beat
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&reply); err != nil {
		return Beat{}, fmt.Errorf("heartbeat reply: %w", err)
	}
	return reply, nil
}

func (p *path) status(now time.Time, window time.Duration) (PathStatus, Beat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PathStatus{Addr: p.addr, Up: !p.lastOK.IsZero() && now.Sub(p.lastOK) < window, LastOK: p.lastOK,
		RTTms: float64(p.rtt.Microseconds()) / 1000, Error: p.err, ClockOffsetMs: float64(p.offset.Microseconds()) / 1000}, p.reply
}

// witness answers "am I cut off, or is the peer gone?" in pair-only mode.
type witness struct {
	addrs []string
	// window: an answer older than this no longer counts (half the
	// detection time); a gap longer than it starts a new up period.
	window  time.Duration
	mu      sync.Mutex
	lastOK  time.Time
	upSince time.Time // first answer after the last gap
	err     string
}

// probe tries each address in turn until one answers.
func (w *witness) probe(ctx context.Context, timeout time.Duration) {
	var lastErr error
	for _, a := range w.addrs {
		if lastErr = probeOne(ctx, a, timeout); lastErr == nil {
			w.answered(time.Now())
			return
		}
	}
	w.mu.Lock()
	if lastErr != nil {
		w.err = lastErr.Error()
	}
	w.mu.Unlock()
}

// answered records an answer at now.
func (w *witness) answered(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastOK.IsZero() || now.Sub(w.lastOK) >= w.window {
		w.upSince = now
	}
	w.lastOK, w.err = now, ""
}

// rawICMP: a raw ICMP socket needs root or CAP_NET_RAW (the packaged
// unit grants it to the mamori user); without it, the unprivileged ICMP
// socket needs the process's group in net.ipv4.ping_group_range.
var rawICMP = sync.OnceValue(func() bool {
	if os.Geteuid() == 0 {
		return true
	}
	ok, err := caps.Effective(unix.CAP_NET_RAW)
	return err == nil && ok
})

// probeOne sends one ICMP echo to a bare IP, or connects over TCP to host:port.
func probeOne(ctx context.Context, addr string, timeout time.Duration) error {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		c, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	p, err := probing.NewPinger(addr)
	if err != nil {
		return err
	}
	p.SetPrivileged(rawICMP())
	p.Count, p.Timeout = 1, timeout
	if err := p.RunWithContext(ctx); err != nil {
		return err
	}
	if p.Statistics().PacketsRecv == 0 {
		return fmt.Errorf("no echo reply from %s", addr)
	}
	return nil
}

// WitnessStatus reports the witness probe.
type WitnessStatus struct {
	Mode      string    `json:"mode"`
	Addresses []string  `json:"addresses"`
	OK        bool      `json:"ok"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	Error     string    `json:"error,omitempty"`
	// Holder and LeaseEpoch: witness mode only.
	Holder     string `json:"holder,omitempty"`
	LeaseEpoch uint64 `json:"lease_epoch,omitempty"`
}

func (w *witness) status(now time.Time, window time.Duration) WitnessStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WitnessStatus{Mode: "pair-only", Addresses: w.addrs, OK: !w.lastOK.IsZero() && now.Sub(w.lastOK) < window,
		LastOK: w.lastOK, Error: w.err}
}

// DefaultGateway reads the IPv4 default gateway from /proc/net/route.
func DefaultGateway() (string, error) {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != 4 {
			continue
		}
		ip := make(net.IP, 4)
		binary.LittleEndian.PutUint32(ip, binary.BigEndian.Uint32(raw))
		return ip.String(), nil
	}
	return "", fmt.Errorf("no default route: set ha.witness_addresses")
}
