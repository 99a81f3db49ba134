// Package monitor is the monitor model: what to check (a kind with its
// parameters), where (one node, or every node of a scope, expanded when
// nodes change), how often, when (an optional business calendar), how to
// judge it and whom to tell. It validates monitors and stores them; the
// runner (pollers/schedule) reads them.
package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
)

var (
	// ErrInvalid: a monitor definition is wrong (the message names the field).
	ErrInvalid = errors.New("invalid monitor")
	// ErrNotFound: no such monitor.
	ErrNotFound = errors.New("no such monitor")
)

// Monitor is one monitor definition (the JSON of the API).
type Monitor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Node or Scope, exactly one: a monitor on a scope runs on every node
	// currently in it.
	Node      string `json:"node,omitempty"`
	Scope     string `json:"scope,omitempty"`
	OwnerRole string `json:"owner_role,omitempty"`
	// Interval and Timeout are Go durations ("30s", "5m").
	Interval string `json:"interval"`
	Timeout  string `json:"timeout,omitempty"`
	// Calendar, if set, names the business calendar outside of which the
	// monitor does not run.
	Calendar  string          `json:"calendar,omitempty"`
	Enabled   bool            `json:"enabled"`
	Params    json.RawMessage `json:"params,omitempty"`
	Judgement judge.Judgement `json:"judgement"`
	// Notify names the notification rules of its results.
	Notify []string `json:"notify,omitempty"`
	// Collect keeps numeric values as metrics.
	Collect bool `json:"collect"`
}

// Defaults of a monitor decoded from a request: omitted booleans mean on.
func Defaults() Monitor { return Monitor{Enabled: true, Collect: true} }

// Bounds.
const (
	MinInterval    = time.Second
	MaxInterval    = 24 * time.Hour
	DefaultTimeout = 10 * time.Second
	maxName        = 256
	maxScope       = 64
	maxNotify      = 32
	maxParams      = 32 << 10
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Kinds finds a kind by name (pollers/kinds.ByName).
type Kinds func(name string) (check.Kind, bool)

// Normalize validates m against its kind and returns it with defaults
// applied (timeout, normalised params). It does not look up the node or
// the scope: the caller does (it knows who asks).
func Normalize(m Monitor, kinds Kinds) (Monitor, error) {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrInvalid}, a...)...) }
	switch {
	case !idRE.MatchString(m.ID):
		return m, bad("id: 1-64 letters, digits, . _ - (starting with a letter or digit)")
	case len(m.Name) > maxName:
		return m, bad("name: at most %d bytes", maxName)
	case (m.Node == "") == (m.Scope == ""):
		return m, bad("node, scope: name exactly one (a node, or a scope whose every node it checks)")
	case len(m.Node) > 64 || len(m.Scope) > maxScope || len(m.OwnerRole) > maxScope:
		return m, bad("node, scope, owner_role: at most 64 bytes")
	case m.Calendar != "" && !idRE.MatchString(m.Calendar):
		return m, bad("calendar: a calendar id (1-64 letters, digits, . _ -)")
	case len(m.Notify) > maxNotify:
		return m, bad("notify: at most %d rules", maxNotify)
	case len(m.Params) > maxParams:
		return m, bad("params: at most %d bytes", maxParams)
	}
	for i, r := range m.Notify {
		if !idRE.MatchString(r) {
			return m, bad("notify[%d]: a notification rule id", i)
		}
	}
	if m.Name == "" {
		m.Name = m.ID
	}
	var err error
	if m, err = normalizeTimes(m); err != nil {
		return m, err
	}
	if _, err := judge.Compile(m.Judgement); err != nil {
		return m, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return normalizeParams(m, kinds)
}

func normalizeTimes(m Monitor) (Monitor, error) {
	iv, err := time.ParseDuration(m.Interval)
	if err != nil || iv < MinInterval || iv > MaxInterval {
		return m, fmt.Errorf("%w: interval: a duration from %s to %s, like \"30s\" or \"5m\"", ErrInvalid, MinInterval, MaxInterval)
	}
	to := DefaultTimeout
	if m.Timeout != "" {
		if to, err = time.ParseDuration(m.Timeout); err != nil || to <= 0 {
			return m, fmt.Errorf("%w: timeout: a positive duration like \"10s\"", ErrInvalid)
		}
	}
	if to > iv {
		if m.Timeout != "" {
			return m, fmt.Errorf("%w: timeout: %s is longer than the interval %s: shorten it (a check must end before the next starts)", ErrInvalid, to, iv)
		}
		to = iv
	}
	m.Interval, m.Timeout = iv.String(), to.String()
	return m, nil
}

func normalizeParams(m Monitor, kinds Kinds) (Monitor, error) {
	k, ok := kinds(m.Kind)
	if !ok {
		return m, fmt.Errorf("%w: kind: %q is not a monitor kind (GET /api/v1/monitor-kinds lists them)", ErrInvalid, m.Kind)
	}
	if k.New == nil {
		return m, nil // an agent kind: the agent validates its parameters
	}
	params := m.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage(`{}`)
	}
	norm, err := k.New().Validate(params)
	if err != nil {
		return m, fmt.Errorf("%w: params: %w", ErrInvalid, err)
	}
	m.Params = norm
	return m, nil
}

// IntervalD is the interval (valid after Normalize).
func (m Monitor) IntervalD() time.Duration { d, _ := time.ParseDuration(m.Interval); return d }

// TimeoutD is the timeout (valid after Normalize).
func (m Monitor) TimeoutD() time.Duration {
	d, err := time.ParseDuration(m.Timeout)
	if err != nil || d <= 0 {
		return min(DefaultTimeout, m.IntervalD())
	}
	return d
}

// Credentials are the credential names m's params give in the kind's
// credential fields, by field ("params.password_credential").
func Credentials(m Monitor, k check.Kind) map[string]string {
	var params map[string]json.RawMessage
	if json.Unmarshal(m.Params, &params) != nil {
		return nil
	}
	out := map[string]string{}
	for _, f := range k.Fields {
		if f.Type != "credential" {
			continue
		}
		var name string
		if json.Unmarshal(params[f.Name], &name) == nil && name != "" {
			out["params."+f.Name] = name
		}
	}
	return out
}
