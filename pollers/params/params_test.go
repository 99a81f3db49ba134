package params

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

type sample struct {
	Every Duration `json:"every"`
	N     int      `json:"n"`
}

func TestDecode(t *testing.T) {
	cases := []struct {
		in   string
		want sample
		err  string
	}{
		{`{"every":"1m30s","n":2}`, sample{Duration(90 * time.Second), 2}, ""},
		{``, sample{Duration(time.Second), 1}, ""},
		{`null`, sample{Duration(time.Second), 1}, ""},
		{`{"every":90}`, sample{}, "a duration is a string"},
		{`{"every":"soon"}`, sample{}, `"soon" is not a duration`},
		{`{"n":1,"x":2}`, sample{}, `unknown field "x"`},
		{`{} {}`, sample{}, "one JSON object expected"},
		{`{"n":"1"}`, sample{}, "cannot unmarshal string"},
	}
	for _, c := range cases {
		got := sample{Duration(time.Second), 1}
		err := Decode(json.RawMessage(c.in), &got)
		if c.err != "" {
			if !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v", c.in, got, err)
		}
	}
	b, _ := Encode(sample{Duration(1500 * time.Millisecond), 3})
	if string(b) != `{"every":"1.5s","n":3}` {
		t.Fatalf("encode: %s", b)
	}
}
