package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// maxPassword bounds a password (hashing cost is not the issue; what
// any request may make the appliance hold and log is).
const maxPassword = 1024

// ErrWeakPassword: the password does not meet the policy.
var ErrWeakPassword = errors.New("password too weak: use at least 12 characters, not containing the user name")

// argon2id parameters (RFC 9106 second recommendation, 64 MiB).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// ErrBusy: this address has as many logins waiting as it may.
var ErrBusy = errors.New("too many logins in progress from this address: wait for them to finish")

// maxWaitingPerSource bounds the password checks one address may have
// waiting for the hasher.
const maxWaitingPerSource = 8

// hasher bounds concurrent argon2id work: each hash takes 64 MiB, so a
// login storm cannot exhaust memory. Callers wait in one queue per
// source address, served in turn (round robin), so a flood from some
// addresses delays a login from another by about one hash per flooding
// address, not by the flood's length; each address may have only
// maxWaitingPerSource waiting.
type hasher struct {
	mu      sync.Mutex
	free    int
	waiting map[string][]chan struct{} // per source, oldest first
	turn    []string                   // sources with waiters, next first
}

func newHasher(concurrency int) *hasher {
	return &hasher{free: concurrency, waiting: map[string][]chan struct{}{}}
}

// acquire takes a hashing slot for source, waiting its turn.
func (h *hasher) acquire(ctx context.Context, source string) error {
	h.mu.Lock()
	if h.free > 0 && len(h.turn) == 0 {
		h.free--
		h.mu.Unlock()
		return nil
	}
	q := h.waiting[source]
	if len(q) >= maxWaitingPerSource {
		h.mu.Unlock()
		return ErrBusy
	}
	ch := make(chan struct{})
	if len(q) == 0 {
		h.turn = append(h.turn, source)
	}
	h.waiting[source] = append(q, ch)
	h.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.dequeue(source, ch) { // granted meanwhile: hand it on
			h.grant()
		}
		return ctx.Err()
	}
}

// dequeue removes a waiter that gave up; false if it is not waiting.
func (h *hasher) dequeue(source string, ch chan struct{}) bool {
	q := h.waiting[source]
	i := slices.Index(q, ch)
	if i < 0 {
		return false
	}
	q = slices.Delete(q, i, i+1)
	if len(q) == 0 {
		delete(h.waiting, source)
		h.turn = slices.DeleteFunc(h.turn, func(s string) bool { return s == source })
	} else {
		h.waiting[source] = q
	}
	return true
}

// grant gives a free slot to the next source in turn (mu held).
func (h *hasher) grant() {
	if len(h.turn) == 0 {
		h.free++
		return
	}
	src := h.turn[0]
	q := h.waiting[src]
	ch := q[0]
	h.turn = h.turn[1:]
	if len(q) == 1 {
		delete(h.waiting, src)
	} else {
		h.waiting[src] = q[1:]
		h.turn = append(h.turn, src) // to the back of the round
	}
	close(ch)
}

func (h *hasher) release() {
	h.mu.Lock()
	h.grant()
	h.mu.Unlock()
}

// Hash returns the PHC-formatted argon2id hash of password (for the
// appliance's own use: creating users, setting passwords).
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx, ""); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify checks password against an encoded hash in constant time, in
// the turn of source.
func (h *hasher) Verify(ctx context.Context, source, password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unknown password hash format")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("password hash parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false, errors.New("password hash encoding")
	}
	if err := h.acquire(ctx, source); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckPolicy enforces the password policy.
func CheckPolicy(user, password string) error {
	if len(password) > maxPassword {
		return fmt.Errorf("%w (and at most %d bytes)", ErrWeakPassword, maxPassword)
	}
	if len([]rune(password)) < 12 || (user != "" && strings.Contains(strings.ToLower(password), strings.ToLower(user))) {
		return ErrWeakPassword
	}
	return nil
}
