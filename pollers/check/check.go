// Package check is the contract between the monitor runner and the monitor
// kinds: one folder per kind under pollers/ implements Checker, and
// pollers/kinds lists them (no init side effects). A kind knows how to
// reach a target and read values; it does not judge them (pollers/judge),
// schedule them (pollers/schedule) or store them: the runner does, the same
// way for every kind, so a new kind is a folder and a line in the list.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrBadParams: a monitor's kind-specific parameters are wrong. Validate
// wraps it with what was wrong and what to write instead.
var ErrBadParams = errors.New("bad monitor parameters")

// ValueType is what a kind's items hold, and so which judgement applies.
type ValueType string

// Value types.
const (
	Numeric ValueType = "numeric" // thresholds
	String  ValueType = "string"  // ordered patterns
	Truth   ValueType = "truth"   // true/false → priority
)

// Where a kind runs.
type Where string

// Places.
const (
	Appliance Where = "appliance" // the active appliance polls (agentless)
	Agent     Where = "agent"     // an agent on the node checks (the job issue's agent)
)

// Target is the node a check runs against, as the runner resolved it from
// the inventory. Credentials are named, never carried: Env.Secret opens them.
type Target struct {
	NodeID  string
	Name    string
	Address string
	// SNMP is the node's SNMP settings (nil: none).
	SNMP *SNMP
}

// SNMP is a node's SNMP settings with credential names (see inventory.SNMP).
type SNMP struct {
	Version             string
	Port                int
	User                string
	SecurityLevel       string
	AuthProtocol        string
	AuthCredential      string
	PrivProtocol        string
	PrivCredential      string
	CommunityCredential string
}

// Env is what a check may use besides its target and parameters.
type Env struct {
	// Secret reveals the named credential of the sealed store (an SQL
	// password, an SNMP key, an HTTP password). Nil in unit tests that
	// need none.
	Secret func(ctx context.Context, name string) (string, error)
	// Timeout bounds one check (also set as ctx's deadline).
	Timeout time.Duration
}

// Item is one value a check read. Most kinds read one item (Key ""); the
// resource monitor reads one per CPU, disk, interface; a custom command
// one per `key,value` line.
type Item struct {
	Key string `json:"key,omitempty"`
	// Exactly one of Number, Text, Bool is set for a good item.
	Number *float64 `json:"number,omitempty"`
	Text   *string  `json:"text,omitempty"`
	Bool   *bool    `json:"bool,omitempty"`
	Unit   string   `json:"unit,omitempty"`
	// Counter marks a monotonically increasing counter (SNMP Counter32/64,
	// Prometheus counters): the runner judges and stores its rate per
	// second against the previous sample, handling wrap and reset, and
	// the first sample gives no judgement.
	Counter bool `json:"counter,omitempty"`
	// Err is why this item could not be read (its priority is unknown).
	Err string `json:"error,omitempty"`
}

// Result is what one check returned.
type Result struct {
	Items []Item `json:"items"`
	// Raw is what the check saw, bounded (MaxRaw), shown by "test now"
	// and kept with events: a status line, a body excerpt, command output.
	Raw string `json:"raw,omitempty"`
	// Err is why the check failed as a whole (every item unknown): the
	// target is gone, a timeout, a refused login.
	Err error `json:"-"`
}

// MaxRaw bounds Result.Raw.
const MaxRaw = 16 << 10

// Field describes one parameter of a kind, so the console draws the form
// of every kind from GET /api/v1/monitor-kinds without code per kind.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // string, text, int, number, bool, duration, select, credential, list, json
	Label    string `json:"label"`
	Help     string `json:"help,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Default is the value used when the field is omitted (as JSON).
	Default json.RawMessage `json:"default,omitempty"`
	Options []string        `json:"options,omitempty"` // select
}

// Kind is one monitor kind.
type Kind struct {
	Name  string    `json:"name"` // "ping", "http", "snmp_resource", …
	Label string    `json:"label"`
	Value ValueType `json:"value"`
	Where Where     `json:"where"`
	// PerItem: a kind whose items are named (resource, custom command)
	// judges each item on its own and keeps a status row per item.
	PerItem bool    `json:"per_item,omitempty"`
	Fields  []Field `json:"fields"`
	// New returns the kind's checker (nil for agent kinds: the agent runs them).
	New func() Checker `json:"-"`
}

// Checker runs one kind of check.
type Checker interface {
	// Validate checks params (the monitor's kind-specific JSON object)
	// and returns them normalised (defaults applied), or an error wrapping
	// ErrBadParams that says what to fix.
	Validate(params json.RawMessage) (json.RawMessage, error)
	// Check runs once against t. It honours ctx (deadline = Env.Timeout)
	// and never panics on what the target sends.
	Check(ctx context.Context, env Env, t Target, params json.RawMessage) Result
}

// Num, Str and Bool make items.
func Num(key string, v float64, unit string) Item { return Item{Key: key, Number: &v, Unit: unit} }

// Str is a text item.
func Str(key, v string) Item { return Item{Key: key, Text: &v} }

// Bool is a truth item.
func Bool(key string, v bool) Item { return Item{Key: key, Bool: &v} }

// Failed is a result whose check failed as a whole.
func Failed(err error, raw string) Result { return Result{Err: err, Raw: Clip(raw)} }

// Clip bounds raw text to MaxRaw bytes.
func Clip(s string) string {
	if len(s) > MaxRaw {
		return s[:MaxRaw]
	}
	return s
}
