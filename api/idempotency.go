package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/periodic"
)

// IdempotencyHeader names the key a client sends with a write so that
// resending it (after a lost answer, a failover, an outcome_unknown) is
// applied at most once. Keys are per user and kept for IdempotencyTTL.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyTTL is how long a key and its answer are kept.
const IdempotencyTTL = 24 * time.Hour

// Migrations create the API's tables (versions 600-699).
func Migrations() []store.Migration {
	return []store.Migration{{Version: 600, Name: "idempotency keys", SQL: []string{
		// status 0: the write was stored, its answer not (yet).
		`CREATE TABLE idempotency_keys (user TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, status INTEGER NOT NULL,
			body TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user, key))`,
		`CREATE INDEX idempotency_keys_at ON idempotency_keys (at)`,
	}}}
}

// secretAnswers are routes whose answer holds a secret: it is not kept.
var secretAnswers = map[string]bool{"/api/v1/tokens": true, "/api/v1/me/totp": true}

// idempotent makes a write route honour Idempotency-Key: a key seen
// before with the same request replays the first answer (header
// Idempotent-Replayed: true) without doing anything; with another
// request it is refused. The key is recorded in the same transaction as
// the route's first write (store.Attach), so "the write happened" and
// "the key is known" are never apart, whatever fails in between.
func (s *Server) idempotent(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader(IdempotencyHeader)
		if key == "" || rt.Method == http.MethodGet || (rt.Access != User && rt.Access != Priv) {
			return
		}
		if len(key) > 200 {
			fail(c, http.StatusBadRequest, IdempotencyHeader+" is longer than 200 characters")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, c.Request.Body, maxBody))
		if err != nil {
			fail(c, http.StatusRequestEntityTooLarge, "request body too large or unreadable (limit 4 MiB)")
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		p, _ := principal(c)
		sum := sha256.Sum256(append([]byte(c.Request.Method+" "+c.Request.URL.Path+"\n"), body...))
		fp := hex.EncodeToString(sum[:])
		if s.replay(c, p.User, key, fp) {
			return
		}
		orig := c.Request.Context()
		ctx, att := store.Attach(orig, store.Statement{SQL: `INSERT INTO idempotency_keys (user, key, request, status, body, at) VALUES (?, ?, ?, 0, '', ?)`,
			Args: []any{p.User, key, fp, time.Now().Unix()}})
		rec := &recorder{ResponseWriter: c.Writer}
		c.Writer, c.Request = rec, c.Request.WithContext(ctx)
		c.Next()
		c.Request = c.Request.WithContext(orig)
		s.remember(orig, att, rt, p.User, key, fp, rec)
	}
}

// replay answers a request whose key is known; false if it is new.
func (s *Server) replay(c *gin.Context, user, key, fp string) bool {
	rows, err := s.events.Query(c.Request.Context(), store.Local, `SELECT request, status, body FROM idempotency_keys WHERE user = ? AND key = ?`, user, key)
	if err != nil {
		s.storeFail(c, err)
		return true
	}
	if len(rows.Values) == 0 {
		return false
	}
	v := rows.Values[0]
	req, _ := v[0].(string)
	status, _ := v[1].(int64)
	body, _ := v[2].(string)
	c.Header("Idempotent-Replayed", "true")
	switch {
	case req != fp:
		failCode(c, http.StatusUnprocessableEntity, CodeKeyReused, IdempotencyHeader+" "+key+" was used for a different request: use a new key for a new request")
	case status == 0 || body == "":
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"code": "already_applied", "replayed": true,
			"error": "this request was applied already; its answer was not kept (it held a secret, or was lost with the appliance that served it)"})
	default:
		c.Data(int(status), "application/json; charset=utf-8", []byte(body))
		c.Abort()
	}
	return true
}

// remember stores the answer of a successful write under its key.
func (s *Server) remember(ctx context.Context, att *store.Attachment, rt Route, user, key, fp string, rec *recorder) {
	status := rec.Status()
	if status < 200 || status > 299 {
		return
	}
	body := rec.body.String()
	if secretAnswers[rt.Path] || rec.over {
		body = ""
	}
	var st store.Statement
	switch {
	case att.Written():
		st = store.Statement{SQL: `UPDATE idempotency_keys SET status = ?, body = ? WHERE user = ? AND key = ?`, Args: []any{status, body, user, key}}
	case !att.Carried(): // the route wrote nothing to the store (a spool write, a no-op)
		st = store.Statement{SQL: `INSERT OR IGNORE INTO idempotency_keys (user, key, request, status, body, at) VALUES (?, ?, ?, ?, ?, ?)`,
			Args: []any{user, key, fp, status, body, time.Now().Unix()}}
	default:
		return
	}
	if _, err := s.events.Exec(context.WithoutCancel(ctx), st); err != nil {
		s.log.Warn("answer of an idempotent request not kept", "key", key, "err", err)
	}
}

// ExpireIdempotencyKeys deletes keys older than IdempotencyTTL, a
// bounded batch at a time, every minute until ctx ends (active only).
func ExpireIdempotencyKeys(ctx context.Context, st events.Store) error {
	return periodic.Every(ctx, time.Minute, func(now time.Time) {
		_, _ = st.Exec(ctx, store.Statement{SQL: `DELETE FROM idempotency_keys WHERE rowid IN
			(SELECT rowid FROM idempotency_keys WHERE at < ? LIMIT 5000)`, Args: []any{now.Add(-IdempotencyTTL).Unix()}})
	})
}

// recorder keeps a copy of the answer (bounded) for replay.
type recorder struct {
	gin.ResponseWriter
	body bytes.Buffer
	over bool // longer than 1 MiB: not kept
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.body.Len()+len(b) <= 1<<20 {
		r.body.Write(b)
	} else {
		r.over = true
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) { return r.Write([]byte(s)) }
