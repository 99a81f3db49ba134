package bench

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// BenchmarkConsoleFirstRender: one appliance holding 10,000 events; in
// Chromium (playwright-core, ui/tests/browser/bench/first-render.mjs), the
// time from navigating to /events to the first rows painted, over seven
// fresh pages of a logged-in browser. ui_console_first_render_ms is the
// median; the slowest is logged.
func BenchmarkConsoleFirstRender(b *testing.B) {
	uiDir, err := filepath.Abs(filepath.Join("..", "..", "ui"))
	if err != nil {
		b.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed: the browser runs under Node.js")
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		b.Skip("ui/node_modules/playwright-core is missing: make build installs it")
	}
	n := cluster.NewNode(b, "a", cluster.Subnet()+".1", cluster.Options{})
	n.Start()
	n.WaitRole(ha.Active, 30*time.Second)
	const user, password = "operator", "correct horse battery staple"
	n.CreateAdmin(user, password)
	evs := make([]events.Event, 10_000)
	now := time.Now().UTC()
	for i := range evs {
		evs[i] = events.Event{UID: fmt.Sprintf("fr-%d", i), At: now.Add(-time.Duration(len(evs)-i) * time.Minute),
			Severity: []events.Severity{events.Critical, events.Warning, events.Info}[i%3], Kind: "bench.ui",
			Node: fmt.Sprintf("web%d", i%50), Scope: fmt.Sprintf("s%d", i%5), Message: fmt.Sprintf("check %d failed on web%d", i, i%50)}
	}
	if code, err := n.Do(http.MethodPost, "/api/v1/events", evs, nil); code != http.StatusOK {
		b.Fatalf("seed: HTTP %d %v", code, err)
	}
	cmd := exec.Command(node, "tests/browser/bench/first-render.mjs")
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "MAMORI_UI_URL=https://"+n.API, "MAMORI_UI_USER="+user, "MAMORI_UI_PASSWORD="+password,
		"MAMORI_UI_ARTIFACTS="+b.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("first-render.mjs: %v\n%s", err, out)
	}
	var median, slowest float64
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "FIRST_RENDER_MS" {
			median, _ = strconv.ParseFloat(f[1], 64)
			slowest, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	if median == 0 {
		b.Fatalf("first-render.mjs printed no figure:\n%s", out)
	}
	b.Logf("%s", strings.TrimSpace(string(out)))
	b.Logf("slowest of the runs: %.0f ms", slowest)
	report("ui_console_first_render_ms", median, "ms")
}
