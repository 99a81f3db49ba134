package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validator checks JSON values against the schemas of one document: the
// subset of JSON Schema 2020-12 this package emits. A keyword it does not
// know is an error, not a pass, so a schema that starts using one cannot
// be checked by accident as if it held nothing.
type Validator struct {
	doc map[string]any
}

// NewValidator reads a document (its JSON) for $ref resolution.
func NewValidator(document []byte) (*Validator, error) {
	var doc map[string]any
	if err := decode(document, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	return &Validator{doc: doc}, nil
}

// Document is the decoded document (numbers as json.Number).
func (v *Validator) Document() map[string]any { return v.doc }

func decode(b []byte, into any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(into); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// ValidateJSON checks the JSON text body against schema (a schema of the
// document, e.g. a $ref, as decoded from it).
func (v *Validator) ValidateJSON(schema any, body []byte) error {
	var val any
	if err := decode(body, &val); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return v.Validate(schema, val)
}

// Validate checks a decoded value (numbers as json.Number or float64).
func (v *Validator) Validate(schema, value any) error {
	return v.check("$", schema, value, 0)
}

// annotations carry no constraint.
var annotations = map[string]bool{"description": true, "title": true, "contentEncoding": true, "examples": true, "deprecated": true,
	"readOnly": true, "writeOnly": true}

func (v *Validator) check(at string, schema, value any, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%s: schema nests too deep (a $ref loop?)", at)
	}
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool {
			if !b {
				return fmt.Errorf("%s: not allowed here", at)
			}
			return nil
		}
		return fmt.Errorf("%s: schema is %T, not an object", at, schema)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys) // "$ref" and "anyOf" first, "type" before "properties" would be nicer; any order is correct
	for _, k := range keys {
		if err := v.keyword(at, k, s, value, depth); err != nil {
			return err
		}
	}
	return nil
}

func (v *Validator) keyword(at, k string, s map[string]any, value any, depth int) error {
	arg := s[k]
	switch k {
	case "$ref":
		target, err := v.resolve(arg)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return v.check(at, target, value, depth+1)
	case "type":
		return checkType(at, arg, value)
	case "enum":
		for _, e := range arg.([]any) {
			if equal(e, value) {
				return nil
			}
		}
		return fmt.Errorf("%s: %s is none of %s", at, show(value), show(arg))
	case "const":
		if !equal(arg, value) {
			return fmt.Errorf("%s: %s is not %s", at, show(value), show(arg))
		}
	case "format":
		if str, ok := value.(string); ok && arg == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not an RFC 3339 date-time", at, str)
			}
		}
	case "minimum", "maximum":
		n, ok := number(value)
		if !ok {
			return nil
		}
		lim, _ := number(arg)
		if k == "minimum" && n < lim || k == "maximum" && n > lim {
			return fmt.Errorf("%s: %v is outside %s %v", at, n, k, lim)
		}
	case "minItems", "maxItems":
		a, ok := value.([]any)
		lim, _ := number(arg)
		if ok && (k == "minItems" && float64(len(a)) < lim || k == "maxItems" && float64(len(a)) > lim) {
			return fmt.Errorf("%s: %d items, %s %v", at, len(a), k, lim)
		}
	case "items":
		a, _ := value.([]any)
		for i, item := range a {
			if err := v.check(at+"["+strconv.Itoa(i)+"]", arg, item, depth+1); err != nil {
				return err
			}
		}
	case "properties", "required", "additionalProperties", "propertyNames":
		obj, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		return v.object(at, k, s, obj, depth)
	case "anyOf", "oneOf":
		return v.alternatives(at, k, arg.([]any), value, depth)
	default:
		if !annotations[k] && !strings.HasPrefix(k, "x-") {
			return fmt.Errorf("%s: the validator does not know the keyword %q", at, k)
		}
	}
	return nil
}

func (v *Validator) object(at, k string, s map[string]any, obj map[string]any, depth int) error {
	props, _ := s["properties"].(map[string]any)
	switch k {
	case "required":
		for _, r := range s["required"].([]any) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: the member %q is missing", at, r)
			}
		}
	case "properties":
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			if ps, ok := props[name]; ok {
				if err := v.check(at+"."+name, ps, obj[name], depth+1); err != nil {
					return err
				}
			}
		}
	case "additionalProperties":
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			if _, ok := props[name]; ok {
				continue
			}
			if b, ok := s[k].(bool); ok && !b {
				return fmt.Errorf("%s: the member %q is not in the schema", at, name)
			}
			if err := v.check(at+"."+name, s[k], obj[name], depth+1); err != nil {
				return err
			}
		}
	case "propertyNames":
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			if err := v.check(at+" (name "+strconv.Quote(name)+")", s[k], name, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *Validator) alternatives(at, k string, alts []any, value any, depth int) error {
	var errs []string
	matched := 0
	for _, alt := range alts {
		if err := v.check(at, alt, value, depth+1); err != nil {
			errs = append(errs, err.Error())
		} else {
			matched++
		}
	}
	switch {
	case matched == 0:
		return fmt.Errorf("%s: matches none of %s: %s", at, k, strings.Join(errs, "; "))
	case k == "oneOf" && matched > 1:
		return fmt.Errorf("%s: matches %d alternatives of oneOf", at, matched)
	}
	return nil
}

func (v *Validator) resolve(ref any) (any, error) {
	r, _ := ref.(string)
	if !strings.HasPrefix(r, "#/") {
		return nil, fmt.Errorf("$ref %q: only references into this document are supported", r)
	}
	var cur any = v.doc
	for _, part := range strings.Split(r[2:], "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok || m[part] == nil {
			return nil, fmt.Errorf("$ref %q does not resolve", r)
		}
		cur = m[part]
	}
	return cur, nil
}

func checkType(at string, arg, value any) error {
	want := []any{arg}
	if ts, ok := arg.([]any); ok {
		want = ts
	}
	got := typeOf(value)
	for _, w := range want {
		if w == got || w == "number" && got == "integer" {
			return nil
		}
	}
	return fmt.Errorf("%s: %s is %s, want %s", at, show(value), got, show(arg))
}

func typeOf(value any) string {
	switch x := value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil || !strings.ContainsAny(x.String(), ".eE") {
			return "integer"
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return "integer"
		}
		return "number"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", value)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func equal(a, b any) bool {
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na == nb
	}
	return show(a) == show(b)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// operation is the operation of method on path (a path template of the
// document, e.g. /api/v1/nodes/{id}).
func (v *Validator) operation(method, path string) (map[string]any, error) {
	paths, _ := v.doc["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document has no %s %s", method, path)
	}
	return op, nil
}

// AnswerSchema is the schema of the JSON answer that the operation gives
// with status: the status's own response, else its range (4XX), else
// default. ok is false when that answer has no JSON body.
func (v *Validator) AnswerSchema(method, path string, status int) (schema any, ok bool, err error) {
	op, err := v.operation(method, path)
	if err != nil {
		return nil, false, err
	}
	rs, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	r, found := rs[code]
	if !found {
		r, found = rs[code[:1]+"XX"]
	}
	if !found {
		r, found = rs["default"]
	}
	if !found {
		return nil, false, fmt.Errorf("%s %s: the document declares no answer %d", method, path, status)
	}
	for depth := 0; depth < 8; depth++ {
		m, _ := r.(map[string]any)
		ref, isRef := m["$ref"]
		if !isRef {
			break
		}
		if r, err = v.resolve(ref); err != nil {
			return nil, false, err
		}
	}
	m, _ := r.(map[string]any)
	content, _ := m["content"].(map[string]any)
	mt, ok := content["application/json"].(map[string]any)
	if !ok {
		return nil, false, nil
	}
	return mt["schema"], true, nil
}

// RequestSchema is the schema of the operation's JSON request body (ok
// false: it takes none).
func (v *Validator) RequestSchema(method, path string) (schema any, ok bool, err error) {
	op, err := v.operation(method, path)
	if err != nil {
		return nil, false, err
	}
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	mt, ok := content["application/json"].(map[string]any)
	if !ok {
		return nil, false, nil
	}
	return mt["schema"], true, nil
}

// Operations lists the document's operations as "METHOD /path" with the
// path template as written there.
func (v *Validator) Operations() []string {
	var out []string
	paths, _ := v.doc["paths"].(map[string]any)
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}
