package http

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params/paramstest"
)

func TestValidate(t *testing.T) {
	paramstest.Validate(t, Checker{}, []paramstest.Case{
		{"defaults", `{"url":"http://{{address}}/"}`,
			`{"method":"GET","url":"http://{{address}}/","expect_status":["2xx"],"timeout":"10s","follow_redirects":true,"tls_verify":true,"max_body":16384}`, ""},
		{"scenario", `{"steps":[{"url":"https://{{address}}/a"},{"method":"post","url":"http://x/b","expect_status":["200-204"]}]}`,
			`{"steps":[{"method":"GET","url":"https://{{address}}/a","expect_status":["2xx"]},{"method":"POST","url":"http://x/b","expect_status":["200-204"]}],"timeout":"10s","follow_redirects":true,"tls_verify":true,"max_body":16384}`, ""},
		{"no url", `{}`, "", "url: required"},
		{"ftp url", `{"url":"ftp://{{address}}/"}`, "", `url: scheme "ftp"`},
		{"no host", `{"url":"http:///x"}`, "", "url: no host"},
		{"bad regex", `{"url":"http://a/","pattern":"(unclosed"}`, "", "pattern: not a regular expression"},
		{"bad status", `{"url":"http://a/","expect_status":["600"]}`, "", `expect_status: "600"`},
		{"inverted status range", `{"url":"http://a/","expect_status":["299-200"]}`, "", `"299-200"`},
		{"bad method", `{"url":"http://a/","method":"GE T"}`, "", "method"},
		{"mixed scenario", `{"url":"http://a/","steps":[{"url":"http://a/"}]}`, "", "steps: a scenario takes"},
		{"bad step", `{"steps":[{"url":"http://a/"},{"url":"nope"}]}`, "", "steps[1].url"},
		{"bad CA", `{"url":"http://a/","ca":"not pem"}`, "", "ca: no PEM"},
		{"credential without user", `{"url":"http://a/","password_credential":"p"}`, "", "user:"},
		{"timeout", `{"url":"http://a/","timeout":"0s"}`, "", "timeout: 0s is out of range"},
		{"unknown", `{"url":"http://a/","folow_redirects":false}`, "", `unknown field "folow_redirects"`},
		{"header name", `{"url":"http://a/","headers":{"X Bad":"1"}}`, "", `headers: "X Bad" is not a header name`},
		{"header value", `{"url":"http://a/","headers":{"X-A":"1\r\nX-B: 2"}}`, "", "headers: the value of X-A holds a line break"},
		{"step header", `{"steps":[{"url":"http://a/","headers":{"":"1"}}]}`, "", `steps[0].headers: "" is not a header name`},
	})
}

func TestParseStatus(t *testing.T) {
	cases := []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"200", 200, 200, true}, {"2xx", 200, 299, true}, {"5XX", 500, 599, true},
		{" 301 ", 301, 301, true}, {"200-204", 200, 204, true},
		{"6xx", 0, 0, false}, {"99", 0, 0, false}, {"204-200", 0, 0, false},
		{"", 0, 0, false}, {"2x", 0, 0, false}, {"200-", 0, 0, false}, {"-1", 0, 0, false},
	}
	for _, c := range cases {
		r, err := parseStatus(c.in)
		if (err == nil) != c.ok || (c.ok && (r.lo != c.lo || r.hi != c.hi)) {
			t.Errorf("parseStatus(%q) = %v, %v", c.in, r, err)
		}
	}
}

// FuzzValidate: any parameters are refused with ErrBadParams or accepted,
// and accepted ones are normalised for good (validating again changes
// nothing).
func FuzzValidate(f *testing.F) {
	f.Add(`{"url":"http://{{address}}/","expect_status":["2xx","301-302"],"pattern":"a+"}`)
	f.Add(`{"steps":[{"url":"https://a/"}]}`)
	f.Add(`{"url":"http://a/","headers":{"Host":"x"},"timeout":"1s"}`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Checker{}.Validate(json.RawMessage(in))
		if err != nil {
			if !errors.Is(err, check.ErrBadParams) {
				t.Fatalf("error without ErrBadParams: %v", err)
			}
			return
		}
		again, err := Checker{}.Validate(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable: %s → %s, %v", out, again, err)
		}
	})
}

func TestFields(t *testing.T) { paramstest.Fields(t, Kind(), `{"url":"http://{{address}}/"}`) }
