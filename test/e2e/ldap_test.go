package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

const directory = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Operator
userPassword: alice-directory-password

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Nobody
userPassword: bob-directory-password

dn: cn=noc-operators,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: noc-operators
member: uid=alice,ou=people,dc=example,dc=com

dn: cn=canteen,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: canteen
member: uid=bob,ou=people,dc=example,dc=com
`

// LDAP logins against Debian's slapd: a directory user gets the roles
// mapped from its groups; wrong passwords, users without a mapped group
// and filter injection are refused.
func TestLDAPLogin(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	dir := cluster.StartSlapd(t, sub+".9", directory)
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{ExtraYAML: `auth:
  ldap:
    url: ` + dir.URL + `
    bind_dn: ` + dir.RootDN + `
    bind_credential: ldap-service
    user_base: ou=people,dc=example,dc=com
    user_filter: (uid=%s)
    group_base: ou=groups,dc=example,dc=com
    group_filter: (member=%s)
    group_roles:
      noc-operators: [operator_a]
`})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	role := auth.Role{Name: "operator_a", Scopes: []string{"A"}, Privileges: map[auth.Function][]auth.Action{auth.MonitorResult: {auth.Read}}}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/roles", role, nil); code != http.StatusCreated {
		t.Fatalf("create role: HTTP %d", code)
	}
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/credentials", map[string]string{"name": "ldap-service", "kind": "password", "secret": dir.RootPW}, nil); code != 200 {
		t.Fatalf("store the service account's password: HTTP %d", code)
	}

	alice := a.Login("alice", "alice-directory-password")
	var me struct {
		User  string
		Roles []string
	}
	if code, _ := a.DoAs(alice, http.MethodGet, "/api/v1/me", nil, &me); code != 200 || me.User != "alice" || !slices.Equal(me.Roles, []string{"operator_a"}) {
		t.Fatalf("alice: HTTP %d %+v", code, me)
	}
	if code, _ := a.DoAs(alice, http.MethodGet, "/api/v1/events", nil, nil); code != 200 {
		t.Fatalf("alice reads events: HTTP %d", code)
	}
	if code, _ := a.DoAs(alice, http.MethodGet, "/api/v1/users", nil, nil); code != http.StatusForbidden {
		t.Fatalf("alice lists users: HTTP %d, want 403", code)
	}
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "alice", "guess"},
		{"empty password (anonymous bind)", "alice", ""},
		{"no mapped group", "bob", "bob-directory-password"},
		{"unknown user", "carol", "x"},
		{"filter injection", "*", "alice-directory-password"},
		{"filter injection 2", "alice)(uid=*", "alice-directory-password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := a.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": tc.user, "password": tc.password}, nil)
			if code != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, want 401", code)
			}
		})
	}
}
