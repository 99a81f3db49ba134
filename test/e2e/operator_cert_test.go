package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/test/cluster"
)

// The operator's own certificate is what browsers see on the API port;
// pairing, heartbeats and the CLI keep the appliance CA; plain HTTP only
// redirects to HTTPS.
func TestOperatorCertificateAndRedirect(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	dir := t.TempDir()
	now := time.Now()
	opCA, err := pairing.NewCA("operator's corporate CA", now)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, pub, _ := pairing.NewKey()
	certPEM, err := opCA.Issue(pub, "mamori.example", pairing.CertAppliance, []net.IP{net.ParseIP(sub + ".1")}, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "ui.crt"), filepath.Join(dir, "ui.key")
	if os.WriteFile(certFile, certPEM, 0o600) != nil || os.WriteFile(keyFile, keyPEM, 0o600) != nil {
		t.Fatal("write operator certificate")
	}
	redirect := net.JoinHostPort(sub+".1", cluster.FreePort(t, sub+".1"))
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{APIYAML: "  tls_cert: " + certFile + "\n  tls_key: " + keyFile + "\n  redirect_listen: " + redirect + "\n"})
	b := cluster.NewNode(t, "b", sub+".2", cluster.Options{})
	cluster.Pair(t, a, b) // pairing and heartbeats under the appliance CA
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		st, _ := b.Status()
		return st.Peer != nil && st.Peer.Reachable
	}) {
		st, _ := b.Status()
		t.Fatalf("b does not reach a's heartbeats: %+v", st.Peer)
	}
	if out, err := a.CLI("status"); err != nil {
		t.Fatalf("CLI on a: %v\n%s", err, out)
	}

	roots := x509.NewCertPool()
	roots.AddCert(opCA.Cert)
	browser := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "mamori.example"}}}
	resp, err := browser.Get("https://" + a.API + "/healthz")
	if err != nil {
		t.Fatalf("a browser trusting only the operator's CA: %v", err)
	}
	resp.Body.Close()

	noFollow := &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get("http://" + redirect + "/api/v1/cluster?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://" + a.API + "/api/v1/cluster?x=1"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d Location %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}
