package snmpresource

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
)

const (
	hrProcessorLoad = "1.3.6.1.2.1.25.3.3.1.2"
	ssCpuIdle       = "1.3.6.1.4.1.2021.11.11.0"
)

// ssCpuRaw* columns that add up to all CPU time on net-snmp's Linux agent
// (user, nice, system, idle, wait, interrupt, softIRQ, steal); kernel
// (55) overlaps system and is left out.
var ssCpuRaw = []string{"50", "51", "52", "53", "54", "56", "61", "64"}

const ssCpuRawIdle = "1.3.6.1.4.1.2021.11.53.0"

// readCPU prefers the agent's own one-minute averages: per processor
// (hrProcessorLoad, items cpu:N and their mean cpu), else UCD's ssCpuIdle.
// A fresh agent has neither for its first minute; then two samples of
// the raw tick counters cpu_sample apart give the busy share.
func readCPU(ctx context.Context, a snmp.Target, p parsed) ([]check.Item, error) {
	vs, err := walk(ctx, a, hrProcessorLoad)
	if err != nil {
		return nil, err
	}
	if items := processorLoads(vs); items != nil {
		return items, nil
	}
	m, err := get(ctx, a, ssCpuIdle)
	if err != nil {
		return nil, err
	}
	if idle, ok := m[ssCpuIdle].Number(); ok && idle >= 0 && idle <= 100 {
		return []check.Item{check.Num("cpu", 100-idle, "%")}, nil
	}
	if p.CPUSample <= 0 {
		return nil, errors.New("the agent has no CPU load yet (hrProcessorLoad, ssCpuIdle): it averages over its first minute; set cpu_sample to sample its raw counters")
	}
	d := time.Duration(p.CPUSample)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+time.Second {
		return nil, fmt.Errorf("the agent has no CPU load yet and a %v sample does not fit in the check's timeout: raise the timeout or lower cpu_sample", d)
	}
	return sampleCPU(ctx, a, d)
}

// processorLoads turns hrProcessorLoad rows into cpu:0… (in index order)
// and their mean; nil when the agent has none.
func processorLoads(vs []snmp.Value) []check.Item {
	rows := column(vs, hrProcessorLoad)
	idx := make([]string, 0, len(rows))
	for i, v := range rows {
		if n, ok := v.Number(); ok && n >= 0 && n <= 100 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	sort.Slice(idx, func(i, j int) bool { return numLess(idx[i], idx[j]) })
	items := []check.Item{{}}
	var sum float64
	for i, k := range idx {
		n, _ := rows[k].Number()
		sum += n
		items = append(items, check.Num("cpu:"+strconv.Itoa(i), n, "%"))
	}
	items[0] = check.Num("cpu", pct(sum, float64(len(idx))*100), "%")
	return items
}

func numLess(a, b string) bool {
	x, errx := strconv.ParseUint(a, 10, 64)
	y, erry := strconv.ParseUint(b, 10, 64)
	if errx != nil || erry != nil {
		return a < b
	}
	return x < y
}

// sampleCPU reads the raw tick counters twice, d apart.
func sampleCPU(ctx context.Context, a snmp.Target, d time.Duration) ([]check.Item, error) {
	first, err := rawTicks(ctx, a)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v while sampling the CPU counters", errNoAnswer, ctx.Err())
	case <-time.After(d):
	}
	second, err := rawTicks(ctx, a)
	if err != nil {
		return nil, err
	}
	busy, ok := busyShare(first, second)
	if !ok {
		return nil, fmt.Errorf("the agent's CPU counters did not move in %v (it refreshes them every few seconds): lengthen cpu_sample", d)
	}
	return []check.Item{check.Num("cpu", busy, "%")}, nil
}

type ticks struct{ idle, total uint64 }

func rawTicks(ctx context.Context, a snmp.Target) (ticks, error) {
	oids := make([]string, len(ssCpuRaw))
	for i, c := range ssCpuRaw {
		oids[i] = "1.3.6.1.4.1.2021.11." + c + ".0"
	}
	m, err := get(ctx, a, oids...)
	if err != nil {
		return ticks{}, err
	}
	if _, ok := m[ssCpuRawIdle]; !ok {
		return ticks{}, errors.New("the agent has no CPU counters (UCD-SNMP-MIB ssCpuRaw*, HOST-RESOURCES-MIB hrProcessorLoad)")
	}
	var t ticks
	for oid, v := range m {
		n, _ := strconv.ParseUint(v.Value, 10, 64)
		t.total += n
		if oid == ssCpuRawIdle {
			t.idle = n
		}
	}
	return t, nil
}

// busyShare is the non-idle share of the ticks between two samples (a
// Counter32 wrap or an agent restart in between gives no answer).
func busyShare(a, b ticks) (float64, bool) {
	if b.total <= a.total || b.idle < a.idle {
		return 0, false
	}
	dt, di := b.total-a.total, b.idle-a.idle
	if di > dt {
		return 0, false
	}
	return pct(float64(dt-di), float64(dt)), true
}
