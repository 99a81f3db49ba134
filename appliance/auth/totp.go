package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// ErrTOTP: the one-time code is missing, wrong or already used.
var ErrTOTP = errors.New("one-time code missing, wrong or already used: enter the current code from your authenticator")

const totpStep = 30 * time.Second

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPCode is the RFC 6238 code (SHA-1, 6 digits, 30 s) of secret at t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(t.Unix()/int64(totpStep.Seconds())))
}

func hotp(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// DecodeTOTPSecret reads the base32 secret shown at enrolment.
func DecodeTOTPSecret(s string) ([]byte, error) { return b32.DecodeString(s) }

// EnrolTOTP creates a pending secret for user; it becomes active once a
// code from it is confirmed. It returns the base32 secret and otpauth URI.
func (s *Service) EnrolTOTP(ctx context.Context, user string) (string, string, error) {
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	sec := b32.EncodeToString(raw)
	if _, err := s.st.Exec(ctx, store.Statement{SQL: `UPDATE users SET totp_pending = ? WHERE name = ?`, Args: []any{sec, user}}); err != nil {
		return "", "", err
	}
	uri := fmt.Sprintf("otpauth://totp/mamori:%s?secret=%s&issuer=mamori", url.PathEscape(user), sec)
	return sec, uri, nil
}

// ConfirmTOTP activates the pending secret if code matches it.
func (s *Service) ConfirmTOTP(ctx context.Context, user, code string) error {
	rows, err := s.st.Query(ctx, store.Local, `SELECT totp_pending FROM users WHERE name = ?`, user)
	if err != nil || len(rows.Values) != 1 {
		return ErrTOTP
	}
	sec, _ := rows.Values[0][0].(string)
	raw, err := b32.DecodeString(sec)
	if err != nil || sec == "" {
		return fmt.Errorf("%w (enrol first)", ErrTOTP)
	}
	step, ok := matchStep(raw, code, time.Now(), 0)
	if !ok {
		return ErrTOTP
	}
	_, err = s.st.Exec(ctx, store.Statement{SQL: `UPDATE users SET totp_secret = ?, totp_pending = '', totp_last_step = ? WHERE name = ?`,
		Args: []any{sec, step, user}})
	return err
}

// matchStep accepts the code of the current step or one step either side
// (clock drift), but never a step at or before lastUsed (no replay).
func matchStep(secret []byte, code string, now time.Time, lastUsed int64) (int64, bool) {
	if _, err := strconv.Atoi(code); err != nil || len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / int64(totpStep.Seconds())
	for _, st := range []int64{cur - 1, cur, cur + 1} {
		if st > lastUsed && hmac.Equal([]byte(hotp(secret, uint64(st))), []byte(code)) {
			return st, true
		}
	}
	return 0, false
}

// checkTOTP verifies the second factor of a user who has one, and records
// the step used so the same code cannot be replayed (on either appliance).
func (s *Service) checkTOTP(ctx context.Context, user, code string) error {
	rows, err := s.st.Query(ctx, store.Local, `SELECT totp_secret, totp_last_step FROM users WHERE name = ?`, user)
	if err != nil {
		return err
	}
	if len(rows.Values) != 1 {
		return ErrBadCredentials
	}
	sec, _ := rows.Values[0][0].(string)
	if sec == "" {
		return nil
	}
	last, _ := rows.Values[0][1].(int64)
	raw, err := b32.DecodeString(sec)
	if err != nil {
		return err
	}
	step, ok := matchStep(raw, code, time.Now(), last)
	if !ok {
		return ErrTOTP
	}
	_, err = s.st.Exec(ctx, store.Statement{SQL: `UPDATE users SET totp_last_step = ? WHERE name = ?`, Args: []any{step, user}})
	return err
}
