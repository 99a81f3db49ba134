// Package paramstest checks a kind's Validate against a table: the same
// loop for every kind, so a kind's test lists only its cases.
package paramstest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mamori-ops/mamori/pollers/check"
)

// Case is one input: either the normalised output (Want) or a part of the
// error (Err), which must wrap check.ErrBadParams. An alias of an unnamed
// struct, so a kind's table can list its cases positionally.
type Case = struct {
	Name, In, Want, Err string
}

// Validate runs the cases against c, and validates every accepted
// output again to prove normalising is stable.
func Validate(t *testing.T, c check.Checker, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := c.Validate(json.RawMessage(tc.In))
			if tc.Err != "" {
				if !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), tc.Err) {
					t.Fatalf("err = %v, want ErrBadParams with %q", err, tc.Err)
				}
				return
			}
			if err != nil || string(got) != tc.Want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.Want)
			}
			if again, err := c.Validate(got); err != nil || string(again) != string(got) {
				t.Fatalf("validating the output again: %s, %v", again, err)
			}
		})
	}
}

// Fields checks that a kind's form matches its parameters: every key of
// the normalised minimal parameters is a field of the form, and every
// field's default is what Validate fills in when the field is omitted
// (a field that belongs to other settings, such as a DNS field of a TCP
// check, may stay out). minimal is the smallest valid parameters.
func Fields(t *testing.T, k check.Kind, minimal string) {
	t.Helper()
	out, err := k.New().Validate(json.RawMessage(minimal))
	if err != nil {
		t.Fatalf("minimal parameters %s: %v", minimal, err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	fields := map[string]check.Field{}
	for _, f := range k.Fields {
		if _, dup := fields[f.Name]; dup {
			t.Errorf("field %q listed twice", f.Name)
		}
		fields[f.Name] = f
		if f.Label == "" || f.Type == "" {
			t.Errorf("field %q has no label or type", f.Name)
		}
	}
	for key := range got {
		if _, ok := fields[key]; !ok {
			t.Errorf("parameter %q has no field in the form", key)
		}
	}
	for _, f := range k.Fields {
		if f.Default == nil || strings.Contains(minimal, `"`+f.Name+`"`) {
			continue
		}
		if v, ok := got[f.Name]; ok && string(v) != string(f.Default) {
			t.Errorf("field %q: the form's default is %s, Validate fills in %s", f.Name, f.Default, v)
		}
	}
}
