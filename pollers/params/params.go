// Package params decodes the kind-specific parameters of a monitor the same
// way for every kind: strict JSON (an unknown field is a typo the user must
// hear about, not a setting silently ignored), durations written as Go
// duration strings ("500ms", "10s"), and errors that wrap
// check.ErrBadParams and name the field.
package params

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// Duration is a time.Duration written in JSON as "1.5s" (a bare number is
// refused: seconds or milliseconds would be a guess).
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"500ms\" or \"10s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"500ms\" or \"10s\"", s)
	}
	*d = Duration(v)
	return nil
}

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Decode reads raw into v, refusing unknown fields and trailing data.
// Empty input decodes as {} so every field takes its default.
func Decode(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Bad("", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return Bad("", "one JSON object expected, found more after it")
	}
	return nil
}

// Encode writes normalised parameters back.
func Encode(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode parameters: %w", err)
	}
	return b, nil
}

// Bad is an ErrBadParams error naming field (may be "") with what to fix.
func Bad(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return fmt.Errorf("%w: %s", check.ErrBadParams, msg)
}

// Between checks lo <= v <= hi for a duration field.
func Between(field string, v, lo, hi time.Duration) error {
	if v < lo || v > hi {
		return Bad(field, "%s is out of range: use %s to %s", v, lo, hi)
	}
	return nil
}

// IntBetween checks lo <= v <= hi for an integer field.
func IntBetween(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return Bad(field, "%d is out of range: use %d to %d", v, lo, hi)
	}
	return nil
}

// Ms is a duration in milliseconds, the unit of every time item.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Remaining is how long ctx may still run, capped at max (max when ctx
// has no deadline).
func Remaining(deadline time.Time, ok bool, max time.Duration) time.Duration {
	if !ok {
		return max
	}
	if r := time.Until(deadline); r < max {
		return r
	}
	return max
}

// JSON is v as a field default (check.Field.Default).
func JSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("params.JSON(%T): %v", v, err)) // a programming error in a kind's table
	}
	return b
}

// ErrNoAddress: the target node has no address to reach.
var ErrNoAddress = errors.New("the node has no address: set one in the inventory")

// Normalise is a kind's Validate: parse applies the defaults and checks
// every field; the result is written back as the normalised parameters.
func Normalise[P any](raw json.RawMessage, parse func(json.RawMessage) (P, error)) (json.RawMessage, error) {
	p, err := parse(raw)
	if err != nil {
		return nil, err
	}
	return Encode(p)
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
