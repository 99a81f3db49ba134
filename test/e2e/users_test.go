package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestUserDelete: DELETE /api/v1/users/:name removes a user and ends its
// sessions and tokens at once; nobody removes their own user; the last
// enabled administrator stays; every attempt is audited.
func TestUserDelete(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	mustDo := func(tok, method, path string, body any, want int) {
		t.Helper()
		var out struct{ Error string }
		if code, err := a.DoAs(tok, method, path, body, &out); code != want {
			t.Fatalf("%s %s: HTTP %d (%s %v), want %d", method, path, code, out.Error, err, want)
		}
	}
	mustDo(admin, http.MethodPost, "/api/v1/roles", auth.Role{Name: "user_manager", Scopes: []string{auth.AllScopes},
		Privileges: map[auth.Function][]auth.Action{auth.Users: {auth.Read, auth.Add, auth.Modify}}}, http.StatusCreated)
	for _, u := range []struct{ name, role string }{{"temp", auth.RoleAuditor}, {"admin2", auth.RoleAdministrator}, {"manager", "user_manager"}} {
		mustDo(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": u.name, "password": pw, "roles": []string{u.role}}, http.StatusCreated)
	}
	temp := a.Login("temp", pw)
	mustDo(temp, http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	seq := lastAuditSeq(t, a)

	mustDo(admin, http.MethodDelete, "/api/v1/users/temp", nil, http.StatusOK)
	mustDo(temp, http.MethodGet, "/api/v1/me", nil, http.StatusUnauthorized) // its session ended with it
	mustDo(admin, http.MethodDelete, "/api/v1/users/temp", nil, http.StatusNotFound)
	mustDo(admin, http.MethodDelete, "/api/v1/users/admin", nil, http.StatusConflict) // not yourself
	mustDo(temp, http.MethodDelete, "/api/v1/users/admin2", nil, http.StatusUnauthorized)
	mustDo(a.Login("admin2", pw), http.MethodDelete, "/api/v1/users/admin", nil, http.StatusOK)
	manager := a.Login("manager", pw)
	mustDo(manager, http.MethodDelete, "/api/v1/users/admin2", nil, http.StatusConflict) // the last administrator
	mustDo(manager, http.MethodDelete, "/api/v1/users/manager", nil, http.StatusConflict)

	var users struct{ Users []auth.UserInfo }
	mustDo(manager, http.MethodGet, "/api/v1/users", nil, http.StatusOK)
	a.DoAs(manager, http.MethodGet, "/api/v1/users", nil, &users)
	var names []string
	for _, u := range users.Users {
		names = append(names, u.Name)
	}
	if len(names) != 2 || names[0] != "admin2" || names[1] != "manager" {
		t.Fatalf("users after the removals: %v, want [admin2 manager]", names)
	}
	results := map[string]int{}
	for _, e := range auditSince(t, a, seq) {
		if e.Action == "DELETE /api/v1/users/:name" {
			results[e.Result+" "+e.Detail]++
		}
	}
	for _, want := range []string{"200 user temp", "404 user temp", "409 user admin", "200 user admin", "409 user admin2", "409 user manager"} {
		if results[want] != 1 {
			t.Errorf("audit rows %q: %d, want 1 (all: %v)", want, results[want], results)
		}
	}
}

// TestTokenList: a user lists their own API tokens (never the secret) and
// revokes one, which stops working at once; nobody else's token can be
// listed or revoked.
func TestTokenList(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "other", "password": pw, "roles": []string{auth.RoleAuditor}}, nil); code != http.StatusCreated {
		t.Fatalf("create user: HTTP %d %v", code, err)
	}
	other := a.Login("other", pw)
	var made struct{ Token string }
	if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "backup-script", "ttl_seconds": 3600}, &made); code != http.StatusOK {
		t.Fatalf("new token: HTTP %d %v", code, err)
	}
	type list struct{ Tokens []auth.TokenInfo }
	var mine, theirs list
	a.DoAs(admin, http.MethodGet, "/api/v1/tokens", nil, &mine)
	a.DoAs(other, http.MethodGet, "/api/v1/tokens", nil, &theirs)
	if len(mine.Tokens) != 1 || mine.Tokens[0].Name != "backup-script" || mine.Tokens[0].ExpiresAt.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("admin's tokens: %+v", mine.Tokens)
	}
	if len(theirs.Tokens) != 0 {
		t.Fatalf("another user lists admin's tokens: %+v", theirs.Tokens)
	}
	id := mine.Tokens[0].ID
	if strings.Contains(id, strings.TrimPrefix(made.Token, "mmr_")) {
		t.Fatal("the listing shows the secret")
	}
	for _, c := range []struct {
		tok, method, path string
		want              int
	}{
		{made.Token, http.MethodGet, "/api/v1/me", http.StatusOK},
		{id, http.MethodGet, "/api/v1/me", http.StatusUnauthorized}, // the id is no secret
		{other, http.MethodDelete, "/api/v1/tokens/" + id, http.StatusNotFound},
		{made.Token, http.MethodGet, "/api/v1/me", http.StatusOK},
		{admin, http.MethodDelete, "/api/v1/tokens/" + id, http.StatusOK},
		{made.Token, http.MethodGet, "/api/v1/me", http.StatusUnauthorized},
		{admin, http.MethodDelete, "/api/v1/tokens/" + id, http.StatusNotFound},
	} {
		if code, err := a.DoAs(c.tok, c.method, c.path, nil, nil); code != c.want {
			t.Fatalf("%s %s: HTTP %d %v, want %d", c.method, c.path, code, err, c.want)
		}
	}
	a.DoAs(admin, http.MethodGet, "/api/v1/tokens", nil, &mine)
	if len(mine.Tokens) != 0 {
		t.Fatalf("tokens after revoking: %+v", mine.Tokens)
	}
}
