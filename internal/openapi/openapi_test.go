package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type color string

type inner struct {
	N int `json:"n"`
}

type base struct {
	ID   string `json:"id"`
	Name string `json:"name"` // hidden by outer.Name
}

type outer struct {
	base
	Name     string            `json:"name,omitempty"`
	At       time.Time         `json:"at"`
	When     time.Time         `json:"when,omitzero"`
	Tags     []string          `json:"tags"`
	Opt      []string          `json:"opt,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Ptr      *inner            `json:"ptr"`
	OptPtr   *inner            `json:"opt_ptr,omitempty"`
	Color    color             `json:"color"`
	Kind     string            `json:"kind"`
	Count    uint64            `json:"count"`
	Ratio    float64           `json:"ratio"`
	Quoted   int               `json:"quoted,string"`
	Raw      json.RawMessage   `json:"raw"`
	Bytes    []byte            `json:"bytes,omitempty"`
	Skipped  string            `json:"-"`
	private  string
	Untagged bool
}

func document(t *testing.T, v any, m Mode) (*Validator, Schema) {
	t.Helper()
	c := NewComponents()
	c.Enums[reflect.TypeFor[color]()] = []string{"red", "blue"}
	c.FieldEnums[reflect.TypeFor[outer]()] = map[string][]string{"kind": {"a", "b"}}
	root := c.Of(v, m)
	schemas, err := c.Schemas()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"components": map[string]any{"schemas": schemas}, "root": root})
	val, err := NewValidator(b)
	if err != nil {
		t.Fatal(err)
	}
	return val, root
}

// Go values as encoding/json writes them validate against their schema;
// each way of departing from it is caught.
func TestSchemaOfGoTypes(t *testing.T) {
	v, root := document(t, outer{}, Output)
	if root["$ref"] != "#/components/schemas/outer" {
		t.Fatalf("root = %v", root)
	}
	good := outer{base: base{ID: "x"}, At: time.Now(), Color: "red", Kind: "a", Ptr: &inner{1}, Raw: json.RawMessage(`{"any":1}`), Bytes: []byte{1}, private: "not written"}
	b, _ := json.Marshal(good)
	if err := v.ValidateJSON(root, b); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	zero, _ := json.Marshal(outer{Color: "blue", Kind: "b"}) // nil slice and pointer: null
	if err := v.ValidateJSON(root, zero); err != nil {
		t.Fatalf("%s: %v", zero, err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, tc := range []struct {
		name, want string
		change     func(map[string]any)
	}{
		{"required member missing", `"id" is missing`, func(m map[string]any) { delete(m, "id") }},
		{"embedded member hidden", `"count" is missing`, func(m map[string]any) { delete(m, "count") }},
		{"unknown member", `"Skipped" is not in the schema`, func(m map[string]any) { m["Skipped"] = "x" }},
		{"enum type", `none of ["red","blue"]`, func(m map[string]any) { m["color"] = "green" }},
		{"field enum", `none of ["a","b"]`, func(m map[string]any) { m["kind"] = "c" }},
		{"date-time", "RFC 3339", func(m map[string]any) { m["at"] = "noon" }},
		{"unsigned", "minimum", func(m map[string]any) { m["count"] = -1 }},
		{"integer", "want", func(m map[string]any) { m["count"] = 1.5 }},
		{"quoted int", "want", func(m map[string]any) { m["quoted"] = 3 }},
		{"omitempty pointer never null", "want", func(m map[string]any) { m["opt_ptr"] = nil }},
		{"omitempty slice never null", "want", func(m map[string]any) { m["opt"] = nil }},
		{"map values", "want", func(m map[string]any) { m["attrs"] = map[string]any{"k": 1} }},
		{"nested", "$.ptr.n", func(m map[string]any) { m["ptr"] = map[string]any{"n": "1"} }},
		{"array items", "$.tags[1]", func(m map[string]any) { m["tags"] = []any{"a", 2} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := map[string]any{}
			for k, x := range m {
				c[k] = x
			}
			tc.change(c)
			b, _ := json.Marshal(c)
			err := v.ValidateJSON(root, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// A request body's members are all optional; its component is NameInput.
func TestInputMode(t *testing.T) {
	v, root := document(t, outer{}, Input)
	if root["$ref"] != "#/components/schemas/outerInput" {
		t.Fatalf("root = %v", root)
	}
	if err := v.ValidateJSON(root, []byte(`{"name": "only this"}`)); err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateJSON(root, []byte(`{"nme": "typo"}`)); err == nil {
		t.Fatal("an unknown member of a request validated")
	}
}

type status struct{ A int }

// Two types of one name must be told apart by the caller.
func TestNameConflict(t *testing.T) {
	c := NewComponents()
	c.Of(status{}, Output)
	c.Of(struct{ S status }{}, Output) // same type again: fine
	if _, err := c.Schemas(); err != nil {
		t.Fatal(err)
	}
	c.Names[reflect.TypeFor[inner]()] = "status"
	c.Of(inner{}, Output)
	if _, err := c.Schemas(); err == nil {
		t.Fatal("two types named status: no error")
	}
}

// The validator refuses to pass a schema keyword it does not know.
func TestUnknownKeyword(t *testing.T) {
	v, _ := NewValidator([]byte(`{}`))
	if err := v.Validate(map[string]any{"pattern": "^a"}, "b"); err == nil || !strings.Contains(err.Error(), "pattern") {
		t.Fatalf("err = %v", err)
	}
}

func TestTypeScript(t *testing.T) {
	c := NewComponents()
	c.Enums[reflect.TypeFor[color]()] = []string{"red", "blue"}
	root := c.Of(outer{}, Output)
	schemas, _ := c.Schemas()
	doc, _ := json.Marshal(map[string]any{
		"components": map[string]any{"schemas": schemas},
		"paths": map[string]any{"/x/{id}": map[string]any{"get": map[string]any{
			"parameters": []any{map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer"}}},
			"responses":  map[string]any{"200": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": root}}}},
		}}},
	})
	ts, err := TypeScript(doc, "// header\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export type color = 'red' | 'blue';",
		"export interface outer {",
		"  at: string;",
		"  when?: string;",
		"  tags: string[] | null;",
		"  opt?: string[];",
		"  attrs?: Record<string, string>;",
		"  ptr: inner | null;",
		"  opt_ptr?: inner;",
		"  color: color;",
		"  raw: unknown;",
		"  Untagged: boolean;",
		"'GET /x/{id}': { body: never; answer: outer; query: { limit?: number } };",
	} {
		if !strings.Contains(ts, want) {
			t.Errorf("missing %q in:\n%s", want, ts)
		}
	}
}
