package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/pollers/snmp"
)

func (s *Server) listNodes(c *gin.Context) {
	p, _ := principal(c)
	ns, err := inventory.List(c.Request.Context(), s.events, p.Scopes())
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"nodes": ns})
}

func (s *Server) putNode(c *gin.Context) {
	var n inventory.Node
	if !decodeJSON(c, &n) {
		return
	}
	p, _ := principal(c)
	if !p.Sees(n.Scope) {
		fail(c, http.StatusForbidden, "scope "+n.Scope+" is outside your roles' scopes")
		return
	}
	old, err := inventory.Get(c.Request.Context(), s.events, n.ID)
	prior := replaced{found: err == nil, visible: p.Sees(old.Scope), owner: old.OwnerRole, before: old}
	if !mayReplace(c, p, "node "+n.ID, prior, auth.Inventory, n) {
		return
	}
	err = inventory.Put(c.Request.Context(), s.events, n)
	if errors.Is(err, inventory.ErrInvalid) {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"node": n.ID})
}

// snmpGet polls a node now with its own SNMP settings (check a node's
// USM settings before monitors use them).
func (s *Server) snmpGet(c *gin.Context) {
	var in struct {
		OIDs []string `json:"oids"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	p, _ := principal(c)
	n, err := inventory.Get(c.Request.Context(), s.events, c.Param("id"))
	if errors.Is(err, inventory.ErrNotFound) || (err == nil && !p.Sees(n.Scope)) {
		fail(c, http.StatusNotFound, "no such node") // invisible nodes do not exist for the caller
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	if n.SNMP == nil {
		fail(c, http.StatusBadRequest, "node "+n.ID+" has no SNMP settings")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 15*time.Second)
	defer cancel()
	t, err := s.snmpTarget(ctx, n)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	vals, err := snmp.Get(ctx, t, in.OIDs)
	if err != nil {
		fail(c, http.StatusBadGateway, err.Error())
		return
	}
	c.JSON(http.StatusOK, gin.H{"node": n.ID, "values": vals})
}

func (s *Server) snmpTarget(ctx context.Context, n inventory.Node) (snmp.Target, error) {
	cfg := n.SNMP
	t := snmp.Target{Address: n.Address, Port: cfg.Port, Version: cfg.Version, User: cfg.User, SecurityLevel: cfg.SecurityLevel,
		AuthProtocol: cfg.AuthProtocol, PrivProtocol: cfg.PrivProtocol}
	open := func(name string) (string, error) {
		if name == "" {
			return "", nil
		}
		return secrets.Reveal(ctx, s.events, s.opts.Secrets, name)
	}
	var err error
	if t.AuthKey, err = open(cfg.AuthCredential); err != nil {
		return t, err
	}
	if t.PrivKey, err = open(cfg.PrivCredential); err != nil {
		return t, err
	}
	t.Community, err = open(cfg.CommunityCredential)
	return t, err
}

// replaced is what an object being written over was (found false: it is new).
type replaced struct {
	found, visible bool   // it exists; the caller sees its scope
	owner          string // its owner role
	before         any    // as it was, for the audit row
}

// mayReplace decides whether p may write what over prior: a new object
// needs only the add privilege the route checked; an existing one must be
// in p's scopes, owned by one of p's roles (or no one), and p must hold
// modify on the function. It records the before/after audit detail.
func mayReplace(c *gin.Context, p auth.Principal, what string, prior replaced, f auth.Function, after any) bool {
	a, _ := json.Marshal(after)
	switch {
	case !prior.found:
		c.Set(ctxDetail, "after "+string(a))
		return true
	case !prior.visible:
		fail(c, http.StatusForbidden, what+" belongs to a scope outside yours")
	case !p.Owns(prior.owner):
		fail(c, http.StatusForbidden, what+" is owned by role "+prior.owner+": only its members may change it")
	case !p.Can(f, auth.Modify):
		fail(c, http.StatusForbidden, what+" exists: changing it needs modify on "+string(f))
	default:
		b, _ := json.Marshal(prior.before)
		c.Set(ctxDetail, "before "+string(b)+" after "+string(a))
		return true
	}
	return false
}
