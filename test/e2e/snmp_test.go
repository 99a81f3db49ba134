package e2e

import (
	"net/http"
	"testing"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// SNMPv3 authPriv polling with per-node USM settings whose keys live
// sealed in the credential store, against net-snmp's snmpd.
func TestSNMPv3AuthPrivPolling(t *testing.T) {
	skipShort(t)
	a := singleWithAdmin(t)
	agent := cluster.StartSnmpd(t, "127.0.0.1", "mamori", "auth-pass-12345", "priv-pass-12345", "mamori-test-agent")
	admin := a.Login("admin", pw)
	for name, c := range map[string][2]string{"rtr-auth": {"snmpv3-auth", "auth-pass-12345"}, "rtr-priv": {"snmpv3-priv", "priv-pass-12345"},
		"bad-priv": {"snmpv3-priv", "not-the-priv-key"}} {
		if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/credentials", map[string]any{"name": name, "kind": c[0], "secret": c[1], "scope": "A"}, nil); code != 200 {
			t.Fatalf("credential %s: HTTP %d", name, code)
		}
	}
	node := func(id, priv string) map[string]any {
		return map[string]any{"id": id, "address": agent.IP, "scope": "A", "snmp": map[string]any{"version": "3", "port": agent.Port,
			"user": "mamori", "security_level": "authPriv", "auth_protocol": "SHA-256", "auth_credential": "rtr-auth",
			"priv_protocol": "AES", "priv_credential": priv}}
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/nodes", node("router1", "rtr-priv"), nil); code != 200 {
		t.Fatalf("node router1: HTTP %d", code)
	}
	var out struct {
		Values []struct{ OID, Value string }
		Error  string
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/nodes/router1/snmp/get", map[string]any{"oids": []string{"1.3.6.1.2.1.1.1.0"}}, &out); code != 200 ||
		len(out.Values) != 1 || out.Values[0].Value != "mamori-test-agent" {
		t.Fatalf("authPriv get: HTTP %d %+v", code, out)
	}
	// The same agent with the wrong privacy key (the node changed: an
	// address belongs to one node).
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/nodes", node("router1", "bad-priv"), nil); code != 200 {
		t.Fatalf("node router1 with the wrong key: HTTP %d", code)
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/nodes/router1/snmp/get", map[string]any{"oids": []string{"1.3.6.1.2.1.1.1.0"}}, &out); code != http.StatusBadGateway {
		t.Fatalf("wrong privacy key: HTTP %d, want 502 (%s)", code, out.Error)
	}
	incomplete := node("router2", "")
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/nodes", incomplete, nil); code != http.StatusBadRequest {
		t.Fatalf("authPriv without a privacy credential: HTTP %d, want 400", code)
	}

	// A user of scope B neither lists nor polls A's node.
	roleB := auth.Role{Name: "ops_b", Scopes: []string{"B"}, Privileges: map[auth.Function][]auth.Action{
		auth.Inventory: {auth.Read}, auth.MonitorResult: {auth.Read, auth.Execute}}}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/roles", roleB, nil); code != 201 {
		t.Fatalf("role: HTTP %d", code)
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "opsb", "password": pw, "roles": []string{"ops_b"}}, nil); code != 201 {
		t.Fatalf("user: HTTP %d", code)
	}
	b := a.Login("opsb", pw)
	var list struct{ Nodes []map[string]any }
	if code, _ := a.DoAs(b, http.MethodGet, "/api/v1/nodes", nil, &list); code != 200 || len(list.Nodes) != 0 {
		t.Fatalf("user of B lists nodes: HTTP %d %v", code, list.Nodes)
	}
	if code, _ := a.DoAs(b, http.MethodPost, "/api/v1/nodes/router1/snmp/get", map[string]any{"oids": []string{"1.3.6.1.2.1.1.1.0"}}, nil); code != http.StatusNotFound {
		t.Fatalf("user of B polls A's node: HTTP %d, want 404", code)
	}
}
