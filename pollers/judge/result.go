package judge

import (
	"github.com/mamori-ops/mamori/pollers/check"
)

// Judged is one item's verdict.
type Judged struct {
	Item check.Item
	Verdict
}

// Result judges a whole check result. prev gives an item's previous
// number (change amount; nil: none). Items must already be rates where
// they were counters (the runner converts them); a counter item that
// reaches here is a first sample and gets no judgement.
//
// The answer is every item's verdict and the monitor's: the worst of its
// items (skipped ones aside). A failed check is one failed verdict.
func (c *Judge) Result(r check.Result, prev func(key string) *float64) (Verdict, []Judged) {
	if r.Err != nil {
		v := c.Failed(r.Err.Error())
		return v, nil
	}
	if len(r.Items) == 0 {
		return c.Failed("the check returned no values"), nil
	}
	out := make([]Judged, 0, len(r.Items))
	vs := make([]Verdict, 0, len(r.Items))
	for _, it := range r.Items {
		var v Verdict
		if it.Counter && it.Err == "" {
			v = Verdict{Skip: true, Message: "first sample of a counter: its rate is judged from the next check"}
		} else {
			var p *float64
			if prev != nil {
				p = prev(it.Key)
			}
			v = c.Item(it, p)
		}
		if it.Key != "" && len(r.Items) > 1 && !v.Skip {
			v.Message = it.Key + ": " + v.Message
		}
		out = append(out, Judged{Item: it, Verdict: v})
		vs = append(vs, v)
	}
	w, ok := Worst(vs)
	if !ok {
		return Verdict{Skip: true, Message: vs[0].Message}, out
	}
	return w, out
}
