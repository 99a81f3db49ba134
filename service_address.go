package main

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/vip"
	"github.com/mamori-ops/mamori/internal/caps"
	"github.com/mamori-ops/mamori/internal/config"
)

var errNoNetAdmin = errors.New("ha.service_address is set but mamori lacks CAP_NET_ADMIN: grant it " +
	"(AmbientCapabilities=CAP_NET_ADMIN in the unit, as packaged) or remove ha.service_address")

// trimCapabilities keeps CAP_NET_ADMIN only while a service address needs
// it: without one, a service user holding it drops it and this binary
// starts again (it does not return then); with one, it must be held.
func trimCapabilities(cfg config.Config, log *slog.Logger) error {
	need := cfg.HA.ServiceAddress.Enabled()
	switch caps.Decide(need, caps.Current()) {
	case caps.Drop:
		log.Info("no service address: dropping CAP_NET_ADMIN and starting again without it")
		err := caps.DropAndExec()
		log.Error("CAP_NET_ADMIN not dropped: going on with it", "err", err)
	case caps.Stuck:
		log.Warn("CAP_NET_ADMIN still held after dropping it: going on with it")
	}
	if need {
		if ok, err := caps.Effective(caps.NetAdmin); err == nil && !ok {
			return errNoNetAdmin
		}
	}
	return nil
}

// releaseServiceAddress is the first step of serve: a node that has no
// role yet must not hold the service address, which a killed active
// leaves on its interface. It returns nil when none is configured.
func releaseServiceAddress(cfg config.Config, log *slog.Logger) (*vip.Address, error) {
	sa := cfg.HA.ServiceAddress
	if !sa.Enabled() {
		return nil, nil
	}
	a, err := vip.New(sa, vip.Options{}, log)
	if err != nil {
		return nil, err
	}
	return a, a.Release()
}

// registerServiceAddress makes the service address active-only work.
func registerServiceAddress(a *vip.Address, ctl *ha.Controller, reg prometheus.Registerer) {
	if a == nil {
		return
	}
	ctl.Register("service-address", a)
	a.RegisterMetrics(reg)
}
