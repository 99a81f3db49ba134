package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// refusalWindow is the audit aggregation window of the nodes of tests
// that count refused attempts (auth.refused_audit_window).
const (
	refusalWindow     = 2 * time.Second
	refusalWindowYAML = "auth:\n  refused_audit_window: 2s\n"
)

// maxRefusalRows bounds the audit rows that refused attempts from one
// address may make over elapsed, if they fall under keys different
// (user, action, result): in each aggregation window, the first five
// rows at once and one row per key.
func maxRefusalRows(elapsed time.Duration, keys int) int {
	windows := int(elapsed/refusalWindow) + 2
	return windows * (5 + keys)
}

// auditSince reads every audit row after seq (following the answer's
// cursor), with the appliance's own certificate.
func auditSince(t *testing.T, n *cluster.Node, seq int64) []auth.Entry {
	t.Helper()
	var all []auth.Entry
	next := fmt.Sprintf("?after=%d&limit=10000", seq)
	for next != "" {
		var out struct {
			Entries []auth.Entry
			Next    string
		}
		if code, err := n.Do(http.MethodGet, "/api/v1/audit"+next, nil, &out); code != 200 {
			t.Fatalf("audit list: HTTP %d %v", code, err)
		}
		all, next = append(all, out.Entries...), out.Next
	}
	return all
}

// attempts is how many attempts an audit row stands for: one, or the
// count of an aggregated row of refusals.
func attempts(e auth.Entry) int {
	var n int
	if _, err := fmt.Sscanf(e.Detail, "aggregated: %d more", &n); err == nil {
		return n
	}
	return 1
}

// referenceRules: a caller of scope A referencing, replacing or
// shadowing an object of scope B is refused, the answer does not name
// what it cannot see, and every attempt is audited; the same writes
// within scope A pass (so the refusals are the rule, not a broken route).
func referenceRules(t *testing.T, a *cluster.Node, admin string) {
	setup := []struct {
		path string
		body any
	}{
		{"/api/v1/credentials", map[string]any{"name": "cred-b", "kind": "snmpv3-auth", "scope": "B", "secret": "secret-of-b"}},
		{"/api/v1/credentials", map[string]any{"name": "cred-a", "kind": "snmpv3-auth", "scope": "A", "secret": "secret-of-a"}},
		{"/api/v1/nodes", map[string]any{"id": "node-b", "address": "10.252.0.2", "scope": "B"}},
		{"/api/v1/nodes", map[string]any{"id": "node-a-cross", "address": "10.252.0.3", "scope": "A", // set up by someone who sees both
			"snmp": map[string]any{"version": "2c", "community_credential": "cred-b"}}},
		{"/api/v1/rules", map[string]any{"id": "rule-b", "name": "r", "scope": "B", "kind": "syslog", "action": "drop"}},
		{"/api/v1/roles", auth.Role{Name: "ref_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{
			auth.Inventory: {auth.Read, auth.Add, auth.Modify}, auth.MonitorSetting: {auth.Read, auth.Add, auth.Modify},
			auth.MonitorResult: {auth.Read, auth.Add, auth.Execute}}}},
		{"/api/v1/users", map[string]any{"user": "refa", "password": pw, "roles": []string{"ref_a"}}},
	}
	for _, s := range setup {
		if code, err := a.DoAs(admin, http.MethodPost, s.path, s.body, nil); code/100 != 2 {
			t.Fatalf("setup %s: HTTP %d %v", s.path, code, err)
		}
	}
	tok := a.Login("refa", pw)
	seq := lastAuditSeq(t, a)
	node := func(id, addr, scope string, snmp map[string]any) map[string]any {
		n := map[string]any{"id": id, "address": addr, "scope": scope}
		if snmp != nil {
			n["snmp"] = snmp
		}
		return n
	}
	custom := func(target string) map[string]any {
		return map[string]any{"events": []map[string]string{{"node": target, "key": "k", "message": "m"}}}
	}
	oids := map[string]any{"oids": []string{"1.3.6.1.2.1.1.1.0"}}
	type auditKey struct{ action, result string }
	wantAudit := map[auditKey]int{}
	for _, tc := range []struct {
		name, method, path, route string
		body                      any
		want                      int
		hide                      []string // more that the answer must not name
	}{
		{"control: own node naming own credential", "POST", "/api/v1/nodes", "", node("n-own", "10.252.0.12", "A", map[string]any{"version": "3",
			"user": "u", "security_level": "authNoPriv", "auth_protocol": "SHA", "auth_credential": "cred-a"}), 200, nil},
		{"control: own credential", "POST", "/api/v1/credentials", "", map[string]any{"name": "cred-a2", "kind": "password", "scope": "A", "secret": "x"}, 200, nil},
		{"control: own rule", "POST", "/api/v1/rules", "", map[string]any{"id": "rule-a", "name": "r", "scope": "A", "kind": "syslog", "action": "drop"}, 200, nil},
		{"control: custom event for own node", "POST", "/api/v1/custom-events", "", custom("n-own"), 202, nil},
		{"replace a credential of B by name", "POST", "/api/v1/credentials", "", map[string]any{"name": "cred-b", "kind": "snmpv3-auth", "scope": "A", "secret": "mine now"}, 403, nil},
		{"node naming a credential of B", "POST", "/api/v1/nodes", "", node("n-ref", "10.252.0.10", "A", map[string]any{"version": "2c", "community_credential": "cred-b"}), 403, nil},
		{"node naming a credential that does not exist", "POST", "/api/v1/nodes", "", node("n-ref", "10.252.0.10", "A", map[string]any{"version": "2c", "community_credential": "cred-none"}), 403, nil},
		{"replace a node of B by id", "POST", "/api/v1/nodes", "", node("node-b", "10.252.0.11", "A", nil), 403, nil},
		{"move an own node into B", "POST", "/api/v1/nodes", "", node("n-own", "10.252.0.12", "B", nil), 403, nil}, // (it names B itself)
		{"shadow a node of B by its address", "POST", "/api/v1/nodes", "", node("n-shadow", "10.252.0.2", "A", nil), 409, []string{"node-b"}},
		{"replace a rule of B", "POST", "/api/v1/rules", "", map[string]any{"id": "rule-b", "name": "r", "scope": "A", "kind": "syslog", "action": "drop"}, 403, nil},
		{"delete a rule of B", "DELETE", "/api/v1/rules/rule-b", "/api/v1/rules/:id", nil, 404, nil},
		{"custom event for a node of B", "POST", "/api/v1/custom-events", "", custom("node-b"), 403, nil},
		{"custom event for a node of B by its address", "POST", "/api/v1/custom-events", "", custom("10.252.0.2"), 403, []string{"node-b"}},
		{"custom event for no node", "POST", "/api/v1/custom-events", "", custom("nowhere"), 403, nil},
		{"poll an own node with a credential of B", "POST", "/api/v1/nodes/node-a-cross/snmp/get", "/api/v1/nodes/:id/snmp/get", oids, 403, nil},
	} {
		route := tc.route
		if route == "" {
			route = tc.path
		}
		wantAudit[auditKey{tc.method + " " + route, strconv.Itoa(tc.want)}]++
		t.Run(tc.name, func(t *testing.T) {
			var out struct{ Error string }
			code, err := a.DoAs(tok, tc.method, tc.path, tc.body, &out)
			if code != tc.want {
				t.Fatalf("HTTP %d (%s %v), want %d", code, out.Error, err, tc.want)
			}
			hide := append([]string{"secret-of-b"}, tc.hide...)
			if !strings.Contains(tc.name, "into B") {
				hide = append(hide, `"B"`, "scope B")
			}
			for _, hidden := range hide {
				if strings.Contains(out.Error, hidden) {
					t.Fatalf("the refusal names %s, which the caller does not see: %s", hidden, out.Error)
				}
			}
		})
	}
	// Nothing of B changed.
	var creds struct {
		Credentials []struct{ Name, Scope string }
	}
	a.DoAs(admin, http.MethodGet, "/api/v1/credentials", nil, &creds)
	for _, c := range creds.Credentials {
		if c.Name == "cred-b" && c.Scope != "B" {
			t.Errorf("cred-b is now in scope %q", c.Scope)
		}
	}
	time.Sleep(refusalWindow + time.Second)
	got := map[auditKey]int{}
	for _, e := range auditSince(t, a, seq) {
		if e.User == "refa" {
			got[auditKey{e.Action, e.Result}] += attempts(e)
		}
	}
	for k, n := range wantAudit {
		if got[k] != n {
			t.Errorf("audit of %s answered %s: %d attempts recorded, want %d", k.action, k.result, got[k], n)
		}
	}
}
