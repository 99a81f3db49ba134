package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
)

func decodeJSON(c *gin.Context, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 64<<10)).Decode(v); err != nil {
		fail(c, http.StatusBadRequest, "bad request body: "+err.Error())
		return false
	}
	return true
}

// authFail maps auth and store errors to answers.
func (s *Server) authFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrWeakPassword):
		fail(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, auth.ErrExists):
		fail(c, http.StatusConflict, err.Error())
	default:
		s.storeFail(c, err)
	}
}

func (s *Server) login(c *gin.Context) {
	var in LoginRequest
	if !decodeJSON(c, &in) {
		return
	}
	if len(in.User) > 256 || len(in.Password) > 1024 || len(in.TOTP) > 16 {
		fail(c, http.StatusBadRequest, "user is at most 256 bytes, password 1024, totp 16")
		return
	}
	if !s.authoritative() {
		// Its copy of the users may be old or absent: log in at the active.
		s.refuseLogin(c, in.User, "refused: appliance is "+string(s.cluster.Role()))
		s.unavailable(c, CodeNotActive, "this appliance is "+string(s.cluster.Role())+" and cannot log anyone in: log in at the active appliance")
		return
	}
	tok, p, err := s.auth.Login(c.Request.Context(), in.User, in.Password, in.TOTP, sourceIP(c.Request), c.Request.UserAgent())
	switch {
	case errors.Is(err, auth.ErrLocked):
		s.refuseLogin(c, in.User, "refused: locked")
		fail(c, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, auth.ErrSourceLimited):
		s.refuseLogin(c, in.User, "refused: address limited")
		fail(c, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, auth.ErrBusy):
		s.refuseLogin(c, in.User, "refused: busy")
		c.Header("Retry-After", "1")
		fail(c, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrTOTP):
		s.refuseLogin(c, in.User, "failed")
		fail(c, http.StatusUnauthorized, err.Error())
	case err != nil:
		s.authFail(c, err)
	default:
		s.writeAudit(c, in.User, "login", "/api/v1/login", "ok", "")
		setSessionCookie(c, tok, 0)
		c.JSON(http.StatusOK, LoginAnswer{Token: tok, User: p.User, Roles: p.Roles})
	}
}

func (s *Server) logout(c *gin.Context) {
	p, _ := principal(c)
	if tok := c.GetString(ctxToken); tok != "" {
		if err := s.auth.Logout(c.Request.Context(), tok); err != nil {
			s.authFail(c, err)
			return
		}
	}
	s.writeAudit(c, p.User, "logout", "/api/v1/logout", "ok", "")
	setSessionCookie(c, "", -1)
	c.JSON(http.StatusOK, LoggedOut{LoggedOut: true})
}

// setSessionCookie writes the session cookie: HTTPS only, invisible to
// scripts, and never sent with a request another site starts.
func setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (s *Server) logoutEverywhere(c *gin.Context) {
	p, _ := principal(c)
	if err := s.auth.LogoutEverywhere(c.Request.Context(), p.User); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, LoggedOut{LoggedOut: true})
}

func (s *Server) me(c *gin.Context) {
	p, _ := principal(c)
	zone, offset := applianceZone(time.Now())
	privs := map[auth.Function][]auth.Action{}
	for _, f := range auth.Functions {
		for _, a := range auth.Actions {
			if p.Can(f, a) {
				privs[f] = append(privs[f], a)
			}
		}
	}
	c.JSON(http.StatusOK, Me{User: p.User, Roles: p.Roles, Scopes: p.Scopes(), TimeZone: zone, UTCOffsetSeconds: offset, Privileges: privs})
}

func (s *Server) newToken(c *gin.Context) {
	var in TokenRequest
	if !decodeJSON(c, &in) {
		return
	}
	if in.TTLSeconds <= 0 || in.TTLSeconds > 366*24*3600 {
		fail(c, http.StatusBadRequest, "ttl_seconds must be between 1 and one year")
		return
	}
	if len(in.Name) > 128 || len(in.Roles) > 64 {
		fail(c, http.StatusBadRequest, "name is at most 128 bytes; at most 64 roles")
		return
	}
	p, _ := principal(c)
	c.Set(ctxDetail, "token "+in.Name)
	tok, err := s.auth.NewToken(c.Request.Context(), p, in.Name, in.Roles, sourceIP(c.Request), c.Request.UserAgent(), time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, TokenAnswer{Token: tok})
}

// listTokens lists the caller's own API tokens (never their secrets).
func (s *Server) listTokens(c *gin.Context) {
	p, _ := principal(c)
	ts, err := s.auth.Tokens(c.Request.Context(), p.User)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, TokenList{Tokens: ts})
}

// revokeToken ends one of the caller's own API tokens.
func (s *Server) revokeToken(c *gin.Context) {
	p, _ := principal(c)
	id := c.Param("id")
	c.Set(ctxDetail, "token "+id)
	err := s.auth.RevokeToken(c.Request.Context(), p.User, id)
	switch {
	case errors.Is(err, auth.ErrNoToken):
		fail(c, http.StatusNotFound, err.Error())
	case err != nil:
		s.authFail(c, err)
	default:
		c.JSON(http.StatusOK, TokenRevoked{Revoked: id})
	}
}

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.auth.Users(c.Request.Context())
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": us})
}

type newUser struct {
	User     string   `json:"user"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

func (s *Server) createUser(c *gin.Context) {
	var in newUser
	if !decodeJSON(c, &in) {
		return
	}
	c.Set(ctxDetail, "user "+in.User+" roles "+strconv.Quote(joinRoles(in.Roles)))
	if err := s.auth.CreateUser(c.Request.Context(), in.User, in.Password, in.Roles); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, UserCreated{User: in.User})
}

// deleteUser removes a user, ending its sessions and tokens. Nobody
// removes their own user (another administrator does), and the last
// enabled administrator stays.
func (s *Server) deleteUser(c *gin.Context) {
	name := c.Param("name")
	p, _ := principal(c)
	c.Set(ctxDetail, "user "+name)
	if name == p.User {
		fail(c, http.StatusConflict, "you cannot remove your own user: ask another administrator")
		return
	}
	err := s.auth.DeleteUser(c.Request.Context(), name)
	switch {
	case errors.Is(err, auth.ErrNoUser):
		fail(c, http.StatusNotFound, err.Error())
	case errors.Is(err, auth.ErrLastAdministrator):
		fail(c, http.StatusConflict, err.Error())
	case err != nil:
		s.authFail(c, err)
	default:
		c.JSON(http.StatusOK, UserDeleted{Deleted: name})
	}
}

func joinRoles(rs []string) string {
	b, _ := json.Marshal(rs)
	return string(b)
}

func (s *Server) listRoles(c *gin.Context) {
	rs, err := s.auth.Roles(c.Request.Context())
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"roles": rs})
}

func (s *Server) createRole(c *gin.Context) {
	var r auth.Role
	if !decodeJSON(c, &r) {
		return
	}
	b, _ := json.Marshal(r)
	c.Set(ctxDetail, "after "+string(b))
	if err := s.auth.CreateRole(c.Request.Context(), r); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, RoleCreated{Role: r.Name})
}

// listAudit serves the audit log to the auditor: filter by user, action
// (substring), since/until (RFC 3339), page with after/limit, and export
// with format=csv.
func (s *Server) listAudit(c *gin.Context) {
	f := auth.AuditFilter{User: c.Query("user"), Action: c.Query("action")}
	var err error
	parse := func(name string, into func(string) error) {
		if v := c.Query(name); v != "" && err == nil {
			if e := into(v); e != nil {
				err = fmt.Errorf("%s: %v", name, e)
			}
		}
	}
	parse("after", func(v string) (e error) { f.After, e = strconv.ParseInt(v, 10, 64); return })
	parse("limit", func(v string) (e error) { f.Limit, e = strconv.Atoi(v); return })
	parse("since", func(v string) (e error) { f.Since, e = time.Parse(time.RFC3339, v); return })
	parse("until", func(v string) (e error) { f.Until, e = time.Parse(time.RFC3339, v); return })
	if err != nil {
		fail(c, http.StatusBadRequest, "bad filter "+err.Error())
		return
	}
	if c.Query("format") == "csv" {
		s.writeAuditCSV(c, f)
		return
	}
	f.MaxBytes = maxAnswerBytes
	es, more, err := auth.ListAudit(c.Request.Context(), s.events, f)
	if err != nil {
		s.authFail(c, err)
		return
	}
	pg := page{more: more}
	if more {
		pg.next = nextPage(c, "asc", es[len(es)-1].Seq)
	}
	c.JSON(http.StatusOK, pg.add(gin.H{"entries": es}))
}

// writeAuditCSV streams the export page by page (each bounded in bytes),
// so an export of any length holds one page in memory. Cells that a
// spreadsheet would run as a formula are neutralised.
func (s *Server) writeAuditCSV(c *gin.Context, f auth.AuditFilter) {
	want := f.Limit
	if want <= 0 || want > 10000 {
		want = 1000
	}
	f.MaxBytes = maxAnswerBytes
	var w *csv.Writer
	for want > 0 {
		f.Limit = want
		es, more, err := auth.ListAudit(c.Request.Context(), s.events, f)
		if err != nil && w == nil {
			s.authFail(c, err)
			return
		}
		if err != nil {
			s.log.Warn("audit export cut short", "err", err) // the answer has begun: the client sees it end early
			break
		}
		if w == nil {
			c.Header("Content-Type", "text/csv; charset=utf-8")
			c.Header("Content-Disposition", `attachment; filename="mamori-audit.csv"`)
			w = csv.NewWriter(c.Writer)
			_ = w.Write([]string{"seq", "at", "user", "source", "user_agent", "action", "object", "result", "detail", "prev_hash", "hash"})
		}
		for _, e := range es {
			_ = w.Write(csvSafe(strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), e.User, e.Source, e.UserAgent,
				e.Action, e.Object, e.Result, e.Detail, e.PrevHash, e.Hash))
		}
		w.Flush()
		if !more || len(es) == 0 {
			break
		}
		want -= len(es)
		f.After = es[len(es)-1].Seq
	}
}

// csvSafe neutralises cells that spreadsheets would evaluate (=, +, -,
// @, tab, carriage return first: formula injection) by prefixing a
// quote, as OWASP recommends; the value stays readable.
func csvSafe(cells ...string) []string {
	for i, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}

func (s *Server) verifyAudit(c *gin.Context) {
	rep, err := auth.Verify(c.Request.Context(), s.events)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// createAdmin creates an administrator (the CLI on the appliance: there
// is no default password, so the first one is made this way).
func (s *Server) createAdmin(c *gin.Context) {
	var in newUser
	if !decodeJSON(c, &in) {
		return
	}
	c.Set(ctxDetail, "administrator "+in.User)
	if err := s.auth.CreateUser(c.Request.Context(), in.User, in.Password, []string{auth.RoleAdministrator}); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusCreated, UserCreated{User: in.User})
}

// enrolTOTP starts (or replaces) the caller's second factor. It needs the
// password and, if a second factor is active, a current code from it: a
// stolen session or token alone must not be able to replace it.
func (s *Server) enrolTOTP(c *gin.Context) {
	var in TOTPEnrolRequest
	if !decodeJSON(c, &in) {
		return
	}
	p, _ := principal(c)
	err := s.auth.Reauthenticate(c.Request.Context(), p.User, in.Password, in.TOTP, sourceIP(c.Request))
	switch {
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrTOTP):
		fail(c, http.StatusForbidden, "changing the second factor needs your password (\"password\") and, if one is active, a current code (\"totp\"): "+err.Error())
		return
	case errors.Is(err, auth.ErrLocked), errors.Is(err, auth.ErrSourceLimited), errors.Is(err, auth.ErrBusy):
		fail(c, http.StatusTooManyRequests, err.Error())
		return
	case err != nil:
		s.authFail(c, err)
		return
	}
	sec, uri, err := s.auth.EnrolTOTP(c.Request.Context(), p.User)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, TOTPEnrolment{Secret: sec, OtpauthURI: uri, Next: "POST /api/v1/me/totp/confirm with a current code"})
}

func (s *Server) confirmTOTP(c *gin.Context) {
	var in TOTPConfirmRequest
	if !decodeJSON(c, &in) {
		return
	}
	p, _ := principal(c)
	if err := s.auth.ConfirmTOTP(c.Request.Context(), p.User, in.Code); err != nil {
		if errors.Is(err, auth.ErrTOTP) {
			fail(c, http.StatusBadRequest, err.Error())
			return
		}
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, TOTPEnabled{TOTP: "enabled"})
}

// TokenList answers GET /api/v1/tokens: the caller's own, never a secret.
type TokenList struct {
	Tokens []auth.TokenInfo `json:"tokens"`
}

// TokenRevoked answers DELETE /api/v1/tokens/:id.
type TokenRevoked struct {
	Revoked string `json:"revoked"`
}

// UserDeleted answers DELETE /api/v1/users/:name.
type UserDeleted struct {
	Deleted string `json:"deleted"`
}
