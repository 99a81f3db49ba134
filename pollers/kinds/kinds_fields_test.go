package kinds_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/kinds"
)

// Every listed kind describes itself completely enough for the console to
// draw its form from GET /api/v1/monitor-kinds: a unique name, a label, a
// value type, fields of known types with valid JSON defaults, and a
// checker for appliance kinds.
func TestKindsDescribeThemselves(t *testing.T) {
	types := []string{"string", "text", "int", "number", "bool", "duration", "select", "credential", "list", "json"}
	seen := map[string]bool{}
	for _, k := range kinds.All() {
		if k.Name == "" || seen[k.Name] || k.Label == "" {
			t.Errorf("kind %q: empty or repeated name, or no label", k.Name)
		}
		seen[k.Name] = true
		if k.Value != check.Numeric && k.Value != check.String && k.Value != check.Truth {
			t.Errorf("kind %s: value type %q", k.Name, k.Value)
		}
		if k.Where == check.Appliance && k.New == nil {
			t.Errorf("kind %s runs on the appliance and has no checker", k.Name)
		}
		for _, f := range k.Fields {
			if f.Name == "" || f.Label == "" || !slices.Contains(types, f.Type) || f.Type == "select" && len(f.Options) == 0 {
				t.Errorf("kind %s field %+v: name, label, a known type and (select) options", k.Name, f)
			}
			if f.Default != nil && !json.Valid(f.Default) {
				t.Errorf("kind %s field %s: default %s is not JSON", k.Name, f.Name, f.Default)
			}
		}
		if got, ok := kinds.ByName(k.Name); !ok || got.Name != k.Name {
			t.Errorf("ByName(%s) does not find it", k.Name)
		}
	}
	if _, err := json.Marshal(kinds.All()); err != nil {
		t.Errorf("the kinds do not encode as JSON: %v", err)
	}
}
