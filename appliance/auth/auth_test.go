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
		if ok, err := h.Verify(ctx, "", pw, enc); err != nil || ok != want {
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

// A flood from one address does not starve another: with every slot
// taken and the flood's queue full, the next slot goes to the other
// address, and the flood's excess is refused at once.
func TestHasherFairQueue(t *testing.T) {
	h := newHasher(1)
	ctx := context.Background()
	if err := h.acquire(ctx, "flood"); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2*maxWaitingPerSource)
	for range maxWaitingPerSource {
		go func() {
			if h.acquire(ctx, "flood") == nil {
				order <- "flood"
				h.release()
			}
		}()
	}
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.waiting["flood"]) == maxWaitingPerSource })
	if err := h.acquire(ctx, "flood"); !errors.Is(err, ErrBusy) {
		t.Fatalf("one waiter too many from the flooding address: %v, want ErrBusy", err)
	}
	go func() {
		if h.acquire(ctx, "operator") == nil {
			order <- "operator"
			h.release()
		}
	}()
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.waiting["operator"]) == 1 })
	h.release()
	got := []string{<-order, <-order}
	if got[0] != "flood" || got[1] != "operator" {
		t.Fatalf("grants %v: the operator should be second, after one of the flood's", got)
	}
	for range maxWaitingPerSource - 1 {
		<-order
	}
	// A waiter that gives up leaves no trace.
	if err := h.acquire(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error)
	go func() { errc <- h.acquire(cctx, "y") }()
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.turn) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	h.release()
	if h.free != 1 || len(h.turn) != 0 || len(h.waiting) != 0 {
		t.Fatalf("after all: free %d, turn %v, waiting %v", h.free, h.turn, h.waiting)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// Failed logins from one address across accounts fill its bucket: a
// burst of max, then one per window/max; typing errors now and then
// never reach it.
func TestSourceLimit(t *testing.T) {
	l := newSourceLimit(20, 10*time.Minute)
	now := time.Now()
	for i := range 20 {
		if d := l.limited("6.6.6.6", now); d != 0 {
			t.Fatalf("refused after %d failures", i)
		}
		l.fail("6.6.6.6", now)
	}
	d := l.limited("6.6.6.6", now)
	if d <= 0 || d > 31*time.Second {
		t.Fatalf("after 20 failures at once: refused for %s, want about 30s", d)
	}
	if l.limited("7.7.7.7", now) != 0 {
		t.Fatal("another address is refused")
	}
	if l.limited("6.6.6.6", now.Add(d+time.Millisecond)) != 0 {
		t.Fatal("still refused after the bucket drained by one")
	}
	office := newSourceLimit(20, 10*time.Minute)
	for i := range 1000 { // a typo every 40 s, for 11 hours
		at := now.Add(time.Duration(i) * 40 * time.Second)
		if office.limited("10.0.0.1", at) != 0 {
			t.Fatalf("an office's occasional typos refused after %d", i)
		}
		office.fail("10.0.0.1", at)
	}
}
