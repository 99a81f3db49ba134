package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/command"
)

var node = check.Target{NodeID: "web-1", Name: "web front; rm -rf /tmp/x", Address: "127.0.0.1"}

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, p map[string]any, timeout time.Duration) check.Result {
	t.Helper()
	b, _ := json.Marshal(p)
	c := command.Kind().New()
	norm, err := c.Validate(b)
	if err != nil {
		t.Fatalf("validate %s: %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	env := check.Env{Timeout: timeout, Secret: func(_ context.Context, name string) (string, error) {
		if name == "api-token" {
			return "tok-123", nil
		}
		return "", errors.New("no such credential")
	}}
	return c.Check(ctx, env, node, norm)
}

func items(r check.Result) map[string]check.Item {
	m := map[string]check.Item{}
	for _, it := range r.Items {
		m[it.Key] = it
	}
	return m
}

func wantNum(t *testing.T, m map[string]check.Item, key string, v float64) {
	t.Helper()
	if it, ok := m[key]; !ok || it.Number == nil || *it.Number != v {
		t.Errorf("%s: %+v, want %v", key, it, v)
	}
}

func wantText(t *testing.T, m map[string]check.Item, key, v string) {
	t.Helper()
	if it, ok := m[key]; !ok || it.Text == nil || *it.Text != v {
		t.Errorf("%s: %+v, want %q", key, it, v)
	}
}

// key,value lines become numeric and text items, with the exit code;
// placeholders reach the command as single arguments; the appliance's
// environment does not.
func TestCommandItems(t *testing.T) {
	t.Setenv("MAMORI_TEST_SECRET_ENV", "leak")
	s := script(t, `echo "queue_depth,17"
echo " latency_ms , 2.5 "
echo "state,degraded, since 10:00"
echo "no comma here"
echo "queue_depth,99"
echo "exit_code,0"
printf 'addr,%s\nargc,%s\nname,%s\n' "$1" "$#" "$3"
echo "env_addr,$MAMORI_ADDRESS"
echo "leak,${MAMORI_TEST_SECRET_ENV:-none}"
echo "token,${MAMORI_CREDENTIAL:-none}"
echo "oops" >&2
exit 3`)
	r := run(t, map[string]any{"argv": []string{s, "{{address}}", "{{node}}", "{{name}}"}, "credential": "api-token"}, 5*time.Second)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	m := items(r)
	wantNum(t, m, "queue_depth", 17)
	wantNum(t, m, "latency_ms", 2.5)
	wantText(t, m, "state", "degraded, since 10:00")
	wantText(t, m, "addr", "127.0.0.1")
	wantNum(t, m, "argc", 3)
	wantText(t, m, "name", node.Name)
	wantText(t, m, "env_addr", "127.0.0.1")
	wantText(t, m, "leak", "none")
	wantText(t, m, "token", "tok-123")
	wantNum(t, m, command.ExitCode, 3)
	if len(r.Items) != 10 {
		t.Errorf("%d items: %+v", len(r.Items), r.Items)
	}
	if !strings.Contains(r.Raw, "no comma here") || !strings.Contains(r.Raw, "oops") {
		t.Errorf("raw: %q", r.Raw)
	}
}

// In shell mode the placeholders are quoted: a node name with shell
// syntax stays text.
func TestCommandShellQuotes(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "x")
	n := node
	n.Name = "a'; touch " + marker + "; echo 'b"
	b, _ := json.Marshal(map[string]any{"shell": "echo name,{{name}}; echo n,$(echo 1 2 3 | wc -w)"})
	c := command.Kind().New()
	norm, err := c.Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := c.Check(ctx, check.Env{}, n, norm)
	m := items(r)
	wantText(t, m, "name", n.Name)
	wantNum(t, m, "n", 3)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the node name ran as shell code")
	}
}

// A command past its timeout is killed with what it started; output
// floods are bounded; a missing program fails the check.
func TestCommandFailures(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	slow := script(t, `sleep 30 & echo $! > `+pidFile+`
echo "partial,1"
wait`)
	start := time.Now()
	r := run(t, map[string]any{"argv": []string{slow}}, 700*time.Millisecond)
	if r.Err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("slow command: %v after %v", r.Err, time.Since(start))
	}
	if b, err := os.ReadFile(pidFile); err != nil || alive(strings.TrimSpace(string(b))) {
		t.Errorf("the command's child %s outlived the timeout (%v)", b, err)
	}
	flood := script(t, `head -c 20000000 /dev/urandom; yes "k,1" | head -n 200000`)
	r = run(t, map[string]any{"argv": []string{flood}}, 20*time.Second)
	if r.Err != nil || len(r.Raw) > check.MaxRaw || len(r.Items) > 1001 {
		t.Errorf("flood: err %v, raw %d bytes, %d items", r.Err, len(r.Raw), len(r.Items))
	}
	if r := run(t, map[string]any{"argv": []string{"/nonexistent/check"}}, 2*time.Second); r.Err == nil {
		t.Errorf("missing program: %+v", r.Items)
	}
	if r := run(t, map[string]any{"argv": []string{"/bin/true"}, "credential": "gone"}, 2*time.Second); r.Err == nil {
		t.Errorf("missing credential: %+v", r.Items)
	}
	killed := script(t, `kill -9 $$`)
	if r := run(t, map[string]any{"argv": []string{killed}}, 2*time.Second); r.Err == nil {
		t.Errorf("killed by a signal: %+v", r.Items)
	}
}

func TestCommandValidate(t *testing.T) {
	for p, field := range map[string]string{
		`{}`:                                 "argv",
		`{"argv":["check_x"]}`:               "argv",
		`{"argv":["/bin/true"],"shell":"x"}`: "shell",
		`{"argv":["/bin/true","a\u0000b"]}`:  "argv",
		`{"command":"x"}`:                    "command",
	} {
		if _, err := command.Kind().New().Validate(json.RawMessage(p)); !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v; want ErrBadParams naming %s", p, err, field)
		}
	}
}

// alive says whether process pid runs (a zombie waiting for init to reap
// it does not), after a moment for the kill to land.
func alive(pid string) bool {
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return false
		}
		if _, rest, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(rest, "Z") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}
