package mib

import "testing"

func TestNames(t *testing.T) {
	n := Load([]string{"/usr/share/snmp/mibs", "/nonexistent"})
	cases := map[string]string{
		"1.3.6.1.6.3.1.1.5.3":    "IF-MIB::linkDown",
		".1.3.6.1.2.1.2.2.1.2.7": "IF-MIB::ifDescr.7",
		"1.3.6.1.2.1.1.3.0":      "SNMPv2-MIB::sysUpTime.0",
		"1.3.6.1.6.3.1.1.5.1":    "SNMPv2-MIB::coldStart",
		"1.3.6.1.4.1.99999.1":    "SNMPv2-SMI::enterprises.99999.1",
		"1.2.3":                  "",
		"not an oid":             "",
	}
	for oid, want := range cases {
		if got := n.Name(oid); got != want {
			t.Errorf("%s: %q, want %q", oid, got, want)
		}
	}
	// Debian's libsnmp-base ships the Net-SNMP modules: loaded from the directory.
	if got := n.Name("1.3.6.1.4.1.8072.2.3.0.1"); got != "NET-SNMP-EXAMPLES-MIB::netSnmpExampleHeartbeatNotification" {
		t.Logf("loaded %v, failed %v", n.Loaded, n.Failed)
		t.Errorf("Net-SNMP example notification named %q", got)
	}
}
