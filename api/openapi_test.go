package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/internal/openapi"
)

// Every route of the route table is in the document, and nothing else;
// every route has its declaration in openapi_routes.go.
func TestOpenAPICoversRouteTable(t *testing.T) {
	doc, problems, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	v, err := openapi.NewValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, rt := range New(Options{}, nil, nil, nil, nil, discard()).Routes() {
		want = append(want, rt.Method+" "+openAPIPath(rt.Path))
	}
	slices.Sort(want)
	got := v.Operations()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("route %s is missing from the OpenAPI document", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("the OpenAPI document has %s, which the route table does not", g)
		}
	}
	if len(got) != len(want) {
		t.Errorf("document has %d operations, route table %d routes", len(got), len(want))
	}
	t.Logf("%d routes in the document", len(got))
}

// The check above fails when a route has no declaration, and says what to
// add where; a declaration without a route fails it too.
func TestOpenAPINamesWhatIsMissing(t *testing.T) {
	routes := append(New(Options{}, nil, nil, nil, nil, discard()).Routes(), Route{Method: http.MethodGet, Path: "/api/v1/new-thing", Access: User})
	docs := routeDocs()
	docs["POST /api/v1/gone"] = routeDoc{Summary: "no such route"}
	doc, problems, err := buildOpenAPI(routes, docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], `add "GET /api/v1/new-thing": {`) ||
		!strings.Contains(problems[0], "api/openapi_routes.go") || !strings.Contains(problems[0], "make openapi") ||
		!strings.Contains(problems[1], "POST /api/v1/gone") {
		t.Fatalf("problems = %q", problems)
	}
	// The route is still in the served document (without a schema).
	if !strings.Contains(string(doc), `"/api/v1/new-thing"`) {
		t.Fatal("an undeclared route is left out of the document")
	}
}

// The console's types are what the generator makes of today's document.
func TestTypesGenUpToDate(t *testing.T) {
	want, err := OpenAPITypeScript()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", filepath.FromSlash(TypesFile))
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not what the generator makes of the route table now: run `make openapi` and commit it", TypesFile)
	}
}

// The validator catches answers that do not match, and schemas that do
// not match answers: a deliberately wrong schema fails.
func TestOpenAPIValidatorCatchesMismatch(t *testing.T) {
	doc, _, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapi.NewValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	schema, ok, err := v.AnswerSchema(http.MethodGet, "/api/v1/cluster", 200)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	good, _ := json.Marshal(ClusterStatus{Status: sampleStatus()})
	if err := v.ValidateJSON(schema, good); err != nil {
		t.Fatalf("a real answer does not validate: %v", err)
	}
	var m map[string]any
	_ = json.Unmarshal(good, &m)
	for name, change := range map[string]func(map[string]any){
		"missing member": func(m map[string]any) { delete(m, "epoch") },
		"extra member":   func(m map[string]any) { m["surprise"] = 1 },
		"wrong type":     func(m map[string]any) { m["epoch"] = "7" },
		"not an enum":    func(m map[string]any) { m["role"] = "boss" },
		"bad date-time":  func(m map[string]any) { m["since"] = "yesterday" },
		"nested":         func(m map[string]any) { m["peer"].(map[string]any)["paths"].([]any)[0].(map[string]any)["up"] = "yes" },
		"null not array": func(m map[string]any) { m["active_api"] = nil },
	} {
		c := deepCopy(m)
		change(c)
		b, _ := json.Marshal(c)
		if err := v.ValidateJSON(schema, b); err == nil {
			t.Errorf("%s: validated", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// A wrong schema (epoch declared a string) fails the real answer.
	var d map[string]any
	_ = json.Unmarshal(doc, &d)
	epoch := d["components"].(map[string]any)["schemas"].(map[string]any)["ClusterStatus"].(map[string]any)["properties"].(map[string]any)["epoch"].(map[string]any)
	if epoch["type"] != "integer" {
		t.Fatalf("ClusterStatus.epoch is %v", epoch)
	}
	epoch["type"] = "string"
	wrong, _ := json.Marshal(d)
	wv, err := openapi.NewValidator([]byte(wrong))
	if err != nil {
		t.Fatal(err)
	}
	ws, _, _ := wv.AnswerSchema(http.MethodGet, "/api/v1/cluster", 200)
	if err := wv.ValidateJSON(ws, good); err == nil {
		t.Fatal("a wrong schema validated a real answer")
	}
}

// Every route of the table, driven in-process through the real
// middleware (authentication, authorization, idempotency) and handlers,
// answers what the document says: anonymously, with a session this
// appliance cannot check (503, Retry-After), and as a pair certificate
// against a store that refuses everything (the handlers' own answers and
// errors). Success answers of a real appliance are checked by
// TestOpenAPIConformance in test/e2e.
func TestOpenAPIAnswersInProcess(t *testing.T) {
	st := failingStore{}
	s := New(Options{}, docCluster{}, docPairing{}, st, auth.New(st, auth.Options{}), discard())
	h := s.routes()
	doc, _, _ := OpenAPI()
	v, err := openapi.NewValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	cert := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: "self"}}}}}
	checked := map[int]int{}
	for _, rt := range s.Routes() {
		path := strings.ReplaceAll(rt.Path, ":id", "x")
		for _, caller := range []string{"anonymous", "session", "certificate"} {
			t.Run(rt.Method+" "+rt.Path+" "+caller, func(t *testing.T) {
				// A streaming route (server-sent events) ends with its request.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				req := httptest.NewRequestWithContext(ctx, rt.Method, path, strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/json")
				switch caller {
				case "session":
					req.Header.Set("Authorization", "Bearer some-session")
				case "certificate":
					req.TLS = cert
				}
				if rt.Path == pipeline.IngestPath && caller == "certificate" {
					t.Skip("this server has no ingestor: the e2e test TestOpenAPIConformance checks this route's answers")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				checked[w.Code]++
				checkAnswer(t, v, rt, w)
			})
		}
	}
	t.Logf("answers checked by status: %v", checked)
	if checked[http.StatusServiceUnavailable] == 0 || checked[http.StatusOK] == 0 || checked[http.StatusUnauthorized] == 0 {
		t.Fatalf("statuses %v: expected 200, 401 and 503 answers among them", checked)
	}
}

// checkAnswer validates one recorded answer against the document.
func checkAnswer(t *testing.T, v *openapi.Validator, rt Route, w *httptest.ResponseRecorder) {
	t.Helper()
	path := openAPIPath(rt.Path)
	schema, isJSON, err := v.AnswerSchema(rt.Method, path, w.Code)
	if rt.Path == "/metrics" && w.Code == http.StatusNoContent {
		return // this test's server has no metrics registry
	}
	if err != nil {
		t.Fatalf("HTTP %d %s: %v", w.Code, w.Body.String(), err)
	}
	ct := w.Header().Get("Content-Type")
	if w.Code == http.StatusInternalServerError && w.Body.Len() == 0 {
		t.Fatalf("HTTP 500 with no body: the handler panicked (gin's recovery answered). If it needs a dependency this in-process server " +
			"lacks, skip the route here with the reason, as for the ingest route; TestOpenAPIConformance (test/e2e) checks it on a real appliance")
	}
	if !isJSON {
		if strings.Contains(ct, "json") {
			t.Fatalf("HTTP %d answered JSON where the document declares none: %s", w.Code, w.Body.String())
		}
		return
	}
	if !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("HTTP %d: Content-Type %q, want JSON (%s)", w.Code, ct, w.Body.String())
	}
	if err := v.ValidateJSON(schema, w.Body.Bytes()); err != nil {
		t.Fatalf("HTTP %d answer does not match the document: %v\n%s", w.Code, err, w.Body.String())
	}
	if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After: %s", w.Body.String())
	}
}

// The document is public, the same for everyone and cacheable.
func TestOpenAPIServedCacheable(t *testing.T) {
	s := New(Options{}, docCluster{}, docPairing{}, failingStore{}, auth.New(failingStore{}, auth.Options{}), discard())
	h := s.routes()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, OpenAPIPath, nil))
	if w.Code != 200 || !strings.Contains(w.Header().Get("Cache-Control"), "max-age") || w.Header().Get("ETag") == "" {
		t.Fatalf("HTTP %d, headers %v", w.Code, w.Header())
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %v", err)
	}
	req := httptest.NewRequest(http.MethodGet, OpenAPIPath, nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w2 := httptest.NewRecorder()
	h.ServeHTTP(w2, req)
	if w2.Code != http.StatusNotModified {
		t.Fatalf("revalidation: HTTP %d, want 304", w2.Code)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	return c
}

func sampleStatus() ha.Status {
	now := time.Now().UTC()
	return ha.Status{NodeID: "self", Role: ha.Active, Reason: "test", Since: now, Epoch: 7, Mode: "witness", Paired: true,
		ActiveID: "self", ActiveAPI: []string{"127.0.0.1:8443"},
		Peer: &ha.PeerStatus{ID: "peer", Reachable: true, Role: ha.Standby, Epoch: 7, APIAddrs: []string{"127.0.0.2:8443"},
			Paths: []ha.PathStatus{{Addr: "127.0.0.2:8443", Up: true, LastOK: now, RTTms: 0.4}}},
		Witness:      &ha.WitnessStatus{Mode: "witness", Addresses: []string{"w:9"}, OK: true, LastOK: now, Holder: "self", LeaseEpoch: 7},
		Store:        store.Status{Open: true, Leader: true, LeaderID: "self", Servers: []store.Server{{ID: "self", Addr: "a", Voter: true}}},
		LastFailover: &events.Event{ID: 1, UID: "u", At: now, Severity: events.Warning, Kind: "failover", Node: "self", Message: "m"},
		ActiveWork:   []string{"rules"}, Promotion: &ha.Promotion{Epoch: 7, At: now, Senior: true}, HoldUntil: now,
		OldStores: []store.OldStore{{Name: "o", Path: "/p", At: now, Bytes: 1, Merge: &store.MergeReport{At: now, Events: 1, Settings: []string{"x"}}}}}
}

// docCluster is an active appliance that is alone.
type docCluster struct{}

func (docCluster) Status(context.Context) ha.Status { return sampleStatus() }
func (docCluster) Heartbeat(in ha.Beat) ha.Beat {
	return ha.Beat{ID: "self", Role: ha.Active, Epoch: 7, At: time.Now()}
}
func (docCluster) Recover(context.Context) error { return ha.ErrIsActive }
func (docCluster) PeerLeaving(string) error      { return ha.ErrNotReady }
func (docCluster) Switchover(context.Context, time.Duration) (ha.SwitchoverReport, error) {
	return ha.SwitchoverReport{}, ha.ErrNotPaired
}
func (docCluster) Role() ha.Role                        { return ha.Active }
func (docCluster) ActiveTarget() (bool, string, string) { return false, "127.0.0.2:8443", "peer" }

// docPairing admits any verified certificate as this appliance's own.
type docPairing struct{}

func (docPairing) Join(context.Context, pairing.JoinRequest) (pairing.JoinResponse, error) {
	return pairing.JoinResponse{}, pairing.ErrCodeUnknown
}
func (docPairing) NewCode(time.Duration) (string, time.Time, error) {
	return "code", time.Now(), nil
}
func (docPairing) IsPairAppliance(pairing.Peer) bool { return true }
func (docPairing) SelfID() string                    { return "self" }
func (docPairing) Fingerprint() string               { return "ab:cd" }

// failingStore refuses every statement: the store is being re-formed.
type failingStore struct{}

var errReforming = errors.Join(store.ErrClosed)

func (failingStore) Exec(context.Context, ...store.Statement) ([]store.Result, error) {
	return nil, errReforming
}
func (failingStore) Query(context.Context, store.Level, string, ...any) (store.Rows, error) {
	return store.Rows{}, errReforming
}
func (failingStore) Checksums(context.Context) (map[string]string, error) { return nil, errReforming }
