// Package maintenance holds maintenance windows: times when the results
// of some nodes, scopes or monitors are expected to be bad. Events raised
// inside a window are still recorded, marked with the window; their
// notifications are held. A window is one-off (from, to), weekly (days
// and a time range in a zone), or follows a calendar (inside or outside
// its business time); an ad hoc mute ("this node for 2 hours") is a
// one-off window from now.
//
// Whether a window is active depends only on its stored definition and
// the clock, so the appliance that becomes active after a failover
// answers the same as the one that failed, including for a window that
// started in between (see DESIGN.md).
package maintenance

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/calendar"
)

var (
	// ErrInvalid: a window definition is wrong (the message names the field).
	ErrInvalid = errors.New("invalid maintenance window")
	// ErrNotFound: no such window.
	ErrNotFound = errors.New("no such maintenance window")
)

// Kind is how a window recurs.
type Kind string

// Window kinds.
const (
	Once     Kind = "once"     // From to To
	Weekly   Kind = "weekly"   // Weekdays, Start to End in TimeZone
	Calendar Kind = "calendar" // while calendar Calendar is open (Inside) or closed
)

// Kinds are the window kinds.
var Kinds = []Kind{Once, Weekly, Calendar}

// Window is one maintenance window.
type Window struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Scope and OwnerRole: who sees and changes the window (the scope
	// rule), like every object; not what it mutes (the targets).
	Scope     string `json:"scope"`
	OwnerRole string `json:"owner_role,omitempty"`
	Kind      Kind   `json:"kind"`
	Enabled   bool   `json:"enabled"`
	// Targets: the window mutes results of any of these nodes, of every
	// node in any of these scopes, of any of these monitors.
	Nodes    []string `json:"nodes"`
	Scopes   []string `json:"scopes"`
	Monitors []string `json:"monitors"`
	// From and To: a one-off window's times; for the other kinds,
	// optional bounds (the window applies from From, until To).
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// Weekly: Weekdays (mon..sun) at Start to End ("HH:MM"; an End at or
	// before Start runs past midnight into the next day) in TimeZone.
	Weekdays []string `json:"weekdays,omitempty"`
	Start    string   `json:"start,omitempty"`
	End      string   `json:"end,omitempty"`
	TimeZone string   `json:"time_zone,omitempty"`
	// Calendar kind: active while the calendar is open (Inside true) or
	// while it is closed (Inside false: "outside business hours").
	CalendarID string `json:"calendar,omitempty"`
	Inside     bool   `json:"inside,omitempty"`
	// Reason says why (an ad hoc mute needs one).
	Reason    string    `json:"reason,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

var (
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// Field limits.
const (
	maxName    = 256
	maxTargets = 1000
	maxIDLen   = 64
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks a window; the error names the wrong field.
func (w Window) Validate() error {
	switch {
	case !idRE.MatchString(w.ID):
		return invalid("id must be 1-64 letters, digits, . _ - (starting with a letter or digit)")
	case w.Name == "" || len(w.Name) > maxName:
		return invalid("name is needed (at most %d bytes)", maxName)
	case len(w.Scope) > maxIDLen || len(w.OwnerRole) > maxIDLen:
		return invalid("scope and owner_role are at most %d bytes", maxIDLen)
	case len(w.Reason) > 1024 || len(w.Description) > 4096:
		return invalid("reason is at most 1024 bytes, description 4096")
	case len(w.Nodes)+len(w.Scopes)+len(w.Monitors) == 0:
		return invalid("nodes, scopes, monitors: name at least one target")
	case len(w.Nodes)+len(w.Scopes)+len(w.Monitors) > maxTargets:
		return invalid("nodes, scopes, monitors: at most %d targets", maxTargets)
	case w.From != nil && w.To != nil && !w.From.Before(*w.To):
		return invalid("to must be after from")
	}
	for field, ids := range map[string][]string{"nodes": w.Nodes, "scopes": w.Scopes, "monitors": w.Monitors} {
		for _, id := range ids {
			if id == "" || len(id) > maxIDLen {
				return invalid("%s: %q is not an id (1-%d bytes)", field, id, maxIDLen)
			}
		}
	}
	switch w.Kind {
	case Once:
		if w.From == nil || w.To == nil {
			return invalid("from and to are needed for a one-off window")
		}
	case Weekly:
		return w.validateWeekly()
	case Calendar:
		if w.CalendarID == "" {
			return invalid("calendar: name the calendar whose business time (inside true) or closed time (inside false) the window follows")
		}
	default:
		return invalid("kind must be once, weekly or calendar")
	}
	return nil
}

func (w Window) validateWeekly() error {
	if len(w.Weekdays) == 0 {
		return invalid("weekdays: at least one of mon, tue, wed, thu, fri, sat, sun")
	}
	for _, d := range w.Weekdays {
		if _, ok := calendar.ParseWeekday(d); !ok {
			return invalid("weekdays: %q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
	}
	s, ok1 := calendar.ParseClock(w.Start)
	e, ok2 := calendar.ParseClock(w.End)
	switch {
	case !ok1 || !ok2 || s == 24*60:
		return invalid("start and end are HH:MM (start before 24:00, end up to 24:00), got %q-%q", w.Start, w.End)
	case s == e:
		return invalid("start and end are the same time: the window would be empty (for a whole day, 00:00 to 24:00)")
	}
	if _, err := time.LoadLocation(w.TimeZone); err != nil {
		return invalid("time_zone %q is not a known IANA zone (for example Asia/Tokyo, UTC)", w.TimeZone)
	}
	return nil
}

// Targets says whether the window names the node, the scope or the monitor.
func (w Window) Targets(nodeID, scope, monitorID string) bool {
	return (nodeID != "" && slices.Contains(w.Nodes, nodeID)) || (scope != "" && slices.Contains(w.Scopes, scope)) ||
		(monitorID != "" && slices.Contains(w.Monitors, monitorID))
}
