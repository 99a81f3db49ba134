package calendar

import "time"

// Transition is an instant where a calendar opens or closes.
type Transition struct {
	At   time.Time `json:"at"`
	Open bool      `json:"open"` // true: business time starts at At
}

// DayPreview is one date's business hours, for the console's week grid.
type DayPreview struct {
	Date    string `json:"date"`    // YYYY-MM-DD in the calendar's zone
	Weekday string `json:"weekday"` // mon..sun
	Spans   []Span `json:"spans"`
	// Source is the rule that set the day's hours ("" the weekly hours).
	Source string `json:"source,omitempty"`
}

// horizonDays bounds how far Transitions looks: a calendar closed for
// longer than this has no next transition within it.
const horizonDays = 800

// Transitions returns up to n instants after at where the calendar opens
// or closes, and whether it is open at at.
func Transitions(c Calendar, at time.Time, n int) (open bool, out []Transition, err error) {
	k, err := compile(c)
	if err != nil {
		return false, nil, err
	}
	return k.open(at), k.transitions(at, n), nil
}

func (k *compiled) transitions(at time.Time, n int) []Transition {
	state := k.open(at)
	out := []Transition{}
	start := dateOf(at.In(k.loc))
	for i := 0; i < horizonDays && len(out) < n; i++ {
		d := start.add(i)
		for _, x := range k.hours(d).ivs {
			for _, edge := range []struct {
				m    int
				open bool
			}{{x.from, true}, {x.to, false}} {
				t := k.instant(d, edge.m)
				if edge.m == 24*60 {
					t = k.instant(d.add(1), 0)
				}
				if !t.After(at) || edge.open == state || len(out) >= n {
					continue
				}
				// A range ending at 24:00 followed by one from 00:00 the
				// next day is one stretch: check the instant itself.
				if k.open(t) != edge.open {
					continue
				}
				state = edge.open
				out = append(out, Transition{At: t, Open: edge.open})
			}
		}
	}
	return out
}

// Preview returns the business hours of n days from the date of from in
// the calendar's zone.
func Preview(c Calendar, from time.Time, n int) ([]DayPreview, error) {
	k, err := compile(c)
	if err != nil {
		return nil, err
	}
	out := make([]DayPreview, 0, n)
	start := dateOf(from.In(k.loc))
	for i := range n {
		d := start.add(i)
		h := k.hours(d)
		spans := make([]Span, 0, len(h.ivs))
		for _, x := range h.ivs {
			spans = append(spans, Span{From: hhmm(x.from), To: hhmm(x.to)})
		}
		out = append(out, DayPreview{Date: d.String(), Weekday: dayNames[d.weekday()], Spans: spans, Source: h.source})
	}
	return out, nil
}

func hhmm(m int) string {
	return string([]byte{byte('0' + m/600), byte('0' + m/60%10), ':', byte('0' + m%60/10), byte('0' + m%10)})
}

// Open says whether at is inside the calendar's business time.
func Open(c Calendar, at time.Time) (bool, error) {
	k, err := compile(c)
	if err != nil {
		return false, err
	}
	return k.open(at), nil
}
