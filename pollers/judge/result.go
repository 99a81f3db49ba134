package judge

import (
	"strings"

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
//
// perItem is the kind's check.Kind.PerItem. A kind that is not judges its
// main value (the first item) by the monitor's judgement and its other
// items only where the judgement names them (judgement.items for a
// number, patterns for a text, a truth map for a truth value): an http monitor whose thresholds are for the response time
// must not judge the status code 200 or the certificate's days left by
// them. A per-item kind (resource, command) judges every item, by its own
// thresholds or else the monitor's.
func (c *Judge) Result(r check.Result, prev func(key string) *float64, perItem bool) (Verdict, []Judged) {
	if r.Err != nil {
		v := c.Failed(r.Err.Error())
		return v, nil
	}
	if len(r.Items) == 0 {
		return c.Failed("the check returned no values"), nil
	}
	out := make([]Judged, 0, len(r.Items))
	vs := make([]Verdict, 0, len(r.Items))
	for i, it := range r.Items {
		var v Verdict
		if !perItem && i > 0 && it.Err == "" && !c.names(it) {
			v = Verdict{Skip: true, Message: "not judged: only the main value (" + r.Items[0].Key + ") and the items the judgement names are"}
		} else if it.Counter && it.Err == "" {
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

// names says whether the judgement judges the item besides the main
// value: a number with thresholds of its own, a text when there are
// patterns, a truth value when there is a truth map.
func (c *Judge) names(it check.Item) bool {
	switch {
	case it.Text != nil:
		return len(c.j.Patterns) > 0
	case it.Bool != nil:
		return c.j.Truth != nil
	case it.Number == nil:
		return false
	}
	if _, ok := c.j.Items[it.Key]; ok {
		return true
	}
	for _, pre := range c.prefixes {
		if strings.HasPrefix(it.Key, strings.TrimSuffix(pre, "*")) {
			return true
		}
	}
	return false
}
