package notify

import (
	"slices"
	"strconv"
	"time"
)

// Judged is one judged monitor result, as the runner hands it over.
type Judged struct {
	MonitorID, MonitorName, Kind, NodeID, NodeName, Scope, Item string
	Priority, Previous                                          string // this result's priority, the previous one ("" first)
	Message, Value                                              string
	At                                                          time.Time
	Rules                                                       []string // the monitor's "notify" rule ids
	EventUID                                                    string   // the event recorded for a change of priority ("" if none)
	Maintenance                                                 string   // the maintenance window holding it ("" none), as the runner found it
}

// seq names the result's state change in the notification key: the
// event the runner recorded for it, else the result's time.
func (j Judged) seq() string {
	if j.EventUID != "" {
		return j.EventUID
	}
	return "t" + strconv.FormatInt(j.At.UnixNano(), 10)
}

// stateKey is what one rule tracks separately.
type stateKey struct{ rule, monitor, node, item string }

// state is one rule's suppression state for one monitor × node × item.
// count and last are this appliance's (they restart at a failover: a
// rule "after N" then waits at most N-1 more results); notified, at and
// seq are recorded with each notification and survive it.
type state struct {
	count int    // identical consecutive results
	last  string // the latest result's priority
	lastJ Judged // the latest result (for the release after a window)

	notified   string    // the priority last notified ("" none)
	notifiedAt time.Time // when
	seq        string    // the state change last notified (keys the recovery's Resolves)

	held         string // the maintenance window holding a change ("" none)
	heldPriority string
}

func (r Rule) covers(priority string) bool { return slices.Contains(r.Priorities, priority) }

// observe counts j into s and says what it notifies under r: a kind, or
// "" for nothing. It does not change what s last notified: the caller
// does (notifiedNow) once the notification is recorded.
func (s *state) observe(r Rule, j Judged) string {
	if j.Priority == s.last {
		s.count++
	} else {
		s.last, s.count = j.Priority, 1
	}
	s.lastJ = j
	if s.count < r.After {
		return ""
	}
	return s.decide(r, j.Priority, j.At)
}

// decide is the rule for a result of priority p at, counted enough.
func (s *state) decide(r Rule, p string, at time.Time) string {
	if p == "info" && r.Recovery && s.notified != "" && s.notified != "info" {
		return KindRecovery
	}
	if !r.covers(p) {
		return ""
	}
	if p != s.notified {
		return KindProblem
	}
	switch r.Renotify {
	case RenotifyAlways:
		return KindProblem
	case RenotifyPeriod:
		if at.Sub(s.notifiedAt) >= r.period() {
			return KindProblem
		}
	}
	return ""
}

// settles says whether a result of priority p, that notifies nothing,
// still changes what s last notified: a return to info that the rule
// does not announce closes the problem, so the next one notifies.
func (s *state) settles(p string) bool {
	return p == "info" && s.notified != "" && s.notified != "info"
}

// notifiedNow records that s notified p at at for the state change seq.
func (s *state) notifiedNow(p string, at time.Time, seq string) {
	s.notified, s.notifiedAt, s.seq = p, at, seq
	s.held, s.heldPriority = "", ""
}

// release says what the end of a maintenance window notifies: the
// current state once, if it differs from what was last notified.
func (s *state) release(r Rule) string {
	if s.last == "" || s.last == s.notified {
		return ""
	}
	if s.last == "info" {
		if r.Recovery && s.notified != "" {
			return KindRecovery
		}
		return ""
	}
	if r.covers(s.last) {
		return KindProblem
	}
	return ""
}
