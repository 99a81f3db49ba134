// Package auth is who may do what: users with argon2id passwords, roles
// made of per-function privileges and scopes, server-side sessions and API
// tokens kept in the replicated store (so they survive a failover), login
// lockout, and the append-only, hash-chained audit log.
package auth

import (
	"slices"
)

// Function is an area of the product a privilege applies to.
type Function string

// Functions.
const (
	Inventory      Function = "inventory"
	MonitorSetting Function = "monitor_settings"
	MonitorResult  Function = "monitor_results"
	Jobs           Function = "jobs"
	Calendars      Function = "calendars"
	Notifications  Function = "notifications"
	Users          Function = "users"
	Cluster        Function = "cluster"
	Audit          Function = "audit"
)

// Functions lists every function.
var Functions = []Function{Inventory, MonitorSetting, MonitorResult, Jobs, Calendars, Notifications, Users, Cluster, Audit}

// Action is what a privilege allows on a function.
type Action string

// Actions.
const (
	Read    Action = "read"
	Add     Action = "add"
	Modify  Action = "modify"
	Execute Action = "execute"
	Approve Action = "approve"
)

// Actions lists every action.
var Actions = []Action{Read, Add, Modify, Execute, Approve}

// AllScopes in a role's scopes means every scope.
const AllScopes = "*"

// Role is a named set of privileges bounded by scopes.
type Role struct {
	Name       string                `json:"name"`
	Privileges map[Function][]Action `json:"privileges"`
	// Scopes bound what the role sees: objects outside them do not exist
	// for its users, in every list, search and stream.
	Scopes []string `json:"scopes"`
}

// Built-in role names.
const (
	RoleAdministrator = "administrator"
	RoleAuditor       = "auditor"
)

// BuiltinRoles: the administrator may do everything except read the audit
// log; the auditor reads the audit log and nothing else (separation of duties).
func BuiltinRoles() []Role {
	admin := Role{Name: RoleAdministrator, Privileges: map[Function][]Action{}, Scopes: []string{AllScopes}}
	for _, f := range Functions {
		if f != Audit {
			admin.Privileges[f] = slices.Clone(Actions)
		}
	}
	auditor := Role{Name: RoleAuditor, Privileges: map[Function][]Action{Audit: {Read}}, Scopes: []string{AllScopes}}
	return []Role{admin, auditor}
}

// Principal is an authenticated caller with its merged privileges.
type Principal struct {
	User   string
	Roles  []string
	privs  map[Function]map[Action]bool
	scopes map[string]bool // nil: all scopes
	// System is a node certificate of this pair (the CLI on the appliance).
	System bool
}

func newPrincipal(user string, roles []Role) Principal {
	p := Principal{User: user, privs: map[Function]map[Action]bool{}, scopes: map[string]bool{}}
	all := false
	for _, r := range roles {
		p.Roles = append(p.Roles, r.Name)
		for f, acts := range r.Privileges {
			if p.privs[f] == nil {
				p.privs[f] = map[Action]bool{}
			}
			for _, a := range acts {
				p.privs[f][a] = true
			}
		}
		for _, s := range r.Scopes {
			all = all || s == AllScopes
			p.scopes[s] = true
		}
	}
	if all {
		p.scopes = nil
	}
	return p
}

// SystemPrincipal is the appliance itself, calling with its node certificate.
func SystemPrincipal(node string) Principal {
	return Principal{User: "node:" + node, System: true}
}

// Can says whether the principal holds a privilege.
func (p Principal) Can(f Function, a Action) bool {
	return p.System || p.privs[f][a]
}

// Owns says whether the principal may change an object owned by
// ownerRole: anyone with the function privilege if the object has no
// owner, else members of that role and administrators.
func (p Principal) Owns(ownerRole string) bool {
	return ownerRole == "" || p.System || slices.Contains(p.Roles, ownerRole) || slices.Contains(p.Roles, RoleAdministrator)
}

// Sees says whether an object in scope is visible to the principal.
func (p Principal) Sees(scope string) bool {
	return p.System || p.scopes == nil || p.scopes[scope]
}

// Scopes returns the visible scopes, or nil for all.
func (p Principal) Scopes() []string {
	if p.System || p.scopes == nil {
		return nil
	}
	out := make([]string, 0, len(p.scopes))
	for s := range p.scopes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
