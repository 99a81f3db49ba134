package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestConsole runs the web console's browser tests (ui/tests/browser:
// playwright-core driving Debian's Chromium) against a real pair: the
// console is the one embedded in $MAMORI_BIN, served by both appliances.
// Go starts the appliances, as every end-to-end test does, and hands the
// addresses and an operator's credentials to the Node test runner; the
// screenshots land in test/artifacts/ui/.
func TestConsole(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	active, standby := consolePair(t, 10*time.Second)
	seedEvents(t, active)
	env := map[string]string{
		"MAMORI_UI_URL":      "https://" + active.API,
		"MAMORI_UI_PEER_URL": "https://" + standby.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
	}
	maps.Copy(env, seedScopes(t, active)) // the screens' scope test (ui_screens_test.go)
	runBrowserTests(t, node, uiDir, env, "tests/browser/pair/")
}

// The operator the console's browser tests log in as.
const consoleUser, consolePassword = "operator", "correct horse battery staple"

// consoleOptions are a pair's options for browser tests: Chromium's
// start-up loads both cores for seconds, and a pair with the default
// half-second Raft timeouts may change leaders meanwhile; these tests are
// about the console, not failover (see failover_test.go).
func consoleOptions(detection time.Duration) cluster.Options {
	return cluster.Options{Detection: detection,
		ExtraYAML: "store:\n  heartbeat_timeout: 2s\n  election_timeout: 2s\n  leader_lease: 1s\n"}
}

// consolePair starts a pair with consoleOptions, creates the operator and
// returns the active appliance first.
func consolePair(t *testing.T, detection time.Duration) (active, standby *cluster.Node) {
	t.Helper()
	a, b := newPair(t, consoleOptions(detection))
	a.CreateAdmin(consoleUser, consolePassword)
	if st, err := a.Status(); err != nil || st.Role != ha.Active {
		return b, a
	}
	return a, b
}

// consoleTools returns node's path and the ui/ folder, or skips saying
// what is missing.
func consoleTools(t *testing.T) (node, uiDir string) {
	t.Helper()
	uiDir, err := filepath.Abs(filepath.Join("..", "..", "ui"))
	if err != nil {
		t.Fatal(err)
	}
	return needConsoleTools(t, uiDir), uiDir
}

// runBrowserTests runs Node's test runner on paths (files or folders under
// ui/) with env added, logging its report line by line. Browser tests that
// share TestConsole's pair go in tests/browser/pair/; a test that needs its
// own appliances (a wizard on fresh ones, a kill) has its own Go test and
// folder, and calls this.
// Screenshots go to test/artifacts/ui/ (MAMORI_UI_ARTIFACTS).
func runBrowserTests(t *testing.T, node, uiDir string, env map[string]string, paths ...string) {
	t.Helper()
	artifacts, err := filepath.Abs(filepath.Join("..", "artifacts", "ui"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, paths...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "MAMORI_UI_ARTIFACTS="+artifacts)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser tests failed (%v) after %s: see the log above; screenshots in %s", err, time.Since(start).Round(time.Second), artifacts)
	}
	t.Logf("browser tests passed in %s; screenshots in %s", time.Since(start).Round(time.Second), artifacts)
}

// needConsoleTools returns node's path, or skips saying what is missing
// and how to get it.
func needConsoleTools(t *testing.T, uiDir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the browser tests run under Node.js")
	}
	chromium := os.Getenv("MAMORI_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s is missing: make deps installs Debian's chromium", chromium)
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		t.Skip("ui/node_modules/playwright-core is missing: make build installs the console's packages")
	}
	return node
}

// seedEvents stores events of every severity and a few scopes over the
// last day, so the dashboard has counts, a curve and a latest list.
func seedEvents(t *testing.T, n *cluster.Node) {
	t.Helper()
	sevs := []events.Severity{events.Critical, events.Warning, events.Info, events.Info, events.Warning, events.Info}
	nodes := []string{"web1", "db-primary", "router-tokyo-01"}
	scopes := []string{"", "system-a", "system-b"}
	now := time.Now().UTC()
	var evs []events.Event
	for i := range 120 {
		sev := sevs[i%len(sevs)]
		evs = append(evs, events.Event{UID: fmt.Sprintf("ui-seed-%d", i), At: now.Add(-time.Duration(119-i) * 11 * time.Minute),
			Severity: sev, Kind: "test.ui", Node: nodes[i%len(nodes)], Scope: scopes[i%len(scopes)],
			Message: fmt.Sprintf("%s: disk /var on %s above threshold (%d%%)", sev, nodes[i%len(nodes)], 80+i%20)})
	}
	if code, err := n.Do(http.MethodPost, "/api/v1/events", evs, nil); err != nil || code != http.StatusOK {
		t.Fatalf("seed events: HTTP %d %v", code, err)
	}
}
