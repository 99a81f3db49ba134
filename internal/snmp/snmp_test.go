package snmp_test

import (
	"context"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
)

func v3(a *snmptest.Agent) snmp.Target {
	return snmp.Target{Address: a.IP, Port: a.Port, Version: "3", User: snmptest.User, SecurityLevel: "authPriv",
		AuthProtocol: "SHA-256", AuthKey: snmptest.AuthKey, PrivProtocol: "AES", PrivKey: snmptest.PrivKey, Timeout: time.Second}
}

// Walk over v2c and v3 reads what net-snmp's snmpwalk reads from the same
// agent (a column that does not change between the two reads).
func TestWalkMatchesSnmpwalk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	const col = "1.3.6.1.2.1.25.2.3.1.3" // hrStorageDescr
	want := a.Walk(t, col)
	if len(want) < 2 {
		t.Fatalf("snmpwalk read %d rows of hrStorageDescr", len(want))
	}
	v2 := snmp.Target{Address: a.IP, Port: a.Port, Version: "2c", Community: snmptest.Community, Timeout: time.Second}
	for name, tg := range map[string]snmp.Target{"v2c": v2, "v3": v3(a)} {
		t.Run(name, func(t *testing.T) {
			got, err := snmp.Walk(context.Background(), tg, col, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("walk: %d rows, snmpwalk %d", len(got), len(want))
			}
			for i := range got {
				if got[i].OID != want[i].OID || got[i].Value != want[i].Value {
					t.Errorf("row %d: %s=%q, snmpwalk %s=%q", i, got[i].OID, got[i].Value, want[i].OID, want[i].Value)
				}
			}
		})
	}
	if rows, err := snmp.Walk(context.Background(), v2, col, 1); err == nil || len(rows) != 1 {
		t.Errorf("walk bounded to 1 row: %d rows, err %v; want 1 and an error", len(rows), err)
	}
	wrong := v3(a)
	wrong.PrivKey = "not-the-priv-key"
	if _, err := snmp.Walk(context.Background(), wrong, col, 0); err == nil {
		t.Error("walk with the wrong privacy key: no error")
	}
	a.Stop()
	if _, err := snmp.Walk(context.Background(), v2, col, 0); err == nil {
		t.Error("walk of a stopped agent: no error")
	}
}

func TestValueNumber(t *testing.T) {
	for _, c := range []struct {
		v       snmp.Value
		n       float64
		ok, ctr bool
	}{
		{snmp.Value{Type: "Integer", Value: "-5"}, -5, true, false},
		{snmp.Value{Type: "Counter64", Value: "18446744073709551615"}, 18446744073709551615, true, true},
		{snmp.Value{Type: "Counter32", Value: "7"}, 7, true, true},
		{snmp.Value{Type: "Gauge32", Value: "4294967295"}, 4294967295, true, false},
		{snmp.Value{Type: "OctetString", Value: " 0.15 "}, 0.15, true, false},
		{snmp.Value{Type: "OctetString", Value: "Linux"}, 0, false, false},
		{snmp.Value{Type: "OctetString", Value: "NaN"}, 0, false, false},
		{snmp.Value{Type: "ObjectIdentifier", Value: "1"}, 0, false, false},
		{snmp.Value{Type: "NoSuchInstance"}, 0, false, false},
	} {
		n, ok := c.v.Number()
		if ok != c.ok || ok && n != c.n || c.v.Counter() != c.ctr {
			t.Errorf("%+v: %v %v counter %v; want %v %v %v", c.v, n, ok, c.v.Counter(), c.n, c.ok, c.ctr)
		}
	}
}

func TestIndex(t *testing.T) {
	for _, c := range []struct {
		oid, col, want string
		ok             bool
	}{
		{"1.3.6.1.2.1.2.2.1.2.7", "1.3.6.1.2.1.2.2.1.2", "7", true},
		{".1.3.6.1.2.1.2.2.1.2.7.1", ".1.3.6.1.2.1.2.2.1.2", "7.1", true},
		{"1.3.6.1.2.1.2.2.1.20.7", "1.3.6.1.2.1.2.2.1.2", "", false},
		{"1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.2", "", false},
	} {
		if got, ok := snmp.Index(c.oid, c.col); got != c.want || ok != c.ok {
			t.Errorf("Index(%s, %s) = %q %v; want %q %v", c.oid, c.col, got, ok, c.want, c.ok)
		}
	}
}
