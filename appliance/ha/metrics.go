package ha

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Healthy says whether the state machine ticked recently (for the
// systemd watchdog: a wedged controller must not keep pinging).
func (c *Controller) Healthy() bool {
	t := c.lastTick.Load()
	return t != nil && time.Since(*t) < 5*time.Second
}

// RegisterMetrics adds the HA gauges to reg.
func (c *Controller) RegisterMetrics(reg prometheus.Registerer) {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mamori", Name: name, Help: help}, f)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	reg.MustRegister(
		gauge("ha_active", "1 if this appliance is active.", func() float64 { return b2f(c.currentRole() == Active) }),
		gauge("ha_fenced", "1 if this appliance has fenced itself.", func() float64 { return b2f(c.currentRole() == Fenced) }),
		gauge("ha_epoch", "The pair epoch this appliance knows.", func() float64 { return float64(c.members.Get().Epoch) }),
		gauge("ha_peer_reachable", "1 if the peer answered on some heartbeat path within the detection time.",
			func() float64 { return b2f(c.peerSeenWithin(time.Now(), c.opts.HA.DetectionTime)) }),
		gauge("ha_witness_ok", "1 if a witness address answered recently.", func() float64 { return b2f(c.witnessOK(time.Now())) }),
		gauge("store_applied_index", "Raft index applied to the local database.", func() float64 { return float64(c.st.Status().AppliedIndex) }),
		gauge("events_pending", "Events raised here and not yet stored.", func() float64 { return float64(c.rec.PendingCount()) }),
	)
}
