// Package vip holds the pair's service address: an IPv4 address that the
// active appliance adds to a named interface and announces with
// gratuitous ARP, and removes when it stops being active, so that agents,
// scripts and browsers have one address that always reaches the active.
//
// Address is active-only work (ha.Work): the HA controller runs it when
// this node becomes active and cancels it on demotion, fencing,
// switchover and stop, and waits for Run to return (the address removed)
// before the node reports its new role. A process killed with SIGKILL
// cannot remove it: Release, called at start before anything else, takes
// a leftover address off the interface, so a restarted node never holds it
// as standby. See DESIGN.md.
package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/mamori-ops/mamori/internal/config"
)

// ErrNoInterface: the configured interface does not exist.
var ErrNoInterface = errors.New("no such interface")

// Options tune the announcements; the zero value takes the defaults.
type Options struct {
	// Announce is when gratuitous ARPs are sent after the address is
	// added (several: one may be lost, and a neighbour ignores a second
	// change of an entry within its lock time). Default 0, 250ms, 1s, 5s.
	Announce []time.Duration
	// Refresh is how often an active node checks that it still holds the
	// address (re-adding it if someone removed it) and announces it again.
	// Default 30s.
	Refresh time.Duration
	// Retry is the wait between attempts to add a missing address.
	// Default 1s.
	Retry time.Duration
}

// Address is the service address of this node.
type Address struct {
	ip     net.IP
	prefix int
	iface  string
	opts   Options
	log    *slog.Logger

	held    atomic.Bool
	changes *prometheus.CounterVec
	errs    *prometheus.CounterVec
	arps    prometheus.Counter
}

// New checks the configuration's form; it does no I/O.
func New(cfg config.ServiceAddress, opts Options, logger *slog.Logger) (*Address, error) {
	ip, n, err := net.ParseCIDR(cfg.Address)
	if err != nil || ip.To4() == nil {
		return nil, fmt.Errorf("ha.service_address.address %q: want an IPv4 address with its prefix, e.g. 10.0.0.10/24", cfg.Address)
	}
	prefix, _ := n.Mask.Size()
	if opts.Announce == nil {
		opts.Announce = []time.Duration{0, 250 * time.Millisecond, time.Second, 5 * time.Second}
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 30 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	a := &Address{ip: ip.To4(), prefix: prefix, iface: cfg.Interface, opts: opts,
		log: logger.With("component", "service-address", "address", cfg.Address, "interface", cfg.Interface),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "mamori", Name: "service_address_changes_total",
			Help: "Service address added to or removed from the interface, by change."}, []string{"change"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "mamori", Name: "service_address_errors_total",
			Help: "Failed service address operations, by operation (add, remove, announce)."}, []string{"op"}),
		arps: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "mamori", Name: "service_address_announcements_total",
			Help: "Gratuitous ARPs sent for the service address."}),
	}
	return a, nil
}

// RegisterMetrics adds the service address metrics to reg.
func (a *Address) RegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(a.changes, a.errs, a.arps, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mamori",
		Name: "service_address_held", Help: "1 while this appliance holds the service address."},
		func() float64 {
			if a.held.Load() {
				return 1
			}
			return 0
		}))
}

// Held says whether this node has added the address and not removed it.
func (a *Address) Held() bool { return a.held.Load() }

// Release removes the address from the interface if it is there: called
// at start, before this node has a role, it clears what a killed active
// left behind. It fails when the interface does not exist or the address
// cannot be removed, each with what to do.
func (a *Address) Release() error {
	ifi, err := a.link()
	if err != nil {
		return err
	}
	has, err := hasAddr(a.iface, a.ip)
	if err != nil {
		return fmt.Errorf("ha.service_address: list the addresses of %s: %w", a.iface, err)
	}
	if !has {
		return nil
	}
	a.log.Warn("service address left on the interface by an earlier run: removing it before taking a role")
	return a.remove(ifi.Index)
}

// Run holds the address until ctx ends (this node stops being active),
// then removes it. It returns only after the removal was tried.
func (a *Address) Run(ctx context.Context) error {
	defer func() {
		if ifi, err := a.link(); err == nil {
			_ = a.remove(ifi.Index)
		} else {
			a.held.Store(false)
			a.log.Error("service address not removed", "err", err)
		}
	}()
	retry := a.opts.Retry
	for ctx.Err() == nil {
		ifi, err := a.add()
		if err != nil {
			// Keep trying while active (an interface may come up late),
			// less often the longer it fails.
			a.errs.WithLabelValues("add").Inc()
			a.log.Error("service address not added: retrying", "err", err, "retry", retry)
			sleep(ctx, retry)
			retry = min(2*retry, 30*time.Second)
			continue
		}
		retry = a.opts.Retry
		a.hold(ctx, ifi)
	}
	return nil
}

// add puts the address on the interface.
func (a *Address) add() (*net.Interface, error) {
	ifi, err := a.link()
	if err != nil {
		return nil, err
	}
	if err := addAddr(ifi.Index, a.ip, a.prefix); err != nil {
		return nil, a.explain("add", err)
	}
	a.held.Store(true)
	a.changes.WithLabelValues("added").Inc()
	a.log.Info("service address added")
	return ifi, nil
}

// hold announces the address on the schedule and checks every Refresh
// that it is still there (announcing it again once the schedule is
// through); it returns when ctx ends or the address is gone from the
// interface (to be added again).
func (a *Address) hold(ctx context.Context, ifi *net.Interface) {
	added, sched := time.Now(), a.opts.Announce
	timer := time.NewTimer(0)
	defer timer.Stop()
	if len(sched) > 0 {
		timer.Reset(time.Until(added.Add(sched[0])))
	}
	check := time.NewTicker(a.opts.Refresh)
	defer check.Stop()
	for sent := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			if sent < len(sched) {
				a.announce(ifi)
				sent++
			}
			if sent < len(sched) {
				timer.Reset(time.Until(added.Add(sched[sent])))
			}
		case <-check.C:
			if has, err := hasAddr(a.iface, a.ip); err == nil && !has {
				a.held.Store(false)
				a.log.Warn("service address was removed from the interface by someone else: adding it again")
				return
			}
			if sent >= len(sched) {
				a.announce(ifi)
			}
		}
	}
}

func (a *Address) announce(ifi *net.Interface) {
	if err := gratuitousARP(ifi, a.ip); err != nil {
		a.errs.WithLabelValues("announce").Inc()
		a.log.Error("gratuitous ARP not sent", "err", err)
		return
	}
	a.arps.Inc()
	a.log.Debug("gratuitous ARP sent")
}

// remove deletes the address, trying three times: a standby must not keep it.
func (a *Address) remove(ifindex int) error {
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if err = delAddr(ifindex, a.ip, a.prefix); err == nil {
			a.held.Store(false)
			a.changes.WithLabelValues("removed").Inc()
			a.log.Info("service address removed")
			return nil
		}
	}
	a.errs.WithLabelValues("remove").Inc()
	err = a.explain("remove", err)
	a.log.Error("service address not removed", "err", err)
	return err
}

func (a *Address) link() (*net.Interface, error) {
	ifi, err := net.InterfaceByName(a.iface)
	if err != nil {
		return nil, fmt.Errorf("ha.service_address.interface %q: %w: check the name with `ip link` or fix the configuration", a.iface, ErrNoInterface)
	}
	return ifi, nil
}

// explain says what to do about a failed netlink request.
func (a *Address) explain(op string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%s service address %s/%d on %s: %w: mamori needs CAP_NET_ADMIN while ha.service_address is set (the packaged unit grants it)",
			op, a.ip, a.prefix, a.iface, err)
	}
	return fmt.Errorf("%s service address %s/%d on %s: %w", op, a.ip, a.prefix, a.iface, err)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
