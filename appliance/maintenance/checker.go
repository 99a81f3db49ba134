package maintenance

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/internal/snapshot"
)

// index is every window by what it targets.
type index struct {
	all                        []*compiled
	byNode, byScope, byMonitor map[string][]*compiled
}

func newIndex(ws []Window) *index {
	ix := &index{byNode: map[string][]*compiled{}, byScope: map[string][]*compiled{}, byMonitor: map[string][]*compiled{}}
	for _, w := range ws {
		k := compile(w)
		ix.all = append(ix.all, k)
		for _, t := range []struct {
			m   map[string][]*compiled
			ids []string
		}{{ix.byNode, w.Nodes}, {ix.byScope, w.Scopes}, {ix.byMonitor, w.Monitors}} {
			for _, id := range t.ids {
				t.m[id] = append(t.m[id], k)
			}
		}
	}
	return ix
}

// Checker answers from memory whether a result falls in a maintenance
// window: the monitor runner asks it for every judged result and the
// notifier for every notification. Windows are reloaded when the
// replicated revision changes (checked at most once a second) or at once
// after a change made through this process (Invalidate).
type Checker struct {
	snap *snapshot.Snapshot[*index]
	cals Calendars
}

// NewChecker returns a checker over the store; cals (calendar.Cache)
// evaluates windows of the calendar kind. It does no I/O.
func NewChecker(st Store, cals Calendars) *Checker {
	return &Checker{cals: cals, snap: snapshot.New(time.Second,
		func(ctx context.Context) (int64, error) { return Revision(ctx, st) },
		func(ctx context.Context) (*index, error) {
			ws, err := List(ctx, st, nil)
			if err != nil {
				return nil, err
			}
			return newIndex(ws), nil
		})}
}

// Invalidate makes the next call reload (a window was just written).
func (c *Checker) Invalidate() { c.snap.Invalidate() }

// Active says whether a result of monitorID on nodeID (in scope) at at
// falls in a window, and which (the smallest id of those active). Any of
// the three may be empty. When the windows cannot be read, nothing is in
// maintenance: holding notifications by mistake is the worse failure.
func (c *Checker) Active(ctx context.Context, nodeID, scope, monitorID string, at time.Time) (windowID string, ok bool) {
	ix, err := c.snap.Get(ctx)
	if err != nil {
		return "", false
	}
	var best string
	for _, ks := range [][]*compiled{ix.byNode[nodeID], ix.byScope[scope], ix.byMonitor[monitorID]} {
		for _, k := range ks {
			if (best == "" || strings.Compare(k.w.ID, best) < 0) && k.active(ctx, c.cals, at) {
				best = k.w.ID
			}
		}
	}
	return best, best != ""
}

// State is a window's state at an instant, as lists show it.
type State struct {
	Active bool `json:"active"`
	// Status: active, upcoming (may become active later), past (ended),
	// or disabled.
	Status string `json:"status"`
	// NextStart is when it next becomes active (upcoming windows).
	NextStart *time.Time `json:"next_start,omitempty"`
}

// StateOf evaluates a window at at.
func (c *Checker) StateOf(ctx context.Context, w Window, at time.Time) State {
	k := compile(w)
	switch {
	case !w.Enabled:
		return State{Status: "disabled"}
	case k.active(ctx, c.cals, at):
		return State{Active: true, Status: "active"}
	case w.To != nil && !at.Before(*w.To):
		return State{Status: "past"}
	}
	st := State{Status: "upcoming"}
	if t, ok := k.nextStart(ctx, c.cals, at); ok {
		st.NextStart = &t
	}
	return st
}

// ActiveIDs lists the ids of every window active at at, in id order.
func (c *Checker) ActiveIDs(ctx context.Context, at time.Time) ([]string, error) {
	ix, err := c.snap.Get(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range ix.all {
		if k.active(ctx, c.cals, at) {
			out = append(out, k.w.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}
