package snmpprocess_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode/nodetest"
	"github.com/mamori-ops/mamori/pollers/snmpprocess"
)

// sleepers starts n copies of sleep under a name of the test's own, with
// arguments told apart by marker (sleep adds its arguments up, so
// "3000 600" and "3100 500" both sleep an hour), and returns them.
func sleepers(t *testing.T, name string, n int, marker string) []*exec.Cmd {
	t.Helper()
	b, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range n {
		c := exec.Command(bin, strings.Fields(marker)...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		cmds = append(cmds, c)
	}
	return cmds
}

func count(t *testing.T, n nodetest.Node, p string) (float64, check.Result) {
	t.Helper()
	r := nodetest.Run(t, snmpprocess.Kind(), n, p)
	if r.Err != nil || len(r.Items) != 1 || r.Items[0].Key != snmpprocess.Item || r.Items[0].Number == nil {
		t.Fatalf("%s: %+v %v", p, r.Items, r.Err)
	}
	return *r.Items[0].Number, r
}

// walkCount counts with net-snmp's snmpwalk the processes called name
// whose arguments match args.
func walkCount(t *testing.T, a *snmptest.Agent, name string, args *regexp.Regexp) int {
	params := map[string]string{}
	for _, l := range a.Walk(t, "1.3.6.1.2.1.25.4.2.1.5") {
		params[strings.TrimPrefix(l.OID, "1.3.6.1.2.1.25.4.2.1.5.")] = l.Value
	}
	n := 0
	for _, l := range a.Walk(t, "1.3.6.1.2.1.25.4.2.1.2") {
		if l.Value == name && args.MatchString(params[strings.TrimPrefix(l.OID, "1.3.6.1.2.1.25.4.2.1.2.")]) {
			n++
		}
	}
	return n
}

// Counts of processes started by the test, by name, path and arguments,
// over v2c and v3, compared with snmpwalk; a stopped process leaves the
// count; a stopped agent fails the check.
func TestProcessCount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	name := fmt.Sprintf("mmr%d", os.Getpid()%100000)
	a := snmptest.Start(t)
	three := sleepers(t, name, 3, "3000 600")
	sleepers(t, name, 2, "3100 500")
	for label, n := range nodetest.Nodes(a) {
		t.Run(label, func(t *testing.T) {
			for _, c := range []struct {
				params string
				want   float64
			}{
				{`{"name":"^` + name + `$"}`, 5},
				{`{"name":"^` + name + `$","args":"3000 600"}`, 3},
				{`{"name":"/` + name + `$","args":"3100 500"}`, 2}, // by path
				{`{"name":"^` + strings.ToUpper(name) + `$","ignore_case":true}`, 5},
				{`{"name":"^` + strings.ToUpper(name) + `$"}`, 0},
				{`{"args":"^3100 500$"}`, 2},
				{`{"name":"^no-such-process$"}`, 0},
			} {
				if got, r := count(t, n, c.params); got != c.want {
					t.Errorf("%s: count %v, want %v\n%s", c.params, got, c.want, r.Raw)
				}
			}
			if got, want := walkCount(t, a, name, regexp.MustCompile("3000 600")), 3; got != want {
				t.Errorf("snmpwalk counts %d, want %d", got, want)
			}
		})
	}
	// A stopped process leaves the count (read from a fresh agent: net-snmp
	// caches the process table for 30 s).
	_ = three[0].Process.Kill()
	_ = three[0].Wait()
	a2 := snmptest.Start(t)
	if got, _ := count(t, nodetest.Nodes(a2)["v3"], `{"name":"^`+name+`$","args":"3000 600"}`); got != 2 {
		t.Errorf("count %v after one of three stopped, want 2", got)
	}
	n := nodetest.Nodes(a)["v2c"]
	a.Stop()
	if r := nodetest.Run(t, snmpprocess.Kind(), n, `{"name":"^`+name+`$"}`); r.Err == nil {
		t.Errorf("stopped agent: %+v", r.Items)
	}
	n.Target.SNMP.Port = snmptest.Garbage(t)
	if r := nodetest.Run(t, snmpprocess.Kind(), n, `{"name":"^`+name+`$"}`); r.Err == nil {
		t.Errorf("agent answering garbage: %+v", r.Items)
	}
}

func TestProcessValidate(t *testing.T) {
	c := snmpprocess.Kind().New()
	if got, err := c.Validate(json.RawMessage(`{"name":"^sshd$"}`)); err != nil || string(got) != `{"name":"^sshd$"}` {
		t.Errorf("valid: %s %v", got, err)
	}
	for p, field := range map[string]string{`{}`: "name", `{"name":"("}`: "name", `{"args":"[z-a]"}`: "args", `{"name":"x","pid":1}`: "pid"} {
		if _, err := c.Validate(json.RawMessage(p)); !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v; want ErrBadParams naming %s", p, err, field)
		}
	}
}
