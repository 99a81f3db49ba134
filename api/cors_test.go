package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The peer appliance's console origins, and only they, get CORS answers
// and a place in connect-src; every other origin meets the cross-origin
// protection as before.
func TestPeerCORS(t *testing.T) {
	s := newStreamEnv(t, fastStream, nil).srv // refusals are audited: a real store
	s.opts.PeerAPI = func() []string { return []string{"10.0.0.2:8443", "10.0.0.3:443", "0.0.0.0:8443"} }
	h := s.routes()
	const peer, foreign = "https://10.0.0.2:8443", "https://evil.example"
	tests := []struct {
		name, method, path, origin, site string
		code                             int  // 0: not checked
		allowed                          bool // Access-Control-Allow-Origin is the origin
	}{
		{"peer preflight", "OPTIONS", "/api/v1/events", peer, "cross-site", 204, true},
		{"peer on port 443", "OPTIONS", "/api/v1/events", "https://10.0.0.3", "cross-site", 204, true},
		{"foreign preflight", "OPTIONS", "/api/v1/events", foreign, "cross-site", 0, false},
		{"peer read", "GET", "/api/v1/cluster", peer, "cross-site", 401, true},
		{"foreign read", "GET", "/api/v1/cluster", foreign, "cross-site", 401, false},
		{"peer write", "POST", "/api/v1/logout", peer, "cross-site", 401, true},
		{"foreign write", "POST", "/api/v1/logout", foreign, "cross-site", 403, false},
		{"http origin of the peer's address", "POST", "/api/v1/logout", "http://10.0.0.2:8443", "cross-site", 403, false},
		{"unspecified address is no origin", "POST", "/api/v1/logout", "https://0.0.0.0:8443", "cross-site", 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Sec-Fetch-Site", tc.site)
			if tc.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tc.code != 0 && rec.Code != tc.code {
				t.Errorf("HTTP %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			got := rec.Header().Get("Access-Control-Allow-Origin")
			if (got == tc.origin) != tc.allowed || (!tc.allowed && got != "") {
				t.Errorf("Access-Control-Allow-Origin %q, want allowed=%v", got, tc.allowed)
			}
			if tc.allowed && tc.method == "OPTIONS" && !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Errorf("preflight allows headers %q", rec.Header().Get("Access-Control-Allow-Headers"))
			}
		})
	}
	csp := s.csp()
	for _, want := range []string{"connect-src 'self' https://10.0.0.2:8443 https://10.0.0.3;", "script-src 'self';"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "0.0.0.0") || strings.Contains(csp, "evil") {
		t.Errorf("CSP %q names more than the peer", csp)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/nothing", nil))
	if rec.Header().Get("Content-Security-Policy") != csp {
		t.Errorf("answers carry CSP %q, want %q", rec.Header().Get("Content-Security-Policy"), csp)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("a same-origin answer carries Access-Control-Allow-Origin")
	}
}
