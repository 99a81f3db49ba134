// Package calendar holds calendars of business time: a time zone, weekly
// hours, and dated or recurring rules (holidays, extra open days, "the last
// business day of the month"), valid between two dates. Monitors run only
// inside a calendar's business time, maintenance windows follow one, and
// job schedules will later use them the same way: nothing here is specific
// to monitoring.
//
// Everything is wall-clock time in the calendar's zone: "09:00" is nine in
// the morning in that zone on every day, whatever daylight saving does, so
// a day may be 23 or 25 hours long (see DESIGN.md).
package calendar

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var (
	// ErrInvalid: a calendar definition is wrong (the message names the field).
	ErrInvalid = errors.New("invalid calendar")
	// ErrNotFound: no such calendar.
	ErrNotFound = errors.New("no such calendar")
	// ErrInUse: a calendar that another object names cannot be deleted.
	ErrInUse = errors.New("calendar in use")
)

// Span is a wall-clock time range of one day, From inclusive, To
// exclusive, "HH:MM" with To up to "24:00". A range across midnight is two
// spans, one on each day.
type Span struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Week is the regular business hours of each weekday.
type Week struct {
	Mon []Span `json:"mon"`
	Tue []Span `json:"tue"`
	Wed []Span `json:"wed"`
	Thu []Span `json:"thu"`
	Fri []Span `json:"fri"`
	Sat []Span `json:"sat"`
	Sun []Span `json:"sun"`
}

// Day returns the spans of a weekday.
func (w Week) Day(d time.Weekday) []Span {
	return [...][]Span{w.Sun, w.Mon, w.Tue, w.Wed, w.Thu, w.Fri, w.Sat}[d]
}

// RuleKind says which days a rule selects.
type RuleKind string

// Rule kinds.
const (
	// Dates: Date, or every date from Date to Until (both included).
	Dates RuleKind = "dates"
	// DayOfMonth: day Day (1..31, -1 the last) of month Month (0: every month).
	DayOfMonth RuleKind = "day_of_month"
	// WeekdayOfMonth: the Nth (1..5, -1 the last) Weekday of month Month
	// (0: every month): "the second Monday of January".
	WeekdayOfMonth RuleKind = "weekday_of_month"
	// BusinessDay: the Nth (1.., -1 the last, -2 the one before) business
	// day of month Month (0: every month). A business day is one with
	// hours after the weekly hours and every rule of another kind.
	BusinessDay RuleKind = "business_day"
)

// RuleKinds are the kinds, for forms and the API document.
var RuleKinds = []RuleKind{Dates, DayOfMonth, WeekdayOfMonth, BusinessDay}

// Rule changes the hours of the days it selects. Rules apply in order, a
// later one over an earlier one. Closed (Open false) without spans closes
// the whole day; with spans it closes those ranges only. Open without
// spans opens the whole day; with spans, the day's hours become exactly
// those spans.
type Rule struct {
	Name    string   `json:"name,omitempty"`
	Kind    RuleKind `json:"kind"`
	Date    string   `json:"date,omitempty"`  // YYYY-MM-DD (dates)
	Until   string   `json:"until,omitempty"` // YYYY-MM-DD, included (dates; empty: Date only)
	Month   int      `json:"month,omitempty"` // 1..12, 0 every month
	Day     int      `json:"day,omitempty"`   // 1..31 or -1 (day_of_month)
	Weekday string   `json:"weekday,omitempty"`
	Nth     int      `json:"nth,omitempty"` // weekday_of_month, business_day
	Open    bool     `json:"open"`
	Spans   []Span   `json:"spans,omitempty"`
	// Shift moves the rule off a day the weekly hours leave closed: 1 to
	// the next day with hours (skipping days other rules close), -1 to
	// the previous one, 0 never. A holiday on a Sunday with shift 1
	// closes the next business day (a substitute holiday).
	Shift int `json:"shift,omitempty"`
	// ShiftOn, if set, moves the rule only off these weekdays (mon..sun)
	// rather than off any day the week leaves closed: Japan substitutes a
	// holiday that falls on a Sunday, never one on a Saturday.
	ShiftOn []string `json:"shift_on,omitempty"`
}

// Calendar is a named calendar of business time.
type Calendar struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Scope       string `json:"scope"`
	OwnerRole   string `json:"owner_role,omitempty"`
	// TimeZone is an IANA zone name ("Asia/Tokyo"); empty is UTC.
	TimeZone string `json:"time_zone"`
	Week     Week   `json:"week"`
	Rules    []Rule `json:"rules"`
	// ValidFrom and ValidTo (YYYY-MM-DD, both included, empty: unbounded)
	// bound the calendar: outside them it is closed.
	ValidFrom string `json:"valid_from,omitempty"`
	ValidTo   string `json:"valid_to,omitempty"`
}

var (
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hhmmRE = regexp.MustCompile(`^([01][0-9]|2[0-4]):([0-5][0-9])$`)
)

// Field limits: a calendar stays small enough to evaluate on every check.
const (
	maxName  = 256
	maxScope = 64
	maxRules = 500
	maxSpans = 24
)

// weekdays by their names in the API.
var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWeekday reads "mon".."sun".
func ParseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdays[s]
	return d, ok
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks a calendar; the error names the wrong field.
func (c Calendar) Validate() error {
	switch {
	case !idRE.MatchString(c.ID):
		return invalid("id must be 1-64 letters, digits, . _ - (starting with a letter or digit)")
	case c.Name == "" || len(c.Name) > maxName:
		return invalid("name is needed (at most %d bytes)", maxName)
	case len(c.Scope) > maxScope || len(c.OwnerRole) > maxScope:
		return invalid("scope and owner_role are at most %d bytes", maxScope)
	case len(c.Description) > 4096:
		return invalid("description is longer than 4096 bytes")
	case len(c.Rules) > maxRules:
		return invalid("rules: at most %d", maxRules)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return invalid("time_zone %q is not a known IANA zone (for example Asia/Tokyo, America/New_York, UTC)", c.TimeZone)
	}
	from, errF := optDate("valid_from", c.ValidFrom)
	to, errT := optDate("valid_to", c.ValidTo)
	if err := errors.Join(errF, errT); err != nil {
		return err
	}
	if c.ValidFrom != "" && c.ValidTo != "" && to.Before(from) {
		return invalid("valid_to %s is before valid_from %s", c.ValidTo, c.ValidFrom)
	}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if err := validSpans("week."+d, c.Week.Day(weekdays[d])); err != nil {
			return err
		}
	}
	for i, r := range c.Rules {
		if err := r.validate(fmt.Sprintf("rules[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func optDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, invalid("%s %q is not a date YYYY-MM-DD", field, s)
	}
	return t, nil
}

// ParseClock reads "HH:MM" as minutes after midnight (up to 24:00).
func ParseClock(s string) (int, bool) {
	m := hhmmRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	if h == 24 && mi != 0 {
		return 0, false
	}
	return h*60 + mi, true
}

func validSpans(field string, spans []Span) error {
	if len(spans) > maxSpans {
		return invalid("%s: at most %d ranges a day", field, maxSpans)
	}
	for i, s := range spans {
		f, ok1 := ParseClock(s.From)
		t, ok2 := ParseClock(s.To)
		switch {
		case !ok1 || !ok2:
			return invalid("%s[%d]: from and to are HH:MM (00:00 to 24:00), got %q-%q", field, i, s.From, s.To)
		case f >= t:
			return invalid("%s[%d]: from %s is not before to %s (a range across midnight is two ranges, one each day)", field, i, s.From, s.To)
		}
	}
	return nil
}

func (r Rule) validate(field string) error {
	if len(r.Name) > maxName {
		return invalid("%s.name is longer than %d bytes", field, maxName)
	}
	if r.Month < 0 || r.Month > 12 {
		return invalid("%s.month must be 1..12 (0: every month)", field)
	}
	if err := validSpans(field+".spans", r.Spans); err != nil {
		return err
	}
	if r.Shift < -1 || r.Shift > 1 || (r.Shift != 0 && r.Kind == BusinessDay) {
		return invalid("%s.shift must be 1 (next day with hours), -1 (previous) or 0, and is not for business_day rules", field)
	}
	for _, d := range r.ShiftOn {
		if _, ok := weekdays[d]; !ok || r.Shift == 0 {
			return invalid("%s.shift_on: weekdays (mon..sun) of a rule with a shift", field)
		}
	}
	switch r.Kind {
	case Dates:
		d, err := optDate(field+".date", r.Date)
		if err != nil || r.Date == "" {
			return invalid("%s.date: a date YYYY-MM-DD is needed", field)
		}
		u, err := optDate(field+".until", r.Until)
		if err != nil {
			return err
		}
		if r.Until != "" && (u.Before(d) || u.Sub(d) > 366*24*time.Hour) {
			return invalid("%s.until must be on or after date and within a year of it", field)
		}
	case DayOfMonth:
		if r.Day == 0 || r.Day < -1 || r.Day > 31 {
			return invalid("%s.day must be 1..31, or -1 for the last day of the month", field)
		}
	case WeekdayOfMonth:
		if _, ok := weekdays[r.Weekday]; !ok {
			return invalid("%s.weekday must be one of mon, tue, wed, thu, fri, sat, sun", field)
		}
		if r.Nth == 0 || r.Nth < -1 || r.Nth > 5 {
			return invalid("%s.nth must be 1..5, or -1 for the last such weekday of the month", field)
		}
	case BusinessDay:
		if r.Nth == 0 || r.Nth < -23 || r.Nth > 23 {
			return invalid("%s.nth must be 1..23 (the first, second... business day) or -1..-23 (the last, the one before...)", field)
		}
	default:
		return invalid("%s.kind must be dates, day_of_month, weekday_of_month or business_day", field)
	}
	return nil
}
