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
