// Package params decodes and re-encodes the kind-specific parameters of
// the data kinds (SNMP, SQL, command, Prometheus) the same way: unknown
// fields are refused (a misspelt field silently ignored would monitor
// something else than the operator thinks), errors wrap check.ErrBadParams
// and name the field.
package params

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// Decode reads raw (an absent or null object is empty) into p.
func Decode(raw json.RawMessage, p any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(p); err != nil {
		return fmt.Errorf("%w: %s", check.ErrBadParams, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// Encode writes normalised parameters back.
func Encode(p any) (json.RawMessage, error) {
	b, err := json.Marshal(p)
	return b, err
}

// Bad is an ErrBadParams error naming field and what to write instead.
func Bad(field, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", check.ErrBadParams, field, fmt.Sprintf(format, a...))
}

// Regexp compiles an optional pattern of field ("" → nil).
func Regexp(field, pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, Bad(field, "not a regular expression (RE2 syntax): %v", err)
	}
	return re, nil
}

// Duration is a duration written as Go text ("5s", "1m30s") in JSON.
type Duration time.Duration

// MarshalJSON writes d as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5s" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if json.Unmarshal(b, &secs) != nil {
			return fmt.Errorf("a duration like \"5s\" or \"1m\", not %s", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("a duration like \"5s\" or \"1m\", not %q", s)
	}
	*d = Duration(v)
	return nil
}

// Default is a field's default as JSON (for check.Field.Default).
func Default(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Normalise is a kind's Validate: parse raw (decoding, defaults, checks)
// and write back what parse made of it. Unexported fields of P (compiled
// patterns) are not written.
func Normalise[P any](raw json.RawMessage, parse func(json.RawMessage) (P, error)) (json.RawMessage, error) {
	p, err := parse(raw)
	if err != nil {
		return nil, err
	}
	return Encode(p)
}
