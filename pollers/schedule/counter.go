package schedule

import (
	"math"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// sample is a counter's previous reading.
type sample struct {
	v  float64
	at time.Time
}

// rate turns a counter reading into its rate per second against the
// previous sample. ok is false when there is no rate yet: the first
// sample, a reset (the counter went back, e.g. the device restarted),
// or no time between the samples. A 32-bit counter that went back by
// little is taken as wrapped at 2^32 (SNMP Counter32 does at 4 GiB).
func rate(prev *sample, v float64, at time.Time) (r float64, ok bool, why string) {
	if prev == nil {
		return 0, false, "first sample of a counter: its rate is judged from the next check"
	}
	dt := at.Sub(prev.at).Seconds()
	if dt <= 0 {
		return 0, false, "no time between two samples of a counter"
	}
	d := v - prev.v
	if d < 0 {
		const wrap32 = 1 << 32
		if prev.v < wrap32 && v < wrap32 && wrap32-prev.v+v < wrap32/2 {
			d = wrap32 - prev.v + v
		} else {
			return 0, false, "the counter went back (reset): its rate is judged from the next check"
		}
	}
	return d / dt, true, ""
}

// toRate replaces a counter item by its rate item.
func toRate(it check.Item, r float64) check.Item {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		r = 0
	}
	it.Number, it.Counter = &r, false
	if it.Unit != "" {
		it.Unit += "/s"
	} else {
		it.Unit = "/s"
	}
	return it
}
