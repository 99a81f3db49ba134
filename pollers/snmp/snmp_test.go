package snmp_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode/nodetest"
	"github.com/mamori-ops/mamori/pollers/snmp"
)

func run(t *testing.T, k check.Kind, n nodetest.Node, p string) check.Result {
	t.Helper()
	return nodetest.Run(t, k, n, p)
}

func oid(i int) string { return snmptest.Values + "." + strconv.Itoa(i) + ".0" }

// Values of every type the agent can send, over v2c and v3, read as the
// numeric and the text kind.
func TestSNMPValues(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	a.SetValues(t,
		"."+oid(1)+" integer -42",
		"."+oid(2)+" counter64 18446744073709551000",
		"."+oid(3)+" string disk array degraded",
		"."+oid(4)+" counter 4294967295",
		"."+oid(5)+" gauge 12",
		"."+oid(6)+" timeticks 360000",
		"."+oid(7)+" string 0.75",
	)
	type want struct {
		num     float64
		counter bool
		text    string
		itemErr bool
		failed  bool
	}
	cases := []struct {
		name, params string
		kind         check.Kind
		want         want
	}{
		{"integer", `{"oid":"` + oid(1) + `"}`, snmp.Kind(), want{num: -42}},
		{"counter64", `{"oid":"` + oid(2) + `"}`, snmp.Kind(), want{num: 18446744073709551000, counter: true}},
		{"counter32 scaled", `{"oid":"` + oid(4) + `","multiply":8,"unit":"bit"}`, snmp.Kind(), want{num: 4294967295 * 8, counter: true}},
		{"gauge", `{"oid":".` + oid(5) + `"}`, snmp.Kind(), want{num: 12}},
		{"timeticks", `{"oid":"` + oid(6) + `","multiply":0.01,"unit":"s"}`, snmp.Kind(), want{num: 3600}},
		{"numeric string", `{"oid":"` + oid(7) + `"}`, snmp.Kind(), want{num: 0.75}},
		{"text as number", `{"oid":"` + oid(3) + `"}`, snmp.Kind(), want{itemErr: true}},
		{"text", `{"oid":"` + oid(3) + `"}`, snmp.StringKind(), want{text: "disk array degraded"}},
		{"integer as text", `{"oid":"` + oid(1) + `"}`, snmp.StringKind(), want{text: "-42"}},
		{"no such object", `{"oid":"` + oid(99) + `"}`, snmp.Kind(), want{failed: true}},
	}
	for name, n := range nodetest.Nodes(a) {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				r := run(t, c.kind, n, c.params)
				if c.want.failed {
					if r.Err == nil {
						t.Fatalf("want a failed check, got %+v", r.Items)
					}
					return
				}
				if r.Err != nil || len(r.Items) != 1 || r.Items[0].Key != snmp.Item {
					t.Fatalf("result %+v err %v", r.Items, r.Err)
				}
				it := r.Items[0]
				switch {
				case c.want.itemErr:
					if it.Err == "" || it.Number != nil {
						t.Errorf("want an item error, got %+v", it)
					}
				case c.want.text != "":
					if it.Text == nil || *it.Text != c.want.text {
						t.Errorf("text %v, want %q", it.Text, c.want.text)
					}
				default:
					if it.Number == nil || *it.Number != c.want.num || it.Counter != c.want.counter {
						t.Errorf("item %+v (number %v), want %v counter %v", it, it.Number, c.want.num, c.want.counter)
					}
				}
				if r.Raw == "" {
					t.Error("no raw text")
				}
			})
		}
	}
}

// The kind reads what net-snmp's snmpget reads from the same agent.
func TestSNMPMatchesSnmpget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	objs := []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.25.2.3.1.4.1", "1.3.6.1.2.1.25.2.3.1.5.1", "1.3.6.1.2.1.2.1.0"}
	want := a.Get(t, objs...)
	for name, n := range nodetest.Nodes(a) {
		for i, o := range objs {
			r := run(t, snmp.StringKind(), n, `{"oid":"`+o+`"}`)
			if r.Err != nil || *r.Items[0].Text != want[i].Value {
				t.Errorf("%s %s: %+v %v; snmpget %q", name, o, r.Items, r.Err, want[i].Value)
			}
			if i == 0 {
				continue
			}
			r = run(t, snmp.Kind(), n, `{"oid":"`+o+`"}`)
			if w, _ := strconv.ParseFloat(want[i].Value, 64); r.Err != nil || *r.Items[0].Number != w {
				t.Errorf("%s %s numeric: %+v %v; snmpget %q", name, o, r.Items, r.Err, want[i].Value)
			}
		}
	}
}

// A wrong key, a stopped agent and an agent that answers garbage fail the
// check (→ unknown) within its timeout, saying why.
func TestSNMPFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	p := `{"oid":"1.3.6.1.2.1.1.1.0"}`
	if r := run(t, snmp.StringKind(), nodetest.WrongKey(a), p); r.Err == nil {
		t.Errorf("wrong privacy key: %+v", r.Items)
	}
	noSettings := nodetest.Nodes(a)["v2c"]
	noSettings.Target.SNMP = nil
	if r := run(t, snmp.StringKind(), noSettings, p); r.Err == nil || !strings.Contains(r.Err.Error(), "SNMP settings") {
		t.Errorf("node without SNMP settings: %v", r.Err)
	}
	n := nodetest.Nodes(a)["v2c"]
	a.Stop()
	start := time.Now()
	if r := run(t, snmp.StringKind(), n, p); r.Err == nil {
		t.Errorf("stopped agent: %+v", r.Items)
	}
	if d := time.Since(start); d > n.Env.Timeout+time.Second {
		t.Errorf("stopped agent: the check took %v, timeout %v", d, n.Env.Timeout)
	}
	garbage := snmptest.Garbage(t)
	n.Target.SNMP.Port = garbage
	n.Env.Timeout = time.Second
	if r := run(t, snmp.Kind(), n, p); r.Err == nil {
		t.Errorf("garbage agent: %+v", r.Items)
	}
}

func TestSNMPValidate(t *testing.T) {
	for _, c := range []struct {
		kind   check.Kind
		params string
		field  string // "" → valid
		norm   string
	}{
		{snmp.Kind(), `{"oid":".1.3.6.1.2.1.1.3.0"}`, "", `{"oid":"1.3.6.1.2.1.1.3.0","multiply":1}`},
		{snmp.Kind(), `{"oid":"1.3.6.1.2.1.1.3.0","multiply":8,"unit":"bit"}`, "", `{"oid":"1.3.6.1.2.1.1.3.0","multiply":8,"unit":"bit"}`},
		{snmp.StringKind(), `{"oid":"1.3.6.1.2.1.1.1.0"}`, "", `{"oid":"1.3.6.1.2.1.1.1.0"}`},
		{snmp.Kind(), `{}`, "oid", ""},
		{snmp.Kind(), `{"oid":"sysUpTime.0"}`, "oid", ""},
		{snmp.Kind(), `{"oid":"1.3.6..1"}`, "oid", ""},
		{snmp.Kind(), `{"oid":"1.3.6.1","oids":[]}`, "oids", ""},
		{snmp.Kind(), `{"oid":1}`, "oid", ""},
		{snmp.StringKind(), `{"oid":"1.3.6.1","multiply":2}`, "multiply", ""},
		{snmp.Kind(), `[1,2]`, "array", ""},
	} {
		got, err := c.kind.New().Validate(json.RawMessage(c.params))
		if c.field == "" {
			if err != nil || string(got) != c.norm {
				t.Errorf("%s %s: %s %v; want %s", c.kind.Name, c.params, got, err, c.norm)
			}
			continue
		}
		if !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s %s: %v; want ErrBadParams naming %s", c.kind.Name, c.params, err, c.field)
		}
	}
}
