package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/test/cluster"
)

const pw = "correct horse battery staple"

type persona struct {
	name  string
	user  string // "" for anonymous
	role  *auth.Role
	token string
}

// can says whether the persona holds a privilege, from its role definition.
func (p persona) can(f auth.Function, a auth.Action) bool {
	if p.role == nil {
		return false
	}
	return slices.Contains(p.role.Privileges[f], a)
}

func personas() []persona {
	viewer := auth.Role{Name: "viewer_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{
		auth.MonitorResult: {auth.Read}, auth.Inventory: {auth.Read}, auth.Jobs: {auth.Read}}}
	operator := auth.Role{Name: "operator_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{
		auth.MonitorResult: {auth.Read, auth.Modify}, auth.Jobs: {auth.Read, auth.Execute}, auth.Inventory: {auth.Read}}}
	editor := auth.Role{Name: "editor_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{
		auth.MonitorResult: {auth.Read, auth.Add, auth.Modify}, auth.MonitorSetting: {auth.Read, auth.Add, auth.Modify},
		auth.Jobs: {auth.Read, auth.Add, auth.Modify, auth.Execute}, auth.Inventory: {auth.Read, auth.Add, auth.Modify}}}
	var admin, auditor auth.Role
	for _, r := range auth.BuiltinRoles() {
		switch r.Name {
		case auth.RoleAdministrator:
			admin = r
		case auth.RoleAuditor:
			auditor = r
		}
	}
	return []persona{{name: "anonymous"}, {name: "viewer of A", user: "viewer", role: &viewer},
		{name: "operator of A", user: "operator", role: &operator}, {name: "editor of A", user: "editor", role: &editor},
		{name: "auditor", user: "auditor1", role: &auditor}, {name: "administrator", user: "admin", role: &admin}}
}

// routeTable is the appliance's own route table.
func routeTable() []api.Route {
	return api.New(api.Options{}, nil, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Routes()
}

// body is a harmless request body for each route a persona calls.
func body(rt api.Route, p persona, i int) any {
	switch rt.Path {
	case "/api/v1/login":
		if p.user == "" {
			return map[string]string{"user": "viewer", "password": pw}
		}
		return map[string]string{"user": p.user, "password": pw}
	case "/api/v1/events":
		return []map[string]string{{"kind": "matrix", "message": "m", "scope": "A"}}
	case "/api/v1/users":
		return map[string]any{"user": fmt.Sprintf("made%d", i), "password": pw, "roles": []string{"viewer_a"}}
	case "/api/v1/roles":
		return map[string]any{"name": fmt.Sprintf("role%d", i), "privileges": map[string]any{}, "scopes": []string{"A"}}
	case "/api/v1/nodes": // addresses are unique
		return map[string]any{"id": fmt.Sprintf("node%d", i), "address": fmt.Sprintf("10.250.%d.%d", i/250, i%250+1), "scope": "A"}
	case "/api/v1/credentials":
		return map[string]any{"name": fmt.Sprintf("cred%d", i), "kind": "password", "scope": "A", "secret": "s3cret"}
	case "/api/v1/rules":
		return map[string]any{"id": fmt.Sprintf("rule%d", i), "name": "r", "scope": "A", "kind": "syslog", "action": "drop"}
	case "/api/v1/custom-events":
		return map[string]any{"events": []map[string]string{{"node": "seed-a", "key": "matrix", "message": "m"}}}
	case "/api/v1/tokens":
		return map[string]any{"name": "t", "ttl_seconds": 60}
	case "/api/v1/me/totp": // replacing the second factor needs the password
		return map[string]any{"password": pw}
	}
	return map[string]any{}
}

// The privilege matrix: every route of the route table, called by every
// persona, answers as its declared rule says; a user of A sees nothing of
// B; every audited call leaves exactly one audit row with user and source.
func TestPrivilegeMatrix(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{ExtraYAML: newKeys(refusalWindowYAML)})
	a.CreateAdmin("admin", pw)
	adminTok := a.Login("admin", pw)
	ps := personas()
	for _, p := range ps[1:] {
		if p.role.Name != auth.RoleAdministrator && p.role.Name != auth.RoleAuditor {
			if code, err := a.DoAs(adminTok, http.MethodPost, "/api/v1/roles", p.role, nil); code != http.StatusCreated {
				t.Fatalf("create role %s: HTTP %d %v", p.role.Name, code, err)
			}
		}
		if p.user != "admin" {
			if code, err := a.DoAs(adminTok, http.MethodPost, "/api/v1/users", map[string]any{"user": p.user, "password": pw, "roles": []string{p.role.Name}}, nil); code != http.StatusCreated {
				t.Fatalf("create user %s: HTTP %d %v", p.user, code, err)
			}
		}
	}
	for i := range ps[1:] {
		ps[i+1].token = a.Login(ps[i+1].user, pw)
	}
	// Events in scope A and B, written by the appliance itself.
	if code, err := a.Do(http.MethodPost, "/api/v1/events", []map[string]string{
		{"uid": "in-a", "kind": "scoped", "message": "A", "scope": "A"}, {"uid": "in-b", "kind": "scoped", "message": "B", "scope": "B"}}, nil); code != 200 {
		t.Fatalf("seed events: HTTP %d %v", code, err)
	}
	if code, err := a.Do(http.MethodPost, "/api/v1/nodes", map[string]any{"id": "seed-a", "address": "10.251.0.1", "scope": "A"}, nil); code != 200 {
		t.Fatalf("seed node: HTTP %d %v", code, err)
	}

	seqBefore := lastAuditSeq(t, a)
	routes := routeTable()
	type auditKey struct{ user, action string }
	wantAudit := map[auditKey]bool{}
	for i, rt := range routes {
		for pi := range ps {
			p := ps[pi]
			want, ok := expected(rt, p)
			if !ok {
				t.Fatalf("route %s %s has no rule the matrix knows (access %q): declare one", rt.Method, rt.Path, rt.Access)
			}
			tok := p.token
			if strings.Contains(rt.Path, "logout") && p.user != "" {
				tok = a.Login(p.user, pw) // logging out must not end the session the matrix uses
			}
			code, err := a.DoAs(tok, rt.Method, rt.Path, body(rt, p, i*10+len(p.name)), nil)
			if err != nil {
				t.Fatalf("%s %s as %s: %v", rt.Method, rt.Path, p.name, err)
			}
			if strings.Contains(rt.Path, "logout") && p.user != "" {
				ps[pi].token = a.Login(p.user, pw) // "everywhere" ended the matrix's session too
			}
			allowed := code != http.StatusUnauthorized && code != http.StatusForbidden
			if allowed != want {
				t.Errorf("%s %s as %s: HTTP %d, want allowed=%v", rt.Method, rt.Path, p.name, code, want)
			}
			if rt.Audited && code != http.StatusUnauthorized {
				wantAudit[auditKey{p.user, rt.Method + " " + rt.Path}] = true
			}
		}
	}

	t.Run("audit rows", func(t *testing.T) {
		time.Sleep(refusalWindow + time.Second) // refusals beyond the first few are written when their window ends
		got := map[auditKey]int{}
		for _, e := range auditSince(t, a, seqBefore) {
			got[auditKey{e.User, e.Action}] += attempts(e)
			if e.Source == "" || e.Hash == "" {
				t.Fatalf("audit row without source or hash: %+v", e)
			}
		}
		for k := range wantAudit {
			if got[k] != 1 {
				t.Errorf("audit rows for %q %s: %d, want exactly 1", k.user, k.action, got[k])
			}
		}
		if got[auditKey{"admin", "login"}] < 2 || got[auditKey{"viewer", "logout"}] != 1 {
			t.Errorf("login/logout rows: admin login %d, viewer logout %d", got[auditKey{"admin", "login"}], got[auditKey{"viewer", "logout"}])
		}
	})

	t.Run("scopes", func(t *testing.T) {
		for _, p := range ps[1:4] { // the users of A
			var out struct {
				Events []struct{ UID, Scope string }
			}
			for _, q := range []string{"/api/v1/events", "/api/v1/events?kind=scoped", "/api/v1/events?limit=10000&after=0"} {
				if code, err := a.DoAs(p.token, http.MethodGet, q, nil, &out); code != 200 {
					t.Fatalf("%s lists %s: HTTP %d %v", p.name, q, code, err)
				}
				sawA := false
				for _, ev := range out.Events {
					if ev.Scope != "A" {
						t.Fatalf("%s sees %s of scope %q via %s", p.name, ev.UID, ev.Scope, q)
					}
					sawA = sawA || ev.UID == "in-a"
				}
				if !sawA {
					t.Fatalf("%s does not see its own scope's event via %s", p.name, q)
				}
			}
		}
		code, _ := a.DoAs(ps[3].token, http.MethodPost, "/api/v1/events", []map[string]string{{"kind": "x", "message": "m", "scope": "B"}}, nil)
		if code != http.StatusForbidden {
			t.Fatalf("editor of A writing into B: HTTP %d, want 403", code)
		}
	})

	t.Run("references", func(t *testing.T) { referenceRules(t, a, a.Login("admin", pw)) }) // the matrix logged adminTok out
}

func lastAuditSeq(t *testing.T, n *cluster.Node) int64 {
	t.Helper()
	var out struct{ Entries []auth.Entry }
	if code, err := n.Do(http.MethodGet, "/api/v1/audit?limit=10000", nil, &out); code != 200 {
		t.Fatalf("audit list: HTTP %d %v", code, err)
	}
	if len(out.Entries) == 0 {
		return 0
	}
	return out.Entries[len(out.Entries)-1].Seq
}

// expected applies a route's declared rule to a persona.
func expected(rt api.Route, p persona) (bool, bool) {
	switch rt.Access {
	case api.Public:
		return true, true
	case api.User:
		return p.user != "", true
	case api.Priv:
		if rt.Function == "" || rt.Action == "" {
			return false, false
		}
		return p.can(rt.Function, rt.Action), true
	case api.Node, api.Self:
		return false, true // no persona holds a node certificate
	case api.Metrics: // or the metrics token, which no persona holds
		return p.can(rt.Function, rt.Action), true
	}
	return false, false
}

// An API token limited to some of its owner's roles can do only what
// those roles allow, and never more than the owner holds.
func TestScopedAPIToken(t *testing.T) {
	skipShort(t)
	a := singleWithAdmin(t)
	admin := a.Login("admin", pw)
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "multi", "password": pw,
		"roles": []string{auth.RoleAdministrator, auth.RoleAuditor}}, nil); code != http.StatusCreated {
		t.Fatalf("create user: HTTP %d", code)
	}
	multi := a.Login("multi", pw)
	var out struct{ Token string }
	if code, _ := a.DoAs(multi, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "export-job", "ttl_seconds": 600, "roles": []string{auth.RoleAuditor}}, &out); code != 200 || out.Token == "" {
		t.Fatalf("scoped token: HTTP %d", code)
	}
	for path, want := range map[string]int{"/api/v1/audit": 200, "/api/v1/users": 403, "/api/v1/events": 403} {
		if code, _ := a.DoAs(out.Token, http.MethodGet, path, nil, nil); code != want {
			t.Errorf("GET %s with the auditor-only token: HTTP %d, want %d", path, code, want)
		}
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "escalate", "ttl_seconds": 600, "roles": []string{auth.RoleAuditor}}, nil); code != http.StatusBadRequest {
		t.Fatalf("token for a role the user does not hold: HTTP %d, want 400", code)
	}
}

// singleWithAdmin starts one appliance and creates its administrator
// "admin" (password pw).
func singleWithAdmin(t *testing.T) *cluster.Node {
	t.Helper()
	a := newSingle(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	return a
}

// Object privileges: a node owned by a role can be changed only by that
// role's members (and administrators); a change is audited with before
// and after.
func TestObjectOwnerAndAuditedChange(t *testing.T) {
	skipShort(t)
	a := singleWithAdmin(t)
	admin := a.Login("admin", pw)
	tok := map[string]string{}
	for _, team := range []string{"team_x", "team_y"} {
		r := auth.Role{Name: team, Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{auth.Inventory: {auth.Read, auth.Add, auth.Modify}}}
		if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/roles", r, nil); code != 201 {
			t.Fatalf("role %s: HTTP %d", team, code)
		}
		user := strings.ReplaceAll(team, "_", "")
		if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": user, "password": pw, "roles": []string{team}}, nil); code != 201 {
			t.Fatalf("user %s: HTTP %d", user, code)
		}
		tok[team] = a.Login(user, pw)
	}
	node := func(addr string) map[string]any {
		return map[string]any{"id": "db1", "address": addr, "scope": "A", "owner_role": "team_x"}
	}
	for _, step := range []struct {
		who  string
		addr string
		want int
	}{{tok["team_x"], "10.9.9.1", 200}, {tok["team_y"], "10.9.9.66", 403}, {tok["team_x"], "10.9.9.2", 200}, {admin, "10.9.9.3", 200}} {
		if code, _ := a.DoAs(step.who, http.MethodPost, "/api/v1/nodes", node(step.addr), nil); code != step.want {
			t.Fatalf("change db1 to %s: HTTP %d, want %d", step.addr, code, step.want)
		}
	}
	var out struct{ Entries []auth.Entry }
	if code, _ := a.Do(http.MethodGet, "/api/v1/audit?user=teamx&action=nodes", nil, &out); code != 200 || len(out.Entries) != 2 {
		t.Fatalf("teamx's node audit rows: HTTP %d, %d rows", code, len(out.Entries))
	}
	change := out.Entries[1].Detail
	if !strings.Contains(change, "before") || !strings.Contains(change, "10.9.9.1") || !strings.Contains(change, "after") || !strings.Contains(change, "10.9.9.2") {
		t.Fatalf("audit detail of the change: %q", change)
	}
	if code, _ := a.Do(http.MethodGet, "/api/v1/audit?user=teamy&action=nodes", nil, &out); code != 200 || len(out.Entries) != 1 || out.Entries[0].Result != "403" {
		t.Fatalf("refused change audit rows: %+v", out.Entries)
	}
}
