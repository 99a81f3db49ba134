package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
	"github.com/mamori-ops/mamori/pollers/sql/sqltest"
	"github.com/mamori-ops/mamori/test/cluster"
)

// dataResult is one node's answer of POST /api/v1/monitors/test.
type dataResult struct {
	Priority, Message, Raw, Error string
	Items                         []struct {
		Key, Priority, Error string
		Number               *float64
		Text                 *string
		Counter              bool
	}
}

func (r dataResult) item(key string) (string, bool) {
	for _, it := range r.Items {
		if it.Key == key {
			return it.Priority, true
		}
	}
	return "", false
}

// dataTestNow runs monitor kind/params/judgement once on node d1.
func dataTestNow(t *testing.T, a *cluster.Node, kind string, params, judgement map[string]any) dataResult {
	t.Helper()
	return testNow(t, a, "d1", "data-"+strings.ReplaceAll(kind, "_", "-"), kind, params, judgement)
}

// testNow runs monitor id of kind/params/judgement once on node (POST
// /api/v1/monitors/test, the monitor unsaved).
func testNow(t *testing.T, a *cluster.Node, node, id, kind string, params, judgement map[string]any) dataResult {
	t.Helper()
	m := map[string]any{"id": id, "kind": kind, "node": node, "interval": "30s", "timeout": "8s",
		"params": params, "judgement": judgement}
	var out struct {
		Results []dataResult
		Error   string
	}
	if code, err := a.Do(http.MethodPost, "/api/v1/monitors/test", map[string]any{"monitor": m}, &out); code != 200 || len(out.Results) != 1 {
		t.Fatalf("test now %s %v: HTTP %d %v %s %+v", kind, params, code, err, out.Error, out.Results)
	}
	return out.Results[0]
}

func dataRanges(info, warning float64) map[string]any {
	return map[string]any{"numeric": map[string]any{"info": map[string]any{"max": info}, "warning": map[string]any{"max": warning}}}
}

// Every data kind through the API against real services: values across
// the thresholds give info, warning and critical; the target gone gives
// unknown with the reason.
func TestDataMonitorKinds(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	agent := snmptest.Start(t)
	pg := sqltest.StartPostgres(t, "CREATE TABLE jobs (id int, state text)", "INSERT INTO jobs VALUES (1,'ok'),(2,'failed'),(3,'failed')")
	for name, c := range map[string][2]string{"d-auth": {"snmpv3-auth", snmptest.AuthKey}, "d-priv": {"snmpv3-priv", snmptest.PrivKey},
		"d-db": {"database", sqltest.Password}, "d-token": {"password", "tok-77"}} {
		if code, err := a.Do(http.MethodPost, "/api/v1/credentials", map[string]any{"name": name, "kind": c[0], "secret": c[1], "scope": "A"}, nil); code != 200 {
			t.Fatalf("credential %s: HTTP %d %v", name, code, err)
		}
	}
	node := map[string]any{"id": "d1", "address": "127.0.0.1", "scope": "A", "snmp": map[string]any{"version": "3", "port": agent.Port,
		"user": snmptest.User, "security_level": "authPriv", "auth_protocol": "SHA-256", "auth_credential": "d-auth",
		"priv_protocol": "AES", "priv_credential": "d-priv"}}
	if code, err := a.Do(http.MethodPost, "/api/v1/nodes", node, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}

	t.Run("snmp", func(t *testing.T) { dataSNMP(t, a, agent) })
	t.Run("snmp_resource", func(t *testing.T) { dataResource(t, a) })
	t.Run("counter rates through the runner", func(t *testing.T) { dataRates(t, a) })
	t.Run("snmp_process", func(t *testing.T) { dataProcess(t, a) })
	t.Run("sql", func(t *testing.T) { dataSQL(t, a, pg) })
	t.Run("command", func(t *testing.T) { dataCommand(t, a) })
	t.Run("prometheus", func(t *testing.T) { dataPrometheus(t, a) })
	t.Run("snmp agent gone", func(t *testing.T) {
		agent.Stop()
		for _, kind := range []string{"snmp", "snmp_resource", "snmp_process"} {
			params := map[string]any{"oid": "1.3.6.1.2.1.1.3.0"}
			if kind == "snmp_resource" {
				params = map[string]any{"resources": []string{"memory"}}
			} else if kind == "snmp_process" {
				params = map[string]any{"name": "^sshd$"}
			}
			if r := dataTestNow(t, a, kind, params, dataRanges(10, 20)); r.Priority != "unknown" || r.Error == "" {
				t.Errorf("%s of a stopped agent: %+v", kind, r)
			}
		}
	})
}

func dataSNMP(t *testing.T, a *cluster.Node, agent *snmptest.Agent) {
	oid := snmptest.Values + ".1.0"
	for v, want := range map[int]string{5: "info", 15: "warning", 25: "critical"} {
		agent.SetValues(t, "."+oid+" integer "+strconv.Itoa(v), "."+snmptest.Values+".2.0 string disk "+map[bool]string{true: "degraded", false: "fine"}[v > 20])
		if r := dataTestNow(t, a, "snmp", map[string]any{"oid": oid}, dataRanges(10, 20)); r.Priority != want {
			t.Errorf("snmp value %d: %+v, want %s", v, r, want)
		}
		patterns := map[string]any{"patterns": []any{map[string]any{"match": "degraded", "priority": "critical"}, map[string]any{"match": ".", "priority": "info"}}}
		want := map[bool]string{true: "critical", false: "info"}[v > 20]
		if r := dataTestNow(t, a, "snmp_string", map[string]any{"oid": snmptest.Values + ".2.0"}, patterns); r.Priority != want {
			t.Errorf("snmp_string with value %d: %+v, want %s", v, r, want)
		}
	}
}

func dataResource(t *testing.T, a *cluster.Node) {
	p := map[string]any{"resources": []string{"memory", "disk", "interfaces"}, "disk_match": "^/$", "if_match": "^lo$"}
	r := dataTestNow(t, a, "snmp_resource", p, dataRanges(100.5, 101))
	for _, key := range []string{"mem_used_pct", "disk:/"} {
		if pr, ok := r.item(key); !ok || pr != "info" {
			t.Errorf("%s: %q (present %v) in %+v", key, pr, ok, r)
		}
	}
	if _, ok := r.item("if:lo:in_bps"); !ok {
		t.Errorf("no if:lo:in_bps in %+v", r)
	}
	// Per-item thresholds: memory over 0 % used is critical, disks keep
	// the monitor's ranges.
	j := dataRanges(100.5, 101)
	j["items"] = map[string]any{"mem_used_pct": map[string]any{"info": map[string]any{"max": 0}, "warning": map[string]any{"max": 0.001}}}
	r = dataTestNow(t, a, "snmp_resource", p, j)
	if pr, _ := r.item("mem_used_pct"); pr != "critical" || r.Priority != "critical" {
		t.Errorf("memory over its own threshold: %q, monitor %s", pr, r.Priority)
	}
	if pr, _ := r.item("disk:/"); pr != "info" {
		t.Errorf("disk:/ with the monitor's ranges: %q", pr)
	}
	// and in its warning range: warning.
	j["items"] = map[string]any{"mem_used_pct": map[string]any{"info": map[string]any{"max": 0}, "warning": map[string]any{"max": 100.5}}}
	if r = dataTestNow(t, a, "snmp_resource", p, j); r.Priority != "warning" {
		t.Errorf("memory in its warning range: monitor %s (%+v)", r.Priority, r.Items)
	}
}

// dataRates saves a traffic monitor and waits for the runner to judge
// the loopback's octet counters as a rate in bit/s (the first sample
// gives none; net-snmp refreshes the counters every few seconds, so some
// rates between two checks a second apart are 0).
func dataRates(t *testing.T, a *cluster.Node) {
	m := map[string]any{"id": "data-traffic", "kind": "snmp_resource", "node": "d1", "interval": "1s", "timeout": "1s",
		"params":    map[string]any{"resources": []string{"interfaces"}, "if_match": "^lo$"},
		"judgement": map[string]any{"numeric": map[string]any{"info": map[string]any{"max": 1e12}}}}
	if code, err := a.Do(http.MethodPost, "/api/v1/monitors", m, nil); code != 200 {
		t.Fatalf("save: HTTP %d %v", code, err)
	}
	defer a.Do(http.MethodDelete, "/api/v1/monitors/data-traffic", nil, nil)
	var rows []struct{ Item, Priority, Value string }
	ok := cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		var out struct {
			Rows []struct{ Item, Priority, Value string }
		}
		if code, _ := a.Do(http.MethodGet, "/api/v1/status?monitor=data-traffic", nil, &out); code != 200 {
			return false
		}
		rows = out.Rows
		n := 0
		for _, r := range rows {
			if (r.Item == "if:lo:in_bps" || r.Item == "if:lo:out_bps") && r.Priority == "info" && strings.HasSuffix(r.Value, " bit/s") &&
				!strings.HasPrefix(r.Value, "0 ") {
				n++
			}
		}
		return n == 2
	})
	if !ok {
		t.Fatalf("no non-zero rates of lo within 30s: %+v", rows)
	}
	t.Logf("rates: %+v", rows)
}

func dataProcess(t *testing.T, a *cluster.Node) {
	name := fmt.Sprintf("dmk%d", os.Getpid()%100000)
	b, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c := exec.Command(bin, "3600")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	// One or two running is fine, more is a warning, none is critical.
	j := map[string]any{"numeric": map[string]any{"info": map[string]any{"min": 1, "max": 3}, "warning": map[string]any{"min": 3, "max": 10}}}
	if r := dataTestNow(t, a, "snmp_process", map[string]any{"name": "^" + name + "$"}, j); r.Priority != "info" || r.Items[0].Number == nil || *r.Items[0].Number != 2 {
		t.Errorf("two processes: %+v", r)
	}
	jw := map[string]any{"numeric": map[string]any{"info": map[string]any{"min": 1, "max": 2}, "warning": map[string]any{"min": 2, "max": 10}}}
	if r := dataTestNow(t, a, "snmp_process", map[string]any{"name": "^" + name + "$"}, jw); r.Priority != "warning" {
		t.Errorf("two processes where one is expected: %+v", r)
	}
	if r := dataTestNow(t, a, "snmp_process", map[string]any{"name": "^" + name + "-none$"}, j); r.Priority != "critical" {
		t.Errorf("no process: %+v", r)
	}
}

func dataSQL(t *testing.T, a *cluster.Node, pg *sqltest.Server) {
	p := func(q string) map[string]any {
		return map[string]any{"driver": "postgres", "port": pg.Port, "database": "postgres", "user": "mamori", "credential": "d-db", "query": q}
	}
	j := dataRanges(2, 5)
	j["items"] = map[string]any{"query_ms": map[string]any{"info": map[string]any{"max": 5000}}}
	for q, want := range map[string]string{"SELECT 1": "info", "SELECT count(*) FROM jobs WHERE state = 'failed'": "warning", "SELECT 7": "critical"} {
		if r := dataTestNow(t, a, "sql", p(q), j); r.Priority != want {
			t.Errorf("%s: %+v, want %s", q, r, want)
		}
	}
	// The text of the first cell, judged by ordered patterns.
	pat := map[string]any{"patterns": []any{map[string]any{"match": "failed", "priority": "critical"},
		map[string]any{"match": "^slow$", "priority": "warning"}, map[string]any{"match": ".", "priority": "info"}}}
	for q, want := range map[string]string{"SELECT state FROM jobs WHERE id = 1": "info", "SELECT 'slow'": "warning",
		"SELECT state FROM jobs WHERE id = 2": "critical"} {
		if r := dataTestNow(t, a, "sql_string", p(q), pat); r.Priority != want {
			t.Errorf("sql_string %s: %+v, want %s", q, r, want)
		}
	}
	pg.Stop()
	if r := dataTestNow(t, a, "sql_string", p("SELECT 'x'"), pat); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("sql_string, stopped server: %+v", r)
	}
	if r := dataTestNow(t, a, "sql", p("SELECT 1"), j); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("stopped server: %+v", r)
	}
}

func dataCommand(t *testing.T, a *cluster.Node) {
	dir := t.TempDir()
	script := filepath.Join(dir, "check.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat "+filepath.Join(dir, "out")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	j := dataRanges(10, 20)
	j["items"] = map[string]any{"exit_code": map[string]any{"info": map[string]any{"max": 1}}}
	for out, want := range map[string]string{"depth,3\nlag,1": "info", "depth,12\nlag,1": "warning", "depth,3\nlag,50": "critical"} {
		if err := os.WriteFile(filepath.Join(dir, "out"), []byte(out+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := dataTestNow(t, a, "command", map[string]any{"argv": []string{script, "{{address}}"}}, j)
		if r.Priority != want {
			t.Errorf("output %q: %+v, want %s", out, r, want)
		}
		if pr, _ := r.item("exit_code"); pr != "info" {
			t.Errorf("exit_code: %q", pr)
		}
	}
	if r := dataTestNow(t, a, "command", map[string]any{"argv": []string{filepath.Join(dir, "gone.sh")}}, j); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("missing program: %+v", r)
	}
}

func dataPrometheus(t *testing.T, a *cluster.Node) {
	var depth atomic.Int64
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		fmt.Fprintf(w, "# TYPE queue_depth gauge\nqueue_depth{queue=\"mail\"} %d\nqueue_depth{queue=\"jobs\"} 1\n", depth.Load())
	}))
	url := "http://{{address}}:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:] + "/metrics"
	p := map[string]any{"url": url, "select": `queue_depth{queue="mail"}`, "credential": "d-token"}
	for v, want := range map[int64]string{4: "info", 14: "warning", 40: "critical"} {
		depth.Store(v)
		if r := dataTestNow(t, a, "prometheus", p, dataRanges(10, 20)); r.Priority != want {
			t.Errorf("queue_depth %d: %+v, want %s", v, r, want)
		}
	}
	if got, _ := auth.Load().(string); got != "Bearer tok-77" {
		t.Errorf("Authorization %q", got)
	}
	srv.Close()
	if r := dataTestNow(t, a, "prometheus", p, dataRanges(10, 20)); r.Priority != "unknown" || r.Error == "" {
		t.Errorf("stopped exporter: %+v", r)
	}
}
