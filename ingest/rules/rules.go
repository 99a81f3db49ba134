// Package rules holds monitor rules: ordered per source scope, each
// matches received messages (syslog, SNMP traps, custom events) on their
// fields and either notifies (an event with a priority and a message made
// from a template) or drops the message. The first matching rule decides.
package rules

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kinds of received message a rule applies to.
const (
	Syslog = "syslog"
	Trap   = "trap"
	Custom = "custom"
)

// Actions.
const (
	Notify = "notify"
	Drop   = "drop"
)

// Priorities of the events rules raise (the event severities).
var Priorities = []string{"critical", "warning", "info", "unknown"}

// Rule is one monitor rule as stored and edited.
type Rule struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Scope    string `json:"scope"`    // source scope it applies to; "" = sources of every scope
	Position int    `json:"position"` // order within the rule set, lowest first
	Enabled  bool   `json:"enabled"`
	Kind     string `json:"kind"` // syslog, trap, custom

	// Conditions; every one given must hold.
	Facilities  []int    `json:"facilities,omitempty"`   // syslog facility numbers
	MaxSeverity *int     `json:"max_severity,omitempty"` // syslog severity at least this grave (0 emerg .. 7 debug)
	Host        string   `json:"host,omitempty"`         // regex on the host name (syslog) or source address
	App         string   `json:"app,omitempty"`          // regex on the app name (syslog) or key (custom)
	Pattern     string   `json:"pattern,omitempty"`      // regex on the message text (traps: varbinds as name=value)
	Keywords    []string `json:"keywords,omitempty"`     // each must occur in the text (case-insensitive)
	Exclude     string   `json:"exclude,omitempty"`      // regex that must not match the text
	TrapOID     string   `json:"trap_oid,omitempty"`     // trap OID, or a prefix of it ending in ".*", or a MIB name

	Action   string `json:"action"`             // notify, drop
	Priority string `json:"priority,omitempty"` // critical, warning, info, unknown
	Template string `json:"template,omitempty"` // ${message} ${host} ${app} ${source} ${node} ${trap_oid} ${trap_name} ${severity} ${facility} ${rule}

	OwnerRole string `json:"owner_role,omitempty"`
}

// Message is what rules see of a received message.
type Message struct {
	Kind     string
	Scope    string
	Node     string
	Source   string
	Facility int
	Severity int
	Host     string
	App      string
	Text     string
	TrapOID  string
	TrapName string
}

// ErrInvalid: a rule cannot be used as given.
var ErrInvalid = errors.New("invalid rule")

// compiled is a rule ready to match.
type compiled struct {
	Rule
	host, app, pattern, exclude *regexp.Regexp
	// prefix is the pattern's literal prefix: text without it cannot
	// match, which strings.Contains tells much faster than the regexp;
	// grams are the hashes of its 3-byte substrings, which tell most
	// misses faster still (one pass over the text for all rules).
	prefix    string
	grams     []uint16
	keywords  []string
	oidPrefix bool
	oid       string
}

// Set is a compiled rule set, safe for concurrent use.
type Set struct {
	byKind map[string][]*compiled // in position order
}

// Compile checks and compiles rules; disabled rules are left out.
func Compile(rs []Rule) (*Set, error) {
	s := &Set{byKind: map[string][]*compiled{}}
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b Rule) int { return a.Position - b.Position })
	for _, r := range sorted {
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		if r.Enabled {
			s.byKind[r.Kind] = append(s.byKind[r.Kind], c)
		}
	}
	return s, nil
}

// Validate reports what is wrong with a rule, naming the field.
func Validate(r Rule) error { _, err := compile(r); return err }

// checkLengths bounds every field of a rule (an object every ingested
// message is matched against, stored and listed).
func checkLengths(r Rule) error {
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"id", r.ID, 64}, {"name", r.Name, 256}, {"scope", r.Scope, 64}, {"owner_role", r.OwnerRole, 64}, {"host", r.Host, 4096},
		{"app", r.App, 4096}, {"pattern", r.Pattern, 4096}, {"exclude", r.Exclude, 4096}, {"trap_oid", r.TrapOID, 512}, {"template", r.Template, 4096}} {
		if len(f.v) > f.max {
			return fmt.Errorf("%w: %s: at most %d bytes", ErrInvalid, f.name, f.max)
		}
	}
	if len(r.Keywords) > 64 || len(r.Facilities) > 24 {
		return fmt.Errorf("%w: keywords: at most 64; facilities: at most 24", ErrInvalid)
	}
	for _, k := range r.Keywords {
		if len(k) > 256 {
			return fmt.Errorf("%w: keywords: each at most 256 bytes", ErrInvalid)
		}
	}
	return nil
}

func compile(r Rule) (*compiled, error) {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s: %s", ErrInvalid, field, why) }
	c := &compiled{Rule: r}
	if strings.TrimSpace(r.Name) == "" {
		return nil, bad("name", "required")
	}
	if err := checkLengths(r); err != nil {
		return nil, err
	}
	if r.Kind != Syslog && r.Kind != Trap && r.Kind != Custom {
		return nil, bad("kind", "one of syslog, trap, custom")
	}
	switch r.Action {
	case Notify:
		if !slices.Contains(Priorities, r.Priority) {
			return nil, bad("priority", "one of "+strings.Join(Priorities, ", "))
		}
	case Drop:
	default:
		return nil, bad("action", "notify or drop")
	}
	for _, f := range r.Facilities {
		if f < 0 || f > 23 {
			return nil, bad("facilities", "numbers 0..23")
		}
	}
	if r.MaxSeverity != nil && (*r.MaxSeverity < 0 || *r.MaxSeverity > 7) {
		return nil, bad("max_severity", "0 (emergency) .. 7 (debug)")
	}
	var err error
	for _, x := range []struct {
		field, expr string
		into        **regexp.Regexp
	}{{"host", r.Host, &c.host}, {"app", r.App, &c.app}, {"pattern", r.Pattern, &c.pattern}, {"exclude", r.Exclude, &c.exclude}} {
		if x.expr == "" {
			continue
		}
		if len(x.expr) > 4096 {
			return nil, bad(x.field, "longer than 4096 characters")
		}
		if *x.into, err = regexp.Compile(x.expr); err != nil {
			return nil, bad(x.field, err.Error())
		}
	}
	if c.pattern != nil {
		c.prefix, _ = c.pattern.LiteralPrefix()
		for i := 0; i+3 <= len(c.prefix) && len(c.grams) < 16; i++ {
			c.grams = append(c.grams, gram(c.prefix[i], c.prefix[i+1], c.prefix[i+2]))
		}
	}
	for _, k := range r.Keywords {
		if k != "" {
			c.keywords = append(c.keywords, strings.ToLower(k))
		}
	}
	c.oid = strings.TrimPrefix(r.TrapOID, ".")
	if rest, ok := strings.CutSuffix(c.oid, ".*"); ok {
		c.oid, c.oidPrefix = rest+".", true
	}
	return c, nil
}

// Match returns the first rule matching m, or nil.
func (s *Set) Match(m *Message) *Rule {
	if s == nil {
		return nil
	}
	var lower string
	var grams gramSet
	filled := false
	for _, c := range s.byKind[m.Kind] {
		if c.Scope != "" && c.Scope != m.Scope {
			continue
		}
		if len(c.Facilities) > 0 && !slices.Contains(c.Facilities, m.Facility) {
			continue
		}
		if c.MaxSeverity != nil && m.Severity > *c.MaxSeverity {
			continue
		}
		if c.oid != "" && !c.matchOID(m) {
			continue
		}
		if c.host != nil && !c.host.MatchString(m.Host) && !c.host.MatchString(m.Source) {
			continue
		}
		if c.app != nil && !c.app.MatchString(m.App) {
			continue
		}
		if len(c.keywords) > 0 {
			if lower == "" {
				lower = strings.ToLower(m.Text)
			}
			if !containsAll(lower, c.keywords) {
				continue
			}
		}
		if len(c.grams) > 0 {
			if !filled {
				grams.fill(m.Text)
				filled = true
			}
			if !grams.hasAll(c.grams) {
				continue
			}
		}
		if c.pattern != nil && (!strings.Contains(m.Text, c.prefix) || !c.pattern.MatchString(m.Text)) {
			continue
		}
		if c.exclude != nil && c.exclude.MatchString(m.Text) {
			continue
		}
		return &c.Rule
	}
	return nil
}

// gramSet is a 4096-bit set of the hashed 3-byte substrings of a text.
type gramSet [64]uint64

func gram(a, b, c byte) uint16 {
	return uint16((uint(a)*961 + uint(b)*31 + uint(c)) & 4095)
}

func (g *gramSet) fill(s string) {
	for i := 0; i+3 <= len(s); i++ {
		h := gram(s[i], s[i+1], s[i+2])
		g[h>>6] |= 1 << (h & 63)
	}
}

func (g *gramSet) hasAll(hs []uint16) bool {
	for _, h := range hs {
		if g[h>>6]&(1<<(h&63)) == 0 {
			return false
		}
	}
	return true
}

func (c *compiled) matchOID(m *Message) bool {
	if c.oidPrefix {
		return strings.HasPrefix(m.TrapOID+".", c.oid)
	}
	return m.TrapOID == c.oid || (m.TrapName != "" && m.TrapName == c.oid)
}

func containsAll(s string, ks []string) bool {
	for _, k := range ks {
		if !strings.Contains(s, k) {
			return false
		}
	}
	return true
}

// Render fills a rule's template (or the default, the text) for m.
func Render(r *Rule, m *Message) string {
	t := r.Template
	if t == "" {
		return m.Text
	}
	var sb strings.Builder
	for {
		i := strings.Index(t, "${")
		if i < 0 {
			sb.WriteString(t)
			return sb.String()
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			sb.WriteString(t)
			return sb.String()
		}
		sb.WriteString(t[:i])
		sb.WriteString(field(t[i+2:i+j], r, m))
		t = t[i+j+1:]
	}
}

func field(name string, r *Rule, m *Message) string {
	switch name {
	case "message":
		return m.Text
	case "host":
		return m.Host
	case "app":
		return m.App
	case "source":
		return m.Source
	case "node":
		return m.Node
	case "trap_oid":
		return m.TrapOID
	case "trap_name":
		if m.TrapName != "" {
			return m.TrapName
		}
		return m.TrapOID
	case "severity":
		return strconv.Itoa(m.Severity)
	case "facility":
		return strconv.Itoa(m.Facility)
	case "rule":
		return r.Name
	}
	return "${" + name + "}"
}
