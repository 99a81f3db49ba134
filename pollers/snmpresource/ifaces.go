package snmpresource

import (
	"context"
	"errors"
	"sort"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
)

// IF-MIB columns: the 64-bit ifXTable ones, and ifTable's for agents
// without ifXTable.
const (
	ifName        = "1.3.6.1.2.1.31.1.1.1.1"
	ifHCInOctets  = "1.3.6.1.2.1.31.1.1.1.6"
	ifHCOutOctets = "1.3.6.1.2.1.31.1.1.1.10"
	ifDescr       = "1.3.6.1.2.1.2.2.1.2"
	ifInOctets    = "1.3.6.1.2.1.2.2.1.10"
	ifOutOctets   = "1.3.6.1.2.1.2.2.1.16"
)

// readInterfaces gives if:<name>:in_bps and out_bps, octet counters times
// 8 marked as counters: the runner's rate per second of them is bit/s.
func readInterfaces(ctx context.Context, a snmp.Target, p parsed) ([]check.Item, error) {
	names, in, out, err := ifColumns(ctx, a, ifName, ifHCInOctets, ifHCOutOctets)
	if err == nil && len(in) == 0 {
		names, in, out, err = ifColumns(ctx, a, ifDescr, ifInOctets, ifOutOctets)
	}
	if err != nil {
		return nil, err
	}
	idx := make([]string, 0, len(names))
	for i := range names {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(i, j int) bool { return numLess(idx[i], idx[j]) })
	var items []check.Item
	seen := map[string]bool{}
	for _, i := range idx {
		name := names[i].Value
		if p.iface != nil && !p.iface.MatchString(name) {
			continue
		}
		key := unique(seen, "if:"+name, i)
		items = append(items, bits(key+":in_bps", in[i]), bits(key+":out_bps", out[i]))
	}
	if len(items) == 0 {
		return nil, errors.New("no interface matches (IF-MIB ifName/ifDescr): check if_match and the agent's view")
	}
	return items, nil
}

func ifColumns(ctx context.Context, a snmp.Target, cols ...string) (names, in, out map[string]snmp.Value, err error) {
	got := make([]map[string]snmp.Value, len(cols))
	for i, c := range cols {
		vs, err := walk(ctx, a, c)
		if err != nil {
			return nil, nil, nil, err
		}
		got[i] = column(vs, c)
	}
	return got[0], got[1], got[2], nil
}

func bits(key string, v snmp.Value) check.Item {
	n, ok := v.Number()
	if !ok || !v.Counter() {
		return check.Item{Key: key, Err: "the agent has no octet counter for this interface"}
	}
	it := check.Num(key, n*8, "bit") // the runner shows the rate as bit/s
	it.Counter = true
	return it
}
