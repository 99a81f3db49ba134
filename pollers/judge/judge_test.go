package judge

import (
	"errors"
	"strings"
	"testing"

	"github.com/mamori-ops/mamori/pollers/check"
)

func f(v float64) *float64 { return &v }

func TestNumeric(t *testing.T) {
	th := &Thresholds{Info: &Range{Max: f(500)}, Warning: &Range{Min: f(0), Max: f(2000)}}
	cases := []struct {
		name string
		j    Judgement
		v    float64
		prev *float64
		want Priority
		skip bool
	}{
		{"below info max", Judgement{Numeric: th}, 10, nil, Info, false},
		{"info max is excluded", Judgement{Numeric: th}, 500, nil, Warning, false},
		{"in warning", Judgement{Numeric: th}, 1999.9, nil, Warning, false},
		{"warning max is excluded", Judgement{Numeric: th}, 2000, nil, Critical, false},
		{"negative: below warning min", Judgement{Numeric: &Thresholds{Info: &Range{Min: f(0), Max: f(1)}, Warning: &Range{Min: f(-1), Max: f(2)}}}, -5, nil, Critical, false},
		{"no thresholds", Judgement{}, 1e9, nil, Info, false},
		{"only info: outside is critical", Judgement{Numeric: &Thresholds{Info: &Range{Max: f(1)}}}, 2, nil, Critical, false},
		{"change amount: first gives none", Judgement{Numeric: th, ChangeAmount: true}, 10, nil, "", true},
		{"change amount: difference", Judgement{Numeric: th, ChangeAmount: true}, 3000, f(2900), Info, false},
		{"change amount: big jump", Judgement{Numeric: th, ChangeAmount: true}, 3000, f(0), Critical, false},
		{"per item thresholds", Judgement{Numeric: th, Items: map[string]Thresholds{"x": {Info: &Range{Max: f(1)}}}}, 5, nil, Critical, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jd, err := Compile(c.j)
			if err != nil {
				t.Fatal(err)
			}
			got := jd.Item(check.Num("x", c.v, "ms"), c.prev)
			if got.Priority != c.want || got.Skip != c.skip {
				t.Fatalf("got %+v, want %s skip %v", got, c.want, c.skip)
			}
		})
	}
}

func TestItemPrefixes(t *testing.T) {
	jd, err := Compile(Judgement{Numeric: &Thresholds{Info: &Range{Max: f(100)}},
		Items: map[string]Thresholds{"disk:*": {Info: &Range{Max: f(80)}, Warning: &Range{Max: f(90)}}, "disk:/var*": {Info: &Range{Max: f(50)}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		v    float64
		want Priority
	}{{"disk:/", 85, Warning}, {"disk:/var", 60, Critical}, {"cpu", 85, Info}} {
		if got := jd.Item(check.Num(c.key, c.v, "%"), nil); got.Priority != c.want {
			t.Errorf("%s=%g: got %s, want %s (%s)", c.key, c.v, got.Priority, c.want, got.Message)
		}
	}
}

func TestPatterns(t *testing.T) {
	j := Judgement{Patterns: []Pattern{
		{Match: "harmless error", Exclude: true},
		{Match: "error", Priority: Critical, IgnoreCase: true, Message: "an error"},
		{Match: "slow", Priority: Warning},
	}}
	jd, err := Compile(j)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		want Priority
		skip bool
		msg  string
	}{
		{"a harmless error", "", true, "excluded"},
		{"ERROR: disk", Critical, false, "an error"},
		{"slow error", Critical, false, "an error"}, // order decides
		{"slow", Warning, false, "pattern 3"},
		{"fine", Info, false, "no pattern matched"},
	}
	for _, c := range cases {
		got := jd.Item(check.Str("", c.text), nil)
		if got.Priority != c.want || got.Skip != c.skip || !strings.Contains(got.Message, c.msg) {
			t.Errorf("%q: got %+v, want %s skip %v message ~%q", c.text, got, c.want, c.skip, c.msg)
		}
	}
}

func TestTruth(t *testing.T) {
	for _, c := range []struct {
		j    Judgement
		b    bool
		want Priority
	}{{Judgement{}, true, Info}, {Judgement{}, false, Critical}, {Judgement{Truth: &Truth{True: Warning, False: Info}}, true, Warning},
		{Judgement{Truth: &Truth{False: Unknown}}, false, Unknown}} {
		jd, err := Compile(c.j)
		if err != nil {
			t.Fatal(err)
		}
		if got := jd.Item(check.Bool("", c.b), nil); got.Priority != c.want {
			t.Errorf("%v with %+v: got %s, want %s", c.b, c.j.Truth, got.Priority, c.want)
		}
	}
}

func TestFailures(t *testing.T) {
	for _, c := range []struct {
		name string
		j    Judgement
		r    check.Result
		want Priority
	}{
		{"failed check: unknown by default", Judgement{}, check.Failed(errors.New("refused"), ""), Unknown},
		{"failed check: the monitor's failure priority", Judgement{Failure: Critical}, check.Failed(errors.New("refused"), ""), Critical},
		{"no items", Judgement{}, check.Result{}, Unknown},
		{"failed item", Judgement{}, check.Result{Items: []check.Item{{Key: "a", Err: "gone"}}}, Unknown},
		{"item without value", Judgement{}, check.Result{Items: []check.Item{{Key: "a"}}}, Unknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			jd, err := Compile(c.j)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := jd.Result(c.r, nil, false); got.Priority != c.want {
				t.Fatalf("got %+v, want %s", got, c.want)
			}
		})
	}
}

func TestWorstOfItems(t *testing.T) {
	jd, err := Compile(Judgement{Items: map[string]Thresholds{
		"rtt_ms":   {Info: &Range{Max: f(100)}, Warning: &Range{Max: f(500)}},
		"loss_pct": {Info: &Range{Max: f(10)}, Warning: &Range{Max: f(50)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rtt, loss float64
		want      Priority
		msg       string
	}{{1, 0, Info, ""}, {200, 0, Warning, "rtt_ms"}, {200, 60, Critical, "loss_pct"}, {1, 20, Warning, "loss_pct"}} {
		got, items := jd.Result(check.Result{Items: []check.Item{check.Num("rtt_ms", c.rtt, "ms"), check.Num("loss_pct", c.loss, "%")}}, nil, false)
		if got.Priority != c.want || len(items) != 2 || !strings.Contains(got.Message, c.msg) {
			t.Errorf("rtt %g loss %g: got %+v, want %s naming %q", c.rtt, c.loss, got, c.want, c.msg)
		}
	}
	// A counter's first sample is not judged; alone, the result is skipped.
	got, _ := jd.Result(check.Result{Items: []check.Item{{Key: "in", Number: f(5), Counter: true}}}, nil, false)
	if !got.Skip {
		t.Fatalf("a first counter sample was judged: %+v", got)
	}
}

func TestInvalid(t *testing.T) {
	for _, c := range []struct {
		name  string
		j     Judgement
		field string
	}{
		{"inverted info range", Judgement{Numeric: &Thresholds{Info: &Range{Min: f(10), Max: f(1)}}}, "judgement.numeric.info"},
		{"empty warning range", Judgement{Numeric: &Thresholds{Warning: &Range{Min: f(1), Max: f(1)}}}, "judgement.numeric.warning"},
		{"inverted item range", Judgement{Items: map[string]Thresholds{"cpu": {Warning: &Range{Min: f(2), Max: f(1)}}}}, "judgement.items.cpu.warning"},
		{"bad regex", Judgement{Patterns: []Pattern{{Match: "ok", Priority: Info}, {Match: "(", Priority: Info}}}, "patterns[1].match"},
		{"pattern without priority", Judgement{Patterns: []Pattern{{Match: "x"}}}, "patterns[0].priority"},
		{"bad truth", Judgement{Truth: &Truth{True: "green"}}, "judgement.truth.true"},
		{"bad failure", Judgement{Failure: "bad"}, "judgement.failure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.j)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("got %v, want ErrInvalid naming %s", err, c.field)
			}
		})
	}
}

func TestRank(t *testing.T) {
	if !Worse(Critical, Unknown) || !Worse(Unknown, Warning) || !Worse(Warning, Info) || Worse(Info, Info) || Worse("", Info) {
		t.Fatal("priority order is not critical, unknown, warning, info")
	}
}

// A kind judged as one status (http) judges its main value by the
// monitor's thresholds, and its other items only where the judgement names
// them; a per-item kind (resource) judges every item.
func TestMainValueOnly(t *testing.T) {
	jd, err := Compile(Judgement{Numeric: &Thresholds{Info: &Range{Max: f(100)}, Warning: &Range{Max: f(1000)}},
		Items: map[string]Thresholds{"cert_days_left": {Info: &Range{Min: f(30)}, Warning: &Range{Min: f(7)}}}})
	if err != nil {
		t.Fatal(err)
	}
	res := func(ms, days float64) check.Result {
		return check.Result{Items: []check.Item{check.Num("response_ms", ms, "ms"), check.Num("status", 200, ""),
			check.Num("cert_days_left", days, "d"), check.Str("body", "hello")}}
	}
	for _, c := range []struct {
		ms, days float64
		perItem  bool
		want     Priority
	}{{1, 90, false, Info}, {500, 90, false, Warning}, {1, 10, false, Warning}, {1, 3, false, Critical},
		// per item, the status code 200 falls outside "info below 100": warning
		{1, 90, true, Warning}} {
		got, items := jd.Result(res(c.ms, c.days), nil, c.perItem)
		if got.Priority != c.want {
			t.Errorf("%g ms, %g days, per item %v: got %+v, want %s", c.ms, c.days, c.perItem, got, c.want)
		}
		if !c.perItem && (!items[1].Skip || !items[3].Skip) {
			t.Errorf("status or body judged: %+v", items)
		}
	}
	// Patterns judge the text items (the body) of a numeric kind.
	jp, err := Compile(Judgement{Numeric: &Thresholds{Info: &Range{Max: f(100)}}, Patterns: []Pattern{{Match: "hello", Priority: Warning}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := jp.Result(res(1, 90), nil, false); got.Priority != Warning {
		t.Errorf("body pattern: got %+v, want warning", got)
	}
}
