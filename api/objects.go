package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/ingest/rules"
)

// Every route that writes or uses a named object describes it to the
// scope rule (auth.Principal.MayWrite, MayUse) with the helpers here: the
// object as it is, as it will be, and every object it names. A new kind
// of object (monitor, notification, job) adds its descriptor and its
// references here and calls mayWrite.

func nodeObject(n inventory.Node) auth.Object {
	return auth.Object{Kind: "node", ID: n.ID, Scope: n.Scope, Owner: n.OwnerRole}
}

func credentialObject(cr secrets.Credential) auth.Object {
	return auth.Object{Kind: "credential", ID: cr.Name, Scope: cr.Scope}
}

func ruleObject(r rules.Rule) auth.Object {
	return auth.Object{Kind: "rule", ID: r.ID, Scope: r.Scope, Owner: r.OwnerRole}
}

// refused answers a refusal of the scope rule.
func refused(c *gin.Context, err error) {
	switch {
	case errors.Is(err, auth.ErrHidden):
		fail(c, http.StatusNotFound, err.Error())
	case errors.Is(err, auth.ErrBadReference):
		fail(c, http.StatusBadRequest, err.Error())
	default:
		fail(c, http.StatusForbidden, err.Error())
	}
}

// mayWrite applies the scope rule to w; when it allows the write it
// records the object before (nil: new) and after for the audit row.
func mayWrite(c *gin.Context, p auth.Principal, w auth.Write, before, after any) bool {
	if err := p.MayWrite(w); err != nil {
		refused(c, err)
		return false
	}
	a, _ := json.Marshal(after)
	if before == nil {
		c.Set(ctxDetail, "after "+string(a))
		return true
	}
	b, _ := json.Marshal(before)
	c.Set(ctxDetail, "before "+string(b)+" after "+string(a))
	return true
}

// credentialRef is a credential a field names.
func (s *Server) credentialRef(ctx context.Context, field, name string) (auth.Ref, error) {
	cr, err := secrets.Get(ctx, s.events, name)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return auth.Ref{Object: auth.Object{Kind: "credential", ID: name}, Field: field}, nil
	case err != nil:
		return auth.Ref{}, err
	}
	return auth.Ref{Object: credentialObject(cr), Found: true, Field: field}, nil
}

// nodeRefs are the objects a node names: its SNMP credentials.
func (s *Server) nodeRefs(ctx context.Context, n inventory.Node) ([]auth.Ref, error) {
	if n.SNMP == nil {
		return nil, nil
	}
	var refs []auth.Ref
	for _, f := range [][2]string{{"snmp.auth_credential", n.SNMP.AuthCredential}, {"snmp.priv_credential", n.SNMP.PrivCredential},
		{"snmp.community_credential", n.SNMP.CommunityCredential}} {
		if f[1] == "" {
			continue
		}
		r, err := s.credentialRef(ctx, f[0], f[1])
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// nodeByRef finds the node that a custom event's "node" names, by id
// or else by address (as the ingest does).
func (s *Server) nodeByRef(ctx context.Context, ref string) (inventory.Node, bool, error) {
	n, err := inventory.Get(ctx, s.events, ref)
	if errors.Is(err, inventory.ErrNotFound) {
		n, err = inventory.ByAddress(ctx, s.events, ref, "")
	}
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return n, false, nil
	case err != nil:
		return n, false, err
	}
	return n, true, nil
}
