package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Two fresh appliances, both running, are paired without stopping either:
// a wrong setup token and a wrong pairing code are refused and change
// nothing; `mamori pair join` on the running second appliance joins
// through its first-boot route, and it re-forms itself (re-exec, same
// process) as the standby.
func TestPairOnline(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	b := cluster.NewNode(t, "b", sub+".2", cluster.Options{})
	for _, n := range []*cluster.Node{a, b} {
		n.Start()
		n.WaitRole(ha.Active, 30*time.Second)
	}
	tokA := setupToken(t, a)

	var st struct {
		NeedsSetup bool   `json:"needs_setup"`
		Paired     bool   `json:"paired"`
		APIAddress string `json:"api_address"`
	}
	if code, err := a.DoAs("", http.MethodGet, "/api/v1/setup", nil, &st); err != nil || code != 200 || !st.NeedsSetup || st.Paired || st.APIAddress != a.API {
		t.Fatalf("setup status of a fresh appliance: HTTP %d %+v %v", code, st, err)
	}
	var refusal struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	admin := map[string]string{"token": "WRONG0-TOKEN0-WRONG0-TOKEN0", "user": "admin", "password": "correct horse battery staple"}
	if code, err := a.DoAs("", http.MethodPost, "/api/v1/setup/admin", admin, &refusal); err != nil || code != http.StatusForbidden || refusal.Code != "setup_token" {
		t.Fatalf("admin with a wrong setup token: HTTP %d %+v %v; want 403 setup_token", code, refusal, err)
	}
	if code, _ := a.DoAs("", http.MethodGet, "/api/v1/setup", nil, &st); code != 200 || !st.NeedsSetup {
		t.Fatalf("a wrong setup token changed something: %+v", st)
	}
	admin["token"] = strings.ToLower(tokA)
	if code, err := a.DoAs("", http.MethodPost, "/api/v1/setup/admin", admin, &refusal); err != nil || code != http.StatusCreated {
		t.Fatalf("admin with the setup token: HTTP %d %+v %v", code, refusal, err)
	}
	if code, _ := a.DoAs("", http.MethodPost, "/api/v1/setup/token", map[string]string{"token": tokA}, &refusal); code != http.StatusConflict || refusal.Code != "setup_done" {
		t.Fatalf("the setup token after the administrator exists: HTTP %d %+v; want 409 setup_done", code, refusal)
	}
	if out, err := a.CLI("setup-token"); err == nil {
		t.Fatalf("mamori setup-token still shows a token after the administrator exists:\n%s", out)
	}

	session := a.Login("admin", "correct horse battery staple")
	var pc struct {
		Code        string `json:"code"`
		Fingerprint string `json:"ca_fingerprint"`
		PeerAddress string `json:"peer_address"`
	}
	if code, err := a.DoAs(session, http.MethodPost, "/api/v1/pair/code", map[string]int{"ttl_seconds": 600}, &pc); err != nil || code != 200 || pc.Code == "" || pc.PeerAddress != a.API {
		t.Fatalf("pairing code: HTTP %d %+v %v", code, pc, err)
	}
	// A typo in the secret part: the pin still matches, the founder refuses.
	wrong := []byte(pc.Code)
	if wrong[0] == '0' {
		wrong[0] = '1'
	} else {
		wrong[0] = '0'
	}
	tokB := setupToken(t, b)
	join := map[string]string{"token": tokB, "peer": a.API, "code": string(wrong)}
	var pv struct {
		Fingerprint string `json:"fingerprint"`
	}
	if code, err := b.DoAs("", http.MethodPost, "/api/v1/setup/pair/preview", join, &pv); err != nil || code != 200 || pv.Fingerprint != pc.Fingerprint {
		t.Fatalf("preview: HTTP %d %+v %v; want the fingerprint %s", code, pv, err, pc.Fingerprint)
	}
	join["fingerprint"] = pv.Fingerprint
	if code, err := b.DoAs("", http.MethodPost, "/api/v1/setup/pair/join", join, &refusal); err != nil || code != http.StatusForbidden || refusal.Code != "pairing_code" {
		t.Fatalf("join with a wrong code: HTTP %d %+v %v; want 403 pairing_code", code, refusal, err)
	}
	for _, n := range []*cluster.Node{a, b} {
		if s, err := n.Status(); err != nil || s.Peer != nil || s.Role != ha.Active {
			t.Fatalf("%s after the refused join: %+v %v; want active and unpaired", n.Name, s, err)
		}
	}
	pid := b.PID()
	out, err := b.CLI("pair", "join", "--peer", a.API, "--code", pc.Code)
	if err != nil || !strings.Contains(out, "paired with a") {
		t.Fatalf("pair join on the running b: %v\n%s", err, out)
	}
	b.WaitRole(ha.Standby, 60*time.Second)
	a.WaitRole(ha.Active, 10*time.Second)
	if b.PID() != pid || !b.Running() {
		t.Fatalf("b is not the same running process after re-forming")
	}
	if s, err := b.Status(); err != nil || s.Peer == nil || s.Peer.ID != "a" || s.ActiveID != "a" {
		t.Fatalf("b after pairing: %+v %v", s, err)
	}
	if ok, err := a.Write("after-online-pairing"); !ok {
		t.Fatalf("write on a: %v", err)
	}
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return len(b.Events("test.write")) == 1 }) {
		t.Fatal("the standby does not replicate")
	}
	// The administrator of the pair is a's: b is configured now, and its
	// setup token is void.
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		code, _ := b.DoAs("", http.MethodGet, "/api/v1/setup", nil, &st)
		_, err := b.CLI("setup-token")
		return code == 200 && !st.NeedsSetup && st.Paired && err != nil
	}) {
		t.Fatalf("b after pairing still needs its setup: %+v", st)
	}
}

// setupToken reads a fresh appliance's setup token with `mamori setup-token`.
func setupToken(t *testing.T, n *cluster.Node) string {
	t.Helper()
	var out string
	cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		o, err := n.CLI("setup-token")
		out = o
		return err == nil
	})
	for _, l := range strings.Split(out, "\n") {
		if tok, ok := strings.CutPrefix(l, "setup token: "); ok {
			return strings.TrimSpace(tok)
		}
	}
	t.Fatalf("mamori setup-token on %s:\n%s", n.Name, out)
	return ""
}

// Wrong setup tokens are refused, audited as refusals and counted against
// the address like failed logins: past the limit even the right token
// waits.
func TestSetupTokenRefusals(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{ExtraYAML: "auth:\n  source_failures: 3\n  refused_audit_window: 1s\n"})
	tok := setupToken(t, a)
	var refusal struct {
		Code string `json:"code"`
	}
	for i := range 3 {
		if code, err := a.DoAs("", http.MethodPost, "/api/v1/setup/token", map[string]string{"token": "000000-000000-000000-00000" + string(rune('0'+i))}, &refusal); err != nil || code != http.StatusForbidden || refusal.Code != "setup_token" {
			t.Fatalf("wrong token %d: HTTP %d %+v %v", i, code, refusal, err)
		}
	}
	if code, err := a.DoAs("", http.MethodPost, "/api/v1/setup/token", map[string]string{"token": tok}, nil); err != nil || code != http.StatusTooManyRequests {
		t.Fatalf("the right token after 3 wrong ones from the same address: HTTP %d %v; want 429", code, err)
	}
	var audit json.RawMessage
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		code, _ := a.Do(http.MethodGet, "/api/v1/audit", nil, &audit)
		return code == 200 && strings.Contains(string(audit), "/api/v1/setup/token") && strings.Contains(string(audit), "403")
	}) {
		t.Fatalf("no refusal of the setup token in the audit log:\n%s", audit)
	}
	var st struct {
		NeedsSetup bool `json:"needs_setup"`
	}
	if code, _ := a.DoAs("", http.MethodGet, "/api/v1/setup", nil, &st); code != 200 || !st.NeedsSetup {
		t.Fatalf("refused tokens changed something: HTTP %d %+v", code, st)
	}
}
