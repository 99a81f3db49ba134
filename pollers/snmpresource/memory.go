package snmpresource

import (
	"context"
	"errors"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
)

// UCD-SNMP-MIB memory scalars (kB).
const (
	memTotalSwap = "1.3.6.1.4.1.2021.4.3.0"
	memAvailSwap = "1.3.6.1.4.1.2021.4.4.0"
	memTotalReal = "1.3.6.1.4.1.2021.4.5.0"
	memAvailReal = "1.3.6.1.4.1.2021.4.6.0"
	memBuffer    = "1.3.6.1.4.1.2021.4.14.0"
	memCached    = "1.3.6.1.4.1.2021.4.15.0"
	memSysAvail  = "1.3.6.1.4.1.2021.4.27.0" // Linux MemAvailable (net-snmp 5.8+)
)

// readMemory reads UCD's memory scalars; an agent without them (most
// non-net-snmp agents) is read from hrStorage's RAM row.
func readMemory(ctx context.Context, a snmp.Target, _ parsed) ([]check.Item, error) {
	m, err := get(ctx, a, memTotalReal, memAvailReal, memBuffer, memCached, memSysAvail, memTotalSwap, memAvailSwap)
	if err != nil {
		return nil, err
	}
	if items := ucdMemory(num(m)); items != nil {
		return items, nil
	}
	vs, err := walk(ctx, a, hrStorageEntry)
	if err != nil {
		return nil, err
	}
	for _, s := range storages(vs) {
		if s.kind == hrStorageRam {
			return []check.Item{check.Num("mem_used_pct", pct(s.used, s.size), "%")}, nil
		}
	}
	return nil, errors.New("the agent has no memory figures (UCD-SNMP-MIB memTotalReal, HOST-RESOURCES-MIB hrStorageRam)")
}

func num(m map[string]snmp.Value) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if n, ok := v.Number(); ok && n >= 0 {
			out[k] = n
		}
	}
	return out
}

// ucdMemory: used is what the kernel could not hand out: total minus
// MemAvailable where the agent has it, else minus free, buffers and cache
// (page cache is reclaimable; counting it as used would alarm on every
// busy file server).
func ucdMemory(m map[string]float64) []check.Item {
	total, ok := m[memTotalReal]
	if !ok || total <= 0 {
		return nil
	}
	avail, ok := m[memSysAvail]
	if !ok {
		avail = m[memAvailReal] + m[memBuffer] + m[memCached]
	}
	items := []check.Item{check.Num("mem_used_pct", pct(max(total-avail, 0), total), "%")}
	if st := m[memTotalSwap]; st > 0 {
		items = append(items, check.Num("swap_used_pct", pct(max(st-m[memAvailSwap], 0), st), "%"))
	}
	return items
}
