package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
)

// portChecker validates a {"port":N} object (a unit-test kind).
type portChecker struct{}

func (portChecker) Validate(p json.RawMessage) (json.RawMessage, error) {
	var v struct {
		Port     int    `json:"port"`
		Password string `json:"password,omitempty"`
	}
	if err := json.Unmarshal(p, &v); err != nil || v.Port < 1 || v.Port > 65535 {
		return nil, fmt.Errorf("%w: port: 1..65535", check.ErrBadParams)
	}
	return json.Marshal(v)
}

func (portChecker) Check(context.Context, check.Env, check.Target, json.RawMessage) check.Result {
	return check.Result{}
}

var testKind = check.Kind{Name: "port", Value: check.Numeric, Where: check.Appliance,
	Fields: []check.Field{{Name: "port", Type: "int"}, {Name: "password", Type: "credential"}},
	New:    func() check.Checker { return portChecker{} }}

func kinds(name string) (check.Kind, bool) { return testKind, name == "port" }

func valid() Monitor {
	m := Defaults()
	m.ID, m.Kind, m.Node, m.Interval, m.Params = "m1", "port", "n1", "30s", json.RawMessage(`{"port":80}`)
	return m
}

func TestNormalize(t *testing.T) {
	m, err := Normalize(valid(), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if m.Timeout != "10s" || m.Name != "m1" || m.Interval != "30s" {
		t.Fatalf("defaults not applied: %+v", m)
	}
	short := valid()
	short.Interval = "2s"
	if m, _ := Normalize(short, kinds); m.Timeout != "2s" {
		t.Fatalf("timeout of a 2s monitor: %s, want the interval", m.Timeout)
	}
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		name  string
		edit  func(*Monitor)
		field string
	}{
		{"bad id", func(m *Monitor) { m.ID = "a b" }, "id"},
		{"node and scope", func(m *Monitor) { m.Scope = "web" }, "node, scope"},
		{"neither node nor scope", func(m *Monitor) { m.Node = "" }, "node, scope"},
		{"unknown kind", func(m *Monitor) { m.Kind = "gopher" }, "kind"},
		{"bad interval", func(m *Monitor) { m.Interval = "soon" }, "interval"},
		{"too short", func(m *Monitor) { m.Interval = "10ms" }, "interval"},
		{"timeout over interval", func(m *Monitor) { m.Timeout = "1m" }, "timeout"},
		{"bad params", func(m *Monitor) { m.Params = json.RawMessage(`{"port":0}`) }, "params: bad monitor parameters: port"},
		{"inverted range", func(m *Monitor) {
			m.Judgement.Numeric = &judge.Thresholds{Info: &judge.Range{Min: f(5), Max: f(1)}}
		}, "judgement.numeric.info"},
		{"bad regex", func(m *Monitor) { m.Judgement.Patterns = []judge.Pattern{{Match: "[", Priority: judge.Info}} }, "judgement.patterns[0].match"},
		{"bad rule id", func(m *Monitor) { m.Notify = []string{"ok", "not ok"} }, "notify[1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := valid()
			c.edit(&m)
			_, err := Normalize(m, kinds)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("got %v, want ErrInvalid naming %q", err, c.field)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	m := valid()
	m.Params = json.RawMessage(`{"port":5432,"password":"db-pass"}`)
	got := Credentials(m, testKind)
	if len(got) != 1 || got["params.password"] != "db-pass" {
		t.Fatalf("credentials %v", got)
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t, append(inventory.Migrations(), Migrations()...))
	for _, n := range []inventory.Node{{ID: "n1", Address: "127.0.0.1", Scope: "web"}, {ID: "n2", Address: "127.0.0.2", Scope: "web"}, {ID: "n3", Address: "127.0.0.3", Scope: "db"}} {
		if err := inventory.Put(ctx, st, n); err != nil {
			t.Fatal(err)
		}
	}
	v0, _ := Version(ctx, st)
	put := func(id, node, scope string) {
		m := valid()
		m.ID, m.Node, m.Scope = id, node, scope
		if m, err := Normalize(m, kinds); err != nil {
			t.Fatal(err)
		} else if err := Put(ctx, st, m); err != nil {
			t.Fatal(err)
		}
	}
	put("a-node", "n1", "")
	put("b-scope", "", "web")
	put("c-db", "n3", "")
	v1, _ := Version(ctx, st)
	if v0 == v1 {
		t.Fatal("the version did not change on a put")
	}
	got, err := Get(ctx, st, "a-node")
	if err != nil || got.EffectiveScope != "web" || got.Node != "n1" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := Get(ctx, st, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	ids := func(f Filter) string {
		ms, _, err := List(ctx, st, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, m := range ms {
			s = append(s, m.ID)
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "a-node,b-scope,c-db"},
		{Filter{Scope: "web"}, "a-node,b-scope"},
		{Filter{Node: "n2"}, "b-scope"},
		{Filter{Scopes: []string{"db"}}, "c-db"},
		{Filter{Scopes: []string{}}, ""},
		{Filter{Limit: 2}, "a-node,b-scope"},
		{Filter{After: "a-node"}, "b-scope,c-db"},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.f, got, c.want)
		}
	}
	if _, more, _ := List(ctx, st, Filter{Limit: 2}); !more {
		t.Error("a cut page says no more")
	}
	all, err := All(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	nodes, _ := inventory.List(ctx, st, nil)
	var targets []string
	for _, tg := range Expand(all, nodes) {
		targets = append(targets, tg.Monitor.ID+"@"+tg.Node.ID)
	}
	if got := strings.Join(targets, " "); got != "a-node@n1 b-scope@n1 b-scope@n2 c-db@n3" {
		t.Fatalf("expanded: %s", got)
	}
	if err := Delete(ctx, st, "b-scope"); err != nil {
		t.Fatal(err)
	}
	if v2, _ := Version(ctx, st); v2 == v1 {
		t.Fatal("the version did not change on a delete")
	}
}

// panicChecker panics, as a kind with a bug might on a hostile answer.
type panicChecker struct{ portChecker }

func (panicChecker) Check(context.Context, check.Env, check.Target, json.RawMessage) check.Result {
	panic("index out of range")
}

// slowChecker ignores nothing: it waits for its deadline.
type slowChecker struct{ portChecker }

func (slowChecker) Check(ctx context.Context, _ check.Env, _ check.Target, _ json.RawMessage) check.Result {
	<-ctx.Done()
	return check.Result{}
}

// A kind that panics is a failed check, not a crash; a check that gets
// no answer ends at the monitor's timeout with the reason.
func TestRunNeverCrashes(t *testing.T) {
	m, err := Normalize(valid(), kinds)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Run(context.Background(), panicChecker{}, m, inventory.Node{ID: "n1"}, nil)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "failed unexpectedly") {
		t.Fatalf("a panicking kind: %+v", res)
	}
	m.Timeout = "100ms"
	start := time.Now()
	res, took := Run(context.Background(), slowChecker{}, m, inventory.Node{ID: "n1"}, nil)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "timeout") || took > 2*time.Second || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("a silent target: %+v after %s", res, took)
	}
}
