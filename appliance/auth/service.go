package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

var (
	// ErrBadCredentials: unknown user or wrong password (never which).
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrLocked: too many failures from this source for this account.
	ErrLocked = errors.New("too many failed logins for this account from this address: wait and retry")
	// ErrUnauthenticated: no valid session or token.
	ErrUnauthenticated = errors.New("not logged in, or the session has expired: log in again")
	// ErrInvalid: a user or role definition is wrong.
	ErrInvalid = errors.New("invalid user or role")
	// ErrExists: the user or role exists already.
	ErrExists = errors.New("already exists")
	// ErrNoUser: there is no user of that name.
	ErrNoUser = errors.New("no such user")
	// ErrLastAdministrator: removing the user would leave no enabled administrator.
	ErrLastAdministrator = errors.New("the last enabled administrator cannot be removed: make another administrator first")
)

// Store is what auth needs of the store.
type Store interface {
	Exec(ctx context.Context, stmts ...store.Statement) ([]store.Result, error)
	Query(ctx context.Context, lvl store.Level, sql string, args ...any) (store.Rows, error)
}

// Options tune the service.
type Options struct {
	SessionTTL       time.Duration
	LockoutFailures  int
	LockoutWindow    time.Duration
	LockoutMaxWindow time.Duration
	// SourceFailures failed logins per SourceWindow are allowed from one
	// address across accounts; beyond, logins from it wait their turn.
	SourceFailures  int
	SourceWindow    time.Duration
	HashConcurrency int
	// LDAP, if set, lets directory users log in (local accounts first).
	LDAP *LDAPConfig
}

// DefaultOptions are the production settings.
func DefaultOptions() Options {
	return Options{SessionTTL: 12 * time.Hour, LockoutFailures: 5, LockoutWindow: 30 * time.Second,
		LockoutMaxWindow: 15 * time.Minute, SourceFailures: 20, SourceWindow: 10 * time.Minute, HashConcurrency: 2}
}

// Service is users, roles, sessions, tokens and the audit log.
type Service struct {
	dir   *directory
	st    Store
	opts  Options
	hash  *hasher
	lock  *lockout
	src   *sourceLimit
	Audit *auditor
}

// New returns the service; it does no I/O.
func New(st Store, opts Options) *Service {
	var dir *directory
	if opts.LDAP != nil {
		dir = &directory{cfg: *opts.LDAP}
	}
	return &Service{dir: dir, st: st, opts: opts, hash: newHasher(opts.HashConcurrency),
		lock: newLockout(opts.LockoutFailures, opts.LockoutWindow, opts.LockoutMaxWindow),
		src:  newSourceLimit(opts.SourceFailures, opts.SourceWindow), Audit: &auditor{st: st}}
}

// Migrations create the auth schema (versions 200-299).
func Migrations() []store.Migration {
	seed := []string{}
	for _, r := range BuiltinRoles() {
		b, _ := json.Marshal(r)
		seed = append(seed, fmt.Sprintf(`INSERT INTO roles (name, def) VALUES ('%s', '%s')`, r.Name, b))
	}
	return []store.Migration{{Version: 200, Name: "auth", SQL: append([]string{
		`CREATE TABLE users (name TEXT PRIMARY KEY, password TEXT NOT NULL, roles TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)`,
		`CREATE TABLE roles (name TEXT PRIMARY KEY, def TEXT NOT NULL)`,
		`CREATE TABLE sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
			created_at TEXT NOT NULL, expires_at TEXT NOT NULL, source TEXT NOT NULL, user_agent TEXT NOT NULL)`,
		`CREATE INDEX sessions_user ON sessions (user)`,
		`CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, source TEXT NOT NULL,
			user_agent TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL,
			prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`,
		`CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)`,
	}, seed...)}, {Version: 202, Name: "token roles", SQL: []string{
		`ALTER TABLE sessions ADD COLUMN roles TEXT NOT NULL DEFAULT ''`,
	}}, {Version: 201, Name: "totp", SQL: []string{
		`ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0`,
	}}, {Version: 203, Name: "replicated lockout", SQL: []string{
		`CREATE TABLE login_failures (user TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL, until INTEGER NOT NULL,
			last INTEGER NOT NULL, PRIMARY KEY (user, source))`,
	}}, {Version: 204, Name: "audit rows merged after a split brain", SQL: []string{
		// hash: the row's hash on the appliance that wrote it (it is
		// chained anew here); one row per merged entry, so merging twice
		// adds nothing.
		`CREATE TABLE audit_merged (hash TEXT PRIMARY KEY, from_node TEXT NOT NULL, seq INTEGER NOT NULL)`,
	}}}
}

// maxScopes bounds the scopes of one role.
const maxScopes = 256

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CreateUser adds a user with roles that must exist.
func (s *Service) CreateUser(ctx context.Context, name, password string, roles []string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: user name must be 1-64 letters, digits, . _ @ -", ErrInvalid)
	}
	if err := CheckPolicy(name, password); err != nil {
		return err
	}
	if _, err := s.roles(ctx, roles); err != nil {
		return err
	}
	h, err := s.hash.Hash(ctx, password)
	if err != nil {
		return err
	}
	rb, _ := json.Marshal(roles)
	_, err = s.st.Exec(ctx, store.Statement{SQL: `INSERT INTO users (name, password, roles, created_at) VALUES (?, ?, ?, ?)`,
		Args: []any{name, h, string(rb), now()}})
	if err != nil && isUnique(err) {
		return fmt.Errorf("user %s: %w", name, ErrExists)
	}
	return err
}

// SetPassword replaces a user's password and ends all of its sessions.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := CheckPolicy(name, password); err != nil {
		return err
	}
	h, err := s.hash.Hash(ctx, password)
	if err != nil {
		return err
	}
	_, err = s.st.Exec(ctx, store.Statement{SQL: `UPDATE users SET password = ? WHERE name = ?`, Args: []any{h, name}},
		store.Statement{SQL: `DELETE FROM sessions WHERE user = ?`, Args: []any{name}})
	return err
}

// DeleteUser removes a user with its sessions and tokens. The last
// enabled administrator stays (nobody could then manage users); the check
// is in the DELETE itself, so two removals at once cannot both pass it.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	rows, err := s.st.Query(ctx, store.Local, `SELECT 1 FROM users WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if len(rows.Values) == 0 {
		return fmt.Errorf("user %s: %w", name, ErrNoUser)
	}
	const isAdmin = `EXISTS (SELECT 1 FROM json_each(u.roles) WHERE value = '` + RoleAdministrator + `')`
	res, err := s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM users WHERE name = ? AND (NOT EXISTS (SELECT 1 FROM users u WHERE u.name = users.name AND ` +
		isAdmin + `) OR EXISTS (SELECT 1 FROM users u WHERE u.name != ? AND u.disabled = 0 AND ` + isAdmin + `))`, Args: []any{name, name}},
		store.Statement{SQL: `DELETE FROM sessions WHERE user = ? AND NOT EXISTS (SELECT 1 FROM users WHERE name = ?)`, Args: []any{name, name}})
	if err != nil {
		return err
	}
	if len(res) == 0 || res[0].RowsAffected == 0 {
		return fmt.Errorf("user %s: %w", name, ErrLastAdministrator)
	}
	return nil
}

// CreateRole adds a role.
func (s *Service) CreateRole(ctx context.Context, r Role) error {
	if !nameRE.MatchString(r.Name) || len(r.Scopes) == 0 || len(r.Scopes) > maxScopes {
		return fmt.Errorf("%w: a role needs a name and 1 to %d scopes (%q for all)", ErrInvalid, maxScopes, AllScopes)
	}
	for _, sc := range r.Scopes {
		if sc == "" || len(sc) > 64 {
			return fmt.Errorf("%w: a scope name is 1 to 64 bytes (the empty scope is every scope's: %q)", ErrInvalid, AllScopes)
		}
	}
	for f, acts := range r.Privileges {
		if !validFunction(f) {
			return fmt.Errorf("%w: unknown function %q", ErrInvalid, f)
		}
		for _, a := range acts {
			if !validAction(a) {
				return fmt.Errorf("%w: unknown action %q", ErrInvalid, a)
			}
		}
	}
	b, _ := json.Marshal(r)
	_, err := s.st.Exec(ctx, store.Statement{SQL: `INSERT INTO roles (name, def) VALUES (?, ?)`, Args: []any{r.Name, string(b)}})
	if err != nil && isUnique(err) {
		return fmt.Errorf("role %s: %w", r.Name, ErrExists)
	}
	return err
}

// Roles lists all roles.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT def FROM roles ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := []Role{}
	for _, v := range rows.Values {
		var r Role
		if b, ok := v[0].(string); ok && json.Unmarshal([]byte(b), &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Service) roles(ctx context.Context, names []string) ([]Role, error) {
	all, err := s.Roles(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]Role{}
	for _, r := range all {
		byName[r.Name] = r
	}
	out := make([]Role, 0, len(names))
	for _, n := range names {
		r, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("%w: no role %q", ErrInvalid, n)
		}
		out = append(out, r)
	}
	return out, nil
}

// UserInfo is a user as listed (never with its password hash).
type UserInfo struct {
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
}

// Users lists users.
func (s *Service) Users(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT name, roles, disabled FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := []UserInfo{}
	for _, v := range rows.Values {
		u := UserInfo{}
		u.Name, _ = v[0].(string)
		rs, _ := v[1].(string)
		_ = json.Unmarshal([]byte(rs), &u.Roles)
		d, _ := v[2].(int64)
		u.Disabled = d != 0
		out = append(out, u)
	}
	return out, nil
}

// Login checks a password and opens a session; it returns the session
// token (shown once; only its hash is stored).
func (s *Service) Login(ctx context.Context, user, password, totp, source, ua string) (string, Principal, error) {
	p, err := s.checkCredentials(ctx, user, password, totp, source)
	if err != nil {
		return "", Principal{}, err
	}
	tok, err := s.newSession(ctx, user, "session", "", source, ua, s.opts.SessionTTL)
	if err != nil {
		return "", Principal{}, err // not logged in (a standby cannot write the session): the failures stand
	}
	if s.lock.succeed(user, source, time.Now()) {
		_, _ = s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM login_failures WHERE user = ? AND source = ?`, Args: []any{user, source}})
	}
	return tok, p, nil
}

// Reauthenticate checks that the caller of a sensitive change (its
// second factor) knows the user's password and, if the user has one, a
// current one-time code: a session or token alone is not enough. It
// counts against the same lockouts as a login.
func (s *Service) Reauthenticate(ctx context.Context, user, password, totp, source string) error {
	_, err := s.checkCredentials(ctx, user, password, totp, source)
	return err
}

// checkCredentials is a login's check: the lockouts (this account from
// this address, and this address across accounts) before any hashing,
// the password in the address's turn, the one-time code; a failure
// counts against both lockouts.
func (s *Service) checkCredentials(ctx context.Context, user, password, totp, source string) (Principal, error) {
	now := time.Now()
	if s.lock.locked(user, source, now) > 0 {
		return Principal{}, ErrLocked
	}
	if s.src.limited(source, now) > 0 {
		return Principal{}, ErrSourceLimited
	}
	p, ok, err := s.checkPassword(ctx, user, password, source)
	if err != nil {
		return Principal{}, err
	}
	if !ok {
		if s.failed(ctx, user, source, now) > 0 {
			return Principal{}, ErrLocked
		}
		return Principal{}, ErrBadCredentials
	}
	if err := s.checkTOTP(ctx, user, totp); err != nil {
		if errors.Is(err, ErrTOTP) && s.failed(ctx, user, source, now) > 0 {
			return Principal{}, ErrLocked
		}
		return Principal{}, err
	}
	return p, nil
}

// ldapMarker is the password column of a user who logs in through LDAP.
const ldapMarker = "!ldap"

// checkPassword tries the local account, then the directory (for users
// with no local account, or accounts created by an earlier LDAP login).
func (s *Service) checkPassword(ctx context.Context, user, password, source string) (Principal, bool, error) {
	p, hash, err := s.loadUser(ctx, user)
	local := err == nil && hash != ldapMarker
	switch {
	case local:
		ok, err := s.hash.Verify(ctx, source, password, hash)
		return p, ok, err
	case err != nil && !errors.Is(err, ErrBadCredentials):
		return Principal{}, false, err
	case s.dir == nil:
		_, err := s.hash.Verify(ctx, source, password, dummyHash) // same cost whether or not the user exists
		return Principal{}, false, err
	}
	roles, err := s.dir.login(ctx, user, password)
	switch {
	case errors.Is(err, ErrBadCredentials), errors.Is(err, errNoLDAPRoles):
		return Principal{}, false, nil
	case err != nil:
		return Principal{}, false, err
	}
	rb, _ := json.Marshal(roles)
	if _, err := s.st.Exec(ctx, store.Statement{SQL: `INSERT INTO users (name, password, roles, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET roles = excluded.roles WHERE users.password = ?`, Args: []any{user, ldapMarker, string(rb), now(), ldapMarker}}); err != nil {
		return Principal{}, false, err
	}
	p, _, err = s.loadUser(ctx, user)
	return p, err == nil, err
}

var dummyHash = "$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$eW91IHNoYWxsIG5vdCBwYXNzIHRoaXMgdGVzdCEhISE"

func (s *Service) loadUser(ctx context.Context, user string) (Principal, string, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT password, roles, disabled FROM users WHERE name = ?`, user)
	if err != nil {
		return Principal{}, "", err
	}
	if len(rows.Values) != 1 {
		return Principal{}, "", ErrBadCredentials
	}
	v := rows.Values[0]
	hash, _ := v[0].(string)
	rs, _ := v[1].(string)
	if d, _ := v[2].(int64); d != 0 {
		return Principal{}, "", ErrBadCredentials
	}
	var names []string
	_ = json.Unmarshal([]byte(rs), &names)
	roles, err := s.roles(ctx, names)
	if err != nil {
		return Principal{}, "", err
	}
	return newPrincipal(user, roles), hash, nil
}

// NewToken creates an API token for user, valid for ttl. A non-empty
// roles limits the token to those of the user's roles (least privilege
// for automation); it can never grant more than the user holds.
func (s *Service) NewToken(ctx context.Context, p Principal, name string, roles []string, source, ua string, ttl time.Duration) (string, error) {
	for _, r := range roles {
		if !slices.Contains(p.Roles, r) {
			return "", fmt.Errorf("%w: you do not hold role %q", ErrInvalid, r)
		}
	}
	return s.newSession(ctx, p.User, "token", name, source, ua, ttl, roles...)
}

func (s *Service) newSession(ctx context.Context, user, kind, name, source, ua string, ttl time.Duration, roles ...string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := "mmr_" + hex.EncodeToString(raw)
	limit := ""
	if len(roles) > 0 {
		b, _ := json.Marshal(roles)
		limit = string(b)
	}
	_, err := s.st.Exec(ctx, store.Statement{SQL: `INSERT INTO sessions (id, user, kind, name, created_at, expires_at, source, user_agent, roles) VALUES (?,?,?,?,?,?,?,?,?)`,
		Args: []any{tokenID(tok), user, kind, name, now(), time.Now().Add(ttl).UTC().Format(time.RFC3339Nano), source, ua, limit}})
	if err != nil {
		return "", err
	}
	return tok, nil
}

func tokenID(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Authenticate resolves a session or API token. It reads this node's
// copy, so a session opened on the old active works on the new one.
func (s *Service) Authenticate(ctx context.Context, tok string) (Principal, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT user, expires_at, roles FROM sessions WHERE id = ?`, tokenID(tok))
	if err != nil {
		return Principal{}, err
	}
	if len(rows.Values) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	user, _ := rows.Values[0][0].(string)
	exp, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(rows.Values[0][1]))
	if time.Now().After(exp) {
		return Principal{}, ErrUnauthenticated
	}
	p, _, err := s.loadUser(ctx, user)
	if errors.Is(err, ErrBadCredentials) {
		return Principal{}, ErrUnauthenticated
	}
	if limit, _ := rows.Values[0][2].(string); err == nil && limit != "" {
		return s.limited(ctx, p, limit)
	}
	return p, err
}

// limited narrows a principal to the token's roles that the user still holds.
func (s *Service) limited(ctx context.Context, p Principal, limit string) (Principal, error) {
	var want []string
	_ = json.Unmarshal([]byte(limit), &want)
	keep := []string{}
	for _, r := range want {
		if slices.Contains(p.Roles, r) {
			keep = append(keep, r)
		}
	}
	roles, err := s.roles(ctx, keep)
	if err != nil {
		return Principal{}, err
	}
	return newPrincipal(p.User, roles), nil
}

// Logout ends one session; LogoutEverywhere ends all of a user's.
func (s *Service) Logout(ctx context.Context, tok string) error {
	_, err := s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM sessions WHERE id = ?`, Args: []any{tokenID(tok)}})
	return err
}

// LogoutEverywhere ends every session and token of user.
func (s *Service) LogoutEverywhere(ctx context.Context, user string) error {
	_, err := s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM sessions WHERE user = ?`, Args: []any{user}})
	return err
}

func validFunction(f Function) bool {
	for _, x := range Functions {
		if x == f {
			return true
		}
	}
	return false
}

func validAction(a Action) bool {
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}

func isUnique(err error) bool {
	return err != nil && regexp.MustCompile(`UNIQUE constraint failed`).MatchString(err.Error())
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
