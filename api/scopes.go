package api

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

// ScopeUse is one scope the caller sees and how many objects carry it.
// A scope is only a name that nodes, rules, credentials and roles carry
// (there is no scope object to create or delete): it exists while
// something carries it, and a scope of the caller's roles is listed even
// when nothing carries it yet. The empty name is "no scope" (objects of
// every scope, seen by all-scope roles only).
type ScopeUse struct {
	Name        string `json:"name"`
	Nodes       int    `json:"nodes"`
	Rules       int    `json:"rules"`
	Credentials int    `json:"credentials"`
}

// listScopes answers the scopes the caller sees, with what carries them.
// Bounded as the lists it reads (nodes, rules, credentials).
func (s *Server) listScopes(c *gin.Context) {
	ctx := c.Request.Context()
	p, _ := principal(c)
	uses := map[string]*ScopeUse{}
	use := func(name string) *ScopeUse {
		if uses[name] == nil {
			uses[name] = &ScopeUse{Name: name}
		}
		return uses[name]
	}
	for _, sc := range p.Scopes() { // nil (every scope): only what carries one
		use(sc)
	}
	ns, err := inventory.List(ctx, s.events, p.Scopes())
	if err != nil {
		s.authFail(c, err)
		return
	}
	for _, n := range ns {
		use(n.Scope).Nodes++
	}
	rs, err := pipeline.ListRules(ctx, s.events, p.Scopes())
	if err != nil {
		s.authFail(c, err)
		return
	}
	for _, r := range rs {
		use(r.Scope).Rules++
	}
	cs, err := secrets.List(ctx, s.events)
	if err != nil {
		s.authFail(c, err)
		return
	}
	for _, cr := range cs {
		if p.Covers(cr.Scope) {
			use(cr.Scope).Credentials++
		}
	}
	out := make([]ScopeUse, 0, len(uses))
	for _, u := range uses {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b ScopeUse) int { return cmp.Compare(a.Name, b.Name) })
	c.JSON(http.StatusOK, ScopeList{Scopes: out})
}

// ScopeList answers GET /api/v1/scopes.
type ScopeList struct {
	Scopes []ScopeUse `json:"scopes"`
}
