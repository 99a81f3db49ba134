package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// loginFrom posts a login from a chosen local source address.
func loginFrom(n *cluster.Node, source, user, password string) int {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 3 * time.Second}
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DialContext: func(ctx context.Context, nw, addr string) (net.Conn, error) {
			return d.DialContext(ctx, nw, addr)
		}}}
	b, _ := json.Marshal(map[string]string{"user": user, "password": password})
	resp, err := cl.Post("https://"+n.API+"/api/v1/login", "application/json", strings.NewReader(string(b)))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// 1,000 wrong passwords in a loop: that account from that address is
// locked; the right password works again after the window; the same
// account from another address, and other users, are not held up.
func TestLoginLockout(t *testing.T) {
	skipShort(t)
	a := cluster.NewNode(t, "a", cluster.Subnet()+".1", cluster.Options{ExtraYAML: "auth:\n  lockout_failures: 5\n  lockout_window: 2s\n  lockout_max_window: 4s\n" +
		"  refused_audit_window: 2s\n"})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	for _, u := range []string{"victim", "bystander"} {
		if code, err := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": u, "password": pw, "roles": []string{auth.RoleAdministrator}}, nil); code != http.StatusCreated {
			t.Fatalf("create %s: HTTP %d %v", u, code, err)
		}
	}

	var wg sync.WaitGroup
	bystanderCodes := []int{}
	var mu sync.Mutex
	done := make(chan struct{})
	wg.Add(1)
	go func() { // another user keeps logging in while the attack runs
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			c := loginFrom(a, "127.0.0.1", "bystander", pw)
			mu.Lock()
			bystanderCodes = append(bystanderCodes, c)
			mu.Unlock()
		}
	}()
	counts := map[int]int{}
	start := time.Now()
	for range 1000 {
		counts[loginFrom(a, "127.0.0.1", "victim", "wrong password 0000")]++
	}
	loop := time.Since(start)
	// One more wrong password: whether refused or checked, the pair is
	// locked for at least the 2 s window right after it.
	counts[loginFrom(a, "127.0.0.1", "victim", "wrong password 0000")]++
	lockedRight := loginFrom(a, "127.0.0.1", "victim", pw)
	otherSource := loginFrom(a, "127.0.0.2", "victim", pw)
	close(done)
	wg.Wait()

	t.Logf("1001 wrong passwords in %s: %v; bystander logins: %d", loop.Round(time.Millisecond), counts, len(bystanderCodes))
	// Four answered "wrong password"; from the fifth on, every attempt is
	// refused as locked, however long the attack lasts.
	if counts[http.StatusUnauthorized] != 4 || counts[http.StatusTooManyRequests] != 997 {
		t.Fatalf("wrong-password answers %v: want 4 checked, 997 refused as locked", counts)
	}
	if lockedRight != http.StatusTooManyRequests {
		t.Fatalf("right password during the lock: HTTP %d, want 429", lockedRight)
	}
	if otherSource != http.StatusOK {
		t.Fatalf("same account from another address: HTTP %d, want 200", otherSource)
	}
	for _, c := range bystanderCodes {
		if c != http.StatusOK {
			t.Fatalf("another user's login answered %d during the attack", c)
		}
	}
	if len(bystanderCodes) == 0 {
		t.Fatal("the bystander never logged in: the check proves nothing")
	}
	refusedPolls := 0
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		if loginFrom(a, "127.0.0.1", "victim", pw) == http.StatusOK {
			return true
		}
		refusedPolls++
		return false
	}) {
		t.Fatal("the right password still refused after the lockout window")
	}
	// Failed logins are audited with the source address: every one,
	// in a bounded number of rows (the first few each, the rest counted
	// per window).
	time.Sleep(refusalWindow + time.Second)
	failed, rows := 0, 0
	for _, e := range auditSince(t, a, 0) {
		if e.User == "victim" && e.Action == "login" && e.Result != "ok" && e.Source == "127.0.0.1" {
			failed += attempts(e)
			rows++
		}
	}
	if want := 1001 + 1 + refusedPolls; failed != want {
		t.Fatalf("audit of refused victim logins from 127.0.0.1: %d attempts, want %d", failed, want)
	}
	if bound := maxRefusalRows(time.Since(start), 3); rows > bound {
		t.Fatalf("%d refused logins in %s made %d audit rows, want at most %d", failed, time.Since(start).Round(time.Millisecond), rows, bound)
	}
}

// A row changed or deleted directly in the database is reported by
// `mamori audit verify`.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	skipShort(t)
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 is not installed: make deps installs it")
	}
	a := singleWithAdmin(t)
	for range 5 {
		a.Login("admin", pw)
	}
	if out, err := a.CLI("audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify of an untouched log: %v\n%s", err, out)
	}
	// The auditor filters and exports; the administrator cannot read the log.
	admin := a.Login("admin", pw)
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "aud", "password": pw, "roles": []string{auth.RoleAuditor}}, nil); code != http.StatusCreated {
		t.Fatalf("create auditor: HTTP %d", code)
	}
	if code, _ := a.DoAs(admin, http.MethodGet, "/api/v1/audit", nil, nil); code != http.StatusForbidden {
		t.Fatalf("administrator reading the audit log: HTTP %d, want 403", code)
	}
	aud := a.Login("aud", pw)
	var out struct{ Entries []auth.Entry }
	if code, _ := a.DoAs(aud, http.MethodGet, "/api/v1/audit?user=admin&action=login", nil, &out); code != 200 || len(out.Entries) != 6 {
		t.Fatalf("audit filtered to admin logins: HTTP %d, %d rows, want 6", code, len(out.Entries))
	}
	csv := auditCSV(t, a, aud, "/api/v1/audit?user=admin&action=login&format=csv")
	if lines := strings.Count(strings.TrimSpace(csv), "\n"); lines != 6 || !strings.HasPrefix(csv, "seq,at,user,source") {
		t.Fatalf("CSV export: %d rows\n%s", lines, csv)
	}
	db := filepath.Join(a.Dir, "data", "store", "db.sqlite")
	sql := func(q string) {
		t.Helper()
		if out, err := exec.Command("sqlite3", db, q).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3 %q: %v\n%s", q, err, out)
		}
	}
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"changed row", `UPDATE audit SET user = 'mallory' WHERE seq = 2`, "row 2 was changed"},
		{"deleted row", `DELETE FROM audit WHERE seq = 4`, "rows 4..4 are missing"},
		{"deleted newest row", `DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)`, "newest rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql(tc.sql)
			out, err := a.CLI("audit", "verify")
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("verify after %s: err=%v\n%s", tc.name, err, out)
			}
		})
	}
}

// Sessions live in the replicated store: a client logged in on the
// active keeps working against the new active after a failover, and
// "log out everywhere" ends it there too.
func TestSessionSurvivesFailover(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	watchSession(t, a, b)
	a.CreateAdmin("admin", pw)
	tok := a.Login("admin", pw)
	a.Kill()
	b.WaitRole(ha.Active, 30*time.Second)
	var me struct{ User string }
	if code, err := b.DoAs(tok, http.MethodGet, "/api/v1/me", nil, &me); code != 200 || me.User != "admin" {
		t.Fatalf("session on the new active: HTTP %d %+v %v", code, me, err)
	}
	if code, err := b.DoAs(tok, http.MethodPost, "/api/v1/events", map[string]string{"kind": "after.failover", "message": "m"}, nil); code != 200 {
		t.Fatalf("write with the old session on the new active: HTTP %d %v", code, err)
	}
	if code, _ := b.DoAs(tok, http.MethodPost, "/api/v1/logout/everywhere", map[string]any{}, nil); code != 200 {
		t.Fatalf("logout everywhere: HTTP %d", code)
	}
	if code, _ := b.DoAs(tok, http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("session after logout everywhere: HTTP %d, want 401", code)
	}
}

func auditCSV(t *testing.T, n *cluster.Node, tok, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://"+n.API+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// Optional TOTP: once confirmed, a login needs the current code; a wrong
// or replayed code is refused. Enrolling (or replacing) the second factor
// needs the password and, once one is active, a current code: a session
// or token alone cannot replace it.
func TestTOTP(t *testing.T) {
	skipShort(t)
	a := singleWithAdmin(t)
	tok := a.Login("admin", pw)
	var enrol struct{ Secret string }
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp", map[string]any{}, &enrol); code != http.StatusForbidden || enrol.Secret != "" {
		t.Fatalf("enrol with the session alone: HTTP %d, want 403", code)
	}
	if code, err := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp", map[string]any{"password": pw}, &enrol); code != 200 || enrol.Secret == "" {
		t.Fatalf("enrol: HTTP %d %v", code, err)
	}
	secret, err := auth.DecodeTOTPSecret(enrol.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp/confirm", map[string]string{"code": "000000"}, nil); code != http.StatusBadRequest {
		t.Fatalf("confirm with a wrong code: HTTP %d", code)
	}
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp/confirm", map[string]string{"code": auth.TOTPCode(secret, time.Now())}, nil); code != 200 {
		t.Fatalf("confirm: HTTP %d", code)
	}
	login := func(totp string) int {
		code, _ := a.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": "admin", "password": pw, "totp": totp}, nil)
		return code
	}
	if c := login(""); c != http.StatusUnauthorized {
		t.Fatalf("login without a code: HTTP %d", c)
	}
	// A fresh step, so the code used at confirmation is not a replay.
	time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30*time.Second + 100*time.Millisecond)))
	good := auth.TOTPCode(secret, time.Now())
	if c := login(good); c != http.StatusOK {
		t.Fatalf("login with the current code: HTTP %d", c)
	}
	if c := login(good); c != http.StatusUnauthorized {
		t.Fatalf("replayed code: HTTP %d, want 401", c)
	}
	// Replacing the active second factor: the password is not enough.
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp", map[string]any{"password": pw}, nil); code != http.StatusForbidden {
		t.Fatalf("replace the second factor without a code: HTTP %d, want 403", code)
	}
	next := auth.TOTPCode(secret, time.Now().Add(30*time.Second)) // the next step: the current one was used (drift allows one step)
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/me/totp", map[string]any{"password": pw, "totp": next}, nil); code != 200 {
		t.Fatalf("replace the second factor with the password and a code: HTTP %d", code)
	}
}

// What is audited on the standby (wrong passwords tried against it, a
// write it refused) reaches the active's audit chain through the ingest
// spool, once each, marked with the appliance that saw it; the chain
// still verifies.
func TestStandbyAuditReachesActive(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	a.CreateAdmin("admin", pw)
	admin := a.Login("admin", pw)
	if code, _ := a.DoAs(admin, http.MethodPost, "/api/v1/users", map[string]any{"user": "aud", "password": pw, "roles": []string{auth.RoleAuditor}}, nil); code != http.StatusCreated {
		t.Fatalf("create auditor: HTTP %d", code)
	}
	for range 3 {
		if code, _ := b.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": "admin", "password": "guess-" + pw}, nil); code != http.StatusUnauthorized {
			t.Fatalf("wrong password on the standby: HTTP %d, want 401", code)
		}
	}
	if code, _ := b.DoAs(admin, http.MethodPost, "/api/v1/nodes", map[string]any{"id": "web9", "address": "127.0.0.1", "scope": "A"}, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("write on the standby: HTTP %d, want 503", code)
	}
	aud := a.Login("aud", pw)
	var out struct{ Entries []auth.Entry }
	cluster.WaitFor(t.Context(), 15*time.Second, func() bool {
		a.DoAs(aud, http.MethodGet, "/api/v1/audit?user=admin", nil, &out)
		n := 0
		for _, e := range out.Entries {
			if strings.Contains(e.Detail, "recorded on b") {
				n++
			}
		}
		return n >= 4
	})
	time.Sleep(2 * time.Second) // anything sent twice would show now
	a.DoAs(aud, http.MethodGet, "/api/v1/audit?user=admin", nil, &out)
	got := map[string]int{}
	for _, e := range out.Entries {
		if strings.Contains(e.Detail, "recorded on b") {
			got[e.Action+" "+e.Result]++
			if e.Source == "" || e.At.IsZero() {
				t.Errorf("standby entry without source or time: %+v", e)
			}
		}
	}
	if got["login failed"] != 3 || got["POST /api/v1/nodes 503"] != 1 || len(got) != 2 {
		t.Fatalf("standby's audit entries on the active: %v, want 3 failed logins and 1 refused write", got)
	}
	if out, err := a.CLI("audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

// A lockout holds on the other appliance and across a failover: the
// guesser does not get fresh attempts by switching appliance or by
// waiting for a switch-over.
func TestLockoutSurvivesFailover(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	watchSession(t, a, b)
	a.CreateAdmin("admin", pw)
	login := func(n *cluster.Node, password string) int {
		code, _ := n.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": "admin", "password": password}, nil)
		return code
	}
	for i := range 5 {
		login(a, fmt.Sprintf("guess-%d-%s", i, pw))
	}
	if code := login(a, pw); code != http.StatusTooManyRequests {
		t.Fatalf("right password after 5 wrong ones: HTTP %d, want 429", code)
	}
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return login(b, pw) == http.StatusTooManyRequests }) {
		out, _ := exec.Command("sqlite3", filepath.Join(b.Dir, "data", "store", "db.sqlite"), "SELECT * FROM login_failures").CombinedOutput()
		out2, _ := exec.Command("sqlite3", filepath.Join(a.Dir, "data", "store", "db.sqlite"), "SELECT * FROM login_failures").CombinedOutput()
		t.Fatalf("the standby does not honour the lockout: HTTP %d\nb: %s\na: %s", login(b, pw), out, out2)
	}
	a.Kill()
	b.WaitRole(ha.Active, 30*time.Second)
	if code := login(b, pw); code != http.StatusTooManyRequests {
		t.Fatalf("after the failover the locked pair got in: HTTP %d, want 429", code)
	}
	// Another account is not locked out.
	if code, _ := b.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": "nobody", "password": pw}, nil); code != http.StatusUnauthorized {
		t.Fatalf("another account: HTTP %d, want 401", code)
	}
}
