package calendar

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// date is a civil date in the calendar's zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date { y, m, d := t.Date(); return date{y, m, d} }

// midnightUTC is the date as a UTC instant, for date arithmetic only.
func (d date) midnightUTC() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC) }

func (d date) add(days int) date { return dateOf(d.midnightUTC().AddDate(0, 0, days)) }

func (d date) weekday() time.Weekday { return d.midnightUTC().Weekday() }

func (d date) String() string { return d.midnightUTC().Format(time.DateOnly) }

func (d date) before(o date) bool { return d.midnightUTC().Before(o.midnightUTC()) }

func lastDay(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func parseDate(s string) (date, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return dateOf(t), err == nil && s != ""
}

// iv is a range of minutes of one day, [from, to).
type iv struct{ from, to int }

func toIVs(spans []Span) []iv {
	out := make([]iv, 0, len(spans))
	for _, s := range spans {
		f, _ := ParseClock(s.From)
		t, _ := ParseClock(s.To)
		out = append(out, iv{f, t})
	}
	return merge(out)
}

// merge sorts and joins overlapping or touching ranges.
func merge(in []iv) []iv {
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b iv) int { return a.from - b.from })
	var out []iv
	for _, x := range s {
		if n := len(out); n > 0 && x.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, x.to)
			continue
		}
		out = append(out, x)
	}
	return out
}

// subtract removes the ranges cut from hours.
func subtract(hours, cut []iv) []iv {
	out := hours
	for _, c := range cut {
		var next []iv
		for _, h := range out {
			if c.to <= h.from || c.from >= h.to {
				next = append(next, h)
				continue
			}
			if h.from < c.from {
				next = append(next, iv{h.from, c.from})
			}
			if c.to < h.to {
				next = append(next, iv{c.to, h.to})
			}
		}
		out = next
	}
	return out
}

// compiled is a validated calendar ready to evaluate, with the hours of
// the days asked recently (a day's hours depend on the whole month when
// a business-day rule is present, so they are worth keeping).
type compiled struct {
	cal      Calendar
	loc      *time.Location
	week     [7][]iv
	from, to date
	hasFrom  bool
	hasTo    bool
	mu       sync.Mutex
	days     map[date]dayHours
}

type dayHours struct {
	ivs    []iv
	source string // the last rule that changed the day ("" the weekly hours)
}

// maxCachedDays bounds a calendar's memo of days.
const maxCachedDays = 4096

// compile prepares a calendar; it must be valid.
func compile(c Calendar) (*compiled, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(c.TimeZone)
	k := &compiled{cal: c, loc: loc, days: map[date]dayHours{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		k.week[d] = toIVs(c.Week.Day(d))
	}
	k.from, k.hasFrom = parseDate(c.ValidFrom)
	k.to, k.hasTo = parseDate(c.ValidTo)
	return k, nil
}

// Location is the calendar's zone.
func (k *compiled) Location() *time.Location { return k.loc }

// hours returns the business hours of a date.
func (k *compiled) hours(d date) dayHours {
	k.mu.Lock()
	defer k.mu.Unlock()
	if h, ok := k.days[d]; ok {
		return h
	}
	if len(k.days) >= maxCachedDays {
		clear(k.days)
	}
	h := k.compute(d)
	k.days[d] = h
	return h
}

func (k *compiled) compute(d date) dayHours {
	if (k.hasFrom && d.before(k.from)) || (k.hasTo && k.to.before(d)) {
		return dayHours{source: "outside validity"}
	}
	h := k.beforeBusinessRules(d)
	var business []date // the month's business days, computed once if needed
	for i, r := range k.cal.Rules {
		if r.Kind != BusinessDay || (r.Month != 0 && time.Month(r.Month) != d.m) {
			continue
		}
		if business == nil {
			business = k.businessDays(d.y, d.m)
		}
		idx := r.Nth - 1
		if r.Nth < 0 {
			idx = len(business) + r.Nth
		}
		if idx >= 0 && idx < len(business) && business[idx] == d {
			h = dayHours{ivs: apply(h.ivs, r), source: ruleName(i, r)}
		}
	}
	return h
}

// beforeBusinessRules is a day's hours from the weekly hours and every
// rule that is not relative to business days.
func (k *compiled) beforeBusinessRules(d date) dayHours {
	h := dayHours{ivs: k.week[d.weekday()]}
	for i, r := range k.cal.Rules {
		if r.Kind != BusinessDay && ((r.Shift == 0 && r.selects(d)) || (r.Shift != 0 && k.shiftedTo(r, d))) {
			h = dayHours{ivs: apply(h.ivs, r), source: ruleName(i, r)}
		}
	}
	return h
}

// direct says whether a day has hours from the weekly hours and every
// rule (not counting business days) on the days it selects itself, shift
// ignored: what a shifting rule looks for.
func (k *compiled) direct(d date) bool {
	ivs := k.week[d.weekday()]
	for _, r := range k.cal.Rules {
		if r.Kind != BusinessDay && r.selects(d) {
			ivs = apply(ivs, r)
		}
	}
	return len(ivs) > 0
}

// shiftsOff says whether a shifting rule moves off a day it selects: a
// weekday of its ShiftOn, or else a day the weekly hours leave closed.
func (k *compiled) shiftsOff(r Rule, d date) bool {
	if len(r.ShiftOn) > 0 {
		return slices.Contains(r.ShiftOn, dayNames[d.weekday()])
	}
	return len(k.week[d.weekday()]) == 0
}

// dayNames are the API's names of the weekdays, Sunday first.
var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// maxShift bounds how far a rule moves (days without hours in a row).
const maxShift = 31

// shiftedTo says whether a shifting rule applies to d: it selects d and d
// is a working day of the week, or it selects a day off of the week
// (Sunday) and d is the first day after it (before it, for shift -1) with
// hours, skipping the days other rules close (other holidays).
func (k *compiled) shiftedTo(r Rule, d date) bool {
	if r.selects(d) && !k.shiftsOff(r, d) {
		return true
	}
	if !k.direct(d) {
		return false
	}
	for i := 1; i <= maxShift; i++ {
		p := d.add(-i * r.Shift)
		if r.selects(p) {
			return k.shiftsOff(r, p)
		}
		if k.direct(p) {
			return false // a day with hours in between: p's rule lands there
		}
	}
	return false
}

// businessDays lists the days of a month with hours before the
// business-day rules (within the calendar's validity).
func (k *compiled) businessDays(y int, m time.Month) []date {
	out := []date{}
	for day := 1; day <= lastDay(y, m); day++ {
		d := date{y, m, day}
		if (k.hasFrom && d.before(k.from)) || (k.hasTo && k.to.before(d)) {
			continue
		}
		if len(k.beforeBusinessRules(d).ivs) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func ruleName(i int, r Rule) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("rule %d (%s)", i+1, r.Kind)
}

// apply is what a rule does to the hours of a day it selects.
func apply(hours []iv, r Rule) []iv {
	switch {
	case !r.Open && len(r.Spans) == 0:
		return nil
	case !r.Open:
		return subtract(hours, toIVs(r.Spans))
	case len(r.Spans) == 0:
		return []iv{{0, 24 * 60}}
	default:
		return toIVs(r.Spans)
	}
}

// selects says whether a rule of a kind other than BusinessDay selects d.
func (r Rule) selects(d date) bool {
	if r.Kind != Dates && r.Month != 0 && time.Month(r.Month) != d.m {
		return false
	}
	switch r.Kind {
	case Dates:
		from, _ := parseDate(r.Date)
		until, ok := parseDate(r.Until)
		if !ok {
			until = from
		}
		return !d.before(from) && !until.before(d)
	case DayOfMonth:
		return d.d == r.Day || (r.Day == -1 && d.d == lastDay(d.y, d.m))
	case WeekdayOfMonth:
		wd, _ := ParseWeekday(r.Weekday)
		if d.weekday() != wd {
			return false
		}
		if r.Nth == -1 {
			return d.d+7 > lastDay(d.y, d.m)
		}
		return (d.d-1)/7+1 == r.Nth
	}
	return false
}

// open says whether the instant is inside business time: its wall clock
// in the calendar's zone within one of that date's ranges.
func (k *compiled) open(at time.Time) bool {
	t := at.In(k.loc)
	m := t.Hour()*60 + t.Minute()
	for _, x := range k.hours(dateOf(t)).ivs {
		if m >= x.from && m < x.to {
			return true
		}
	}
	return false
}

// instant is the wall-clock minute m of date d in the zone. A time that
// the zone skips (spring forward) is the instant the clock jumps to.
func (k *compiled) instant(d date, m int) time.Time {
	return time.Date(d.y, d.m, d.d, m/60, m%60, 0, 0, k.loc)
}
