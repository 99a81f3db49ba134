package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/openapi"
	"github.com/mamori-ops/mamori/test/cluster"
)

// openapiCall is one request of the conformance test: who sends it, and
// the status it must answer (so that success answers are checked, not
// only errors).
type openapiCall struct {
	who          string // admin, auditor, user (a session of its own), cert (the appliance's certificate), anon
	method, path string
	body         any
	want         int
}

// A real appliance answers every route of its route table as the
// document it serves at /api/v1/openapi.json says: each answer (success
// and error) validates against the route's schema for its status, and
// each request body sent validates against the route's request schema.
// The calls store real objects first (nodes, rules, syslog lines, traps,
// custom events, audit rows) so that the lists are checked with items.
func TestOpenAPIConformance(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	for _, u := range []struct{ user, role string }{{"auditor1", "auditor"}, {"docs", "administrator"}} {
		if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": u.user, "password": pw, "roles": []string{u.role}}, nil); code != 201 {
			t.Fatalf("create %s: HTTP %d %v", u.user, code, err)
		}
	}
	tokens := map[string]string{"admin": admin, "auditor": a.Login("auditor1", pw), "user": a.Login("docs", pw)}

	// The document itself: public and cacheable.
	var raw json.RawMessage
	code, hdr, err := a.DoWithHeaders("", http.MethodGet, "/api/v1/openapi.json", nil, nil, &raw)
	if code != 200 || err != nil || !strings.Contains(hdr.Get("Cache-Control"), "max-age") {
		t.Fatalf("GET /api/v1/openapi.json: HTTP %d %v, Cache-Control %q", code, err, hdr.Get("Cache-Control"))
	}
	v, err := openapi.NewValidator(raw)
	if err != nil {
		t.Fatal(err)
	}

	// Messages of every kind, so that their lists are not empty.
	host, port, _ := strings.Cut(a.SyslogUDP, ":")
	cmd := exec.Command("logger", "-n", host, "-P", port, "-d", "--rfc5424=notq", "-t", "docs", "--msgid", "ID7", "--sd-id", "origin@32473")
	cmd.Stdin = strings.NewReader("openapi conformance line\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger: %v %s", err, out)
	}
	if out, err := exec.Command("snmptrap", "-v", "2c", "-c", "public", a.SNMPTrap, "777", "1.3.6.1.6.3.1.1.5.3",
		"1.3.6.1.2.1.2.2.1.1.2", "i", "2", "1.3.6.1.2.1.2.2.1.2.2", "s", "eth1").CombinedOutput(); err != nil {
		t.Fatalf("snmptrap: %v %s", err, out)
	}

	_, apiPortText, _ := strings.Cut(a.API, ":")
	apiPort, _ := strconv.Atoi(apiPortText)
	calls := []openapiCall{
		{"anon", "GET", "/healthz", nil, 200},
		{"admin", "GET", "/healthz", nil, 200},
		{"cert", "GET", "/metrics", nil, 200},
		{"anon", "POST", "/api/v1/login", map[string]any{"user": "admin", "password": pw}, 200},
		{"anon", "POST", "/api/v1/login", map[string]any{"user": "admin", "password": "wrong"}, 401},
		{"anon", "POST", "/api/v1/pair/join", map[string]any{"secret": "00"}, 400},
		{"anon", "GET", "/api/v1/openapi.json", nil, 200},
		{"anon", "GET", "/api/v1/me", nil, 401},
		{"user", "GET", "/api/v1/me", nil, 200},
		{"user", "POST", "/api/v1/tokens", map[string]any{"name": "t", "ttl_seconds": 60, "roles": []string{"administrator"}}, 200},
		{"user", "POST", "/api/v1/me/totp", map[string]any{"password": pw}, 200},
		{"user", "POST", "/api/v1/me/totp/confirm", map[string]any{"code": "000000"}, 400},
		{"admin", "POST", "/api/v1/nodes", map[string]any{"id": "n1", "name": "Node 1", "address": "127.0.0.1", "scope": "A"}, 200},
		{"admin", "POST", "/api/v1/credentials", map[string]any{"name": "c1", "kind": "password", "scope": "A", "secret": "public"}, 200},
		{"admin", "POST", "/api/v1/nodes/n1/snmp/get", map[string]any{"oids": []string{"1.3.6.1.2.1.1.1.0"}}, 400}, // n1 has no SNMP settings
		{"admin", "POST", "/api/v1/rules", map[string]any{"id": "r1", "name": "docs", "kind": "syslog", "action": "notify", "enabled": true,
			"pattern": "conformance", "priority": "warning", "max_severity": 7}, 200},
		{"admin", "POST", "/api/v1/rules", map[string]any{"id": "r2", "name": "docs", "kind": "syslog", "action": "drop", "bogus": 1}, 400},
		// Monitors (issue 12 core): the tcp kind (pollers/tcp) checks the appliance's own API port.
		{"admin", "GET", "/api/v1/monitor-kinds", nil, 200},
		{"admin", "POST", "/api/v1/monitors", map[string]any{"id": "m1", "name": "API port", "kind": "tcp", "node": "n1", "interval": "5s",
			"params": map[string]any{"port": apiPort}, "judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1000}}}}, 200},
		{"admin", "POST", "/api/v1/monitors", map[string]any{"id": "m2", "kind": "tcp", "node": "n1", "interval": "5s", "params": map[string]any{"port": apiPort},
			"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"min": 10, "max": 1}}}}, 400},
		{"admin", "POST", "/api/v1/monitors/test", map[string]any{"monitor": map[string]any{"id": "m1", "kind": "tcp", "node": "n1", "interval": "5s",
			"params": map[string]any{"port": apiPort}}}, 200},
		{"admin", "GET", "/api/v1/monitors", nil, 200},
		{"admin", "GET", "/api/v1/monitors/m1", nil, 200},
		{"admin", "GET", "/api/v1/monitors/nope", nil, 404},
		{"admin", "GET", "/api/v1/status", nil, 200},
		{"admin", "DELETE", "/api/v1/monitors/m1", nil, 200},
		{"admin", "DELETE", "/api/v1/monitors/m1", nil, 404},
		{"admin", "POST", "/api/v1/roles", map[string]any{"name": "reader", "scopes": []string{"A"},
			"privileges": map[string][]string{"monitor_results": {"read"}}}, 201},
		{"admin", "POST", "/api/v1/users", map[string]any{"user": "reader1", "password": pw, "roles": []string{"reader"}}, 201},
		{"admin", "POST", "/api/v1/events", []map[string]any{{"kind": "docs", "message": "m", "scope": "A", "severity": "warning",
			"attrs": map[string]string{"k": "v"}}}, 200},
		{"admin", "POST", "/api/v1/events", map[string]any{"kind": "docs", "message": "one", "severity": "critical"}, 200},
		{"admin", "POST", "/api/v1/events", map[string]any{"severity": "unheard-of"}, 400},
		{"admin", "POST", "/api/v1/custom-events", map[string]any{"events": []map[string]any{{"node": "n1", "key": "docs", "message": "m",
			"attrs": map[string]string{"a": "b"}}}}, 202},
		{"cert", "POST", "/internal/v1/events", []map[string]any{{"uid": "peer-1", "at": time.Now().UTC(), "kind": "docs", "node": "b",
			"severity": "info", "message": "handed over"}}, 200},
		{"cert", "POST", "/internal/v1/ingest", map[string]any{"origin": "docs-spool", "items": []any{}}, 200},
		{"cert", "POST", "/internal/v1/pair/code", map[string]any{"ttl_seconds": 60}, 200},
		{"cert", "POST", "/internal/v1/admin", map[string]any{"user": "admin2", "password": pw}, 201},
		{"cert", "GET", "/internal/v1/backup/store", nil, 200},
		{"cert", "POST", "/internal/v1/recover", nil, 409},
		// A single appliance has no one to switch over to, or to leave.
		{"cert", "POST", "/internal/v1/switchover", map[string]any{"timeout_ms": 1000}, 409},
		{"admin", "POST", "/api/v1/cluster/switchover", nil, 409},
		{"cert", "POST", "/internal/v1/peer/switchover", nil, 409},
		{"cert", "POST", "/internal/v1/peer/leaving", map[string]any{"id": "a"}, 409},
		// First boot is over on this appliance (an administrator exists):
		// the setup routes answer 409 setup_done; TestWizard drives them.
		{"anon", "GET", "/api/v1/setup", nil, 200},
		{"anon", "POST", "/api/v1/setup/token", map[string]any{"token": "x"}, 409},
		{"anon", "POST", "/api/v1/setup/admin", map[string]any{"token": "x", "user": "u", "password": pw}, 409},
		{"anon", "POST", "/api/v1/setup/pair/preview", map[string]any{"token": "x", "peer": "127.0.0.1:1", "code": "c"}, 409},
		{"anon", "POST", "/api/v1/setup/pair/join", map[string]any{"token": "x", "peer": "127.0.0.1:1", "code": "c", "fingerprint": "f"}, 409},
		{"admin", "POST", "/api/v1/pair/code", map[string]any{"ttl_seconds": 60}, 200},
		{"admin", "GET", "/api/v1/scopes", nil, 200},
		{"user", "GET", "/api/v1/tokens", nil, 200},
		{"user", "DELETE", "/api/v1/tokens/0000", nil, 404},
		{"admin", "DELETE", "/api/v1/users/reader1", nil, 200},
		{"admin", "DELETE", "/api/v1/users/reader1", nil, 404},
		{"admin", "GET", "/api/v1/cluster", nil, 200},
		{"admin", "GET", "/api/v1/cluster/checksums", nil, 200},
		{"admin", "GET", "/api/v1/events?limit=1", nil, 200},
		{"admin", "GET", "/api/v1/events?limit=x", nil, 400},
		{"admin", "GET", "/api/v1/events?order=desc&limit=2&severity=warning,critical&state=unconfirmed", nil, 200},
		{"admin", "GET", "/api/v1/events/count?state=unconfirmed", nil, 200},
		{"admin", "POST", "/api/v1/events/state", map[string]any{"state": "confirmed", "ids": []int64{1}}, 200},
		{"admin", "POST", "/api/v1/events/state", map[string]any{"state": "confirming", "filter": map[string]string{"severity": "critical"}}, 200},
		{"admin", "POST", "/api/v1/events/state", map[string]any{"state": "done"}, 400},
		{"admin", "POST", "/api/v1/events/1/comments", map[string]any{"text": "looked at it"}, 201},
		{"admin", "GET", "/api/v1/events/1", nil, 200},
		{"admin", "GET", "/api/v1/events/999999999", nil, 404},
		{"admin", "GET", "/api/v1/credentials", nil, 200},
		{"admin", "GET", "/api/v1/nodes", nil, 200},
		{"admin", "GET", "/api/v1/users", nil, 200},
		{"admin", "GET", "/api/v1/roles", nil, 200},
		{"admin", "GET", "/api/v1/audit", nil, 403},
		{"auditor", "GET", "/api/v1/audit?limit=2", nil, 200},
		{"auditor", "GET", "/api/v1/audit?format=csv", nil, 200},
		{"auditor", "GET", "/api/v1/audit/verify", nil, 200},
		{"admin", "GET", "/api/v1/syslog?limit=1", nil, 200},
		{"admin", "GET", "/api/v1/syslog", nil, 200},
		{"admin", "GET", "/api/v1/syslog?nope=1", nil, 400},
		{"admin", "GET", "/api/v1/traps", nil, 200},
		{"admin", "GET", "/api/v1/custom-events", nil, 200},
		// issue 12, metrics
		{"admin", "POST", "/api/v1/metrics", map[string]any{"points": []map[string]any{{"monitor": "docs", "node": "n1", "item": "rtt_ms", "value": 1.5}}}, 202},
		{"admin", "POST", "/api/v1/metrics", map[string]any{"points": []map[string]any{{"monitor": "docs", "node": "no-such-node", "value": 1}}}, 400},
		{"admin", "GET", "/api/v1/metrics/series?monitor=docs", nil, 200},
		{"admin", "GET", "/api/v1/metrics?monitor=docs&node=n1&points=10", nil, 200},
		{"admin", "GET", "/api/v1/rules", nil, 200},
		{"admin", "DELETE", "/api/v1/rules/r1", nil, 200},
		{"admin", "DELETE", "/api/v1/rules/r1", nil, 404},
		// Schedule part (issue 12): calendars and maintenance windows.
		{"admin", "POST", "/api/v1/calendars", map[string]any{"id": "cal1", "name": "Office", "scope": "A", "time_zone": "Asia/Tokyo",
			"week": map[string]any{"mon": []map[string]string{{"from": "09:00", "to": "18:00"}}}, "rules": []map[string]any{{"kind": "dates", "date": "2026-01-01"}}}, 200},
		{"admin", "POST", "/api/v1/calendars", map[string]any{"id": "cal2", "name": "x", "time_zone": "Mars/Olympus"}, 400},
		{"admin", "GET", "/api/v1/calendars", nil, 200},
		{"admin", "GET", "/api/v1/calendars/cal1", nil, 200},
		{"admin", "POST", "/api/v1/calendars/preview", map[string]any{"id": "cal1", "days": 7}, 200},
		{"admin", "GET", "/api/v1/calendars/holidays?country=jp&from=2026&years=2", nil, 200},
		{"admin", "GET", "/api/v1/calendars/holidays?country=us", nil, 400},
		{"admin", "POST", "/api/v1/maintenance", map[string]any{"id": "w1", "name": "weekly", "scope": "A", "kind": "weekly", "enabled": true,
			"nodes": []string{"n1"}, "weekdays": []string{"sun"}, "start": "01:00", "end": "03:00", "time_zone": "UTC"}, 200},
		{"admin", "POST", "/api/v1/maintenance", map[string]any{"id": "w2", "name": "nights", "scope": "A", "kind": "calendar", "enabled": true,
			"scopes": []string{"A"}, "calendar": "cal1"}, 200},
		{"admin", "POST", "/api/v1/maintenance/mute", map[string]any{"node": "n1", "duration": "1h", "reason": "docs"}, 201},
		{"admin", "POST", "/api/v1/maintenance/mute", map[string]any{"node": "n1", "duration": "forever", "reason": "docs"}, 400},
		{"admin", "GET", "/api/v1/maintenance", nil, 200},
		{"admin", "GET", "/api/v1/maintenance/w1", nil, 200},
		{"admin", "GET", "/api/v1/maintenance/active?node=n1", nil, 200},
		{"admin", "POST", "/api/v1/maintenance/w1/end", nil, 200},
		{"admin", "DELETE", "/api/v1/calendars/cal1", nil, 409},
		{"admin", "DELETE", "/api/v1/maintenance/w2", nil, 200},
		{"admin", "DELETE", "/api/v1/calendars/cal1", nil, 200},
		{"admin", "DELETE", "/api/v1/maintenance/w1", nil, 200},
		// notify (issue 12)
		{"admin", "POST", "/api/v1/notify/channels", map[string]any{"id": "c1", "type": "syslog", "syslog": map[string]any{"address": "127.0.0.1:9", "transport": "udp"}}, 200},
		{"admin", "POST", "/api/v1/notify/channels", map[string]any{"id": "c2", "type": "mail", "mail": map[string]any{"server": "nohost"}}, 400},
		{"admin", "GET", "/api/v1/notify/channels", nil, 200},
		{"admin", "POST", "/api/v1/notify/channels/test", map[string]any{"id": "c1", "type": "syslog", "syslog": map[string]any{"address": "127.0.0.1:9"}}, 200},
		{"admin", "POST", "/api/v1/notify/rules", map[string]any{"id": "n1", "enabled": true, "channels": []string{"c1"}, "priorities": []string{"critical"}, "recovery": true}, 200},
		{"admin", "POST", "/api/v1/notify/rules", map[string]any{"id": "n2", "channels": []string{"c1"}, "renotify": "sometimes"}, 400},
		{"admin", "GET", "/api/v1/notify/rules", nil, 200},
		{"admin", "GET", "/api/v1/notify/log?status=sent", nil, 200},
		{"admin", "GET", "/api/v1/notify/log?status=bogus", nil, 400},
		{"admin", "DELETE", "/api/v1/notify/channels/c1", nil, 409},
		{"admin", "DELETE", "/api/v1/notify/rules/n1", nil, 200},
		{"admin", "DELETE", "/api/v1/notify/rules/n1", nil, 404},
		{"admin", "DELETE", "/api/v1/notify/channels/c1", nil, 200},
		{"cert", "POST", "/internal/v1/heartbeat", map[string]any{"id": "stranger", "role": "standby", "epoch": 0, "applied_index": 0,
			"at": time.Now().UTC()}, 200},
		{"user", "GET", "/api/v1/stream?topics=bogus", nil, 400},
		{"user", "POST", "/api/v1/session/failover", nil, 200},
		{"user", "POST", "/api/v1/logout/everywhere", nil, 200},
		{"admin", "POST", "/api/v1/logout", nil, 200},
	}
	// The lists must hold what was sent before they are checked.
	waitList(t, a, admin, "/api/v1/syslog", "messages")
	waitList(t, a, admin, "/api/v1/traps", "traps")
	checked := map[string]bool{}
	// Every documented query parameter is one the route takes: all of
	// them at once, with plausible values, are answered 200
	// (before the calls that log out).
	for _, c := range allQueryCalls(t, v) {
		checkOpenAPICall(t, a, v, tokens, c)
	}
	for _, c := range calls {
		if c.method == "GET" && c.path == "/api/v1/custom-events" {
			waitList(t, a, admin, "/api/v1/custom-events", "events")
		}
		route := checkOpenAPICall(t, a, v, tokens, c)
		checked[route] = true
	}
	for _, op := range v.Operations() {
		if !checked[op] {
			t.Errorf("%s: no call of the conformance test checks it: add one to TestOpenAPIConformance", op)
		}
	}
	t.Logf("%d operations, %d calls checked", len(v.Operations()), len(calls))
}

// checkOpenAPICall sends one call and validates its request and answer;
// it returns the operation ("METHOD /template").
func checkOpenAPICall(t *testing.T, a *cluster.Node, v *openapi.Validator, tokens map[string]string, c openapiCall) string {
	t.Helper()
	tmpl, _, _ := strings.Cut(c.path, "?")
	switch {
	case strings.HasPrefix(tmpl, "/api/v1/nodes/") && strings.HasSuffix(tmpl, "/snmp/get"):
		tmpl = "/api/v1/nodes/{id}/snmp/get"
	case strings.HasPrefix(tmpl, "/api/v1/rules/"):
		tmpl = "/api/v1/rules/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/notify/rules/"): // notify (issue 12)
		tmpl = "/api/v1/notify/rules/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/notify/channels/") && tmpl != "/api/v1/notify/channels/test":
		tmpl = "/api/v1/notify/channels/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/monitors/") && tmpl != "/api/v1/monitors/test":
		tmpl = "/api/v1/monitors/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/tokens/"):
		tmpl = "/api/v1/tokens/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/users/"):
		tmpl = "/api/v1/users/{name}"
	// Schedule part (issue 12).
	case strings.HasPrefix(tmpl, "/api/v1/maintenance/") && strings.HasSuffix(tmpl, "/end"):
		tmpl = "/api/v1/maintenance/{id}/end"
	case strings.HasPrefix(tmpl, "/api/v1/maintenance/") && tmpl != "/api/v1/maintenance/active" && tmpl != "/api/v1/maintenance/mute":
		tmpl = "/api/v1/maintenance/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/calendars/") && tmpl != "/api/v1/calendars/preview" && tmpl != "/api/v1/calendars/holidays":
		tmpl = "/api/v1/calendars/{id}"
	case strings.HasPrefix(tmpl, "/api/v1/events/") && strings.HasSuffix(tmpl, "/comments"):
		tmpl = "/api/v1/events/{id}/comments"
	case strings.HasPrefix(tmpl, "/api/v1/events/") && tmpl != "/api/v1/events/count" && tmpl != "/api/v1/events/state":
		tmpl = "/api/v1/events/{id}"
	}
	op := c.method + " " + tmpl
	if c.body != nil {
		schema, ok, err := v.RequestSchema(c.method, tmpl)
		if err != nil || !ok {
			t.Fatalf("%s: request schema: %v (declared: %v)", op, err, ok)
		}
		b, _ := json.Marshal(c.body)
		if err := v.ValidateJSON(schema, b); err != nil && c.want/100 == 2 {
			t.Errorf("%s: a request the appliance accepts does not match the request schema: %v", op, err)
		}
	}
	var raw json.RawMessage
	var code int
	var hdr http.Header
	var err error
	switch c.who {
	case "cert":
		code, err = a.Do(c.method, c.path, c.body, &raw)
	default:
		code, hdr, err = a.DoWithHeaders(tokens[c.who], c.method, c.path, nil, c.body, &raw)
	}
	if code != c.want {
		t.Errorf("%s %s as %s: HTTP %d, want %d (%s)", c.method, c.path, c.who, code, c.want, raw)
		return op
	}
	schema, isJSON, serr := v.AnswerSchema(c.method, tmpl, code)
	switch {
	case serr != nil:
		t.Errorf("%s: %v", op, serr)
	case !isJSON || strings.Contains(c.path, "format=csv"):
		// Metrics, CSV: not JSON, and the document says so.
		if hdr != nil && strings.Contains(hdr.Get("Content-Type"), "json") {
			t.Errorf("%s: JSON answer where the document declares none", op)
		}
	case err != nil:
		t.Errorf("%s: %v", op, err)
	default:
		if err := v.ValidateJSON(schema, raw); err != nil {
			t.Errorf("%s %s as %s: HTTP %d answer does not match the document: %v\n%s", c.method, c.path, c.who, code, err, raw)
		}
	}
	return op
}

// allQueryCalls are GET calls that send every query parameter the
// document declares for the route.
func allQueryCalls(t *testing.T, v *openapi.Validator) []openapiCall {
	t.Helper()
	var out []openapiCall
	paths, _ := v.Document()["paths"].(map[string]any)
	for _, op := range v.Operations() {
		method, path, _ := strings.Cut(op, " ")
		get, _ := paths[path].(map[string]any)["get"].(map[string]any)
		if method != "GET" || get == nil || path == "/api/v1/stream" { // a stream does not end: TestStream* in api/ check it
			continue
		}
		q := url.Values{}
		params, _ := get["parameters"].([]any)
		for _, p := range params {
			pm := p.(map[string]any)
			name, _ := pm["name"].(string)
			schema, _ := pm["schema"].(map[string]any)
			if pm["in"] != "query" || name == "format" { // format=csv: not JSON, checked above
				continue
			}
			q.Set(name, queryValue(name, schema))
		}
		if len(q) == 0 {
			continue
		}
		who := "admin"
		if strings.HasPrefix(path, "/api/v1/audit") {
			who = "auditor"
		}
		out = append(out, openapiCall{who, "GET", path + "?" + q.Encode(), nil, 200})
	}
	if len(out) < 5 {
		t.Fatalf("only %d routes with query parameters in the document", len(out))
	}
	return out
}

// queryValue is a value of a query parameter that filters nothing out
// that matters here.
func queryValue(name string, schema map[string]any) string {
	switch {
	case name == "since":
		return "2000-01-01T00:00:00Z"
	case name == "at": // schedule part: an instant
		return "2026-01-01T00:00:00Z"
	case name == "until":
		return "2100-01-01T00:00:00Z"
	case name == "before":
		return "1000000000"
	case name == "severity":
		return "critical,warning,info"
	case name == "state":
		return "unconfirmed,confirming,confirmed"
	case schema["enum"] != nil:
		e := schema["enum"].([]any)
		return e[len(e)-1].(string)
	case schema["type"] == "integer":
		return "1"
	}
	return "x"
}

// waitList waits until a list route has at least one item.
func waitList(t *testing.T, a *cluster.Node, token, path, member string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out map[string][]json.RawMessage
		if code, err := a.DoAs(token, http.MethodGet, path, nil, &out); code == 200 && err == nil && len(out[member]) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stays empty", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
