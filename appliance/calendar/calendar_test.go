package calendar

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var nineToFive = []Span{{"09:00", "17:00"}}

// A Tokyo office: lunch break, New Year holidays, a national holiday by
// rule (the second Monday of January), the year-end day by day of month,
// short hours on the last business day of each month.
func tokyo() Calendar {
	day := []Span{{"09:00", "12:00"}, {"13:00", "18:00"}}
	return Calendar{ID: "tokyo", Name: "Tokyo office", TimeZone: "Asia/Tokyo",
		Week: Week{Mon: day, Tue: day, Wed: day, Thu: day, Fri: day},
		Rules: []Rule{
			{Name: "new year", Kind: Dates, Date: "2026-01-01", Until: "2026-01-03"},
			{Name: "coming of age day", Kind: WeekdayOfMonth, Month: 1, Weekday: "mon", Nth: 2},
			{Name: "year end", Kind: DayOfMonth, Month: 12, Day: 31},
			{Name: "stock-taking", Kind: Dates, Date: "2026-01-30"},
			{Name: "Saturday release", Kind: Dates, Date: "2026-02-07", Open: true, Spans: []Span{{"10:00", "14:00"}}},
			{Name: "inventory afternoon", Kind: Dates, Date: "2026-02-09", Spans: []Span{{"13:00", "18:00"}}},
			{Name: "month end", Kind: BusinessDay, Nth: -1, Open: true, Spans: []Span{{"09:00", "15:00"}}},
		}}
}

func TestOpenTokyo(t *testing.T) {
	c := tokyo()
	for _, tc := range []struct {
		name string
		at   string // UTC; Tokyo is UTC+9 with no daylight saving
		want bool
	}{
		{"Monday 09:00 JST", "2026-02-02T00:00:00Z", true},
		{"Monday 08:59 JST", "2026-02-01T23:59:00Z", false},
		{"lunch 12:00 JST", "2026-02-02T03:00:00Z", false},
		{"after lunch 13:00 JST", "2026-02-02T04:00:00Z", true},
		{"17:59 JST", "2026-02-02T08:59:59Z", true},
		{"18:00 JST closes", "2026-02-02T09:00:00Z", false},
		{"Sunday", "2026-02-01T02:00:00Z", false},
		{"New Year holiday (Friday 2 January)", "2026-01-02T02:00:00Z", false},
		{"coming of age day, 12 January", "2026-01-12T02:00:00Z", false},
		{"the Monday after is open", "2026-01-19T02:00:00Z", true},
		{"31 December is closed", "2026-12-31T02:00:00Z", false},
		{"last business day of January (Thursday 29: 30 is stock-taking, 31 a Saturday) 14:59", "2026-01-29T05:59:00Z", true},
		{"... and closes at 15:00", "2026-01-29T06:00:00Z", false},
		{"the 30th is closed", "2026-01-30T02:00:00Z", false},
		{"an ordinary Thursday closes at 18:00", "2026-01-22T08:30:00Z", true},
		{"Saturday release 10:00 JST", "2026-02-07T01:00:00Z", true},
		{"Saturday release 14:00 JST closes", "2026-02-07T05:00:00Z", false},
		{"inventory afternoon: morning open", "2026-02-09T01:00:00Z", true},
		{"inventory afternoon: afternoon closed", "2026-02-09T05:00:00Z", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := Open(c, utc(tc.at)); err != nil || got != tc.want {
				t.Fatalf("Open(%s) = %v, %v; want %v", tc.at, got, err, tc.want)
			}
		})
	}
}

// New York: the wall clock decides, across the spring-forward and the
// fall-back days of 2026 (8 March, 1 November).
func TestOpenNewYorkDST(t *testing.T) {
	c := Calendar{ID: "ny", Name: "NY", TimeZone: "America/New_York",
		Week: Week{Mon: nineToFive, Tue: nineToFive, Wed: nineToFive, Thu: nineToFive, Fri: nineToFive},
		Rules: []Rule{
			{Kind: Dates, Date: "2026-03-08", Open: true, Spans: []Span{{"01:00", "03:00"}}},
			{Kind: Dates, Date: "2026-11-01", Open: true, Spans: []Span{{"01:00", "02:00"}}},
		}}
	for _, tc := range []struct {
		name string
		at   string
		want bool
	}{
		{"Friday before, 09:00 EST", "2026-03-06T14:00:00Z", true},
		{"Friday before, 08:59 EST", "2026-03-06T13:59:00Z", false},
		{"Monday after, 09:00 EDT", "2026-03-09T13:00:00Z", true},
		{"Monday after, 08:59 EDT", "2026-03-09T12:59:00Z", false},
		{"Monday after, 16:59 EDT", "2026-03-09T20:59:00Z", true},
		{"Monday after, 17:00 EDT", "2026-03-09T21:00:00Z", false},
		{"spring forward 01:59 EST", "2026-03-08T06:59:00Z", true},
		{"spring forward 03:00 EDT (02:xx never happens)", "2026-03-08T07:00:00Z", false},
		{"fall back, first 01:30 (EDT)", "2026-11-01T05:30:00Z", true},
		{"fall back, second 01:30 (EST)", "2026-11-01T06:30:00Z", true},
		{"fall back, 02:00 EST", "2026-11-01T07:00:00Z", false},
		{"Monday after fall back, 09:00 EST", "2026-11-02T14:00:00Z", true},
		{"Monday after fall back, 13:00 UTC is 08:00 EST", "2026-11-02T13:00:00Z", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := Open(c, utc(tc.at)); err != nil || got != tc.want {
				t.Fatalf("Open(%s) = %v, %v; want %v", tc.at, got, err, tc.want)
			}
		})
	}
}

// Transitions are real instants: a whole day open on the spring-forward
// day is 23 hours, on the fall-back day 25; a range to 24:00 followed by
// one from 00:00 is one stretch.
func TestTransitionsAcrossDST(t *testing.T) {
	allDay := []Span{{"00:00", "24:00"}}
	c := Calendar{ID: "ny", Name: "NY", TimeZone: "America/New_York", Week: Week{Sun: allDay, Fri: nineToFive}}
	for _, tc := range []struct {
		name, from string
		want       []Transition
	}{
		{"spring", "2026-03-06T00:00:00Z", []Transition{
			{utc("2026-03-06T14:00:00Z"), true}, {utc("2026-03-06T22:00:00Z"), false},
			{utc("2026-03-08T05:00:00Z"), true}, {utc("2026-03-09T04:00:00Z"), false}}},
		{"fall", "2026-10-30T00:00:00Z", []Transition{
			{utc("2026-10-30T13:00:00Z"), true}, {utc("2026-10-30T21:00:00Z"), false},
			{utc("2026-11-01T04:00:00Z"), true}, {utc("2026-11-02T05:00:00Z"), false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, got, err := Transitions(c, utc(tc.from), 4)
			if err != nil || open {
				t.Fatalf("open %v err %v", open, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].At.Equal(tc.want[i].At) || got[i].Open != tc.want[i].Open {
					t.Fatalf("transition %d: got %v, want %v (all: %v)", i, got[i], tc.want[i], got)
				}
			}
		})
	}
	// Saturday 22:00 to Monday 06:00 in Tokyo is one stretch.
	span := Calendar{ID: "t", Name: "t", TimeZone: "Asia/Tokyo",
		Week: Week{Sat: []Span{{"22:00", "24:00"}}, Sun: allDay, Mon: []Span{{"00:00", "06:00"}}}}
	open, got, err := Transitions(span, utc("2026-02-07T14:00:00Z"), 2) // Saturday 23:00 JST
	if err != nil || !open || len(got) != 2 || got[0].Open || !got[0].At.Equal(utc("2026-02-08T21:00:00Z")) || !got[1].At.Equal(utc("2026-02-14T13:00:00Z")) {
		t.Fatalf("across midnight: open %v %v %v", open, got, err)
	}
}

func TestPreview(t *testing.T) {
	days, err := Preview(tokyo(), utc("2026-01-28T00:00:00Z"), 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ date, wd, spans, source string }{
		{"2026-01-28", "wed", "09:00-12:00 13:00-18:00", ""},
		{"2026-01-29", "thu", "09:00-15:00", "month end"},
		{"2026-01-30", "fri", "", "stock-taking"},
		{"2026-01-31", "sat", "", ""},
	}
	for i, w := range want {
		var s []string
		for _, x := range days[i].Spans {
			s = append(s, x.From+"-"+x.To)
		}
		if d := days[i]; d.Date != w.date || d.Weekday != w.wd || strings.Join(s, " ") != w.spans || d.Source != w.source {
			t.Fatalf("day %d: got %+v, want %+v", i, d, w)
		}
	}
}

// Substitute holidays (Japan, Golden Week 2026): Constitution Day falls
// on Sunday 3 May and shifts to the next day with hours, past the
// holidays of 4 and 5 May, to Wednesday 6 May. A month-end rule with
// shift -1 on a Saturday moves to Friday.
func TestShift(t *testing.T) {
	day := []Span{{"09:00", "18:00"}}
	c := Calendar{ID: "jp", Name: "jp", TimeZone: "Asia/Tokyo", Week: Week{Mon: day, Tue: day, Wed: day, Thu: day, Fri: day},
		Rules: []Rule{
			{Name: "Constitution Day", Kind: DayOfMonth, Month: 5, Day: 3, Shift: 1},
			{Name: "Greenery Day", Kind: DayOfMonth, Month: 5, Day: 4, Shift: 1},
			{Name: "Children's Day", Kind: DayOfMonth, Month: 5, Day: 5, Shift: 1},
			{Name: "month-end batch", Kind: DayOfMonth, Day: -1, Shift: -1, Open: true, Spans: []Span{{"09:00", "23:00"}}},
		}}
	for _, tc := range []struct {
		name string
		at   string
		want bool
	}{
		{"Monday 4 May", "2026-05-04T01:00:00Z", false},
		{"Tuesday 5 May", "2026-05-05T01:00:00Z", false},
		{"Wednesday 6 May: the substitute holiday", "2026-05-06T01:00:00Z", false},
		{"Thursday 7 May", "2026-05-07T01:00:00Z", true},
		{"Friday 29 May 22:00 JST: month end moved from Sunday 31", "2026-05-29T13:00:00Z", true},
		{"Thursday 28 May 22:00 JST", "2026-05-28T13:00:00Z", false},
		{"Tuesday 30 June 22:00 JST: month end on its day", "2026-06-30T13:00:00Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := Open(c, utc(tc.at)); err != nil || got != tc.want {
				t.Fatalf("Open(%s) = %v, %v; want %v", tc.at, got, err, tc.want)
			}
		})
	}
	bad := c
	bad.Rules = []Rule{{Kind: BusinessDay, Nth: 1, Shift: 1}}
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "rules[0].shift") {
		t.Fatalf("shift on a business-day rule: %v", err)
	}
}

func TestValidity(t *testing.T) {
	c := Calendar{ID: "v", Name: "v", TimeZone: "UTC", Week: Week{Mon: nineToFive}, ValidFrom: "2026-02-02", ValidTo: "2026-02-09"}
	for at, want := range map[string]bool{"2026-01-26T10:00:00Z": false, "2026-02-02T10:00:00Z": true, "2026-02-09T10:00:00Z": true, "2026-02-16T10:00:00Z": false} {
		if got, _ := Open(c, utc(at)); got != want {
			t.Errorf("%s: open %v, want %v", at, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Calendar{ID: "c", Name: "c", TimeZone: "Asia/Tokyo"}
	for _, tc := range []struct {
		name  string
		edit  func(*Calendar)
		field string
	}{
		{"unknown zone", func(c *Calendar) { c.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"bad id", func(c *Calendar) { c.ID = "../x" }, "id"},
		{"no name", func(c *Calendar) { c.Name = "" }, "name"},
		{"inverted span", func(c *Calendar) { c.Week.Tue = []Span{{"18:00", "09:00"}} }, "week.tue[0]"},
		{"24:30", func(c *Calendar) { c.Week.Wed = []Span{{"09:00", "24:30"}} }, "week.wed[0]"},
		{"bad validity", func(c *Calendar) { c.ValidFrom, c.ValidTo = "2026-02-01", "2026-01-01" }, "valid_to"},
		{"bad date", func(c *Calendar) { c.Rules = []Rule{{Kind: Dates, Date: "2026-02-30"}} }, "rules[0].date"},
		{"until before date", func(c *Calendar) { c.Rules = []Rule{{Kind: Dates, Date: "2026-02-03", Until: "2026-02-01"}} }, "rules[0].until"},
		{"day 0", func(c *Calendar) { c.Rules = []Rule{{Kind: DayOfMonth}} }, "rules[0].day"},
		{"month 13", func(c *Calendar) { c.Rules = []Rule{{Kind: DayOfMonth, Day: 1, Month: 13}} }, "rules[0].month"},
		{"bad weekday", func(c *Calendar) { c.Rules = []Rule{{Kind: WeekdayOfMonth, Weekday: "monday", Nth: 1}} }, "rules[0].weekday"},
		{"nth 6", func(c *Calendar) { c.Rules = []Rule{{Kind: WeekdayOfMonth, Weekday: "mon", Nth: 6}} }, "rules[0].nth"},
		{"business day 0", func(c *Calendar) { c.Rules = []Rule{{Kind: BusinessDay}} }, "rules[0].nth"},
		{"unknown kind", func(c *Calendar) { c.Rules = []Rule{{Kind: "easter"}} }, "rules[0].kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	if err := tokyo().Validate(); err != nil {
		t.Fatal(err)
	}
}

// The cache answers from memory, sees a change made through it at once
// and one written by another process (the peer) within a second.
func TestCache(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t, Migrations())
	if err := Put(ctx, st, tokyo()); err != nil {
		t.Fatal(err)
	}
	cache := NewCache(st)
	monday := utc("2026-02-02T01:00:00Z")
	if ok, err := cache.Open(ctx, "tokyo", monday); err != nil || !ok {
		t.Fatalf("open %v %v", ok, err)
	}
	if ok, err := cache.Open(ctx, "", monday); err != nil || !ok {
		t.Fatalf("empty id: %v %v", ok, err)
	}
	if _, err := cache.Open(ctx, "nope", monday); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	c := tokyo()
	c.Rules = append(c.Rules, Rule{Kind: Dates, Date: "2026-02-02"})
	if err := Put(ctx, st, c); err != nil {
		t.Fatal(err)
	}
	cache.Invalidate()
	if ok, _ := cache.Open(ctx, "tokyo", monday); ok {
		t.Fatal("change through this process not seen")
	}
	other := NewCache(st) // the peer's cache, loaded before the next change
	_, _ = other.Open(ctx, "tokyo", monday)
	if err := Delete(ctx, st, "tokyo"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, err := other.Open(ctx, "tokyo", monday); !errors.Is(err, ErrNotFound); _, err = other.Open(ctx, "tokyo", monday) {
		if time.Now().After(deadline) {
			t.Fatal("a change by another process not seen within 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkCacheOpen(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b, Migrations())
	if err := Put(ctx, st, tokyo()); err != nil {
		b.Fatal(err)
	}
	cache := NewCache(st)
	at := utc("2026-02-02T01:00:00Z")
	for b.Loop() {
		if _, err := cache.Open(ctx, "tokyo", at); err != nil {
			b.Fatal(err)
		}
	}
}

// Japan's holidays of 2026 and 2027 as the Cabinet Office lists them,
// substitute and citizens' holidays included, on a Monday-to-Friday
// calendar; a holiday on a Saturday is not substituted.
func TestJapanHolidays(t *testing.T) {
	rules, note, err := Holidays("jp", 2026, 2)
	if err != nil || note != "" {
		t.Fatal(err, note)
	}
	day := []Span{{"09:00", "18:00"}}
	c := Calendar{ID: "jp", Name: "jp", TimeZone: "Asia/Tokyo", Week: Week{Mon: day, Tue: day, Wed: day, Thu: day, Fri: day}, Rules: rules}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	closed := map[string]bool{}
	for _, d := range strings.Fields(`2026-01-01 2026-01-12 2026-02-11 2026-02-23 2026-03-20 2026-04-29 2026-05-04 2026-05-05 2026-05-06
		2026-07-20 2026-08-11 2026-09-21 2026-09-22 2026-09-23 2026-10-12 2026-11-03 2026-11-23
		2027-01-01 2027-01-11 2027-02-11 2027-02-23 2027-03-22 2027-04-29 2027-05-03 2027-05-04 2027-05-05
		2027-07-19 2027-08-11 2027-09-20 2027-09-23 2027-10-11 2027-11-03 2027-11-23`) {
		closed[d] = true
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for d := time.Date(2026, 1, 1, 10, 0, 0, 0, tokyo); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		want := weekday && !closed[d.Format(time.DateOnly)]
		if got, _ := Open(c, d); got != want {
			t.Errorf("%s (%s): open %v, want %v", d.Format(time.DateOnly), d.Weekday(), got, want)
		}
	}
	// Foundation Day 2034 (11 February) is a Saturday: no substitute.
	rules, _, _ = Holidays("jp", 2034, 1)
	c.Rules = rules
	if open, _ := Open(c, time.Date(2034, 2, 13, 10, 0, 0, 0, tokyo)); !open {
		t.Error("Monday 13 February 2034 closed: a Saturday holiday was substituted")
	}
	if _, _, err := Holidays("us", 2026, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown country: %v", err)
	}
	if _, note, _ := Holidays("jp", 2100, 1); note == "" {
		t.Error("no note for a year beyond the equinox formula")
	}
}
