package maintenance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/calendar"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

func newStore(t *testing.T) (*store.Store, *calendar.Cache) {
	t.Helper()
	st := storetest.New(t, append(Migrations(), calendar.Migrations()...))
	day := []calendar.Span{{From: "09:00", To: "18:00"}}
	if err := calendar.Put(context.Background(), st, calendar.Calendar{ID: "office", Name: "office", TimeZone: "Asia/Tokyo",
		Week: calendar.Week{Mon: day, Tue: day, Wed: day, Thu: day, Fri: day}}); err != nil {
		t.Fatal(err)
	}
	return st, calendar.NewCache(st)
}

// Every kind of window, each asked on both sides of its edges.
func TestActiveByKind(t *testing.T) {
	ctx := context.Background()
	st, cals := newStore(t)
	for _, w := range []Window{
		{ID: "once", Name: "db upgrade", Kind: Once, Enabled: true, Nodes: []string{"db1"},
			From: ptr(utc("2026-02-02T10:00:00Z")), To: ptr(utc("2026-02-02T12:00:00Z"))},
		// Saturdays 22:00 to Sunday 02:00 in New York, through the fall-back night.
		{ID: "weekly", Name: "backups", Kind: Weekly, Enabled: true, Scopes: []string{"backup"},
			Weekdays: []string{"sat"}, Start: "22:00", End: "02:00", TimeZone: "America/New_York"},
		{ID: "nights", Name: "batch nights", Kind: Calendar, Enabled: true, Monitors: []string{"batch-lag"}, CalendarID: "office", Inside: false},
		{ID: "days", Name: "office days", Kind: Calendar, Enabled: true, Monitors: []string{"desk-printers"}, CalendarID: "office", Inside: true,
			To: ptr(utc("2026-03-01T00:00:00Z"))},
		{ID: "off", Name: "disabled", Kind: Once, Enabled: false, Nodes: []string{"db1"},
			From: ptr(utc("2026-01-01T00:00:00Z")), To: ptr(utc("2027-01-01T00:00:00Z"))},
	} {
		if err := Put(ctx, st, w); err != nil {
			t.Fatalf("%s: %v", w.ID, err)
		}
	}
	c := NewChecker(st, cals)
	for _, tc := range []struct {
		name, node, scope, monitor, at, want string
	}{
		{"once: before", "db1", "", "", "2026-02-02T09:59:59Z", ""},
		{"once: at from", "db1", "", "", "2026-02-02T10:00:00Z", "once"},
		{"once: other node", "db2", "", "", "2026-02-02T11:00:00Z", ""},
		{"once: at to", "db1", "", "", "2026-02-02T12:00:00Z", ""},
		{"weekly: Saturday 21:59 EDT", "n", "backup", "", "2026-11-01T01:59:00Z", ""},
		{"weekly: Saturday 22:00 EDT", "n", "backup", "", "2026-11-01T02:00:00Z", "weekly"},
		{"weekly: Sunday 01:30 EST (after fall back)", "n", "backup", "", "2026-11-01T06:30:00Z", "weekly"},
		{"weekly: Sunday 02:00 EST", "n", "backup", "", "2026-11-01T07:00:00Z", ""},
		{"weekly: Sunday 22:00 is not Saturday", "n", "backup", "", "2026-11-09T03:00:00Z", ""},
		{"weekly: other scope", "n", "web", "", "2026-11-01T02:00:00Z", ""},
		{"calendar outside: Monday 08:59 JST", "n", "", "batch-lag", "2026-02-01T23:59:00Z", "nights"},
		{"calendar outside: Monday 09:00 JST", "n", "", "batch-lag", "2026-02-02T00:00:00Z", ""},
		{"calendar outside: Sunday noon", "n", "", "batch-lag", "2026-02-01T03:00:00Z", "nights"},
		{"calendar inside: Monday 10:00 JST", "n", "", "desk-printers", "2026-02-02T01:00:00Z", "days"},
		{"calendar inside: Monday 19:00 JST", "n", "", "desk-printers", "2026-02-02T10:00:00Z", ""},
		{"calendar inside: after its to", "n", "", "desk-printers", "2026-03-02T01:00:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := c.Active(ctx, tc.node, tc.scope, tc.monitor, utc(tc.at))
			if id != tc.want || ok != (tc.want != "") {
				t.Fatalf("Active = %q %v, want %q", id, ok, tc.want)
			}
		})
	}
}

// An ad hoc mute starts now, lasts its duration, and ends early on
// request; a changed window is seen at once through Invalidate and, by a
// checker that did not write it (the peer), within a couple of seconds.
func TestMuteAndEnd(t *testing.T) {
	ctx := context.Background()
	st, cals := newStore(t)
	c := NewChecker(st, cals)
	peer := NewChecker(st, cals)
	now := time.Now()
	if _, ok := peer.Active(ctx, "web1", "", "", now); ok {
		t.Fatal("active before any window")
	}
	w, err := Mute{Node: "web1", Duration: "2h", Reason: "reboot"}.Window(now, "A", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := Put(ctx, st, w); err != nil {
		t.Fatal(err)
	}
	c.Invalidate()
	if id, ok := c.Active(ctx, "web1", "", "", now.Add(time.Minute)); !ok || id != w.ID {
		t.Fatalf("mute not active: %q", id)
	}
	if _, ok := c.Active(ctx, "web1", "", "", now.Add(2*time.Hour)); ok {
		t.Fatal("mute active after its duration")
	}
	waitActive(t, peer, w.ID, now.Add(time.Minute))
	if _, err := End(ctx, st, w.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.Invalidate()
	if _, ok := c.Active(ctx, "web1", "", "", now.Add(2*time.Minute)); ok {
		t.Fatal("ended mute still active")
	}
	if st := c.StateOf(ctx, mustGet(t, st, w.ID), now.Add(2*time.Minute)); st.Status != "past" {
		t.Fatalf("ended mute is %q", st.Status)
	}
	waitActive(t, peer, "", now.Add(2*time.Minute))
}

func waitActive(t *testing.T, c *Checker, want string, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		id, _ := c.Active(context.Background(), "web1", "", "", at)
		if id == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer checker: %q, want %q within 3 s", id, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustGet(t *testing.T, st Store, id string) Window {
	t.Helper()
	w, err := Get(context.Background(), st, id)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestStateAndNextStart(t *testing.T) {
	ctx := context.Background()
	st, cals := newStore(t)
	c := NewChecker(st, cals)
	at := utc("2026-02-02T03:00:00Z") // Monday 12:00 JST
	for _, tc := range []struct {
		w      Window
		status string
		next   string
	}{
		{Window{ID: "a", Kind: Once, Enabled: true, From: ptr(at.Add(time.Hour)), To: ptr(at.Add(2 * time.Hour))}, "upcoming", "2026-02-02T04:00:00Z"},
		{Window{ID: "b", Kind: Weekly, Enabled: true, Weekdays: []string{"wed"}, Start: "01:00", End: "03:00", TimeZone: "Asia/Tokyo"}, "upcoming", "2026-02-03T16:00:00Z"},
		{Window{ID: "c", Kind: Calendar, Enabled: true, CalendarID: "office"}, "upcoming", "2026-02-02T09:00:00Z"},
		{Window{ID: "d", Kind: Calendar, Enabled: true, CalendarID: "office", Inside: true}, "active", ""},
		{Window{ID: "e", Kind: Once, Enabled: true, From: ptr(at.Add(-2 * time.Hour)), To: ptr(at.Add(-time.Hour))}, "past", ""},
		{Window{ID: "f", Kind: Weekly, Enabled: false, Weekdays: []string{"mon"}, Start: "00:00", End: "24:00", TimeZone: "UTC"}, "disabled", ""},
	} {
		t.Run(tc.w.ID, func(t *testing.T) {
			s := c.StateOf(ctx, tc.w, at)
			next := ""
			if s.NextStart != nil {
				next = s.NextStart.UTC().Format(time.RFC3339)
			}
			if s.Status != tc.status || next != tc.next || s.Active != (tc.status == "active") {
				t.Fatalf("got %+v (next %s), want %s next %s", s, next, tc.status, tc.next)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	now := utc("2026-02-02T00:00:00Z")
	ok := Window{ID: "w", Name: "w", Kind: Weekly, Enabled: true, Nodes: []string{"n"}, Weekdays: []string{"sun"}, Start: "01:00", End: "03:00", TimeZone: "UTC"}
	for _, tc := range []struct {
		name  string
		edit  func(*Window)
		field string
	}{
		{"no target", func(w *Window) { w.Nodes = nil }, "target"},
		{"unknown kind", func(w *Window) { w.Kind = "monthly" }, "kind"},
		{"once without to", func(w *Window) { w.Kind, w.From = Once, &now }, "from and to"},
		{"inverted", func(w *Window) { w.Kind, w.From, w.To = Once, ptr(now.Add(time.Hour)), &now }, "to must be after from"},
		{"bad weekday", func(w *Window) { w.Weekdays = []string{"sunday"} }, "weekdays"},
		{"bad time", func(w *Window) { w.End = "25:00" }, "start and end"},
		{"empty range", func(w *Window) { w.End = w.Start }, "same time"},
		{"bad zone", func(w *Window) { w.TimeZone = "Nowhere/City" }, "time_zone"},
		{"calendar without one", func(w *Window) { w.Kind = Calendar }, "calendar"},
		{"bad id", func(w *Window) { w.ID = "a b" }, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ok
			tc.edit(&w)
			if err := w.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error naming %q", err, tc.field)
			}
		})
	}
	for _, m := range []Mute{{Duration: "1h", Reason: "x"}, {Node: "a", Scope: "b", Duration: "1h", Reason: "x"},
		{Node: "a", Duration: "8d", Reason: "x"}, {Node: "a", Duration: "soon", Reason: "x"}, {Node: "a", Duration: "1h"}} {
		if _, err := m.Window(now, "", "u"); !errors.Is(err, ErrInvalid) {
			t.Errorf("mute %+v: got %v", m, err)
		}
	}
}

// Ended ad hoc mutes older than the cut are deleted; scheduled windows
// and mutes still running or recent stay.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	now := time.Now().UTC()
	old, err := Mute{Node: "a", Duration: "1h", Reason: "old"}.Window(now.Add(-40*24*time.Hour), "A", "u")
	if err != nil {
		t.Fatal(err)
	}
	recent, _ := Mute{Node: "a", Duration: "1h", Reason: "recent"}.Window(now.Add(-2*time.Hour), "A", "u")
	running, _ := Mute{Node: "a", Duration: "1h", Reason: "running"}.Window(now, "A", "u")
	sched := Window{ID: "upgrade", Name: "u", Kind: Once, Enabled: true, Nodes: []string{"a"}, From: ptr(now.Add(-50 * 24 * time.Hour)), To: ptr(now.Add(-49 * 24 * time.Hour))}
	for _, w := range []Window{old, recent, running, sched} {
		if err := Put(ctx, st, w); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := Prune(ctx, st, now.Add(-KeepMutes)); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	ws, _ := List(ctx, st, nil)
	left := map[string]bool{}
	for _, w := range ws {
		left[w.ID] = true
	}
	if left[old.ID] || !left[recent.ID] || !left[running.ID] || !left["upgrade"] {
		t.Fatalf("left %v", left)
	}
}

// Active with every window on the node asked (the worst case) and with
// 1,000 windows over 500 nodes (two on the node asked).
func BenchmarkActive(b *testing.B) {
	for _, bc := range []struct {
		name    string
		windows int
		node    func(i int) string
	}{
		{"200 windows on the node", 200, func(int) string { return "n1" }},
		{"1000 windows over 500 nodes", 1000, func(i int) string { return fmt.Sprintf("n%d", i%500+1) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.New(b, Migrations())
			for i := range bc.windows {
				w := Window{ID: fmt.Sprintf("w%d", i), Name: "w", Kind: Weekly, Enabled: true,
					Nodes: []string{bc.node(i)}, Weekdays: []string{"sun"}, Start: "01:00", End: "03:00", TimeZone: "Asia/Tokyo"}
				if err := Put(ctx, st, w); err != nil {
					b.Fatal(err)
				}
			}
			c := NewChecker(st, nil)
			at := utc("2026-02-02T03:00:00Z")
			for b.Loop() {
				c.Active(ctx, "n1", "s", "m", at)
			}
		})
	}
}
