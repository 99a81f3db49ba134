package pairing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCARoundTripAndIssue(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCA(ca.CertPEM(), keyPEM)
	if err != nil || back.Fingerprint() != ca.Fingerprint() {
		t.Fatalf("round trip: %v", err)
	}
	other, _ := NewCA("other", now)
	otherKey, _ := other.KeyPEM()
	if _, err := ParseCA(ca.CertPEM(), otherKey); !errors.Is(err, ErrBadCA) {
		t.Fatalf("mismatched key: %v", err)
	}
	_, pub, _ := NewKey()
	certPEM, err := ca.Issue(pub, "node-a", CertAppliance, []net.IP{net.ParseIP("10.0.0.1")}, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, eku := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{eku}}); err != nil {
			t.Fatalf("usage %v: %v", eku, err)
		}
	}
	if err := cert.VerifyHostname("10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "node-a" {
		t.Fatalf("CN %q", cert.Subject.CommonName)
	}
}

func TestIdentityBootstrap(t *testing.T) {
	id := Identity{Dir: filepath.Join(t.TempDir(), "tls")}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	wrote, err := id.Bootstrap("a", ips, time.Now())
	if err != nil || !wrote || !id.Exists() {
		t.Fatalf("first bootstrap: %v %v", wrote, err)
	}
	fp1, _ := id.CACert()
	if wrote, err := id.Bootstrap("a", ips, time.Now()); err != nil || wrote {
		t.Fatalf("second bootstrap rewrote: %v %v", wrote, err)
	}
	wrote, err = id.Bootstrap("a", append(ips, net.ParseIP("10.1.1.1")), time.Now())
	if err != nil || !wrote {
		t.Fatalf("new address not re-issued: %v %v", wrote, err)
	}
	cert, _ := id.NodeCert()
	fp2, _ := id.CACert()
	if cert.VerifyHostname("10.1.1.1") != nil || !fp1.Equal(fp2) {
		t.Fatal("re-issued certificate lacks the new address or the CA changed")
	}
}

func TestCodes(t *testing.T) {
	ca, _ := NewCA("c", time.Now())
	c, err := NewCode(ca)
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, in := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", ""), " " + strings.ReplaceAll(s, "-", " ") + " "} {
		got, err := ParseCode(in)
		if err != nil || got != c {
			t.Fatalf("ParseCode(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "hello", s[:len(s)-3], s + "AAAA"} {
		if _, err := ParseCode(bad); !errors.Is(err, ErrBadCode) {
			t.Fatalf("ParseCode(%q): %v, want ErrBadCode", bad, err)
		}
	}
	fp := ca.Fingerprint()
	if string(c.Pin[:]) != string(fp[:16]) {
		t.Fatal("code does not pin the CA")
	}
}

func TestCodeBook(t *testing.T) {
	ca, _ := NewCA("c", time.Now())
	path := filepath.Join(t.TempDir(), "codes.json")
	b, err := OpenCodeBook(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good, _ := b.Issue(ca, time.Minute, now)
	short, _ := b.Issue(ca, time.Second, now)
	var wrong [10]byte
	if err := b.Redeem(wrong, now); !errors.Is(err, ErrCodeUnknown) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := b.Redeem(short.Secret, now.Add(2*time.Second)); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("expired: %v", err)
	}
	if err := b.Redeem(good.Secret, now); err != nil {
		t.Fatalf("good code: %v", err)
	}
	if err := b.Redeem(good.Secret, now); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("reuse: %v", err)
	}
	reopened, err := OpenCodeBook(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := reopened.Redeem(good.Secret, now); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("reuse after reopening: %v", err)
	}
}

// serveOnce accepts one TLS connection and reports what it read.
func serveOnce(t *testing.T, cfg *tls.Config) (string, <-chan string) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		b, err := io.ReadAll(io.LimitReader(c, 64))
		if err != nil && len(b) == 0 {
			got <- "error"
			return
		}
		if tc, ok := c.(*tls.Conn); ok {
			p, _ := PeerOf(&[]tls.ConnectionState{tc.ConnectionState()}[0])
			id := p.ID
			got <- string(b) + "|" + id
			return
		}
		got <- string(b)
	}()
	return ln.Addr().String(), got
}

func newIdentity(t *testing.T, id string) Identity {
	t.Helper()
	ident := Identity{Dir: filepath.Join(t.TempDir(), "tls")}
	if _, err := ident.Bootstrap(id, []net.IP{net.ParseIP("127.0.0.1")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return ident
}

func TestMutualTLS(t *testing.T) {
	server := newIdentity(t, "a")
	scfg, err := server.ServerConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		t.Fatal(err)
	}
	// A client under the same CA: install a cert issued by the server's CA.
	ca, _ := server.LoadCA()
	keyPEM, pub, _ := NewKey()
	certPEM, _ := ca.Issue(pub, "b", CertAppliance, []net.IP{net.ParseIP("127.0.0.1")}, nil, time.Now(), time.Hour)
	caKey, _ := ca.KeyPEM()
	client := Identity{Dir: filepath.Join(t.TempDir(), "tls")}
	if err := client.Install(ca.CertPEM(), caKey, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}

	t.Run("same CA", func(t *testing.T) {
		addr, got := serveOnce(t, scfg)
		ccfg, _ := client.ClientConfig()
		c, err := tls.Dial("tcp", addr, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hello"))
		c.Close()
		if g := <-got; g != "hello|b" {
			t.Fatalf("server read %q", g)
		}
	})
	t.Run("other CA", func(t *testing.T) {
		addr, got := serveOnce(t, scfg)
		ccfg, _ := newIdentity(t, "rogue").ClientConfig()
		ccfg.InsecureSkipVerify = true
		c, err := tls.Dial("tcp", addr, ccfg)
		if err == nil {
			c.Write([]byte("hello"))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("client from another CA connected")
		}
		if g := <-got; strings.Contains(g, "hello") {
			t.Fatalf("server read application data %q", g)
		}
	})
	t.Run("pinned joiner", func(t *testing.T) {
		fp := ca.Fingerprint()
		var pin [16]byte
		copy(pin[:], fp[:16])
		open, _ := server.ServerConfig(tls.VerifyClientCertIfGiven)
		addr, got := serveOnce(t, open)
		c, err := tls.Dial("tcp", addr, PinnedClientConfig(pin))
		if err != nil {
			t.Fatalf("right pin refused: %v", err)
		}
		c.Write([]byte("join"))
		c.Close()
		if g := <-got; !strings.HasPrefix(g, "join") {
			t.Fatalf("server read %q", g)
		}
		pin[0] ^= 0xff
		addr, got = serveOnce(t, open)
		if _, err := tls.Dial("tcp", addr, PinnedClientConfig(pin)); err == nil || !strings.Contains(err.Error(), ErrPinMismatch.Error()) {
			t.Fatalf("wrong pin: %v", err)
		}
		if g := <-got; strings.Contains(g, "join") {
			t.Fatalf("server read application data with a wrong pin: %q", g)
		}
	})
}

// PeerFingerprint reads the CA a server presents with a handshake only,
// and says whether it is the one a code pins; the server reads nothing.
func TestPeerFingerprint(t *testing.T) {
	server := newIdentity(t, "a")
	ca, _ := server.LoadCA()
	open, _ := server.ServerConfig(tls.VerifyClientCertIfGiven)
	code, err := NewCode(ca)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newIdentity(t, "b").LoadCA()
	otherCode, _ := NewCode(other)
	want := FormatFingerprint(ca.Fingerprint())
	for _, tc := range []struct {
		name    string
		code    string
		matches bool
	}{{"the code's CA", code.String(), true}, {"another CA's code", otherCode.String(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			addr, got := serveOnce(t, open)
			fp, matches, err := PeerFingerprint(t.Context(), addr, tc.code)
			if err != nil || fp != want || matches != tc.matches {
				t.Fatalf("PeerFingerprint = %q %v %v; want %q %v", fp, matches, err, want, tc.matches)
			}
			if g := <-got; g != "|" && g != "" && g != "error" {
				t.Fatalf("the server read %q: something was sent", g)
			}
		})
	}
	if _, _, err := PeerFingerprint(t.Context(), "127.0.0.1:1", code.String()); !errors.Is(err, ErrPreview) {
		t.Fatalf("nobody listening: %v", err)
	}
	if _, _, err := PeerFingerprint(t.Context(), "127.0.0.1:1", "not a code"); !errors.Is(err, ErrBadCode) {
		t.Fatalf("a bad code: %v", err)
	}
}
