package openapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// TypeScript writes declarations for a document's component schemas and
// a Routes interface ("METHOD /path" → body, answer, query), for a client
// that is typed by the same document the appliance serves.
func TypeScript(document []byte, header string) (string, error) {
	var doc map[string]any
	if err := decode(document, &doc); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(header)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		s, _ := schemas[name].(map[string]any)
		b.WriteString("\n")
		doc := comment(s["description"], "")
		if isObject(s) {
			fmt.Fprintf(&b, "%sexport interface %s %s\n", doc, name, tsObject(s, ""))
		} else {
			fmt.Fprintf(&b, "%sexport type %s = %s;\n", doc, name, tsType(s, ""))
		}
	}
	b.WriteString("\n/** Every route of the API: its request body, its answer (the success status's), its query parameters. */\n")
	b.WriteString("export interface Routes {\n")
	paths, _ := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		ops, _ := paths[path].(map[string]any)
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			op, ok := ops[method].(map[string]any)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "  '%s %s': { body: %s; answer: %s; query: %s };\n", strings.ToUpper(method), path,
				requestType(op), answerType(op), queryType(op))
		}
	}
	b.WriteString("}\n")
	return b.String(), nil
}

func isObject(s map[string]any) bool {
	_, props := s["properties"]
	return s["type"] == "object" && props
}

var ident = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

func comment(d any, indent string) string {
	text, _ := d.(string)
	if text == "" {
		return ""
	}
	text = strings.ReplaceAll(text, "*/", "* /")
	if !strings.Contains(text, "\n") {
		return indent + "/** " + text + " */\n"
	}
	var b strings.Builder
	b.WriteString(indent + "/**\n")
	for l := range strings.SplitSeq(text, "\n") {
		b.WriteString(strings.TrimRight(indent+" * "+l, " ") + "\n")
	}
	return b.String() + indent + " */\n"
}

func tsObject(s map[string]any, indent string) string {
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if rs, ok := s["required"].([]any); ok {
		for _, r := range rs {
			required[r.(string)] = true
		}
	}
	var b strings.Builder
	b.WriteString("{\n")
	for _, name := range slices.Sorted(maps.Keys(props)) {
		ps, _ := props[name].(map[string]any)
		key := name
		if !ident.MatchString(name) {
			key = "'" + strings.ReplaceAll(name, "'", `\'`) + "'"
		}
		opt := "?"
		if required[name] {
			opt = ""
		}
		b.WriteString(comment(ps["description"], indent+"  "))
		fmt.Fprintf(&b, "%s  %s%s: %s;\n", indent, key, opt, tsType(ps, indent+"  "))
	}
	return b.String() + indent + "}"
}

func tsType(s map[string]any, indent string) string {
	if ref, ok := s["$ref"].(string); ok {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	if c, ok := s["const"]; ok {
		return literal(c)
	}
	if e, ok := s["enum"].([]any); ok {
		lits := make([]string, len(e))
		for i, v := range e {
			lits[i] = literal(v)
		}
		return strings.Join(lits, " | ")
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[k].([]any); ok {
			return union(alts, indent)
		}
	}
	switch t := s["type"].(type) {
	case []any:
		var parts []string
		for _, one := range t {
			c := maps.Clone(s)
			c["type"] = one
			parts = append(parts, tsType(c, indent))
		}
		return strings.Join(parts, " | ")
	case string:
		switch t {
		case "string":
			return "string"
		case "integer", "number":
			return "number"
		case "boolean":
			return "boolean"
		case "null":
			return "null"
		case "array":
			items, _ := s["items"].(map[string]any)
			it := tsType(items, indent)
			if strings.ContainsAny(it, "|&") {
				it = "(" + it + ")"
			}
			return it + "[]"
		case "object":
			if isObject(s) {
				return tsObject(s, indent)
			}
			val := "unknown"
			if ap, ok := s["additionalProperties"].(map[string]any); ok {
				val = tsType(ap, indent)
			}
			if pn, ok := s["propertyNames"].(map[string]any); ok {
				return "Partial<Record<" + tsType(pn, indent) + ", " + val + ">>"
			}
			return "Record<string, " + val + ">"
		}
	}
	return "unknown"
}

func union(alts []any, indent string) string {
	parts := make([]string, len(alts))
	for i, a := range alts {
		m, _ := a.(map[string]any)
		parts[i] = tsType(m, indent)
	}
	return strings.Join(parts, " | ")
}

func literal(v any) string {
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return fmt.Sprint(v)
}

// jsonSchema is the JSON schema of a content map, if it has one.
func jsonSchema(content any) (map[string]any, bool) {
	c, _ := content.(map[string]any)
	mt, ok := c["application/json"].(map[string]any)
	if !ok {
		return nil, false
	}
	s, ok := mt["schema"].(map[string]any)
	return s, ok
}

func requestType(op map[string]any) string {
	rb, _ := op["requestBody"].(map[string]any)
	if s, ok := jsonSchema(rb["content"]); ok {
		return tsType(s, "    ")
	}
	return "never"
}

func answerType(op map[string]any) string {
	rs, _ := op["responses"].(map[string]any)
	for _, code := range slices.Sorted(maps.Keys(rs)) {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		r, _ := rs[code].(map[string]any)
		if s, ok := jsonSchema(r["content"]); ok {
			return tsType(s, "    ")
		}
		if _, text := r["content"]; text {
			return "string"
		}
		return "never"
	}
	return "never"
}

func queryType(op map[string]any) string {
	ps, _ := op["parameters"].([]any)
	var fields []string
	for _, p := range ps {
		pm, _ := p.(map[string]any)
		if pm["in"] != "query" {
			continue
		}
		s, _ := pm["schema"].(map[string]any)
		fields = append(fields, fmt.Sprintf("%s?: %s", pm["name"], tsType(s, "")))
	}
	if len(fields) == 0 {
		return "Record<string, never>"
	}
	return "{ " + strings.Join(fields, "; ") + " }"
}
