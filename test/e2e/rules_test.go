package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Monitor rules on a pair: syslog (logger over UDP, and RFC 5425 over
// TLS), a trap and custom events posted with an API token to the standby
// become events in the sources' scope; a drop rule discards; with
// keep_unmatched off, messages no rule matched are not stored.
func TestMonitorRulesAndCustomEvents(t *testing.T) {
	skipShort(t)
	needSenders(t)
	sub := cluster.Subnet()
	o := cluster.Options{IngestYAML: "  keep_unmatched: false\n"}
	a := cluster.NewNode(t, "a", sub+".1", o)
	b := cluster.NewNode(t, "b", sub+".2", o)
	cluster.Pair(t, a, b)
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	call := func(tok, method, path string, in any, want int) {
		t.Helper()
		var out struct{ Error string }
		if code, err := a.DoAs(tok, method, path, in, &out); code != want {
			t.Fatalf("%s %s: HTTP %d (want %d) %v %s", method, path, code, want, err, out.Error)
		}
	}
	// Senders on this machine come from 127.0.0.1: the inventory puts
	// that address in scope A.
	call(admin, http.MethodPost, "/api/v1/nodes", map[string]any{"id": "web1", "address": "127.0.0.1", "scope": "A"}, 200)
	for _, r := range []map[string]any{
		{"id": "noise", "name": "drop heartbeats", "scope": "A", "position": 1, "enabled": true, "kind": "syslog", "keywords": []string{"heartbeat"}, "action": "drop"},
		{"id": "disk", "name": "disk failures", "scope": "A", "position": 2, "enabled": true, "kind": "syslog", "pattern": `disk \w+ failed`,
			"action": "notify", "priority": "critical", "template": "${node}: ${message}"},
		{"id": "link", "name": "link down", "scope": "A", "position": 3, "enabled": true, "kind": "trap", "trap_oid": "IF-MIB::linkDown",
			"action": "notify", "priority": "warning", "template": "${trap_name} from ${source}: ${message}"},
		{"id": "batch", "name": "batch failures", "scope": "A", "position": 4, "enabled": true, "kind": "custom", "app": "^batch$", "pattern": "FAILED",
			"action": "notify", "priority": "critical"},
	} {
		call(admin, http.MethodPost, "/api/v1/rules", r, 200)
	}
	// A rule that cannot work is refused, naming the field.
	var bad struct{ Error string }
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/rules", map[string]any{"id": "x", "name": "x", "kind": "syslog", "action": "notify",
		"priority": "critical", "pattern": "(unclosed"}, &bad); code != 400 || !strings.Contains(bad.Error, "pattern") {
		t.Fatalf("invalid rule: HTTP %d %q", code, bad.Error)
	}
	// A misspelt field is refused, not ignored (the rule would match everything).
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/rules", map[string]any{"id": "y", "name": "y", "kind": "syslog", "action": "drop",
		"patern": "typo"}, &bad); code != 400 || !strings.Contains(bad.Error, "patern") {
		t.Fatalf("misspelt rule field: HTTP %d %q", code, bad.Error)
	}
	// A program's token: may add monitor results in scope A, nothing else.
	call(admin, http.MethodPost, "/api/v1/roles", map[string]any{"name": "robot", "scopes": []string{"A"},
		"privileges": map[string][]string{"monitor_results": {"add"}}}, 201)
	call(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "batch-robot", "password": pw, "roles": []string{"robot"}}, 201)
	var tok struct{ Token string }
	if code, _ := a.DoAs(a.Login("batch-robot", pw), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "batch", "ttl_seconds": 3600}, &tok); code != 200 {
		t.Fatalf("token: HTTP %d", code)
	}
	time.Sleep(2500 * time.Millisecond) // the active reloads rules every 2 s

	for _, n := range []*cluster.Node{a, b} {
		host, port := strings.Split(n.SyslogUDP, ":")[0], strings.Split(n.SyslogUDP, ":")[1]
		cmd := exec.Command("logger", "-n", host, "-P", port, "-d", "--rfc5424=notime,notq", "-t", "kernel")
		cmd.Stdin = strings.NewReader("disk sda failed\nheartbeat ok, disk sdc failed\njust noise\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger: %v %s", err, out)
		}
		if out, err := exec.Command("snmptrap", "-v", "2c", "-c", "public", n.SNMPTrap, "777", "1.3.6.1.6.3.1.1.5.3",
			"1.3.6.1.2.1.2.2.1.1.2", "i", "2", "1.3.6.1.2.1.2.2.1.2.2", "s", "eth1").CombinedOutput(); err != nil {
			t.Fatalf("snmptrap: %v %s", err, out)
		}
	}
	// RFC 5425: octet-counted frames over TLS, to the active only.
	conn, err := tls.Dial("tcp", a.SyslogTLS, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("syslog over TLS: %v", err)
	}
	msg := "<10>1 2026-11-24T10:00:00Z db1 kernel - - - disk sdb failed"
	fmt.Fprintf(conn, "%d %s", len(msg), msg)
	conn.Close()
	// The custom event goes to the standby (its spool forwards it) and,
	// as a program configured with both appliances would, to the active
	// with the same id: one event. A missing token is refused.
	ev := map[string]any{"events": []map[string]any{{"id": "nightly-2026-11-24", "node": "web1", "key": "batch", "message": "nightly FAILED at step 3"}}}
	if code, _ := b.DoAs(tok.Token, http.MethodPost, "/api/v1/custom-events", ev, nil); code != http.StatusAccepted {
		t.Fatalf("custom event to the standby: HTTP %d", code)
	}
	if code, _ := a.DoAs(tok.Token, http.MethodPost, "/api/v1/custom-events", ev, nil); code != http.StatusAccepted {
		t.Fatalf("custom event to the active: HTTP %d", code)
	}
	if code, _ := a.DoAs("", http.MethodPost, "/api/v1/custom-events", ev, nil); code != http.StatusUnauthorized {
		t.Fatalf("custom event without a token: HTTP %d, want 401", code)
	}
	if code, _ := a.DoAs(tok.Token, http.MethodPost, "/api/v1/custom-events", map[string]any{"events": []map[string]any{{"key": "batch"}}}, nil); code != 400 {
		t.Fatalf("custom event without a message: HTTP %d, want 400", code)
	}

	type event struct{ Severity, Kind, Node, Scope, Message string }
	var evs []event
	cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		var out struct{ Events []event }
		a.DoAs(admin, http.MethodGet, "/api/v1/events?limit=1000", nil, &out)
		evs = evs[:0]
		for _, e := range out.Events {
			if strings.HasPrefix(e.Kind, "monitor.") {
				evs = append(evs, e)
			}
		}
		return len(evs) >= 4
	})
	time.Sleep(2 * time.Second) // the standby's copies arrive too: nothing may be added
	var out struct{ Events []event }
	a.DoAs(admin, http.MethodGet, "/api/v1/events?limit=1000", nil, &out)
	got := map[string]int{}
	for _, e := range out.Events {
		if strings.HasPrefix(e.Kind, "monitor.") {
			got[e.Severity+" "+e.Kind+" "+e.Scope+" "+e.Message]++
		}
	}
	want := map[string]int{
		"critical monitor.syslog A web1: disk sda failed":                                                    1,
		"critical monitor.syslog A web1: disk sdb failed":                                                    1,
		"warning monitor.trap A IF-MIB::linkDown from 127.0.0.1: IF-MIB::ifIndex.2=2 IF-MIB::ifDescr.2=eth1": 1,
		"critical monitor.custom A nightly FAILED at step 3":                                                 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	// keep_unmatched is off: only the messages that raised an event are
	// kept; the dropped heartbeat and the unmatched noise are not.
	var sys struct {
		Messages []struct {
			Text, Scope string
			EventUID    string `json:"event_uid"`
		}
	}
	a.DoAs(admin, http.MethodGet, "/api/v1/syslog", nil, &sys)
	if len(sys.Messages) != 2 {
		t.Fatalf("stored syslog messages: %+v, want the two disk failures", sys.Messages)
	}
	for _, m := range sys.Messages {
		if m.Scope != "A" || m.EventUID == "" {
			t.Errorf("stored message without scope or event: %+v", m)
		}
	}
	// Search: stored messages by text, host, time; traps by MIB name;
	// custom events by key; an unknown parameter is refused, naming it.
	for _, c := range []struct {
		path string
		want int
	}{
		{"/api/v1/syslog?q=SDB", 1},
		{"/api/v1/syslog?q=disk", 2},
		{"/api/v1/syslog?q=disk&max_severity=3", 1}, // logger sent user.notice (5), the TLS message severity 2
		{"/api/v1/syslog?host=db1", 1},
		{"/api/v1/syslog?q=100%25", 0}, // % is literal
		{"/api/v1/syslog?since=2099-01-01T00:00:00Z", 0},
		{"/api/v1/syslog?order=desc&limit=1", 1},
		{"/api/v1/traps?trap=IF-MIB::linkDown", 1},
		{"/api/v1/traps?trap=1.3.6.1.6.3.1.1.5.3&version=v2c", 1},
		{"/api/v1/custom-events?key=batch", 1},
	} {
		var out map[string][]map[string]any
		if code, err := a.DoAs(admin, http.MethodGet, c.path, nil, &out); code != 200 {
			t.Fatalf("%s: HTTP %d %v", c.path, code, err)
		}
		n := 0
		for _, list := range out {
			n += len(list)
		}
		if n != c.want {
			t.Errorf("%s: %d results, want %d", c.path, n, c.want)
		}
	}
	if code, _ := a.DoAs(admin, http.MethodGet, "/api/v1/syslog?hots=db1", nil, &bad); code != 400 || !strings.Contains(bad.Error, "hots") {
		t.Errorf("misspelt search parameter: HTTP %d %q", code, bad.Error)
	}
	m := a.Metrics()
	for name, want := range map[string]float64{`mamori_ingest_dropped_total{reason="rule"}`: 1, `mamori_ingest_dropped_total{reason="unmatched"}`: 1} {
		if v := metricValue(m, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if st, _ := b.Status(); st.Role != ha.Standby {
		t.Errorf("b is %s, want standby", st.Role)
	}
}
