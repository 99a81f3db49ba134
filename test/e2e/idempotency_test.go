package e2e

import (
	"net/http"
	"testing"

	"github.com/mamori-ops/mamori/test/cluster"
)

// A write resent with the same Idempotency-Key is applied once and
// answered with the first answer; the key with another request is
// refused; an answer that held a secret is not kept; events without uids
// get uids from the key, so a resent batch stores nothing twice.
func TestIdempotencyKeys(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	tok := a.Login("admin", pw)
	send := func(key, method, path string, in any) (int, http.Header, map[string]any) {
		t.Helper()
		var out map[string]any
		code, hdr, err := a.DoWithHeaders(tok, method, path, map[string]string{"Idempotency-Key": key}, in, &out)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return code, hdr, out
	}
	rule := map[string]any{"id": "r1", "name": "disk", "scope": "", "position": 1, "enabled": true, "kind": "syslog", "pattern": "disk", "action": "notify", "priority": "critical"}
	code, hdr, first := send("k-rule", http.MethodPost, "/api/v1/rules", rule)
	if code != 200 || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first rule write: HTTP %d %v", code, first)
	}
	code, hdr, again := send("k-rule", http.MethodPost, "/api/v1/rules", rule)
	if code != 200 || hdr.Get("Idempotent-Replayed") != "true" || again["id"] != first["id"] {
		t.Fatalf("resent rule write: HTTP %d replayed=%q %v (first %v)", code, hdr.Get("Idempotent-Replayed"), again, first)
	}
	rule["pattern"] = "other"
	if code, _, out := send("k-rule", http.MethodPost, "/api/v1/rules", rule); code != http.StatusUnprocessableEntity || out["code"] != "idempotency_key_reused" {
		t.Fatalf("key reused for another request: HTTP %d %v", code, out)
	}
	// A new user: created once; the resend does not fail with "exists".
	user := map[string]any{"user": "op1", "password": pw, "roles": []string{"administrator"}}
	if code, _, out := send("k-user", http.MethodPost, "/api/v1/users", user); code != 201 {
		t.Fatalf("create user: HTTP %d %v", code, out)
	}
	if code, hdr, out := send("k-user", http.MethodPost, "/api/v1/users", user); code != 201 || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("resent create user: HTTP %d %v", code, out)
	}
	// A token is a secret: the resend is recognised, the token not repeated.
	if code, _, out := send("k-tok", http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci", "ttl_seconds": 60}); code != 200 || out["token"] == nil {
		t.Fatalf("token: HTTP %d %v", code, out)
	}
	if code, _, out := send("k-tok", http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci", "ttl_seconds": 60}); code != http.StatusConflict || out["code"] != "already_applied" || out["token"] != nil {
		t.Fatalf("resent token: HTTP %d %v", code, out)
	}
	// Events without uids, sent twice with one key: stored once.
	evs := []map[string]any{{"kind": "test.idem", "message": "one"}, {"kind": "test.idem", "message": "two"}}
	for range 2 {
		if code, _, out := send("k-events", http.MethodPost, "/api/v1/events", evs); code != 200 {
			t.Fatalf("events: HTTP %d %v", code, out)
		}
	}
	if n := len(a.Events("test.idem")); n != 2 {
		t.Fatalf("events stored: %d, want 2", n)
	}
	// Without a key, nothing changes: each request is its own.
	var out map[string]any
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/events", evs, &out); code != 200 || len(a.Events("test.idem")) != 4 {
		t.Fatalf("events without a key: HTTP %d, %d stored", code, len(a.Events("test.idem")))
	}
}
