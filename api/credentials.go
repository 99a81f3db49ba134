package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/secrets"
)

// listCredentials shows credentials of the caller's scopes, never their secrets.
func (s *Server) listCredentials(c *gin.Context) {
	cs, err := secrets.List(c.Request.Context(), s.events)
	if err != nil {
		s.authFail(c, err)
		return
	}
	p, _ := principal(c)
	out := []secrets.Credential{}
	for _, cr := range cs {
		if p.Covers(cr.Scope) {
			out = append(out, cr)
		}
	}
	c.JSON(http.StatusOK, gin.H{"credentials": out})
}

// putCredential seals and stores a credential; the secret is neither
// logged, audited nor ever returned.
func (s *Server) putCredential(c *gin.Context) {
	var in CredentialRequest
	if !decodeJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	p, _ := principal(c)
	after := credentialObject(in.Credential)
	w := auth.Write{F: auth.MonitorSetting, New: &after}
	var before any
	old, err := secrets.Get(ctx, s.events, in.Name)
	switch {
	case err == nil:
		o := credentialObject(old)
		w.Old, before = &o, old
	case !errors.Is(err, secrets.ErrNotFound):
		s.authFail(c, err)
		return
	}
	if !mayWrite(c, p, w, before, in.Credential) { // the secret is in neither
		return
	}
	err = secrets.Put(ctx, s.events, s.opts.Secrets, in.Credential, in.Secret)
	if errors.Is(err, secrets.ErrInvalid) {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, CredentialSaved{Credential: in.Name, SecretSet: true})
}
