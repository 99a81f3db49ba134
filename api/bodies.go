package api

import (
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/internal/snmp"
)

// Request bodies and answers of the routes, named so that the OpenAPI
// document (openapi.go) describes them from their Go types. Where a
// handler still answers a gin.H (the paged lists), the type here is what
// it writes, and the conformance test (test/e2e/openapi_test.go) checks
// that the two agree.

// ErrorAnswer is every error answer (fail, failCode, unavailable).
type ErrorAnswer struct {
	Error string    `json:"error"`
	Code  ErrorCode `json:"code"`
	// Role, ActiveID and ActiveAPI: 503 answers say this appliance's role
	// and, when it knows, which appliance is active and where its API is.
	Role      ha.Role  `json:"role,omitempty"`
	ActiveID  string   `json:"active_id,omitempty"`
	ActiveAPI []string `json:"active_api,omitempty"`
}

// ErrorCode tells a program what to do about an error (answers.go).
type ErrorCode string

// SpoolRefused is the 507 of POST /api/v1/custom-events: the events
// before index Accepted were spooled, the rest must be sent again.
type SpoolRefused struct {
	Error    string `json:"error"`
	Accepted int    `json:"accepted"`
}

// Page is the cursor of a list answer cut at maxAnswerBytes: More is
// true and Next is the query string of the next page.
type Page struct {
	More bool   `json:"more,omitempty"`
	Next string `json:"next,omitempty"`
}

// Health is /healthz: up or down for anyone; role and node id only for a
// logged-in user or a certificate of the pair.
type Health struct {
	Status string  `json:"status"`
	Role   ha.Role `json:"role,omitempty"`
	NodeID string  `json:"node_id,omitempty"`
}

// LoginRequest is POST /api/v1/login.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

// LoginAnswer carries the session token (also set as the mamori_session cookie).
type LoginAnswer struct {
	Token string   `json:"token"`
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

// LoggedOut answers both logout routes.
type LoggedOut struct {
	LoggedOut bool `json:"logged_out"`
}

// Me is the caller: user, roles, scopes (null: every scope) and the
// appliance's time zone.
type Me struct {
	User             string   `json:"user"`
	Roles            []string `json:"roles"`
	Scopes           []string `json:"scopes"`
	TimeZone         string   `json:"time_zone"`
	UTCOffsetSeconds int      `json:"utc_offset_seconds"`
	// Privileges are what the caller's roles allow, by function: the
	// console offers (and streams) only what the caller may use.
	Privileges map[auth.Function][]auth.Action `json:"privileges"`
}

// TokenRequest is POST /api/v1/tokens.
type TokenRequest struct {
	Name       string   `json:"name"`
	TTLSeconds int      `json:"ttl_seconds"`
	Roles      []string `json:"roles"` // optional: limit the token to these of your roles
}

// TokenAnswer is a new API token (shown once).
type TokenAnswer struct {
	Token string `json:"token"`
}

// TOTPEnrolRequest re-authenticates the caller before a second factor changes.
type TOTPEnrolRequest struct {
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

// TOTPEnrolment is the new secret, to be confirmed with a code.
type TOTPEnrolment struct {
	Secret     string `json:"secret"`
	OtpauthURI string `json:"otpauth_uri"`
	Next       string `json:"next"`
}

// TOTPConfirmRequest is a current code of the new second factor.
type TOTPConfirmRequest struct {
	Code string `json:"code"`
}

// TOTPEnabled answers a confirmed second factor.
type TOTPEnabled struct {
	TOTP string `json:"totp"`
}

// EventList is GET /api/v1/events.
type EventList struct {
	Events []events.Event `json:"events"`
	Page
}

// Stored counts the events a write stored.
type Stored struct {
	Stored int `json:"stored"`
}

// CredentialList is GET /api/v1/credentials (never the secrets).
type CredentialList struct {
	Credentials []secrets.Credential `json:"credentials"`
}

// CredentialRequest creates or replaces a credential with its secret.
type CredentialRequest struct {
	secrets.Credential
	Secret string `json:"secret"`
}

// CredentialSaved answers a stored credential.
type CredentialSaved struct {
	Credential string `json:"credential"`
	SecretSet  bool   `json:"secret_set"`
}

// NodeList is GET /api/v1/nodes.
type NodeList struct {
	Nodes []inventory.Node `json:"nodes"`
}

// NodeSaved answers a stored node.
type NodeSaved struct {
	Node string `json:"node"`
}

// SNMPGetRequest names the OIDs to read from a node now.
type SNMPGetRequest struct {
	OIDs []string `json:"oids"`
}

// SNMPValues are what the node answered.
type SNMPValues struct {
	Node   string       `json:"node"`
	Values []snmp.Value `json:"values"`
}

// UserList is GET /api/v1/users.
type UserList struct {
	Users []auth.UserInfo `json:"users"`
}

// UserCreated answers a created user or administrator.
type UserCreated struct {
	User string `json:"user"`
}

// RoleList is GET /api/v1/roles.
type RoleList struct {
	Roles []auth.Role `json:"roles"`
}

// RoleCreated answers a created role.
type RoleCreated struct {
	Role string `json:"role"`
}

// AuditList is GET /api/v1/audit (JSON; format=csv streams CSV).
type AuditList struct {
	Entries []auth.Entry `json:"entries"`
	Page
}

// SyslogList is GET /api/v1/syslog.
type SyslogList struct {
	Messages []SyslogMessage `json:"messages"`
	Page
}

// TrapList is GET /api/v1/traps.
type TrapList struct {
	Traps []StoredTrap `json:"traps"`
	Page
}

// CustomEventList is GET /api/v1/custom-events.
type CustomEventList struct {
	Events []StoredCustom `json:"events"`
	Page
}

// CustomEventsRequest is POST /api/v1/custom-events.
type CustomEventsRequest struct {
	Events []CustomEventIn `json:"events"`
}

// Accepted counts the custom events spooled.
type Accepted struct {
	Accepted int `json:"accepted"`
}

// RuleList is GET /api/v1/rules.
type RuleList struct {
	Rules []rules.Rule `json:"rules"`
}

// RuleSaved answers a stored rule.
type RuleSaved struct {
	Rule string `json:"rule"`
}

// RuleDeleted answers a deleted rule.
type RuleDeleted struct {
	Deleted string `json:"deleted"`
}

// PairCodeRequest is the CLI's request for a pairing code.
type PairCodeRequest struct {
	TTLSeconds int `json:"ttl_seconds"`
}

// PairCode is a one-time pairing code and the CA fingerprint to check.
type PairCode struct {
	Code          string    `json:"code"`
	Expires       time.Time `json:"expires"`
	CAFingerprint string    `json:"ca_fingerprint"`
	// PeerAddress (the wizard's code) is the address the joining appliance gives.
	PeerAddress string `json:"peer_address,omitempty"`
}
