// Package ping is the ICMP echo monitor kind: round-trip time and loss over
// a few probes, with github.com/prometheus-community/pro-bing.
//
// Two kinds of socket can carry the probes. The kernel's ICMP datagram
// ("ping") socket is used first when the process's group is inside
// net.ipv4.ping_group_range (systemd's default admits every group): the
// kernel hands each socket only its own replies. Otherwise a raw ICMP
// socket (root or CAP_NET_RAW) is used; every raw socket sees every ICMP
// packet until pro-bing's BPF filter is attached, and with about a
// thousand checks at once on loopback a reply was lost now and then
// (BenchmarkPingVsFping), which the datagram socket never showed. The
// "socket" parameter can force either; Raw says which was used.
package ping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item keys.
const (
	ItemRTT  = "rtt_ms"
	ItemLoss = "loss_pct"
)

// Params are the ping monitor's parameters.
type Params struct {
	// Count is how many echo requests one check sends.
	Count int `json:"count"`
	// Interval is the wait between two requests.
	Interval params.Duration `json:"interval"`
	// Timeout is how long a request waits for its reply: a later reply
	// counts as lost.
	Timeout params.Duration `json:"timeout"`
	// Size is the payload size in bytes.
	Size int `json:"size"`
	// Socket is auto, datagram or raw (see the package comment).
	Socket string `json:"socket"`
}

// Sockets.
const (
	SocketAuto     = "auto"
	SocketDatagram = "datagram"
	SocketRaw      = "raw"
)

func defaults() Params {
	return Params{Count: 3, Interval: params.Duration(500 * time.Millisecond),
		Timeout: params.Duration(time.Second), Size: 24, Socket: SocketAuto}
}

// Kind describes the ping monitor.
func Kind() check.Kind {
	d := defaults()
	return check.Kind{
		Name: "ping", Label: "Ping (ICMP)", Value: check.Numeric, Where: check.Appliance,
		Fields: []check.Field{
			{Name: "count", Type: "int", Label: "Probes", Help: "echo requests per check (1–100)", Default: params.JSON(d.Count)},
			{Name: "interval", Type: "duration", Label: "Interval", Help: "wait between two probes (10ms–10s)", Default: params.JSON(d.Interval)},
			{Name: "timeout", Type: "duration", Label: "Probe timeout", Help: "a reply later than this counts as lost (10ms–30s)", Default: params.JSON(d.Timeout)},
			{Name: "size", Type: "int", Label: "Payload bytes", Help: "24–1472", Default: params.JSON(d.Size)},
			{Name: "socket", Type: "select", Label: "Socket", Options: []string{SocketAuto, SocketDatagram, SocketRaw}, Default: params.JSON(d.Socket),
				Help: "auto: the kernel's ping socket when net.ipv4.ping_group_range allows it, else a raw socket (CAP_NET_RAW)"},
		},
		New: func() check.Checker { return Checker{} },
	}
}

// Checker pings.
type Checker struct{}

// Validate applies defaults and checks ranges.
func (Checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (Params, error) {
	p := defaults()
	if err := params.Decode(raw, &p); err != nil {
		return p, err
	}
	return p, errors.Join(
		params.IntBetween("count", p.Count, 1, 100),
		params.Between("interval", p.Interval.D(), 10*time.Millisecond, 10*time.Second),
		params.Between("timeout", p.Timeout.D(), 10*time.Millisecond, 30*time.Second),
		// pro-bing stamps 24 bytes (time + tracker) in each payload; 1472
		// fills an Ethernet frame without fragments.
		params.IntBetween("size", p.Size, 24, 1472),
		checkSocket(p.Socket),
	)
}

func checkSocket(s string) error {
	if s != SocketAuto && s != SocketDatagram && s != SocketRaw {
		return params.Bad("socket", "%q: use auto, datagram or raw", s)
	}
	return nil
}

// Check sends the probes and reports average RTT and loss.
func (Checker) Check(ctx context.Context, _ check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	if t.Address == "" {
		return check.Failed(params.ErrNoAddress, "")
	}
	run, err := probe(ctx, t.Address, p, p.Socket == SocketRaw)
	if err != nil && permissionDenied(err) && !run.setUp && p.Socket == SocketAuto {
		// The group is outside net.ipv4.ping_group_range: a raw socket
		// needs CAP_NET_RAW instead.
		run, err = probe(ctx, t.Address, p, true)
		if err != nil && permissionDenied(err) && !run.setUp {
			err = fmt.Errorf("no ICMP socket may be opened: admit the process's group in net.ipv4.ping_group_range or give it CAP_NET_RAW: %w", err)
		}
	}
	return run.result(err, p)
}

func permissionDenied(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

// run is one attempt: which socket, whether it opened, what came back.
type run struct {
	address    string
	privileged bool
	setUp      bool // the socket opened: a later error is a send error
	stats      *probing.Statistics
}

func probe(ctx context.Context, address string, p Params, privileged bool) (run, error) {
	r := run{address: address, privileged: privileged}
	pg := probing.New(address)
	pg.SetPrivileged(privileged)
	pg.Count = p.Count
	pg.Interval = p.Interval.D()
	pg.Size = p.Size
	pg.RecordRtts = true
	dl, ok := ctx.Deadline()
	// Wait for the last probe's reply at most Timeout after sending it.
	total := time.Duration(p.Count-1)*p.Interval.D() + p.Timeout.D()
	pg.Timeout = params.Remaining(dl, ok, total)
	pg.ResolveTimeout = params.Remaining(dl, ok, 5*time.Second)
	if pg.Timeout <= 0 {
		return r, context.DeadlineExceeded
	}
	pg.OnSetup = func() { r.setUp = true }
	if err := pg.Resolve(); err != nil {
		return r, fmt.Errorf("resolve %s: %w", address, err)
	}
	err := pg.RunWithContext(ctx)
	r.stats = pg.Statistics()
	if err != nil && !r.setUp {
		return r, fmt.Errorf("open the ICMP socket: %w%s", err, socketHint(privileged, err))
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil // the check's time ran out: report what came back so far
	}
	return r, err
}

// result turns one attempt into items: a send error (no route) is a
// total loss, not a failed check, so loss thresholds still judge it.
func (r run) result(err error, p Params) check.Result {
	if r.stats == nil || (!r.setUp && err != nil) {
		return check.Failed(err, r.header())
	}
	sent, good, sum := r.count(p)
	if sent == 0 {
		sent = p.Count
	}
	loss := 100 * float64(sent-good) / float64(sent)
	items := []check.Item{check.Num(ItemLoss, loss, "%")}
	rtt := check.Item{Key: ItemRTT, Unit: "ms"}
	switch {
	case good > 0:
		v := params.Ms(sum) / float64(good)
		rtt.Number = &v
	case err != nil:
		rtt.Err = "no reply: " + err.Error()
	default:
		rtt.Err = fmt.Sprintf("no reply to %d probes within %s", sent, p.Timeout.D())
	}
	items = append([]check.Item{rtt}, items...)
	return check.Result{Items: items, Raw: check.Clip(r.raw(p, sent, good, loss, err))}
}

// count counts replies within the probe timeout.
func (r run) count(p Params) (sent, good int, sum time.Duration) {
	for _, d := range r.stats.Rtts {
		if d <= p.Timeout.D() {
			good++
			sum += d
		}
	}
	return r.stats.PacketsSent, good, sum
}

func (r run) header() string {
	sock := "raw ICMP socket"
	if !r.privileged {
		sock = "ICMP datagram socket"
	}
	return fmt.Sprintf("PING %s via %s", r.address, sock)
}

func (r run) raw(p Params, sent, good int, loss float64, err error) string {
	var b strings.Builder
	b.WriteString(r.header())
	if r.stats.IPAddr != nil && r.stats.IPAddr.String() != r.address {
		fmt.Fprintf(&b, " (%s)", r.stats.IPAddr)
	}
	b.WriteString("\n")
	for i, d := range r.stats.Rtts {
		late := ""
		if d > p.Timeout.D() {
			late = " (late: counted lost)"
		}
		fmt.Fprintf(&b, "reply %d: %.3f ms%s\n", i+1, params.Ms(d), late)
	}
	fmt.Fprintf(&b, "%d sent, %d received, %.0f%% loss", sent, good, loss)
	if good > 0 {
		fmt.Fprintf(&b, ", rtt min/avg/max = %.3f/%.3f/%.3f ms",
			params.Ms(r.stats.MinRtt), params.Ms(r.stats.AvgRtt), params.Ms(r.stats.MaxRtt))
	}
	if err != nil {
		fmt.Fprintf(&b, "\nerror: %v", err)
	}
	return b.String()
}

// socketHint says what to change when a socket is refused.
func socketHint(raw bool, err error) string {
	switch {
	case !permissionDenied(err):
		return ""
	case raw:
		return " (a raw socket needs root or CAP_NET_RAW)"
	}
	return " (the ICMP datagram socket needs the process's group inside net.ipv4.ping_group_range)"
}
