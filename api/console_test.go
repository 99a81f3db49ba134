package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
)

// The console is served for paths outside the route table: its files with
// the right type and cache lifetime, index.html for client-side routes,
// and never for /api/ or /internal/ paths, which keep their JSON 404.
func TestConsoleServing(t *testing.T) {
	files := fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc123.css": {Data: []byte(`body{}`)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	}
	h := (&Server{opts: Options{Console: files, Registry: prometheus.NewRegistry()}}).routes()
	tests := []struct {
		method, path string
		code         int
		ctype, cache string // prefixes; "" = not checked
		body         string // a part of the body
	}{
		{"GET", "/", 200, "text/html", "no-store", "<!doctype html>"},
		{"GET", "/index.html", 200, "text/html", "no-store", "<!doctype html>"},
		{"GET", "/events", 200, "text/html", "no-store", "<!doctype html>"},
		{"GET", "/cluster/paths", 200, "text/html", "no-store", "<!doctype html>"},
		{"HEAD", "/cluster", 200, "text/html", "no-store", ""},
		{"GET", "/assets/index-abc123.js", 200, "text/javascript", "public, max-age=31536000, immutable", "console.log"},
		{"GET", "/assets/index-abc123.css", 200, "text/css", "public, max-age=31536000, immutable", "body"},
		{"GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg"},
		{"GET", "/assets/index-old.js", 404, "application/json", "", `"code":"not_found"`},
		{"GET", "/favicon.ico", 404, "application/json", "", `"code":"not_found"`},
		{"GET", "/api/v1/nothing", 404, "application/json", "no-store", `"code":"not_found"`},
		{"GET", "/api", 404, "application/json", "", `"code":"not_found"`},
		{"GET", "/internal/v1/nothing", 404, "application/json", "", `"code":"not_found"`},
		{"POST", "/events", 404, "application/json", "", `"code":"not_found"`},
		{"GET", "/../../etc/passwd", 200, "text/html", "no-store", "<!doctype html>"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if cc := rec.Header().Get("Cache-Control"); tc.cache != "" && cc != tc.cache {
				t.Errorf("Cache-Control %q, want %q", cc, tc.cache)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); csp != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q, want %q", csp, contentSecurityPolicy)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body %q does not hold %q", rec.Body, tc.body)
			}
		})
	}
}

// Without a console (Options.Console nil) every unknown path is the JSON 404.
func TestNoConsole(t *testing.T) {
	h := (&Server{opts: Options{Registry: prometheus.NewRegistry()}}).routes()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	var body struct{ Code string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusNotFound || body.Code != "not_found" {
		t.Fatalf("GET / without a console: HTTP %d %s", rec.Code, rec.Body)
	}
}

// The policy names no inline source and no other origin.
func TestContentSecurityPolicyStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(contentSecurityPolicy, bad) {
			t.Errorf("the Content-Security-Policy allows %q: %s", bad, contentSecurityPolicy)
		}
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(contentSecurityPolicy, want) {
			t.Errorf("the Content-Security-Policy lacks %q: %s", want, contentSecurityPolicy)
		}
	}
}
