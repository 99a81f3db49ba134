package maintenance

import (
	"context"
	"time"

	"github.com/mamori-ops/mamori/appliance/calendar"
)

// Calendars is what windows of the calendar kind need: calendar.Cache.
type Calendars interface {
	// Open says whether at is inside calendar id's business time.
	Open(ctx context.Context, id string, at time.Time) (bool, error)
	// Next returns up to n instants after at where calendar id opens or closes.
	Next(ctx context.Context, id string, at time.Time, n int) ([]calendar.Transition, error)
}

// compiled is a window ready to evaluate.
type compiled struct {
	w          Window
	loc        *time.Location
	days       [7]bool
	start, end int // minutes after midnight (weekly)
}

func compile(w Window) *compiled {
	k := &compiled{w: w, loc: time.UTC}
	if w.Kind != Weekly {
		return k
	}
	if loc, err := time.LoadLocation(w.TimeZone); err == nil {
		k.loc = loc
	}
	for _, d := range w.Weekdays {
		if wd, ok := calendar.ParseWeekday(d); ok {
			k.days[wd] = true
		}
	}
	k.start, _ = calendar.ParseClock(w.Start)
	k.end, _ = calendar.ParseClock(w.End)
	return k
}

// inBounds says whether at is within the window's From and To.
func (k *compiled) inBounds(at time.Time) bool {
	w := k.w
	return w.Enabled && (w.From == nil || !at.Before(*w.From)) && (w.To == nil || at.Before(*w.To))
}

// active says whether the window is active at at.
func (k *compiled) active(ctx context.Context, cals Calendars, at time.Time) bool {
	if !k.inBounds(at) {
		return false
	}
	switch k.w.Kind {
	case Once:
		return true
	case Weekly:
		return k.weeklyActive(at)
	case Calendar:
		if cals == nil {
			return false
		}
		open, err := cals.Open(ctx, k.w.CalendarID, at)
		// A calendar that is gone (or unreadable) makes no maintenance:
		// holding notifications by mistake is the worse failure.
		return err == nil && open == k.w.Inside
	}
	return false
}

// weeklyActive compares the wall clock in the window's zone: a window
// past midnight belongs to the day it starts on.
func (k *compiled) weeklyActive(at time.Time) bool {
	t := at.In(k.loc)
	m := t.Hour()*60 + t.Minute()
	wd := t.Weekday()
	if k.start < k.end {
		return k.days[wd] && m >= k.start && m < k.end
	}
	yesterday := (wd + 6) % 7
	return (k.days[wd] && m >= k.start) || (k.days[yesterday] && m < k.end)
}

// nextStart is the first instant after at where the window becomes
// active (false: none within about a year, or never again).
func (k *compiled) nextStart(ctx context.Context, cals Calendars, at time.Time) (time.Time, bool) {
	if !k.w.Enabled || (k.w.To != nil && !at.Before(*k.w.To)) {
		return time.Time{}, false
	}
	if k.w.From != nil && at.Before(*k.w.From) && k.active(ctx, cals, *k.w.From) {
		return *k.w.From, true
	}
	switch k.w.Kind {
	case Weekly:
		return k.nextWeekly(at)
	case Calendar:
		if cals == nil {
			return time.Time{}, false
		}
		ts, err := cals.Next(ctx, k.w.CalendarID, at, 16)
		for _, tr := range ts {
			if err == nil && tr.Open == k.w.Inside && k.inBounds(tr.At) {
				return tr.At, true
			}
		}
	}
	return time.Time{}, false
}

func (k *compiled) nextWeekly(at time.Time) (time.Time, bool) {
	t := at.In(k.loc)
	for i := range 8 {
		d := t.AddDate(0, 0, i)
		s := time.Date(d.Year(), d.Month(), d.Day(), k.start/60, k.start%60, 0, 0, k.loc)
		if k.days[s.Weekday()] && s.After(at) && k.inBounds(s) {
			return s, true
		}
	}
	return time.Time{}, false
}
