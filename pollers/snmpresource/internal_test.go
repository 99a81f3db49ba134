package snmpresource

import (
	"fmt"
	"testing"

	"github.com/mamori-ops/mamori/internal/snmp"
)

func TestProcessorLoads(t *testing.T) {
	row := func(idx, typ, v string) snmp.Value {
		return snmp.Value{OID: hrProcessorLoad + "." + idx, Type: typ, Value: v}
	}
	items := processorLoads([]snmp.Value{row("196609", "Integer", "30"), row("196608", "Integer", "10"),
		row("9", "Integer", "250"), row("10", "OctetString", "x"), row("11.1", "Integer", "5")})
	got := ""
	for _, it := range items {
		got += fmt.Sprintf("%s=%v ", it.Key, *it.Number)
	}
	if got != "cpu=20 cpu:0=10 cpu:1=30 " {
		t.Errorf("items %s", got)
	}
	if processorLoads(nil) != nil {
		t.Error("no rows: want nil")
	}
}

func TestBusyShare(t *testing.T) {
	for _, c := range []struct {
		a, b ticks
		want float64
		ok   bool
	}{
		{ticks{idle: 100, total: 200}, ticks{idle: 175, total: 300}, 25, true},
		{ticks{idle: 100, total: 200}, ticks{idle: 100, total: 200}, 0, false}, // cache not refreshed
		{ticks{idle: 100, total: 200}, ticks{idle: 10, total: 50}, 0, false},   // agent restarted
		{ticks{idle: 100, total: 200}, ticks{idle: 400, total: 300}, 0, false}, // garbage
	} {
		if got, ok := busyShare(c.a, c.b); got != c.want || ok != c.ok {
			t.Errorf("%+v→%+v: %v %v; want %v %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestUCDMemory(t *testing.T) {
	m := map[string]float64{memTotalReal: 1000, memAvailReal: 100, memBuffer: 50, memCached: 250, memTotalSwap: 400, memAvailSwap: 300}
	items := ucdMemory(m)
	if len(items) != 2 || *items[0].Number != 60 || *items[1].Number != 25 {
		t.Errorf("without MemAvailable: %+v", items)
	}
	m[memSysAvail], m[memTotalSwap] = 700, 0
	if items := ucdMemory(m); len(items) != 1 || *items[0].Number != 30 {
		t.Errorf("with MemAvailable: %+v", items)
	}
	if ucdMemory(map[string]float64{memTotalReal: 0}) != nil {
		t.Error("zero total: want nil")
	}
}

func TestStoragesSkipsBrokenRows(t *testing.T) {
	cell := func(col, idx, typ, v string) snmp.Value {
		return snmp.Value{OID: hrStorageEntry + "." + col + "." + idx, Type: typ, Value: v}
	}
	vs := []snmp.Value{
		cell("2", "1", "ObjectIdentifier", "."+hrStorageFixedDisk), cell("3", "1", "OctetString", "/"), cell("4", "1", "Integer", "4096"),
		cell("5", "1", "Integer", "100"), cell("6", "1", "Integer", "25"),
		cell("2", "2", "ObjectIdentifier", hrStorageFixedDisk), cell("3", "2", "OctetString", "/empty"), cell("4", "2", "Integer", "4096"),
		cell("5", "2", "Integer", "0"), cell("6", "2", "Integer", "0"),
		cell("2", "3", "ObjectIdentifier", hrStorageFixedDisk), cell("3", "3", "OctetString", "/partial"),
	}
	got := storages(vs)
	if len(got) != 1 || got[0].descr != "/" || pct(got[0].used, got[0].size) != 25 {
		t.Errorf("storages %+v", got)
	}
}
