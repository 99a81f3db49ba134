package auth

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// ErrNoToken: the caller has no unexpired API token of that id.
var ErrNoToken = errors.New("no such API token of yours")

// TokenInfo is an API token as its owner lists it: never the secret. ID
// is the SHA-256 of the secret, as the store keys it: it names the token
// for revoking and cannot be used to authenticate.
type TokenInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Source    string    `json:"source"`
	// Roles the token is limited to; empty: all of its owner's.
	Roles []string `json:"roles,omitempty"`
}

// Tokens lists user's unexpired API tokens, oldest first (bounded as a
// user's tokens are: each made by a call of the user).
func (s *Service) Tokens(ctx context.Context, user string) ([]TokenInfo, error) {
	rows, err := s.st.Query(ctx, store.Local, `SELECT id, name, created_at, expires_at, source, roles FROM sessions
		WHERE user = ? AND kind = 'token' ORDER BY created_at, id`, user)
	if err != nil {
		return nil, err
	}
	out := []TokenInfo{}
	now := time.Now()
	for _, v := range rows.Values {
		str := func(i int) string { x, _ := v[i].(string); return x }
		t := TokenInfo{ID: str(0), Name: str(1), Source: str(4)}
		t.CreatedAt, _ = time.Parse(time.RFC3339Nano, str(2))
		t.ExpiresAt, _ = time.Parse(time.RFC3339Nano, str(3))
		if !t.ExpiresAt.After(now) {
			continue
		}
		if r := str(5); r != "" {
			_ = json.Unmarshal([]byte(r), &t.Roles)
		}
		out = append(out, t)
	}
	return out, nil
}

// RevokeToken ends one of user's API tokens at once.
func (s *Service) RevokeToken(ctx context.Context, user, id string) error {
	res, err := s.st.Exec(ctx, store.Statement{SQL: `DELETE FROM sessions WHERE id = ? AND user = ? AND kind = 'token'`, Args: []any{id, user}})
	if err != nil {
		return err
	}
	if len(res) == 0 || res[0].RowsAffected == 0 {
		return ErrNoToken
	}
	return nil
}
