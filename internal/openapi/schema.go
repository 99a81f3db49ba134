// Package openapi describes Go types as JSON Schema 2020-12 (the dialect
// of OpenAPI 3.1), the way encoding/json writes their values; checks JSON
// values against the schemas it emits; and writes TypeScript declarations
// from them. It knows nothing of HTTP frameworks: the api package builds
// its document from its own route table with it.
package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Schema is a JSON Schema as it is written in the document.
type Schema = map[string]any

// ErrNameTaken: two different Go types would get one component name.
var ErrNameTaken = errors.New("two types share a component name")

// Mode says which way a value travels. An answer's fields without
// omitempty are always present (required); a request's are all optional
// as far as the decoder goes (a missing field is its zero value), and the
// handler says which it needs. The two get separate components where they
// differ (Name and NameInput).
type Mode int

// Modes.
const (
	Output Mode = iota
	Input
)

// Components collects the named schemas of the types it has described.
type Components struct {
	// Names overrides a type's component name (two packages' Status).
	Names map[reflect.Type]string
	// Enums are the fixed values of named string types.
	Enums map[reflect.Type][]string
	// FieldEnums are the fixed values of plain string members, by struct
	// type and JSON name (a rule's kind).
	FieldEnums map[reflect.Type]map[string][]string
	// Descriptions of named types, for people reading the document.
	Descriptions map[reflect.Type]string

	schemas map[string]Schema
	owner   map[string]reflect.Type
	err     error
}

// NewComponents returns an empty collection.
func NewComponents() *Components {
	return &Components{Names: map[reflect.Type]string{}, Enums: map[reflect.Type][]string{}, FieldEnums: map[reflect.Type]map[string][]string{},
		Descriptions: map[reflect.Type]string{},
		schemas:      map[string]Schema{}, owner: map[string]reflect.Type{}}
}

// Schemas are the components described so far, by name, or the first
// naming conflict met.
func (c *Components) Schemas() (map[string]Schema, error) { return c.schemas, c.err }

var (
	timeType = reflect.TypeFor[time.Time]()
	durType  = reflect.TypeFor[time.Duration]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// Of describes the type of v (a value or a reflect.Type) in mode m.
func (c *Components) Of(v any, m Mode) Schema {
	t, ok := v.(reflect.Type)
	if !ok {
		t = reflect.TypeOf(v)
	}
	if t == nil {
		return Schema{}
	}
	return c.schema(t, m)
}

func (c *Components) schema(t reflect.Type, m Mode) Schema {
	switch t {
	case timeType:
		return Schema{"type": "string", "format": "date-time"}
	case durType:
		return Schema{"type": "integer", "description": "nanoseconds"}
	case rawType:
		return Schema{}
	}
	if vals, ok := c.Enums[t]; ok {
		return c.named(t, m, func() Schema { return Schema{"type": "string", "enum": enumOf(vals)} })
	}
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Interface:
		return Schema{}
	case reflect.Pointer:
		return nullable(c.schema(t.Elem(), m))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nullable(Schema{"type": "string", "contentEncoding": "base64"})
		}
		return nullable(Schema{"type": "array", "items": c.schema(t.Elem(), m)})
	case reflect.Array:
		return Schema{"type": "array", "items": c.schema(t.Elem(), m), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		s := Schema{"type": "object", "additionalProperties": c.schema(t.Elem(), m)}
		if k := c.schema(t.Key(), m); k["enum"] != nil || k["$ref"] != nil {
			s["propertyNames"] = k
		}
		return nullable(s)
	case reflect.Struct:
		return c.named(t, m, func() Schema { return c.object(t, m) })
	}
	c.fail(fmt.Errorf("openapi: %s: kind %s cannot be written as JSON", t, t.Kind()))
	return Schema{}
}

func enumOf(vals []string) []any {
	e := make([]any, len(vals))
	for i, v := range vals {
		e[i] = v
	}
	return e
}

// named returns a $ref to t's component (describing it on first use), or
// the schema itself for an unnamed type.
func (c *Components) named(t reflect.Type, m Mode, build func() Schema) Schema {
	if t.Name() == "" {
		return build()
	}
	name := c.Names[t]
	if name == "" {
		name = strings.NewReplacer("[", "_", "]", "", ".", "_", "/", "_", "*", "").Replace(t.Name())
	}
	inName := name
	if m == Input && t.Kind() == reflect.Struct && !hasSuffix(name, "Input", "Request", "In") {
		inName = name + "Input"
	}
	if owner, ok := c.owner[inName]; ok {
		if owner != t {
			c.fail(fmt.Errorf("%w: %s is both %s and %s: name one of them in the component names", ErrNameTaken, inName, owner, t))
		}
		return Schema{"$ref": "#/components/schemas/" + inName}
	}
	c.owner[inName] = t
	c.schemas[inName] = Schema{} // placeholder: recursive types end here
	s := build()
	if d := c.Descriptions[t]; d != "" {
		s["description"] = d
	}
	c.schemas[inName] = s
	return Schema{"$ref": "#/components/schemas/" + inName}
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

func (c *Components) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// field is one JSON member of a struct, as encoding/json finds it.
type field struct {
	name     string
	typ      reflect.Type
	optional bool // omitempty or omitzero: absent when empty
	quoted   bool // ,string
}

// fields lists t's JSON members: embedded structs without a name are
// flattened, and a shallower field hides a deeper one of the same name.
func fields(t reflect.Type) []field {
	var out []field
	seen := map[string]bool{}
	level := []reflect.Type{t}
	for len(level) > 0 {
		var next []reflect.Type
		var found []field
		for _, st := range level {
			for i := range st.NumField() {
				f := st.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				ft := f.Type
				if f.Anonymous && name == "" {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, ft)
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				found = append(found, field{name: name, typ: f.Type, quoted: hasOpt(opts, "string"),
					optional: hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")})
			}
		}
		for _, f := range found {
			if !seen[f.name] {
				seen[f.name] = true
				out = append(out, f)
			}
		}
		level = next
	}
	return out
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// object is a struct's schema: its members, the required ones (answers
// only), and no others.
func (c *Components) object(t reflect.Type, m Mode) Schema {
	props := Schema{}
	var required []any
	for _, f := range fields(t) {
		var s Schema
		switch {
		case f.quoted:
			s = Schema{"type": "string"}
		case f.optional && (f.typ.Kind() == reflect.Pointer || f.typ.Kind() == reflect.Slice || f.typ.Kind() == reflect.Map):
			// Omitted when nil (or empty): never null.
			s = nonNull(c.schema(f.typ, m))
		default:
			s = c.schema(f.typ, m)
		}
		if vals, ok := c.FieldEnums[t][f.name]; ok && s["type"] == "string" {
			s["enum"] = enumOf(vals)
		}
		props[f.name] = s
		if !f.optional && m == Output {
			required = append(required, f.name)
		}
	}
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Slice(required, func(i, j int) bool { return required[i].(string) < required[j].(string) })
		s["required"] = required
	}
	return s
}

// nullable admits null besides s (a nil pointer, slice or map).
func nullable(s Schema) Schema {
	if typ, ok := s["type"].(string); ok && s["enum"] == nil {
		s["type"] = []any{typ, "null"}
		return s
	}
	if len(s) == 0 {
		return s // anything, null included
	}
	return Schema{"anyOf": []any{s, Schema{"type": "null"}}}
}

// NonNull is s without null (nullable undone): for a value that is never
// null although its Go type could be.
func NonNull(s Schema) Schema { return nonNull(s) }

// nonNull undoes nullable.
func nonNull(s Schema) Schema {
	if ts, ok := s["type"].([]any); ok && len(ts) == 2 && ts[1] == "null" {
		s["type"] = ts[0]
		return s
	}
	if alt, ok := s["anyOf"].([]any); ok && len(alt) == 2 && len(s) == 1 {
		if n, ok := alt[1].(Schema); ok && n["type"] == "null" {
			return alt[0].(Schema)
		}
	}
	return s
}
