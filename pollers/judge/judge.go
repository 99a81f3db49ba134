// Package judge turns the values a check read into priorities, the same
// way for every monitor kind: numeric thresholds (per item if asked),
// ordered string patterns, a truth table, optionally the change from the
// previous value. It holds no state: the caller (the runner, or "test
// now") passes the previous value when a judgement needs one.
package judge

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mamori-ops/mamori/pollers/check"
)

// ErrInvalid: a judgement is wrong; the message names the field.
var ErrInvalid = errors.New("invalid judgement")

// Priority of a judged result.
type Priority string

// Priorities, worst first.
const (
	Critical Priority = "critical"
	Unknown  Priority = "unknown"
	Warning  Priority = "warning"
	Info     Priority = "info"
)

// Priorities lists them worst first.
var Priorities = []Priority{Critical, Unknown, Warning, Info}

// Rank orders priorities: lower is worse; an unset or unknown name ranks
// after info (it never wins a worst-of).
func Rank(p Priority) int {
	for i, q := range Priorities {
		if p == q {
			return i
		}
	}
	return len(Priorities)
}

// Worse says whether a is worse than b.
func Worse(a, b Priority) bool { return Rank(a) < Rank(b) }

// Valid says whether p is one of the four priorities.
func Valid(p Priority) bool { return Rank(p) < len(Priorities) }

// Range is [Min, Max): an absent end is unbounded.
type Range struct {
	Min *float64 `json:"min"`
	Max *float64 `json:"max"`
}

// Contains says whether v is in [Min, Max).
func (r *Range) Contains(v float64) bool {
	if r == nil {
		return false
	}
	return (r.Min == nil || v >= *r.Min) && (r.Max == nil || v < *r.Max)
}

func (r *Range) validate(field string) error {
	if r == nil {
		return nil
	}
	for _, p := range []*float64{r.Min, r.Max} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return fmt.Errorf("%w: %s: bounds must be finite numbers", ErrInvalid, field)
		}
	}
	if r.Min != nil && r.Max != nil && *r.Min >= *r.Max {
		return fmt.Errorf("%w: %s: min %g is not below max %g (the range is [min, max)): swap them or widen it", ErrInvalid, field, *r.Min, *r.Max)
	}
	return nil
}

// Thresholds judge a number: in the info range → info, else in the
// warning range → warning, else critical. No thresholds at all → info.
type Thresholds struct {
	Info    *Range `json:"info,omitempty"`
	Warning *Range `json:"warning,omitempty"`
}

func (t *Thresholds) validate(field string) error {
	if t == nil {
		return nil
	}
	if err := t.Info.validate(field + ".info"); err != nil {
		return err
	}
	return t.Warning.validate(field + ".warning")
}

func (t *Thresholds) judge(v float64) Priority {
	switch {
	case t == nil || (t.Info == nil && t.Warning == nil):
		return Info
	case t.Info.Contains(v):
		return Info
	case t.Warning.Contains(v):
		return Warning
	}
	return Critical
}

// Pattern is one string rule; patterns are tried in order and the first
// that matches decides. Exclude: a match ends the search and the item
// gets no judgement at all (its status and events stay as they were), as
// an operator excludes known noise ahead of a broad rule.
type Pattern struct {
	Match      string   `json:"match"`
	Priority   Priority `json:"priority,omitempty"`
	IgnoreCase bool     `json:"ignore_case,omitempty"`
	Exclude    bool     `json:"exclude,omitempty"`
	Message    string   `json:"message,omitempty"`
}

// Truth maps a truth value to a priority (defaults: true info, false critical).
type Truth struct {
	True  Priority `json:"true,omitempty"`
	False Priority `json:"false,omitempty"`
}

// Judgement is how a monitor judges what its check read.
type Judgement struct {
	Numeric *Thresholds `json:"numeric,omitempty"`
	// Items are thresholds for named items (a key, or a prefix ending in
	// "*", e.g. "disk:*"), before Numeric.
	Items    map[string]Thresholds `json:"items,omitempty"`
	Patterns []Pattern             `json:"patterns,omitempty"`
	Truth    *Truth                `json:"truth,omitempty"`
	// ChangeAmount judges a number's difference from the previous value
	// (the first value gives no judgement).
	ChangeAmount bool `json:"change_amount,omitempty"`
	// Failure is the priority of a failed check or item (default unknown).
	Failure Priority `json:"failure,omitempty"`
}

// Bounds of a judgement.
const (
	maxPatterns = 64
	maxItems    = 256
	maxRegex    = 1024
	maxMessage  = 1024
)

// Judge is a compiled judgement.
type Judge struct {
	j        Judgement
	patterns []*regexp.Regexp
	prefixes []string // item keys ending in "*", longest first
}

// Compile validates j and compiles its patterns. Errors name the field.
func Compile(j Judgement) (*Judge, error) {
	if err := j.validate(); err != nil {
		return nil, err
	}
	c := &Judge{j: j}
	for i, p := range j.Patterns {
		src := p.Match
		if p.IgnoreCase {
			src = "(?i)" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("%w: judgement.patterns[%d].match: %v: fix the regular expression (RE2 syntax)", ErrInvalid, i, err)
		}
		c.patterns = append(c.patterns, re)
	}
	for k := range j.Items {
		if strings.HasSuffix(k, "*") {
			c.prefixes = append(c.prefixes, k)
		}
	}
	sort.Slice(c.prefixes, func(a, b int) bool { return len(c.prefixes[a]) > len(c.prefixes[b]) })
	return c, nil
}

func (j Judgement) validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrInvalid}, a...)...) }
	if err := j.Numeric.validate("judgement.numeric"); err != nil {
		return err
	}
	if len(j.Items) > maxItems {
		return bad("judgement.items: at most %d", maxItems)
	}
	for k, t := range j.Items {
		if k == "" || len(k) > 256 {
			return bad("judgement.items: item keys are 1..256 bytes")
		}
		if err := t.validate("judgement.items." + k); err != nil {
			return err
		}
	}
	if len(j.Patterns) > maxPatterns {
		return bad("judgement.patterns: at most %d", maxPatterns)
	}
	for i, p := range j.Patterns {
		switch {
		case p.Match == "" || len(p.Match) > maxRegex:
			return bad("judgement.patterns[%d].match: a regular expression of 1..%d bytes", i, maxRegex)
		case !p.Exclude && !Valid(p.Priority):
			return bad("judgement.patterns[%d].priority: one of critical, unknown, warning, info", i)
		case len(p.Message) > maxMessage:
			return bad("judgement.patterns[%d].message: at most %d bytes", i, maxMessage)
		}
	}
	if t := j.Truth; t != nil {
		for f, p := range map[string]Priority{"true": t.True, "false": t.False} {
			if p != "" && !Valid(p) {
				return bad("judgement.truth.%s: one of critical, unknown, warning, info", f)
			}
		}
	}
	if j.Failure != "" && !Valid(j.Failure) {
		return bad("judgement.failure: one of critical, unknown, warning, info")
	}
	return nil
}

// Verdict is the judgement of one item.
type Verdict struct {
	Priority Priority `json:"priority"`
	Message  string   `json:"message"`
	// Value is the judged value as text (after change amount).
	Value string `json:"value"`
	// Skip: no judgement (an excluded pattern, a first sample).
	Skip bool `json:"skip,omitempty"`
}

// Failure is the priority a failed check or item takes.
func (c *Judge) Failure() Priority {
	if c.j.Failure == "" {
		return Unknown
	}
	return c.j.Failure
}

// ChangeAmount says whether numbers are judged as a change.
func (c *Judge) ChangeAmount() bool { return c.j.ChangeAmount }

// Failed is the verdict of a failed check or item.
func (c *Judge) Failed(reason string) Verdict {
	return Verdict{Priority: c.Failure(), Message: clip(reason)}
}

// Item judges one item. prev is the previous number of this item (for
// change amount; nil: none yet).
func (c *Judge) Item(it check.Item, prev *float64) Verdict {
	switch {
	case it.Err != "":
		return c.Failed(it.Err)
	case it.Number != nil:
		return c.number(it.Key, *it.Number, prev, it.Unit)
	case it.Text != nil:
		return c.text(*it.Text)
	case it.Bool != nil:
		return c.truth(*it.Bool)
	}
	return c.Failed("the check returned no value for item " + strconv.Quote(it.Key))
}

func (c *Judge) number(key string, v float64, prev *float64, unit string) Verdict {
	if c.j.ChangeAmount {
		if prev == nil {
			return Verdict{Skip: true, Message: "first value: the change is judged from the next check", Value: num(v, unit)}
		}
		v -= *prev
	}
	t := c.thresholds(key)
	p := t.judge(v)
	return Verdict{Priority: p, Value: num(v, unit), Message: describe(p, t, c.j.ChangeAmount)}
}

// thresholds are the item's own, else the numeric ones.
func (c *Judge) thresholds(key string) *Thresholds {
	if t, ok := c.j.Items[key]; ok {
		return &t
	}
	for _, pre := range c.prefixes {
		if strings.HasPrefix(key, strings.TrimSuffix(pre, "*")) {
			t := c.j.Items[pre]
			return &t
		}
	}
	return c.j.Numeric
}

// describe says why v got p, without the value itself (the value is
// Verdict.Value): a message then changes only when the judgement does,
// which is when the status row must be written again.
func describe(p Priority, t *Thresholds, change bool) string {
	r := t.rangeOf(p)
	if r == "" {
		r = "no thresholds"
	}
	if change {
		return "change " + r
	}
	return r
}

// rangeOf says which range put a value at p, for the message.
func (t *Thresholds) rangeOf(p Priority) string {
	if t == nil || (t.Info == nil && t.Warning == nil) {
		return ""
	}
	switch p {
	case Info:
		return "in info range " + t.Info.String()
	case Warning:
		return "outside info " + t.Info.String() + ", in warning " + t.Warning.String()
	}
	return "outside info " + t.Info.String() + " and warning " + t.Warning.String()
}

func (r *Range) String() string {
	if r == nil {
		return "none"
	}
	lo, hi := "-∞", "∞"
	if r.Min != nil {
		lo = strconv.FormatFloat(*r.Min, 'g', -1, 64)
	}
	if r.Max != nil {
		hi = strconv.FormatFloat(*r.Max, 'g', -1, 64)
	}
	return "[" + lo + ", " + hi + ")"
}

func (c *Judge) text(s string) Verdict {
	for i, re := range c.patterns {
		if !re.MatchString(s) {
			continue
		}
		p := c.j.Patterns[i]
		if p.Exclude {
			return Verdict{Skip: true, Value: clip(s), Message: "excluded by pattern " + strconv.Itoa(i+1)}
		}
		msg := p.Message
		if msg == "" {
			msg = "matched pattern " + strconv.Itoa(i+1) + " /" + p.Match + "/"
		}
		return Verdict{Priority: p.Priority, Value: clip(s), Message: msg}
	}
	if len(c.patterns) == 0 {
		return Verdict{Priority: Info, Value: clip(s), Message: "no patterns to judge the text by"}
	}
	return Verdict{Priority: Info, Value: clip(s), Message: "no pattern matched"}
}

func (c *Judge) truth(b bool) Verdict {
	t := Truth{True: Info, False: Critical}
	if c.j.Truth != nil {
		if c.j.Truth.True != "" {
			t.True = c.j.Truth.True
		}
		if c.j.Truth.False != "" {
			t.False = c.j.Truth.False
		}
	}
	if b {
		return Verdict{Priority: t.True, Value: "true", Message: "true"}
	}
	return Verdict{Priority: t.False, Value: "false", Message: "false"}
}

// Worst is the worst of verdicts that were judged (skipped ones do not
// count); ok is false when none was.
func Worst(vs []Verdict) (Verdict, bool) {
	var w Verdict
	found := false
	for _, v := range vs {
		if v.Skip {
			continue
		}
		if !found || Worse(v.Priority, w.Priority) {
			w, found = v, true
		}
	}
	return w, found
}

func num(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if math.Abs(v) >= 1e15 || (v != 0 && math.Abs(v) < 1e-6) {
		s = strconv.FormatFloat(v, 'g', 6, 64)
	}
	if unit != "" {
		return s + " " + unit
	}
	return s
}

// clip bounds text kept in a verdict.
func clip(s string) string {
	const max = 1024
	if len(s) > max {
		return s[:max]
	}
	return s
}
