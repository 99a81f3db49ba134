package snmpresource_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode/nodetest"
	"github.com/mamori-ops/mamori/pollers/snmpresource"
)

func run(t *testing.T, n nodetest.Node, p string) check.Result {
	t.Helper()
	return nodetest.Run(t, snmpresource.Kind(), n, p)
}

func byKey(r check.Result) map[string]check.Item {
	m := map[string]check.Item{}
	for _, it := range r.Items {
		m[it.Key] = it
	}
	return m
}

func number(t *testing.T, items map[string]check.Item, key string) float64 {
	t.Helper()
	it, ok := items[key]
	if !ok || it.Number == nil {
		t.Fatalf("item %s: %+v (all: %v)", key, it, items)
	}
	return *it.Number
}

func snmpNumber(t *testing.T, a *snmptest.Agent, oid string) float64 {
	t.Helper()
	n, err := strconv.ParseFloat(a.Get(t, oid)[0].Value, 64)
	if err != nil {
		t.Fatalf("snmpget %s: %v", oid, err)
	}
	return n
}

// Memory, disks and interfaces over v2c and v3, compared with what
// snmpget/snmpwalk read from the same agent around the check.
func TestResourcesMatchNetSNMP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	for name, n := range nodetest.Nodes(a) {
		t.Run(name, func(t *testing.T) {
			loBefore := snmpNumber(t, a, "1.3.6.1.2.1.31.1.1.1.6.1")
			r := run(t, n, `{"resources":["memory","disk","interfaces"]}`)
			loAfter := snmpNumber(t, a, "1.3.6.1.2.1.31.1.1.1.6.1")
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			items := byKey(r)
			if lo := items["if:lo:in_bps"]; lo.Number == nil || !lo.Counter || lo.Unit != "bit" ||
				*lo.Number/8 < loBefore || *lo.Number/8 > loAfter {
				t.Errorf("if:lo:in_bps %+v: want a counter of octets×8 within snmpget's %v..%v", lo, loBefore, loAfter)
			}
			if _, ok := items["if:lo:out_bps"]; !ok {
				t.Error("no if:lo:out_bps")
			}
			total, avail := snmpNumber(t, a, "1.3.6.1.4.1.2021.4.5.0"), snmpNumber(t, a, "1.3.6.1.4.1.2021.4.27.0")
			if got, want := number(t, items, "mem_used_pct"), (total-avail)/total*100; math.Abs(got-want) > 1 {
				t.Errorf("mem_used_pct %v, snmpget gives %v", got, want)
			}
			root := diskFromWalk(t, a, "/")
			if got := number(t, items, "disk:/"); math.Abs(got-root) > 0.5 {
				t.Errorf("disk:/ %v, snmpwalk gives %v", got, root)
			}
			if !strings.Contains(r.Raw, "disk:/=") {
				t.Errorf("raw: %s", r.Raw)
			}
		})
	}
}

// diskFromWalk is the used % of the hrStorage row mounted at mount, from
// net-snmp's snmpwalk.
func diskFromWalk(t *testing.T, a *snmptest.Agent, mount string) float64 {
	idx := ""
	for _, l := range a.Walk(t, "1.3.6.1.2.1.25.2.3.1.3") {
		if l.Value == mount {
			idx = strings.TrimPrefix(l.OID, "1.3.6.1.2.1.25.2.3.1.3.")
		}
	}
	if idx == "" {
		t.Fatalf("snmpwalk shows no storage mounted at %s", mount)
	}
	size := snmpNumber(t, a, "1.3.6.1.2.1.25.2.3.1.5."+idx)
	used := snmpNumber(t, a, "1.3.6.1.2.1.25.2.3.1.6."+idx)
	return used / size * 100
}

// A fresh agent has no CPU average yet: the kind samples the raw
// counters; with sampling off it says why there is no value.
func TestResourceCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	n := nodetest.Nodes(a)["v3"]
	n.Env.Timeout = 15 * time.Second
	r := run(t, n, `{"resources":["cpu"],"cpu_sample":"6s"}`)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if cpu := number(t, byKey(r), "cpu"); cpu < 0 || cpu > 100 {
		t.Errorf("cpu %v%%", cpu)
	}
	short := n
	short.Env.Timeout = 3 * time.Second
	r = run(t, short, `{"resources":["cpu","memory"],"cpu_sample":"6s"}`)
	if it := byKey(r)["cpu"]; r.Err != nil || !strings.Contains(it.Err, "timeout") || byKey(r)["mem_used_pct"].Number == nil {
		t.Errorf("a sample longer than the timeout: %+v %v; want a cpu item error and memory read", r.Items, r.Err)
	}
	a2 := snmptest.Start(t)
	r = run(t, nodetest.Nodes(a2)["v2c"], `{"resources":["cpu"],"cpu_sample":"0s"}`)
	if it := byKey(r)["cpu"]; r.Err != nil || it.Err == "" || it.Number != nil {
		t.Errorf("no sampling on a fresh agent: %+v %v; want an item error", it, r.Err)
	}
}

// Filters keep only the matching mounts and interfaces; a filter that
// matches nothing is an item error; a stopped agent fails the check.
func TestResourceFiltersAndFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts snmpd: not in -short")
	}
	a := snmptest.Start(t)
	n := nodetest.Nodes(a)["v2c"]
	r := run(t, n, `{"resources":["disk","interfaces"],"disk_match":"^/$","if_match":"^lo$"}`)
	var keys []string
	for _, it := range r.Items {
		keys = append(keys, it.Key)
	}
	if strings.Join(keys, " ") != "disk:/ if:lo:in_bps if:lo:out_bps" {
		t.Errorf("items %v", keys)
	}
	r = run(t, n, `{"resources":["disk"],"disk_match":"^/no-such-mount$"}`)
	if it := byKey(r)["disk"]; r.Err != nil || it.Err == "" {
		t.Errorf("no matching disk: %+v %v", r.Items, r.Err)
	}
	a.Stop()
	if r := run(t, n, `{"resources":["memory"]}`); r.Err == nil {
		t.Errorf("stopped agent: %+v", r.Items)
	}
	n.Target.SNMP.Port = snmptest.Garbage(t)
	if r := run(t, n, `{}`); r.Err == nil {
		t.Errorf("agent answering garbage: %+v", r.Items)
	}
}

func TestResourceValidate(t *testing.T) {
	c := snmpresource.Kind().New()
	got, err := c.Validate(nil)
	if err != nil || string(got) != `{"resources":["cpu","memory","disk","interfaces"],"cpu_sample":"6s"}` {
		t.Errorf("defaults: %s %v", got, err)
	}
	for p, field := range map[string]string{
		`{"resources":["cpu","gpu"]}`: "resources",
		`{"disk_match":"("}`:          "disk_match",
		`{"if_match":"[a-"}`:          "if_match",
		`{"cpu_sample":"1h"}`:         "cpu_sample",
		`{"cpu_sample":"-1s"}`:        "cpu_sample",
		`{"cpu_sample":"soon"}`:       "duration",
		`{"disks":"/"}`:               "disks",
	} {
		if _, err := c.Validate(json.RawMessage(p)); !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v; want ErrBadParams naming %s", p, err, field)
		}
	}
}

// An agent up for more than a minute has its own CPU averages: cpu:N are
// hrProcessorLoad's rows and cpu their mean, as snmpwalk reads them. It
// takes 65 s, so it runs only when MAMORI_SLOW_SNMP=1.
func TestResourceCPULoadAverages(t *testing.T) {
	if os.Getenv("MAMORI_SLOW_SNMP") != "1" {
		t.Skip("waits 65 s for snmpd's one-minute CPU averages: set MAMORI_SLOW_SNMP=1 to run it")
	}
	a := snmptest.Start(t)
	time.Sleep(65 * time.Second)
	r := run(t, nodetest.Nodes(a)["v2c"], `{"resources":["cpu"],"cpu_sample":"0s"}`)
	loads := a.Walk(t, "1.3.6.1.2.1.25.3.3.1.2")
	if r.Err != nil || len(loads) == 0 || len(r.Items) != len(loads)+1 {
		t.Fatalf("items %+v err %v; snmpwalk %v", r.Items, r.Err, loads)
	}
	items, sum := byKey(r), 0.0
	for i, l := range loads {
		w, _ := strconv.ParseFloat(l.Value, 64)
		sum += w
		// The agent refreshes its averages every 5 s: allow a refresh
		// between the two reads.
		if got := number(t, items, "cpu:"+strconv.Itoa(i)); math.Abs(got-w) > 15 {
			t.Errorf("cpu:%d %v, snmpwalk %v", i, got, w)
		}
	}
	if got := number(t, items, "cpu"); math.Abs(got-sum/float64(len(loads))) > 15 {
		t.Errorf("cpu %v, snmpwalk mean %v", got, sum/float64(len(loads)))
	}
	t.Logf("cpu items %v, snmpwalk %v", r.Raw, loads)
}
