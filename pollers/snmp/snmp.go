// Package snmp is the SNMP monitor: one object read from the node's agent
// (v2c, or v3 with the node's USM user), judged as a number ("snmp") or as
// text ("snmp_string"). Counter32/Counter64 objects are marked as counters
// so the runner judges their rate per second, not their running total.
package snmp

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"

	isnmp "github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/snmpnode"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item is the key of the one item this kind reads.
const Item = "value"

// Params are the monitor's parameters.
type Params struct {
	// OID is the object instance to get, numeric ("1.3.6.1.2.1.1.3.0").
	OID string `json:"oid"`
	// Multiply scales a number (8 turns octets into bits; 0.01 turns
	// hundredths into units). 0 or absent is 1.
	Multiply float64 `json:"multiply,omitempty"`
	// Unit labels the value ("%", "°C"); for a counter the unit of what
	// it counts ("bit"): the runner shows its rate per second ("bit/s").
	Unit string `json:"unit,omitempty"`
}

var oidRE = regexp.MustCompile(`^[0-2](\.[0-9]{1,10})+$`)

// Kind is the numeric SNMP monitor.
func Kind() check.Kind {
	return check.Kind{Name: "snmp", Label: "SNMP value (numeric)", Value: check.Numeric, Where: check.Appliance,
		Fields: []check.Field{oidField(),
			{Name: "multiply", Type: "number", Label: "Multiply by", Help: "Scale the value: 8 turns octets into bits. Counters are judged as a rate per second after scaling.", Default: params.JSON(1)},
			{Name: "unit", Type: "string", Label: "Unit", Help: "Shown with the value, e.g. % or °C. For a counter, what it counts (bit, packet): the rate shows as bit/s."}},
		New: func() check.Checker { return checker{numeric: true} }}
}

// StringKind is the text SNMP monitor (judged by patterns).
func StringKind() check.Kind {
	return check.Kind{Name: "snmp_string", Label: "SNMP value (text)", Value: check.String, Where: check.Appliance,
		Fields: []check.Field{oidField()},
		New:    func() check.Checker { return checker{} }}
}

func oidField() check.Field {
	return check.Field{Name: "oid", Type: "string", Label: "OID", Required: true,
		Help: "Numeric object instance, e.g. 1.3.6.1.2.1.1.3.0 (sysUpTime.0); `snmpwalk -On` shows them."}
}

type checker struct{ numeric bool }

// Validate checks the OID and applies defaults.
func (c checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, c.parse)
}

func (c checker) parse(raw json.RawMessage) (Params, error) {
	var p Params
	if err := params.Decode(raw, &p); err != nil {
		return p, err
	}
	p.OID = strings.TrimPrefix(strings.TrimSpace(p.OID), ".")
	if len(p.OID) > 512 || !oidRE.MatchString(p.OID) {
		return p, params.Bad("oid", "%q is not a numeric OID: write it like 1.3.6.1.2.1.1.3.0", p.OID)
	}
	if !c.numeric && (p.Multiply != 0 || p.Unit != "") {
		return p, params.Bad("multiply", "a text value is not scaled: remove multiply and unit, or use the numeric kind snmp")
	}
	if math.IsNaN(p.Multiply) || math.IsInf(p.Multiply, 0) {
		return p, params.Bad("multiply", "a finite number such as 8 or 0.01")
	}
	if c.numeric && p.Multiply == 0 {
		p.Multiply = 1
	}
	return p, nil
}

// Check gets the OID once.
func (c checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := c.parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	agent, err := snmpnode.Agent(ctx, env, t)
	if err != nil {
		return check.Failed(err, "")
	}
	vals, err := isnmp.Get(ctx, agent, []string{p.OID})
	if err != nil {
		return check.Failed(err, "")
	}
	if len(vals) != 1 {
		return check.Failed(fmt.Errorf("agent %s answered %d values for one OID", t.Address, len(vals)), "")
	}
	return c.item(vals[0], p)
}

func (c checker) item(v isnmp.Value, p Params) check.Result {
	raw := check.Clip(fmt.Sprintf("%s = %s: %s", v.OID, v.Type, v.Value))
	if v.Missing() {
		return check.Failed(fmt.Errorf("the agent has no object %s (%s): check the OID with snmpwalk, and the agent's view", p.OID, v.Type), raw)
	}
	if !c.numeric {
		return check.Result{Items: []check.Item{check.Str(Item, v.Value)}, Raw: raw}
	}
	n, ok := v.Number()
	if !ok {
		return check.Result{Items: []check.Item{{Key: Item, Err: fmt.Sprintf("%s is a %s, not a number: use the text kind snmp_string", p.OID, v.Type)}}, Raw: raw}
	}
	it := check.Num(Item, n*p.Multiply, p.Unit)
	it.Counter = v.Counter()
	return check.Result{Items: []check.Item{it}, Raw: raw}
}
