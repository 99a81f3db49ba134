package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/internal/openapi"
)

// OpenAPIPath is where the document is served.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIDoc is the document, built once on first request.
type openAPIDoc struct {
	once sync.Once
	body []byte
	etag string
	err  error
}

// OpenAPI is the OpenAPI 3.1 document of the route table (what
// GET /api/v1/openapi.json serves), and what the route table and the
// declarations of openapi_routes.go disagree on (empty when they agree).
func OpenAPI() (document []byte, problems []string, err error) {
	s := New(Options{}, nil, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return buildOpenAPI(s.table(), routeDocs())
}

// openAPI serves the document: public, the same for every caller, and
// cacheable (it changes only with the binary).
func (s *Server) openAPI(c *gin.Context) {
	d := &s.openapi
	d.once.Do(func() {
		d.body, _, d.err = buildOpenAPI(s.table(), routeDocs())
		sum := sha256.Sum256(d.body)
		d.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
	if d.err != nil {
		fail(c, http.StatusInternalServerError, "openapi document: "+d.err.Error())
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("ETag", d.etag)
	if c.GetHeader("If-None-Match") == d.etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json", d.body)
}

// buildOpenAPI describes every route of the table; a route without a
// declaration is still listed (with no schema) and named in problems, as
// is a declaration without a route.
func buildOpenAPI(routes []Route, docs map[string]routeDoc) ([]byte, []string, error) {
	comps := openapi.NewComponents()
	comps.Names, comps.Enums, comps.FieldEnums = openAPINames(), openAPIEnums(), openAPIFieldEnums()
	errRef := comps.Of(ErrorAnswer{}, openapi.Output)
	paths := map[string]map[string]any{}
	var problems []string
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		d, ok := docs[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("route %s has no OpenAPI declaration: add %q: {Summary: \"…\", Body: YourRequest{}, Answer: YourAnswer{}} "+
				"to routeDocs() in api/openapi_routes.go (named types in api/bodies.go), then run `make openapi` and commit ui/src/api/types.gen.ts", key, key))
		}
		p := openAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = operation(comps, rt, d)
	}
	for key := range docs {
		if !seen[key] {
			problems = append(problems, fmt.Sprintf("routeDocs() in api/openapi_routes.go declares %s, which the route table (api/api.go) does not have: remove or rename it", key))
		}
	}
	sort.Strings(problems)
	schemas, err := comps.Schemas()
	if err != nil {
		return nil, problems, err
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{"title": "mamori API", "version": "1",
			"description": "The appliance's REST API, generated from its route table (api/api.go) and the Go types of each route (api/openapi_routes.go)."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": securitySchemes(),
			"responses": map[string]any{
				"Error": map[string]any{"description": "An error: a message for people, a code for programs.",
					"content": jsonContent(errRef)},
				"Unavailable": map[string]any{
					"description": "This appliance cannot serve the request now (not active, store re-forming, outcome unknown): nothing was done unless the code is outcome_unknown. Retry after Retry-After, at the active when the answer names it.",
					"headers": map[string]any{
						"Retry-After": map[string]any{"description": "seconds to wait", "schema": map[string]any{"type": "integer"}},
						"Location":    map[string]any{"description": "the same request at the active appliance, when known", "schema": map[string]any{"type": "string"}},
					},
					"content": jsonContent(errRef)},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", " ")
	return b, problems, err
}

// openAPIPath writes gin's :param as {param}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func operation(comps *openapi.Components, rt Route, d routeDoc) map[string]any {
	op := map[string]any{
		"operationId":      operationID(rt),
		"summary":          d.Summary,
		"security":         security(rt.Access),
		"x-mamori-access":  string(rt.Access),
		"x-mamori-audited": rt.Audited,
	}
	if rt.Function != "" {
		op["x-mamori-privilege"] = map[string]any{"function": rt.Function, "action": rt.Action}
		op["description"] = fmt.Sprintf("Needs the privilege %s on %s.", rt.Action, rt.Function)
	}
	var params []any
	for _, s := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(s, ":") {
			params = append(params, map[string]any{"name": s[1:], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	for _, q := range d.Query {
		s := map[string]any{"type": q.Type}
		if q.Enum != nil {
			s["enum"] = q.Enum
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": s})
	}
	if rt.Method != http.MethodGet && (rt.Access == User || rt.Access == Priv) {
		params = append(params, map[string]any{"name": IdempotencyHeader, "in": "header", "schema": map[string]any{"type": "string", "maxLength": 200},
			"description": "makes a resent write (after a lost answer, a failover, outcome_unknown) apply at most once; kept per user"})
	}
	if params != nil {
		op["parameters"] = params
	}
	if d.Body != nil {
		op["requestBody"] = map[string]any{"required": true, "content": jsonContent(bodySchema(comps, d.Body))}
	}
	op["responses"] = responses(comps, d)
	return op
}

func bodySchema(comps *openapi.Components, body any) openapi.Schema {
	// A body is never null: the handlers refuse it.
	alts, ok := body.(anyOf)
	if !ok {
		return openapi.NonNull(comps.Of(body, openapi.Input))
	}
	var out []any
	for _, a := range alts {
		out = append(out, openapi.NonNull(comps.Of(a, openapi.Input)))
	}
	return openapi.Schema{"anyOf": out}
}

func responses(comps *openapi.Components, d routeDoc) map[string]any {
	status := d.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	content := map[string]any{}
	switch {
	case d.Answer != nil:
		s, literal := d.Answer.(openapi.Schema)
		if !literal {
			s = comps.Of(d.Answer, openapi.Output)
		}
		content = jsonContent(s)
	case d.Text != "":
		content[d.Text] = map[string]any{"schema": map[string]any{"type": "string"}}
	}
	if d.AltText != "" {
		content[d.AltText] = map[string]any{"schema": map[string]any{"type": "string"}}
	}
	if len(content) > 0 {
		ok["content"] = content
	}
	out := map[string]any{
		strconv.Itoa(status): ok,
		"4XX":                map[string]any{"$ref": "#/components/responses/Error"},
		"5XX":                map[string]any{"$ref": "#/components/responses/Error"},
		"503":                map[string]any{"$ref": "#/components/responses/Unavailable"},
	}
	for code, t := range d.Answers {
		out[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code), "content": jsonContent(comps.Of(t, openapi.Output))}
	}
	return out
}

func operationID(rt Route) string {
	id := strings.ToLower(rt.Method)
	for _, s := range strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == ':' }) {
		id += strings.ToUpper(s[:1]) + s[1:]
	}
	return id
}

// security says which credentials a route takes (authenticate in authmw.go).
func security(a Access) []any {
	req := func(names ...string) []any {
		out := []any{}
		for _, n := range names {
			out = append(out, map[string]any{n: []any{}})
		}
		return out
	}
	switch a {
	case Public:
		return []any{} // anyone; a logged-in caller may learn more (healthz)
	case Node, Self:
		return req("pairCertificate")
	case Metrics:
		return req("pairCertificate", "metricsToken", "sessionBearer", "sessionCookie", "apiToken")
	}
	return req("sessionBearer", "sessionCookie", "apiToken", "pairCertificate")
}

func securitySchemes() map[string]any {
	return map[string]any{
		"sessionBearer": map[string]any{"type": "http", "scheme": "bearer",
			"description": "The token POST /api/v1/login answers, as Authorization: Bearer. A session this appliance cannot check now (store re-forming) is answered 503, never 401."},
		"sessionCookie": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie,
			"description": "The same session as the HttpOnly, Secure, SameSite=Strict cookie POST /api/v1/login sets (the web console's)."},
		"apiToken": map[string]any{"type": "http", "scheme": "bearer",
			"description": "An API token from POST /api/v1/tokens (limited to some of its maker's roles, expires), as Authorization: Bearer."},
		"pairCertificate": map[string]any{"type": "mutualTLS",
			"description": "A client certificate of the pair CA issued for the appliance role to this appliance or its current peer: the system principal. Node routes take only this; self routes (the CLI) only this appliance's own."},
		"metricsToken": map[string]any{"type": "http", "scheme": "bearer",
			"description": "The bearer token of api.metrics_token_file, for /metrics only."},
	}
}

// TypesFile is where `make openapi` writes the console's API types.
const TypesFile = "ui/src/api/types.gen.ts"

// OpenAPITypeScript is the content of TypesFile: TypeScript declarations
// of the document's schemas and routes.
func OpenAPITypeScript() (string, error) {
	doc, problems, err := OpenAPI()
	if err != nil {
		return "", err
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("the OpenAPI declarations do not match the route table:\n%s", strings.Join(problems, "\n"))
	}
	return openapi.TypeScript(doc, "// Code generated by `make openapi` from the OpenAPI document (GET "+OpenAPIPath+"). DO NOT EDIT.\n"+
		"// The route table is api/api.go, the types of each route api/openapi_routes.go; ui/src/api/types.ts\n"+
		"// re-exports the names the screens use.\n")
}
