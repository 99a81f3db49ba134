package auth

import (
	"context"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// HasAdministrator says whether an enabled user holds the administrator
// role: until one does, the appliance is "unconfigured" and its first-boot
// routes take the setup token.
func (s *Service) HasAdministrator(ctx context.Context) (bool, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT 1 FROM users WHERE disabled = 0 AND roles LIKE ? LIMIT 1`, `%"`+RoleAdministrator+`"%`)
	if err != nil {
		return false, err
	}
	return len(rows.Values) > 0, nil
}

// SourceLimited says whether source has failed too often lately (a wrong
// setup token counts as a failed login from that address).
func (s *Service) SourceLimited(source string) bool {
	return s.src.limited(source, time.Now()) > 0
}

// SourceFailed counts one failure from source against the limit that
// failed logins fill.
func (s *Service) SourceFailed(ctx context.Context, source string) {
	b := s.src.fail(source, time.Now())
	_, _ = s.st.Exec(ctx, store.Statement{SQL: `INSERT INTO login_failures (user, source, count, until, last) VALUES (?,?,?,?,?)
			ON CONFLICT(user, source) DO UPDATE SET count = excluded.count, until = excluded.until, last = excluded.last`,
		Args: []any{anyUser, source, int64(b.level * 1000), 0, b.at.UnixNano()}})
}
