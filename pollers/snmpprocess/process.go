// Package snmpprocess is the process monitor: it counts the entries of a
// node's HOST-RESOURCES-MIB hrSWRunTable (its running processes) whose
// name or path and whose arguments match regular expressions; thresholds
// on the count catch a stopped daemon (0) or a runaway fork (too many).
package snmpprocess

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item is the key of the count.
const Item = "count"

// hrSWRunTable columns.
const (
	hrSWRunName       = "1.3.6.1.2.1.25.4.2.1.2"
	hrSWRunPath       = "1.3.6.1.2.1.25.4.2.1.4"
	hrSWRunParameters = "1.3.6.1.2.1.25.4.2.1.5"
)

// Params are the monitor's parameters.
type Params struct {
	// Name matches hrSWRunName (on Linux the first 15 characters of the
	// program name) or hrSWRunPath (the full path, where known).
	Name string `json:"name,omitempty"`
	// Args matches hrSWRunParameters (the arguments after the program).
	Args string `json:"args,omitempty"`
	// IgnoreCase matches both without regard to case.
	IgnoreCase bool `json:"ignore_case,omitempty"`
}

// Kind is the process monitor.
func Kind() check.Kind {
	return check.Kind{Name: "snmp_process", Label: "Process count over SNMP", Value: check.Numeric, Where: check.Appliance,
		Fields: []check.Field{
			{Name: "name", Type: "string", Label: "Name or path (regex)", Help: "Matches the process name (15 characters on Linux) or its full path, e.g. ^nginx$ or ^/usr/sbin/sshd$."},
			{Name: "args", Type: "string", Label: "Arguments (regex)", Help: "Matches the arguments, e.g. -D or --config /etc/app.conf. Empty: any."},
			{Name: "ignore_case", Type: "bool", Label: "Ignore case", Default: params.JSON(false)},
		},
		New: func() check.Checker { return checker{} }}
}

type checker struct{}

type parsed struct {
	Params
	name, args *regexp.Regexp
}

// Validate compiles the patterns; at least one is needed (counting every
// process is a different question).
func (checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (parsed, error) {
	var p parsed
	if err := params.Decode(raw, &p.Params); err != nil {
		return p, err
	}
	if p.Name == "" && p.Args == "" {
		return p, params.Bad("name", "give a name or path pattern (and/or args), e.g. ^sshd$")
	}
	flags := ""
	if p.IgnoreCase {
		flags = "(?i)"
	}
	var err error
	if p.Name != "" {
		if p.name, err = params.Regexp("name", flags+p.Name); err != nil {
			return p, err
		}
	}
	if p.Args != "" {
		p.args, err = params.Regexp("args", flags+p.Args)
	}
	return p, err
}

// Check walks the columns it needs and counts the matching processes.
func (checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	a, err := snmpnode.Agent(ctx, env, t)
	if err != nil {
		return check.Failed(err, "")
	}
	procs, err := table(ctx, a, p)
	if err != nil {
		return check.Failed(err, "")
	}
	if len(procs) == 0 {
		return check.Failed(fmt.Errorf("the agent on %s lists no processes (HOST-RESOURCES-MIB hrSWRunTable): check its view", t.Address), "")
	}
	var matched []string
	for _, pr := range procs {
		if p.matches(pr) {
			matched = append(matched, pr.String())
		}
	}
	raw2 := fmt.Sprintf("%d of %d processes match", len(matched), len(procs))
	if len(matched) > 0 {
		raw2 += ":\n" + strings.Join(matched, "\n")
	}
	return check.Result{Items: []check.Item{check.Num(Item, float64(len(matched)), "")}, Raw: check.Clip(raw2)}
}

// proc is one hrSWRun row.
type proc struct{ index, name, path, args string }

func (pr proc) String() string {
	s := pr.index + " " + pr.name
	if pr.path != "" && pr.path != pr.name {
		s += " (" + pr.path + ")"
	}
	if pr.args != "" {
		s += " " + pr.args
	}
	return s
}

func (p parsed) matches(pr proc) bool {
	if p.name != nil && !p.name.MatchString(pr.name) && (pr.path == "" || !p.name.MatchString(pr.path)) {
		return false
	}
	return p.args == nil || p.args.MatchString(pr.args)
}

// table walks the name column, and the path and parameter columns only
// when a pattern needs them (a big host has thousands of processes).
func table(ctx context.Context, a snmp.Target, p parsed) ([]proc, error) {
	names, err := cells(ctx, a, hrSWRunName)
	if err != nil {
		return nil, err
	}
	var paths, args map[string]string
	if p.name != nil {
		if paths, err = cells(ctx, a, hrSWRunPath); err != nil {
			return nil, err
		}
	}
	if p.args != nil {
		if args, err = cells(ctx, a, hrSWRunParameters); err != nil {
			return nil, err
		}
	}
	out := make([]proc, 0, len(names))
	for idx, n := range names {
		out = append(out, proc{index: idx, name: n, path: paths[idx], args: args[idx]})
	}
	slices.SortFunc(out, func(a, b proc) int { return cmp.Compare(pid(a.index), pid(b.index)) })
	return out, nil
}

// pid reads a row index (the process id on most agents) for sorting.
func pid(idx string) uint64 {
	n, _ := strconv.ParseUint(idx, 10, 64)
	return n
}

func cells(ctx context.Context, a snmp.Target, col string) (map[string]string, error) {
	vs, err := snmp.Walk(ctx, a, col, 0)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		if idx, ok := snmp.Index(v.OID, col); ok {
			m[idx] = v.Value
		}
	}
	return m, nil
}
