package e2e

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/test/cluster"
)

// foreignClientTLS is a client certificate from a CA that is not the pair's.
func foreignClientTLS(t *testing.T) *tls.Config {
	t.Helper()
	now := time.Now()
	ca, err := pairing.NewCA("rogue CA", now)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, pub, err := pairing.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := ca.Issue(pub, "b", pairing.CertAppliance, []net.IP{net.ParseIP("127.0.0.1")}, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}, InsecureSkipVerify: true}
}

// clusterAddr reads a node's cluster address from its status.
func clusterAddr(t *testing.T, n *cluster.Node) string {
	t.Helper()
	st, err := n.Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Store.Servers {
		if s.ID == st.NodeID {
			return s.Addr
		}
	}
	t.Fatalf("no cluster address for %s in %+v", n.Name, st.Store.Servers)
	return ""
}

func TestNodeLinksRefuseStrangers(t *testing.T) {
	skipShort(t)
	a, _ := newPair(t, cluster.Options{})
	caddr := clusterAddr(t, a)

	t.Run("certificate from another CA on the cluster port", func(t *testing.T) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", caddr, foreignClientTLS(t))
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			_, _ = c.Write([]byte{1})
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("a foreign certificate got through to the cluster port")
		}
	})
	t.Run("certificate from another CA on the heartbeat route", func(t *testing.T) {
		cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: foreignClientTLS(t)}}
		resp, err := cl.Post("https://"+a.API+ha.HeartbeatPath, "application/json", strings.NewReader(`{"id":"b","role":"active","epoch":99}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("a heartbeat signed by another CA was accepted")
			}
		}
	})
	t.Run("plaintext on the cluster port", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", caddr, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(append([]byte{1}, []byte("plaintext raft, please")...))
		n, err := c.Read(make([]byte, 512))
		if err == nil && n > 0 {
			t.Fatalf("plaintext client got %d bytes of answer", n)
		}
	})
	t.Run("node routes without a certificate", func(t *testing.T) {
		for _, p := range []string{"/internal/v1/recover", "/internal/v1/pair/code", ha.HeartbeatPath, ha.EventsPath} {
			code, err := a.DoAs("", http.MethodPost, p, map[string]any{}, nil)
			if err != nil || code != http.StatusUnauthorized {
				t.Fatalf("POST %s without a certificate: HTTP %d %v, want 401", p, code, err)
			}
		}
	})
	t.Run("refusals are logged", func(t *testing.T) {
		if !cluster.WaitFor(t.Context(), 5*time.Second, func() bool {
			b, _ := os.ReadFile(a.LogPath)
			return strings.Contains(string(b), "cluster port connection refused")
		}) {
			t.Fatal("no log line for the refused cluster connections")
		}
	})
}

// The witness's lease route takes only the pair's certificates: plaintext,
// no certificate and a certificate of another CA are refused.
func TestWitnessRefusesStrangers(t *testing.T) {
	skipShort(t)
	a := newSingle(t, cluster.Options{})
	wip := cluster.Subnet() + ".3"
	w := cluster.NewWitness(t, "", net.JoinHostPort(wip, cluster.FreePort(t, wip)))
	w.Join(a.API, a.PairCode("10m"))
	w.Start()
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		c, err := net.Dial("tcp", w.Listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatal("the witness does not listen")
	}
	body := `{"op":"acquire","epoch":99,"ttl_ms":5000}`
	t.Run("the appliance's own certificate is answered", func(t *testing.T) { // the control: the route works
		kp, err := tls.LoadX509KeyPair(filepath.Join(a.Dir, "data", "tls", "node.crt"), filepath.Join(a.Dir, "data", "tls", "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{kp}}}}
		resp, err := cl.Post("https://"+w.Listen+ha.LeasePath, "application/json", strings.NewReader(`{"op":"status","ttl_ms":1000}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status with the appliance's certificate: HTTP %d", resp.StatusCode)
		}
	})
	t.Run("plaintext", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 3 * time.Second}).Post("http://"+w.Listen+ha.LeasePath, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("a plaintext lease request was answered 200")
			}
		}
	})
	t.Run("a witness certificate of the pair's own CA", func(t *testing.T) { // a witness holds no lease
		kp := issued(t, pairCA(t, a), "other-witness", pairing.CertWitness)
		cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{kp}}}}
		resp, err := cl.Post("https://"+w.Listen+ha.LeasePath, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("the witness granted a lease request made with a witness certificate")
			}
		}
	})
	for name, tc := range map[string]*tls.Config{"no certificate": {InsecureSkipVerify: true}, "certificate from another CA": foreignClientTLS(t)} {
		t.Run(name, func(t *testing.T) {
			cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
			resp, err := cl.Post("https://"+w.Listen+ha.LeasePath, "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("a lease request with %s got HTTP %d", name, resp.StatusCode)
			}
		})
	}
}

// A code from another appliance does not pair with this one: the joiner
// sees the CA does not match the code's pin and sends nothing.
func TestPeerFromAnotherPairRefused(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	x := cluster.NewNode(t, "x", sub+".3", cluster.Options{})
	a.Start()
	x.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	x.WaitRole(ha.Active, 30*time.Second)
	codeOfX := x.PairCode("10m")
	y := cluster.NewNode(t, "y", sub+".4", cluster.Options{})
	out, err := y.CLI("pair", "join", "--peer", a.API, "--code", codeOfX)
	if err == nil || !strings.Contains(out, "does not match") {
		t.Fatalf("join a with x's code: err=%v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(y.Dir, "data", "pair.json")); err == nil {
		t.Fatal("y wrote pair.json")
	}
	if st, _ := a.Status(); st.Paired {
		t.Fatal("a is paired after a join with another appliance's code")
	}
}

// Debian's openssl: only TLS 1.2 and newer, no weak ciphers, on the API
// port and on the cluster port (which also needs a pair certificate).
func TestTLSVersionsAndCiphers(t *testing.T) {
	skipShort(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: make deps installs it")
	}
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	tlsDir := filepath.Join(a.Dir, "data", "tls")
	nodeCert := []string{"-cert", filepath.Join(tlsDir, "node.crt"), "-key", filepath.Join(tlsDir, "node.key")}
	for _, port := range []struct {
		name, addr string
		extra      []string
	}{{"api", a.API, nil}, {"cluster", clusterAddr(t, a), nodeCert}} {
		for _, tc := range []struct {
			name string
			args []string
			ok   bool
		}{
			{"tls1.0", []string{"-tls1"}, false},
			{"tls1.1", []string{"-tls1_1"}, false},
			{"tls1.2", []string{"-tls1_2"}, true},
			{"tls1.3", []string{"-tls1_3"}, true},
			{"tls1.2 AES128-SHA (no forward secrecy, CBC)", []string{"-tls1_2", "-cipher", "AES128-SHA"}, false},
			{"tls1.2 3DES", []string{"-tls1_2", "-cipher", "DES-CBC3-SHA"}, false},
			{"tls1.2 ECDHE-ECDSA-AES128-SHA (CBC)", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"}, false},
		} {
			t.Run(port.name+" "+tc.name, func(t *testing.T) {
				args := append([]string{"s_client", "-connect", port.addr, "-brief"}, tc.args...)
				args = append(args, port.extra...)
				cmd := exec.Command("openssl", args...)
				cmd.Stdin = strings.NewReader("")
				out, err := cmd.CombinedOutput()
				handshake := err == nil && strings.Contains(string(out), "Protocol version")
				if handshake != tc.ok {
					t.Fatalf("openssl %s: handshake=%v, want %v\n%s", strings.Join(tc.args, " "), handshake, tc.ok, out)
				}
			})
		}
	}
	// A plaintext HTTP client on the API port gets no API answer.
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get("http://" + a.API + "/api/v1/cluster")
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plaintext HTTP got an API answer")
		}
	}
}
