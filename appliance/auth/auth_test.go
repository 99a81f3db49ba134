package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 (the last six digits of the 8-digit values).
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := TOTPCode(secret, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("T=%d: %s, want %s", tc.unix, got, tc.want)
		}
	}
	now := time.Unix(1111111111, 0)
	code := TOTPCode(secret, now)
	step, ok := matchStep(secret, code, now, 0)
	if !ok {
		t.Fatal("current code refused")
	}
	if _, ok := matchStep(secret, code, now, step); ok {
		t.Fatal("replayed code accepted")
	}
	if _, ok := matchStep(secret, "12345", now, 0); ok {
		t.Fatal("short code accepted")
	}
}

func TestPasswordHashAndPolicy(t *testing.T) {
	h := newHasher(1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"a long enough passphrase": true, "a long enough passphrasE": false, "": false} {
		if ok, err := h.Verify(ctx, pw, enc); err != nil || ok != want {
			t.Fatalf("verify %q: %v %v", pw, ok, err)
		}
	}
	enc2, _ := h.Hash(ctx, "a long enough passphrase")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, ok := range map[string]bool{"short": false, "contains-alice-name": false, "correct horse battery": true} {
		if err := CheckPolicy("alice", pw); (err == nil) != ok || (err != nil && !errors.Is(err, ErrWeakPassword)) {
			t.Fatalf("policy %q: %v", pw, err)
		}
	}
}

func TestLockoutPerAccountAndSource(t *testing.T) {
	l := newLockout(3, time.Second, 4*time.Second)
	now := time.Now()
	for i := range 2 {
		if d := l.fail("u", "1.1.1.1", now); d != 0 {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	if d := l.fail("u", "1.1.1.1", now); d != time.Second {
		t.Fatalf("third failure: lock %s, want 1s", d)
	}
	if l.locked("u", "2.2.2.2", now) != 0 || l.locked("v", "1.1.1.1", now) != 0 {
		t.Fatal("the lock spread to another source or account")
	}
	if d := l.fail("u", "1.1.1.1", now); d != 2*time.Second {
		t.Fatalf("fourth failure: lock %s, want doubled 2s", d)
	}
	for range 10 {
		l.fail("u", "1.1.1.1", now)
	}
	if d := l.locked("u", "1.1.1.1", now); d != 4*time.Second {
		t.Fatalf("lock %s, want the 4s cap", d)
	}
	if l.locked("u", "1.1.1.1", now.Add(5*time.Second)) != 0 {
		t.Fatal("still locked after the window")
	}
	// An attacker who keeps trying (refused every 500 ms while locked)
	// never gets a fresh set of guesses.
	p := newLockout(3, time.Second, 4*time.Second)
	at := time.Now()
	for range 3 {
		p.fail("m", "6.6.6.6", at)
	}
	for range 20 {
		until := at.Add(p.locked("m", "6.6.6.6", at))
		for tick := at; tick.Before(until); tick = tick.Add(500 * time.Millisecond) {
			p.locked("m", "6.6.6.6", tick)
		}
		at = until.Add(time.Millisecond)
		if d := p.fail("m", "6.6.6.6", at); d == 0 {
			t.Fatal("a persistent attacker was given fresh guesses")
		}
	}
}

func TestPrincipal(t *testing.T) {
	p := newPrincipal("x", []Role{
		{Name: "r1", Scopes: []string{"A"}, Privileges: map[Function][]Action{Jobs: {Read, Execute}}},
		{Name: "r2", Scopes: []string{"B"}, Privileges: map[Function][]Action{Jobs: {Modify}}},
	})
	if !p.Can(Jobs, Execute) || !p.Can(Jobs, Modify) || p.Can(Jobs, Add) || p.Can(Users, Read) {
		t.Fatal("merged privileges wrong")
	}
	if !p.Sees("A") || !p.Sees("B") || p.Sees("C") || len(p.Scopes()) != 2 {
		t.Fatalf("scopes wrong: %v", p.Scopes())
	}
	all := newPrincipal("y", BuiltinRoles()[:1])
	if all.Scopes() != nil || !all.Sees("anything") || all.Can(Audit, Read) {
		t.Fatal("administrator: all scopes, no audit read")
	}
}
