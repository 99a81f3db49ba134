package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/internal/snmp"
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
	if err := n.Validate(); err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	ctx := c.Request.Context()
	p, _ := principal(c)
	after := nodeObject(n)
	w := auth.Write{F: auth.Inventory, New: &after}
	var before any
	old, err := inventory.Get(ctx, s.events, n.ID)
	switch {
	case err == nil:
		o := nodeObject(old)
		w.Old, before = &o, old
	case !errors.Is(err, inventory.ErrNotFound):
		s.authFail(c, err)
		return
	}
	if w.Refs, err = s.nodeRefs(ctx, n); err != nil {
		s.authFail(c, err)
		return
	}
	if !mayWrite(c, p, w, before, n) {
		return
	}
	err = inventory.Put(ctx, s.events, n)
	var taken *inventory.AddressTaken
	switch {
	case errors.As(err, &taken):
		// Naming the holder's scope only to a caller who sees it.
		fail(c, http.StatusConflict, "address "+taken.Address+" is already the address of "+p.Describe(nodeObject(taken.Holder))+
			": addresses are unique (received messages take the scope of the node whose address sent them)")
	case errors.Is(err, inventory.ErrAddressTaken):
		fail(c, http.StatusConflict, err.Error()+": another node has this address")
	case errors.Is(err, inventory.ErrInvalid):
		fail(c, http.StatusBadRequest, err.Error())
	case err != nil:
		s.authFail(c, err)
	default:
		c.JSON(http.StatusOK, NodeSaved{Node: n.ID})
	}
}

// snmpGet polls a node now with its own SNMP settings (check a node's
// USM settings before monitors use them).
func (s *Server) snmpGet(c *gin.Context) {
	var in SNMPGetRequest
	if !decodeJSON(c, &in) {
		return
	}
	p, _ := principal(c)
	n, err := inventory.Get(c.Request.Context(), s.events, c.Param("id"))
	if errors.Is(err, inventory.ErrNotFound) {
		fail(c, http.StatusNotFound, "no such node")
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	// The node's credentials go out to its address: the caller must see
	// them as well as the node (invisible nodes do not exist for it).
	refs, err := s.nodeRefs(c.Request.Context(), n)
	if err != nil {
		s.authFail(c, err)
		return
	}
	if err := p.MayUse(nodeObject(n), refs); err != nil {
		refused(c, err)
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
	c.JSON(http.StatusOK, SNMPValues{Node: n.ID, Values: vals})
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
