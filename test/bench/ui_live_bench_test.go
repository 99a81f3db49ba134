package bench

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// BenchmarkUILiveEventLatency: BENCH ui_live_event_latency_ms, the p99 of
// 100 syslog lines sent with `logger` (5 a second) from the line's sending
// to its event's row painted in Chromium in the event console (the live
// stream says an event arrived; the console reads its newest page):
// receive, monitor rule, store, stream, read, paint.
func BenchmarkUILiveEventLatency(b *testing.B) {
	uiDir, err := filepath.Abs(filepath.Join("..", "..", "ui"))
	if err != nil {
		b.Fatal(err)
	}
	node := needBrowser(b, uiDir)
	a := cluster.NewNode(b, "a", cluster.Subnet()+".1", cluster.Options{})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	const user, password = "operator", "correct horse battery staple"
	a.CreateAdmin(user, password)
	tok := a.Login(user, password)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/nodes", map[string]any{"id": "web1", "address": "127.0.0.1", "scope": "A"}},
		{"/api/v1/rules", map[string]any{"id": "disk", "name": "disk failures", "scope": "A", "position": 1, "enabled": true, "kind": "syslog",
			"pattern": `disk \S+ failed`, "action": "notify", "priority": "critical", "template": "${message}"}},
	} {
		if code, err := a.DoAs(tok, http.MethodPost, c.path, c.body, nil); code != http.StatusOK {
			b.Fatalf("%s: HTTP %d %v", c.path, code, err)
		}
	}
	time.Sleep(2500 * time.Millisecond) // the active reloads rules every 2 s

	cmd := exec.Command(node, "tests/browser/bench/live-latency.mjs")
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "MAMORI_UI_URL=https://"+a.API, "MAMORI_UI_USER="+user, "MAMORI_UI_PASSWORD="+password,
		"MAMORI_BENCH_SYSLOG="+a.SyslogUDP, "MAMORI_UI_ARTIFACTS="+b.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("live-latency.mjs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res struct {
		Latencies []float64 `json:"latencies_ms"`
		Missing   int       `json:"missing"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || len(res.Latencies) == 0 {
		b.Fatalf("live-latency.mjs answered %q: %v", out, err)
	}
	if res.Missing > 0 {
		b.Fatalf("%d of %d lines never painted", res.Missing, res.Missing+len(res.Latencies))
	}
	sort.Float64s(res.Latencies)
	p99 := res.Latencies[(len(res.Latencies)*99+99)/100-1]
	report("ui_live_event_latency_ms", p99, "ms")
	report("ui_live_event_latency_median_ms", median(res.Latencies), "ms")
}

// needBrowser returns node's path, or skips saying what is missing.
func needBrowser(b *testing.B, uiDir string) string {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed: the browser benchmarks run under Node.js")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("MAMORI_CHROMIUM") == "" {
		b.Skip("/usr/bin/chromium is missing: make deps installs Debian's chromium")
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		b.Skip("ui/node_modules/playwright-core is missing: make build installs the console's packages")
	}
	if _, err := exec.LookPath("logger"); err != nil {
		b.Skip("logger (util-linux) is not installed")
	}
	return node
}
