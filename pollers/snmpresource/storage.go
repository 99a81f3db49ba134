package snmpresource

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
)

// HOST-RESOURCES-MIB storage table and the storage types it names.
const (
	hrStorageEntry     = "1.3.6.1.2.1.25.2.3.1"
	hrStorageRam       = "1.3.6.1.2.1.25.2.1.2"
	hrStorageFixedDisk = "1.3.6.1.2.1.25.2.1.4"
	hrStorageNetDisk   = "1.3.6.1.2.1.25.2.1.10"
)

// storage is one hrStorage row, in bytes.
type storage struct {
	index, kind, descr string
	size, used         float64
}

// storages reads the walked hrStorageEntry rows that are complete.
func storages(vs []snmp.Value) []storage {
	col := func(c string) map[string]snmp.Value { return column(vs, hrStorageEntry+"."+c) }
	kinds, descrs, units, sizes, used := col("2"), col("3"), col("4"), col("5"), col("6")
	var out []storage
	for idx, k := range kinds {
		u, ok1 := units[idx].Number()
		s, ok2 := sizes[idx].Number()
		n, ok3 := used[idx].Number()
		if !ok1 || !ok2 || !ok3 || u <= 0 || s <= 0 || n < 0 {
			continue
		}
		out = append(out, storage{index: idx, kind: strings.TrimPrefix(k.Value, "."), descr: descrs[idx].Value, size: s * u, used: n * u})
	}
	sort.Slice(out, func(i, j int) bool { return numLess(out[i].index, out[j].index) })
	return out
}

// readDisks: one item per fixed or network disk, keyed by its mount
// (hrStorageDescr), in percent used.
func readDisks(ctx context.Context, a snmp.Target, p parsed) ([]check.Item, error) {
	vs, err := walk(ctx, a, hrStorageEntry)
	if err != nil {
		return nil, err
	}
	var items []check.Item
	seen := map[string]bool{}
	for _, s := range storages(vs) {
		if s.kind != hrStorageFixedDisk && s.kind != hrStorageNetDisk || p.disk != nil && !p.disk.MatchString(s.descr) {
			continue
		}
		key := unique(seen, "disk:"+s.descr, s.index)
		items = append(items, check.Num(key, pct(s.used, s.size), "%"))
	}
	if len(items) == 0 {
		return nil, errors.New("no disk matches (HOST-RESOURCES-MIB hrStorage fixed and network disks): check disk_match and the agent's view")
	}
	return items, nil
}

// unique keeps item keys unique when two rows share a name (two
// interfaces called the same, a mount listed twice): the later ones get
// their row index.
func unique(seen map[string]bool, key, index string) string {
	if seen[key] {
		key += "#" + index
	}
	seen[key] = true
	return key
}
