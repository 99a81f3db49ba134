package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Two scopes for the console's scope test (tests/browser/pair/screens.test.mjs):
// each has a node, syslog lines and a trap sent from the node's address, an
// event, a custom event, a credential and a rule; a viewer limited to scope A must
// see nothing of B on any screen. Every name of B holds "bravo", every
// name of A "alpha", so the browser test can look for them in page text.
var uiScopes = []struct{ scope, tag, addr string }{
	{"scope-alpha", "alpha", "127.0.0.2"},
	{"scope-bravo", "bravo", "127.0.0.3"},
}

const (
	uiViewer, uiAuditor = "viewer-alpha", "auditor-one"
)

// seedScopes sets up both scopes through the API (the appliance's own
// certificate sees every scope), a viewer role of scope A with a user,
// and an auditor; it returns the environment the browser tests read.
func seedScopes(t *testing.T, n *cluster.Node) map[string]string {
	t.Helper()
	post := func(path string, body any) {
		t.Helper()
		var out struct{ Error string }
		if code, err := n.Do(http.MethodPost, path, body, &out); code/100 != 2 {
			t.Fatalf("seed %s: HTTP %d %s %v", path, code, out.Error, err)
		}
	}
	var evs []events.Event
	for _, s := range uiScopes {
		node := s.tag + "-node-01"
		post("/api/v1/credentials", map[string]any{"name": s.tag + "-cred", "kind": "password", "scope": s.scope, "secret": s.tag + "-secret-value"})
		post("/api/v1/nodes", map[string]any{"id": node, "name": s.tag + " web server", "address": s.addr, "scope": s.scope})
		post("/api/v1/rules", map[string]any{"id": s.tag + "-rule", "name": s.tag + " disk rule", "scope": s.scope, "kind": "syslog",
			"enabled": true, "position": 10, "pattern": s.tag + "-syslog", "action": "notify", "priority": "critical",
			"template": s.tag + " rule fired: ${message}"})
		evs = append(evs, events.Event{UID: "ui-scope-" + s.tag, At: time.Now().UTC(), Severity: events.Warning, Kind: "test.ui",
			Node: node, Scope: s.scope, Message: s.tag + "-event-text disk almost full"})
		post("/api/v1/custom-events", map[string]any{"events": []map[string]string{{"node": node, "key": s.tag + "-key", "message": s.tag + "-custom-text"}}})
	}
	post("/api/v1/events", evs)
	for _, s := range uiScopes {
		waitScopedSyslog(t, n, s.addr, s.scope, s.tag)
		sendScopedTrap(t, n, s.addr, s.scope, s.tag)
	}
	post("/api/v1/roles", auth.Role{Name: "viewer_alpha", Scopes: []string{uiScopes[0].scope}, Privileges: map[auth.Function][]auth.Action{
		auth.Inventory: {auth.Read}, auth.MonitorSetting: {auth.Read}, auth.MonitorResult: {auth.Read}, auth.Cluster: {auth.Read}}})
	post("/api/v1/users", map[string]any{"user": uiViewer, "password": pw, "roles": []string{"viewer_alpha"}})
	post("/api/v1/users", map[string]any{"user": uiAuditor, "password": pw, "roles": []string{auth.RoleAuditor}})
	checkScopes(t, n, n.Login(uiViewer, pw), []string{uiScopes[0].scope})
	checkScopes(t, n, "", []string{uiScopes[0].scope, uiScopes[1].scope})
	return map[string]string{
		"MAMORI_UI_VIEWER": uiViewer, "MAMORI_UI_AUDITOR": uiAuditor, "MAMORI_UI_OTHER_PASSWORD": pw,
	}
}

// waitScopedSyslog sends syslog lines from addr until one is stored
// under scope (the receive path reads the inventory every 2 s), then the
// line the browser test looks for.
func waitScopedSyslog(t *testing.T, n *cluster.Node, addr, scope, tag string) {
	t.Helper()
	send := func(text string) {
		d := net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(addr)}}
		c, err := d.Dial("udp", n.SyslogUDP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		line := fmt.Sprintf("<11>1 %s %s-host app 4242 ID47 [ex@32473 k=\"v\"] %s", time.Now().UTC().Format(time.RFC3339Nano), tag, text)
		if _, err := c.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		probe := fmt.Sprintf("%s-probe-%d", tag, i)
		send(probe)
		for until := time.Now().Add(2 * time.Second); time.Now().Before(until); time.Sleep(200 * time.Millisecond) {
			var out struct{ Messages []struct{ Scope string } }
			n.Do(http.MethodGet, "/api/v1/syslog?q="+url.QueryEscape(probe), nil, &out)
			if len(out.Messages) > 0 && out.Messages[0].Scope == scope {
				send(tag + "-syslog-text: filesystem /data is full")
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no syslog line from %s stored under scope %s within 30 s", addr, scope)
		}
	}
}

// checkScopes: GET /api/v1/scopes answers exactly the scopes named (each
// carrying the seeded node, rule and credential) to the caller of token
// ("" : the appliance's certificate, which sees every scope).
func checkScopes(t *testing.T, n *cluster.Node, token string, want []string) {
	t.Helper()
	var out struct {
		Scopes []struct {
			Name                      string
			Nodes, Rules, Credentials int
		}
	}
	var code int
	var err error
	if token == "" {
		code, err = n.Do(http.MethodGet, "/api/v1/scopes", nil, &out)
	} else {
		code, err = n.DoAs(token, http.MethodGet, "/api/v1/scopes", nil, &out)
	}
	if code != http.StatusOK {
		t.Fatalf("scopes: HTTP %d %v", code, err)
	}
	var got []string
	for _, s := range out.Scopes {
		if !slices.Contains(want, s.Name) {
			continue // other tests' scopes (the seeded events' nodes are not in the inventory)
		}
		got = append(got, s.Name)
		if s.Nodes != 1 || s.Rules != 1 || s.Credentials != 1 {
			t.Errorf("scope %s: %d nodes, %d rules, %d credentials; want 1 each", s.Name, s.Nodes, s.Rules, s.Credentials)
		}
	}
	if token != "" && len(out.Scopes) != len(want) {
		t.Errorf("a viewer of %v is told of scopes %+v", want, out.Scopes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("scopes %v, want %v", got, want)
	}
}

// sendScopedTrap sends an SNMPv2c trap from addr (after waitScopedSyslog,
// the receive path knows addr's node) and waits until it is stored under
// scope.
func sendScopedTrap(t *testing.T, n *cluster.Node, addr, scope, tag string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(n.SNMPTrap)
	p, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Transport: "udp", Community: "public", Version: gosnmp.Version2c,
		Timeout: time.Second, LocalAddr: net.JoinHostPort(addr, "0"), MaxOids: gosnmp.MaxOids}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	text := tag + "-trap-text"
	tr := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(4242)},
		{Name: "1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"},
		{Name: "1.3.6.1.4.1.8072.2.3.2.1", Type: gosnmp.OctetString, Value: []byte(text)}}}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := g.SendTrap(tr); err != nil {
			t.Fatal(err)
		}
		for until := time.Now().Add(2 * time.Second); time.Now().Before(until); time.Sleep(200 * time.Millisecond) {
			var out struct{ Traps []struct{ Scope string } }
			n.Do(http.MethodGet, "/api/v1/traps?q="+url.QueryEscape(text), nil, &out)
			if len(out.Traps) > 0 && out.Traps[0].Scope == scope {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trap from %s stored under scope %s within 20 s", addr, scope)
		}
	}
}
