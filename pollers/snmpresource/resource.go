// Package snmpresource is the resource monitor: CPU, memory, disk and
// interface traffic of a node read over SNMP from HOST-RESOURCES-MIB,
// UCD-SNMP-MIB and IF-MIB, one item per CPU, mount and interface so that
// each is judged (and graphed) on its own.
package snmpresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Resource groups.
const (
	CPU        = "cpu"
	Memory     = "memory"
	Disk       = "disk"
	Interfaces = "interfaces"
)

var allResources = []string{CPU, Memory, Disk, Interfaces}

// Params are the monitor's parameters.
type Params struct {
	// Resources to read (default all four).
	Resources []string `json:"resources"`
	// DiskMatch selects mounts by regular expression ("" all).
	DiskMatch string `json:"disk_match,omitempty"`
	// IfMatch selects interfaces by name ("" all).
	IfMatch string `json:"if_match,omitempty"`
	// CPUSample is how long to sample UCD's raw CPU counters when the
	// agent has no averaged load yet (0: do not sample).
	CPUSample params.Duration `json:"cpu_sample"`
}

// defaultSample outlasts net-snmp's 5-second cache of the CPU counters:
// a shorter sample often sees them unchanged.
const defaultSample = 6 * time.Second

// maxSample keeps the CPU sample well inside any sensible check timeout.
const maxSample = 30 * time.Second

// Kind is the resource monitor.
func Kind() check.Kind {
	return check.Kind{Name: "snmp_resource", Label: "Resources over SNMP (CPU, memory, disk, traffic)", Value: check.Numeric,
		Where: check.Appliance, PerItem: true,
		Fields: []check.Field{
			{Name: "resources", Type: "list", Label: "Resources", Options: allResources, Default: params.JSON(allResources),
				Help: "Items: cpu and cpu:N (%), mem_used_pct and swap_used_pct (%), disk:<mount> (% used), if:<name>:in_bps and out_bps (bit/s)."},
			{Name: "disk_match", Type: "string", Label: "Mounts (regex)", Help: "Only mounts matching, e.g. ^/(var)?$. Empty: all."},
			{Name: "if_match", Type: "string", Label: "Interfaces (regex)", Help: "Only interfaces whose name matches, e.g. ^eth. Empty: all."},
			{Name: "cpu_sample", Type: "duration", Label: "CPU sample", Default: params.JSON(defaultSample.String()),
				Help: "A fresh agent has no averaged CPU load for its first minute: then sample its raw CPU counters this long (net-snmp refreshes them every 5s). 0s: do not."},
		},
		New: func() check.Checker { return checker{} }}
}

type checker struct{}

type parsed struct {
	Params
	disk, iface *regexp.Regexp
}

// Validate checks the resource names and patterns and applies defaults.
func (checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (parsed, error) {
	p := parsed{Params: Params{CPUSample: params.Duration(defaultSample)}}
	if err := params.Decode(raw, &p.Params); err != nil {
		return p, err
	}
	if len(p.Resources) == 0 {
		p.Resources = allResources
	}
	for _, r := range p.Resources {
		if !slices.Contains(allResources, r) {
			return p, params.Bad("resources", "%q is not a resource: use %s", r, strings.Join(allResources, ", "))
		}
	}
	if d := time.Duration(p.CPUSample); d < 0 || d > maxSample {
		return p, params.Bad("cpu_sample", "%v: between 0s and %v", d, maxSample)
	}
	var err error
	if p.disk, err = params.Regexp("disk_match", p.DiskMatch); err != nil {
		return p, err
	}
	p.iface, err = params.Regexp("if_match", p.IfMatch)
	return p, err
}

// reader is one group's reading: items, or an error that makes the
// group's item unknown.
type reader func(ctx context.Context, a snmp.Target, p parsed) ([]check.Item, error)

var readers = map[string]struct {
	read reader
	key  string // the item that carries the group's error
}{
	CPU: {readCPU, "cpu"}, Memory: {readMemory, "mem_used_pct"}, Disk: {readDisks, "disk"}, Interfaces: {readInterfaces, "if"},
}

// errNoAnswer: the agent did not answer at all (the whole check failed).
var errNoAnswer = errors.New("no answer")

// Check reads each group. A group the agent lacks is an item error; an
// agent that does not answer fails the check.
func (checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	a, err := snmpnode.Agent(ctx, env, t)
	if err != nil {
		return check.Failed(err, "")
	}
	var res check.Result
	var notes []string
	for _, g := range p.Resources {
		r := readers[g]
		items, err := r.read(ctx, a, p)
		if errors.Is(err, errNoAnswer) {
			return check.Failed(err, strings.Join(notes, "\n"))
		}
		if err != nil {
			items = append(items, check.Item{Key: r.key, Err: err.Error()})
		}
		res.Items = append(res.Items, items...)
		notes = append(notes, summary(g, items))
	}
	res.Raw = check.Clip(strings.Join(notes, "\n"))
	return res
}

// summary is one raw line per group: what "test now" shows.
func summary(group string, items []check.Item) string {
	var b strings.Builder
	b.WriteString(group + ":")
	for _, it := range items {
		switch {
		case it.Err != "":
			fmt.Fprintf(&b, " %s=error(%s)", it.Key, it.Err)
		case it.Number != nil:
			fmt.Fprintf(&b, " %s=%.6g", it.Key, *it.Number)
		}
	}
	return b.String()
}

// walk reads a column or table; a transport failure is errNoAnswer.
func walk(ctx context.Context, a snmp.Target, root string) ([]snmp.Value, error) {
	vs, err := snmp.Walk(ctx, a, root, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	return vs, nil
}

// get reads scalars; a transport failure is errNoAnswer.
func get(ctx context.Context, a snmp.Target, oids ...string) (map[string]snmp.Value, error) {
	vs, err := snmp.Get(ctx, a, oids)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	m := make(map[string]snmp.Value, len(vs))
	for _, v := range vs {
		if !v.Missing() {
			m[v.OID] = v
		}
	}
	return m, nil
}

// column groups a walked table's cells by column then row index.
func column(vs []snmp.Value, col string) map[string]snmp.Value {
	m := map[string]snmp.Value{}
	for _, v := range vs {
		if idx, ok := snmp.Index(v.OID, col); ok && !strings.Contains(idx, ".") {
			m[idx] = v
		}
	}
	return m
}

// pct is used/total in percent, rounded to 0.01.
func pct(used, total float64) float64 {
	return float64(int64(used/total*10000+0.5)) / 100
}
