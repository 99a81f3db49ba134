package pairing

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/secrets"
)

// legacyCert is a node certificate as issued before certificates carried
// their role.
func legacyCert(t *testing.T, ca *CA, id string) (certPEM, keyPEM []byte) {
	t.Helper()
	keyPEM, pub, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := serial()
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: id}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		DNSNames: []string{id}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM
}

func TestCertificateRoles(t *testing.T) {
	ca, err := NewCA("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, pub, _ := NewKey()
	if _, err := ca.Issue(pub, "x", CertLegacy, nil, nil, time.Now(), time.Hour); err == nil {
		t.Fatal("a certificate without a role was issued")
	}
	for _, role := range []CertRole{CertAppliance, CertWitness} {
		b, err := ca.Issue(pub, "x", role, []net.IP{net.ParseIP("127.0.0.1")}, nil, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := parseCert(b)
		if got := RoleOf(c); got != role {
			t.Fatalf("issued for %q, reads %q", role, got)
		}
	}
	lb, _ := legacyCert(t, ca, "x")
	lc, _ := parseCert(lb)
	if got := RoleOf(lc); got != CertLegacy {
		t.Fatalf("certificate from before roles reads %q", got)
	}
}

func TestMembersAppliance(t *testing.T) {
	members, err := ha.OpenMembers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := Members{SelfID: "a", Pair: members}
	check := func(when string, want map[Peer]bool) {
		t.Helper()
		for p, ok := range want {
			if got := m.Appliance(p); got != ok {
				t.Errorf("%s: %+v is an appliance: %v, want %v", when, p, got, ok)
			}
		}
	}
	check("unpaired", map[Peer]bool{{"a", CertAppliance}: true, {"a", CertLegacy}: true, {"a", CertWitness}: false,
		{"b", CertAppliance}: false, {"b", CertLegacy}: false})
	if err := members.SetPeer(ha.NodeInfo{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	check("paired with b", map[Peer]bool{{"b", CertAppliance}: true, {"b", CertLegacy}: true, {"b", CertWitness}: false,
		{"b", "agent"}: false, {"witness", CertLegacy}: false, {"witness", CertWitness}: false, {"c", CertAppliance}: false})
}

// newFounder is a founder's pairing service in a temporary directory.
func newFounder(t *testing.T) (*Service, *ha.Members, Identity) {
	t.Helper()
	dir := t.TempDir()
	id := Identity{Dir: filepath.Join(dir, "tls")}
	if _, err := id.Bootstrap("a", []net.IP{net.ParseIP("127.0.0.1")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.EnsureKey(dir); err != nil {
		t.Fatal(err)
	}
	members, err := ha.OpenMembers(dir)
	if err != nil {
		t.Fatal(err)
	}
	self := ha.NodeInfo{ID: "a", ClusterAddr: "127.0.0.1:7443", APIAddrs: []string{"127.0.0.1:8443"}}
	return NewService(dir, id, members, self, slog.New(slog.NewTextHandler(io.Discard, nil))), members, id
}

func joinRequest(t *testing.T, s *Service, role, id string) JoinRequest {
	t.Helper()
	code, _, err := s.NewCode(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	_, pub, _ := NewKey()
	pubPEM, _ := PublicKeyPEM(pub)
	return JoinRequest{Role: role, Secret: hex.EncodeToString(c.Secret[:]), PublicKeyPEM: string(pubPEM),
		Node: ha.NodeInfo{ID: id, ClusterAddr: "127.0.0.2:7443", APIAddrs: []string{"127.0.0.2:8443"}}}
}

// A witness join cannot take an appliance's id, and every certificate
// says what it was issued for.
func TestJoinBindsRoles(t *testing.T) {
	s, _, _ := newFounder(t)
	resp, err := s.Join(context.Background(), joinRequest(t, s, RoleAppliance, "b"))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := parseCert([]byte(resp.NodeCertPEM)); RoleOf(c) != CertAppliance {
		t.Fatalf("appliance joiner's certificate has role %q", RoleOf(c))
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Join(context.Background(), joinRequest(t, s, RoleWitness, id)); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("witness join under appliance id %q: %v, want refused", id, err)
		}
	}
	resp, err = s.Join(context.Background(), joinRequest(t, s, RoleWitness, "witness"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := parseCert([]byte(resp.NodeCertPEM))
	if RoleOf(c) != CertWitness || resp.CAKeyPEM != "" || resp.SecretsKey != nil {
		t.Fatalf("witness got role %q, CA key %v, secrets key %v", RoleOf(c), resp.CAKeyPEM != "", resp.SecretsKey != nil)
	}
	if s.IsPairAppliance(Peer{ID: "witness", Role: CertWitness}) || !s.IsPairAppliance(Peer{ID: "b", Role: CertAppliance}) {
		t.Fatal("membership after the joins is wrong")
	}
}

// An appliance certificate from before roles is re-issued with its role
// at the next start, under the same CA.
func TestBootstrapAddsRole(t *testing.T) {
	ident := newIdentity(t, "a")
	ca, _ := ident.LoadCA()
	certPEM, keyPEM := legacyCert(t, ca, "a")
	caKey, _ := ca.KeyPEM()
	if err := ident.Install(ca.CertPEM(), caKey, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	wrote, err := ident.Bootstrap("a", []net.IP{net.ParseIP("127.0.0.1")}, time.Now())
	if err != nil || !wrote {
		t.Fatalf("legacy certificate not re-issued: %v %v", wrote, err)
	}
	c, _ := ident.NodeCert()
	if RoleOf(c) != CertAppliance {
		t.Fatalf("re-issued certificate has role %q", RoleOf(c))
	}
}

// The cluster port's check: a witness certificate of the pair's own CA
// is refused in the handshake, the peer's is taken.
func TestVerifyConnectionRefusesWitness(t *testing.T) {
	s, members, server := newFounder(t)
	if err := members.SetPeer(ha.NodeInfo{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	scfg, err := server.ServerConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		t.Fatal(err)
	}
	scfg.VerifyConnection = Members{SelfID: s.SelfID(), Pair: members}.VerifyConnection
	ca, _ := server.LoadCA()
	caKey, _ := ca.KeyPEM()
	for _, tc := range []struct {
		id   string
		role CertRole
		ok   bool
	}{{"b", CertAppliance, true}, {"b", CertWitness, false}, {"witness", CertWitness, false}, {"c", CertAppliance, false}} {
		t.Run(tc.id+" "+string(tc.role), func(t *testing.T) {
			keyPEM, pub, _ := NewKey()
			certPEM, _ := ca.Issue(pub, tc.id, tc.role, []net.IP{net.ParseIP("127.0.0.1")}, nil, time.Now(), time.Hour)
			client := Identity{Dir: filepath.Join(t.TempDir(), "tls")}
			if err := client.Install(ca.CertPEM(), caKey, certPEM, keyPEM); err != nil {
				t.Fatal(err)
			}
			addr, got := serveOnce(t, scfg)
			ccfg, _ := client.ClientConfig()
			ccfg.ServerName = "a"
			c, err := tls.Dial("tcp", addr, ccfg)
			if err == nil {
				c.Write([]byte("hello"))
				c.Close()
			}
			g := <-got
			if accepted := g == "hello|"+tc.id; accepted != tc.ok {
				t.Fatalf("accepted=%v (server read %q, dial %v), want %v", accepted, g, err, tc.ok)
			}
		})
	}
}
