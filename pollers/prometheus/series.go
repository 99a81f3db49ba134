package prometheus

import (
	"math"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// sample is one series' value after a histogram or summary is spread into
// its _bucket, _sum, _count and quantile series, as Prometheus stores them.
type sample struct {
	name    string
	labels  map[string]string // without __name__
	value   float64
	counter bool
}

// samples flattens the parsed families in name order.
func samples(fams map[string]*dto.MetricFamily) []sample {
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []sample
	for _, n := range names {
		f := fams[n]
		for _, m := range f.GetMetric() {
			out = append(out, familySamples(n, f.GetType(), m)...)
		}
	}
	return out
}

func familySamples(name string, t dto.MetricType, m *dto.Metric) []sample {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	one := func(suffix string, v float64, counter bool, extra ...string) sample {
		ls := labels
		if len(extra) == 2 {
			ls = make(map[string]string, len(labels)+1)
			for k, v := range labels {
				ls[k] = v
			}
			ls[extra[0]] = extra[1]
		}
		return sample{name: name + suffix, labels: ls, value: v, counter: counter}
	}
	switch t {
	case dto.MetricType_COUNTER:
		return []sample{one("", m.GetCounter().GetValue(), true)}
	case dto.MetricType_GAUGE:
		return []sample{one("", m.GetGauge().GetValue(), false)}
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		out := []sample{one("_sum", h.GetSampleSum(), true), one("_count", float64(h.GetSampleCount()), true)}
		for _, b := range h.GetBucket() {
			out = append(out, one("_bucket", float64(b.GetCumulativeCount()), true, "le", formatFloat(b.GetUpperBound())))
		}
		return out
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		out := []sample{one("_sum", s.GetSampleSum(), true), one("_count", float64(s.GetSampleCount()), true)}
		for _, q := range s.GetQuantile() {
			out = append(out, one("", q.GetValue(), false, "quantile", formatFloat(q.GetQuantile())))
		}
		return out
	default:
		return []sample{one("", m.GetUntyped().GetValue(), false)}
	}
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// key is the series as Prometheus writes it: name{a="x",b="y"}, labels
// sorted, values quoted.
func (s sample) key() string {
	if len(s.labels) == 0 {
		return s.name
	}
	ks := make([]string, 0, len(s.labels))
	for k := range s.labels {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	b.WriteString(s.name + "{")
	for i, k := range ks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(s.labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// matches applies the selector to the sample's name and labels.
func (s sample) matches(sel selector) bool {
	for _, m := range sel {
		v := s.labels[m.label]
		if m.label == "__name__" {
			v = s.name
		}
		if !m.matches(v) {
			return false
		}
	}
	return true
}
