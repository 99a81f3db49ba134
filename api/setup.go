package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/setup"
)

// Setup is the first-boot side of the appliance (serve.go): its setup
// token, and joining a pair while running.
type Setup interface {
	// Token is the current setup token ("" when there is none).
	Token() string
	// Void removes the token: an administrator exists.
	Void()
	// Preview reads the CA fingerprint peer presents and whether it
	// matches the code's pin; it sends nothing but a TLS handshake.
	Preview(ctx context.Context, peer, code string) (fingerprint string, matches bool, err error)
	// Join redeems code at peer; on success the appliance holds the
	// answer until Reform.
	Join(ctx context.Context, peer, code string) (pairing.JoinResult, error)
	// Reform stops this appliance's serving components, installs the
	// join's answer and starts again as the pair's second appliance.
	Reform()
	// Info is what the wizard shows of this appliance's configuration.
	Info() SetupInfo
}

// SetupInfo is the configuration the wizard shows (nothing secret).
type SetupInfo struct {
	NodeID string `json:"node_id"`
	// APIAddress is the address a joining appliance gives as the peer.
	APIAddress       string   `json:"api_address"`
	HAMode           string   `json:"ha_mode"`
	Witness          string   `json:"witness,omitempty"`
	WitnessAddresses []string `json:"witness_addresses"`
	// Reforming: a join succeeded and the appliance is restarting as
	// the pair's second appliance.
	Reforming bool `json:"reforming"`
}

// SetupStatus answers GET /api/v1/setup.
type SetupStatus struct {
	SetupInfo
	// NeedsSetup: no administrator yet; the first-boot routes take the
	// setup token.
	NeedsSetup bool    `json:"needs_setup"`
	Paired     bool    `json:"paired"`
	PeerID     string  `json:"peer_id,omitempty"`
	Role       ha.Role `json:"role"`
	// StoreJoined: (a joiner) its store has joined the peer's.
	StoreJoined bool `json:"store_joined"`
}

// Error codes of the first-boot routes.
const (
	CodeSetupToken   = "setup_token"  // wrong setup token
	CodeSetupDone    = "setup_done"   // an administrator exists: the token is void
	CodePairingCode  = "pairing_code" // not a pairing code, or refused by the peer
	CodeFingerprint  = "fingerprint"  // the peer's CA is not the code's
	CodePeerNotFound = "peer_unreachable"
)

// setupStatus says whether this appliance needs its first-boot setup.
func (s *Server) setupStatus(c *gin.Context) {
	if s.opts.Setup == nil {
		fail(c, http.StatusNotFound, "this appliance has no first-boot setup")
		return
	}
	has, err := s.auth.HasAdministrator(c.Request.Context())
	if err != nil {
		s.unavailable(c, CodeUnavailable, "this appliance is starting and cannot read its users yet: retry in a moment")
		return
	}
	st := s.cluster.Status(c.Request.Context())
	out := SetupStatus{SetupInfo: s.opts.Setup.Info(), NeedsSetup: !has, Role: st.Role, Paired: st.Peer != nil}
	if st.Peer != nil {
		out.PeerID = st.Peer.ID
		out.StoreJoined = st.Store.LeaderID != ""
	}
	c.JSON(http.StatusOK, out)
}

// setupAllowed checks the setup token of a first-boot call: only while no
// administrator exists, and a wrong one counts against the address like a
// failed login. It answers the refusal itself.
func (s *Server) setupAllowed(c *gin.Context, token string) bool {
	if s.opts.Setup == nil {
		fail(c, http.StatusNotFound, "this appliance has no first-boot setup")
		return false
	}
	src := sourceIP(c.Request)
	if s.auth.SourceLimited(src) {
		fail(c, http.StatusTooManyRequests, "too many wrong setup tokens or logins from this address: wait a few minutes and retry")
		return false
	}
	has, err := s.auth.HasAdministrator(c.Request.Context())
	switch {
	case err != nil:
		s.unavailable(c, CodeUnavailable, "this appliance cannot read its users yet: retry in a moment")
		return false
	case has:
		s.opts.Setup.Void()
		// Not a refusal of the caller: the appliance is past its setup.
		failCode(c, http.StatusConflict, CodeSetupDone, "this appliance has an administrator: the setup token is void; log in instead")
		return false
	case !setup.Matches(token, s.opts.Setup.Token()):
		s.auth.SourceFailed(c.Request.Context(), src)
		c.Set(ctxDetail, "wrong setup token")
		failCode(c, http.StatusForbidden, CodeSetupToken, "wrong setup token: run `mamori setup-token` on the appliance, or read it in the log of `mamori serve`")
		return false
	}
	return true
}

// setupToken checks a setup token without changing anything (the
// wizard's first step).
func (s *Server) setupToken(c *gin.Context) {
	var in SetupTokenRequest
	if !decodeJSON(c, &in) || !s.setupAllowed(c, in.Token) {
		return
	}
	c.JSON(http.StatusOK, SetupTokenOK{OK: true})
}

// setupAdmin creates the first administrator and logs it in; the setup
// token is void from then on.
func (s *Server) setupAdmin(c *gin.Context) {
	var in SetupAdminRequest
	if !decodeJSON(c, &in) || !s.setupAllowed(c, in.Token) {
		return
	}
	if len(in.User) > 256 || len(in.Password) > 1024 {
		fail(c, http.StatusBadRequest, "user is at most 256 bytes, password 1024")
		return
	}
	c.Set(ctxDetail, "administrator "+in.User)
	ctx := c.Request.Context()
	if err := s.auth.CreateUser(ctx, in.User, in.Password, []string{auth.RoleAdministrator}); err != nil {
		s.authFail(c, err)
		return
	}
	s.opts.Setup.Void()
	tok, p, err := s.auth.Login(ctx, in.User, in.Password, "", sourceIP(c.Request), c.Request.UserAgent())
	if err != nil {
		s.authFail(c, err)
		return
	}
	setSessionCookie(c, tok, 0)
	c.JSON(http.StatusCreated, SetupAdminCreated{User: p.User, Roles: p.Roles})
}

// SetupTokenRequest checks a setup token.
type SetupTokenRequest struct {
	Token string `json:"token"`
}

// SetupTokenOK: the token is right.
type SetupTokenOK struct {
	OK bool `json:"ok"`
}

// SetupAdminRequest creates the first administrator.
type SetupAdminRequest struct {
	Token    string `json:"token"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// SetupAdminCreated: the administrator, logged in (the session cookie is set).
type SetupAdminCreated struct {
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

// PairPreview is the peer's CA fingerprint, to confirm before joining.
type PairPreview struct {
	Peer        string `json:"peer"`
	Fingerprint string `json:"fingerprint"`
}

// PairJoinAnswer: the join succeeded; the appliance re-forms as the second.
type PairJoinAnswer struct {
	PeerID      string `json:"peer_id"`
	Fingerprint string `json:"fingerprint"`
}

// SetupJoinRequest previews or joins a pair (the wizard's "join").
type SetupJoinRequest struct {
	Token string `json:"token"`
	Peer  string `json:"peer"`
	Code  string `json:"code"`
	// Fingerprint (join only) is the one the operator confirmed.
	Fingerprint string `json:"fingerprint"`
}

// setupPairPreview shows the peer's CA fingerprint before anything
// secret is sent to it.
func (s *Server) setupPairPreview(c *gin.Context) {
	var in SetupJoinRequest
	if !decodeJSON(c, &in) || !s.setupAllowed(c, in.Token) {
		return
	}
	fp, matches, err := s.opts.Setup.Preview(c.Request.Context(), in.Peer, in.Code)
	switch {
	case errors.Is(err, pairing.ErrBadCode):
		failCode(c, http.StatusBadRequest, CodePairingCode, err.Error())
	case err != nil:
		failCode(c, http.StatusBadGateway, CodePeerNotFound, err.Error())
	case !matches:
		failCode(c, http.StatusConflict, CodeFingerprint, "the appliance at "+in.Peer+" presents CA "+fp+", which is not the one this pairing code was made for: check the address and the code")
	default:
		c.JSON(http.StatusOK, PairPreview{Peer: in.Peer, Fingerprint: fp})
	}
}

// setupPairJoin joins the pair whose first appliance is at peer, then
// re-forms this appliance as its second (the answer goes out first).
func (s *Server) setupPairJoin(c *gin.Context) {
	var in SetupJoinRequest
	if !decodeJSON(c, &in) || !s.setupAllowed(c, in.Token) {
		return
	}
	c.Set(ctxDetail, "join "+in.Peer)
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Minute)
	defer cancel()
	fp, matches, err := s.opts.Setup.Preview(ctx, in.Peer, in.Code)
	if err == nil && (!matches || fp != in.Fingerprint) {
		failCode(c, http.StatusConflict, CodeFingerprint, "the appliance at "+in.Peer+" now presents CA "+fp+", not the one you confirmed: nothing was sent; check the address")
		return
	}
	res, err := s.opts.Setup.Join(ctx, in.Peer, in.Code)
	var refused *pairing.RefusedError
	switch {
	case errors.Is(err, pairing.ErrBadCode):
		failCode(c, http.StatusBadRequest, CodePairingCode, err.Error())
	case errors.As(err, &refused) && refused.Status == http.StatusForbidden:
		failCode(c, http.StatusForbidden, CodePairingCode, refused.Error()+"; nothing changed on either appliance")
	case errors.As(err, &refused):
		fail(c, http.StatusConflict, refused.Error()+"; nothing changed on either appliance")
	case errors.Is(err, ha.ErrPaired):
		fail(c, http.StatusConflict, err.Error())
	case errors.Is(err, pairing.ErrPinMismatch):
		failCode(c, http.StatusConflict, CodeFingerprint, err.Error())
	case err != nil:
		failCode(c, http.StatusBadGateway, CodePeerNotFound, err.Error())
	default:
		c.JSON(http.StatusAccepted, PairJoinAnswer{PeerID: res.Peer.ID, Fingerprint: res.Fingerprint})
		// The server shuts down gracefully: this answer is written first.
		s.opts.Setup.Reform()
	}
}

// newPairCode issues a pairing code for the wizard's "first appliance"
// step (an administrator's session), with where the joiner should point.
func (s *Server) newPairCode(c *gin.Context) {
	var in PairCodeRequest
	if !decodeJSON(c, &in) {
		return
	}
	if in.TTLSeconds == 0 {
		in.TTLSeconds = 3600
	}
	code, exp, err := s.pairing.NewCode(time.Duration(in.TTLSeconds) * time.Second)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	addr := ""
	if s.opts.Setup != nil {
		addr = s.opts.Setup.Info().APIAddress
	}
	c.JSON(http.StatusOK, PairCode{Code: code, Expires: exp, CAFingerprint: s.pairing.Fingerprint(), PeerAddress: addr})
}
