package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// site is the test's web server: pages, a redirect, a slow page, a login
// that sets a cookie and a page behind it, basic auth, an echo.
func site() nethttp.Handler {
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		fmt.Fprint(w, "hello from mamori's test site")
	})
	mux.HandleFunc("/old", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/", nethttp.StatusFound)
	})
	mux.HandleFunc("/down", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Error(w, "maintenance", nethttp.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /login", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != "user=ops&pass=secret" {
			nethttp.Error(w, "bad login", nethttp.StatusForbidden)
			return
		}
		nethttp.SetCookie(w, &nethttp.Cookie{Name: "session", Value: "s3", Path: "/"})
		nethttp.Redirect(w, r, "/account", nethttp.StatusSeeOther)
	})
	mux.HandleFunc("/account", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s3" {
			nethttp.Error(w, "log in first", nethttp.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "balance: 42")
	})
	mux.HandleFunc("/private", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ops" || p != "pw-from-store" {
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			nethttp.Error(w, "who are you", nethttp.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "private ok")
	})
	mux.HandleFunc("/echo", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s host=%s x=%s body=%s", r.Method, r.URL.Path, r.Host, r.Header.Get("X-Test"), b)
	})
	return mux
}

func run(t *testing.T, env check.Env, address, params string) check.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Checker{}.Check(ctx, env, check.Target{NodeID: "n1", Name: "web1", Address: address}, json.RawMessage(params))
}

func items(r check.Result) map[string]check.Item {
	m := map[string]check.Item{}
	for _, it := range r.Items {
		m[it.Key] = it
	}
	return m
}

func num(t *testing.T, r check.Result, key string) float64 {
	t.Helper()
	it, ok := items(r)[key]
	if !ok || it.Number == nil {
		t.Fatalf("no number %q in %+v (err %v, raw %q)", key, r.Items, r.Err, r.Raw)
	}
	return *it.Number
}

func hostPort(t *testing.T, u string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	addr, port := hostPort(t, srv.URL)
	base := "http://{{address}}:" + port
	cases := []struct {
		name, params string
		status       float64
		err, body    string
	}{
		{"page", `{"url":"` + base + `/"}`, 200, "", "hello from"},
		{"pattern", `{"url":"` + base + `/","pattern":"hello.*site"}`, 200, "", ""},
		{"pattern fails", `{"url":"` + base + `/","pattern":"^goodbye"}`, 200, "does not match", ""},
		{"redirect followed", `{"url":"` + base + `/old"}`, 200, "", "hello"},
		{"redirect kept", `{"url":"` + base + `/old","follow_redirects":false,"expect_status":["302"]}`, 302, "", ""},
		{"redirect unexpected", `{"url":"` + base + `/old","follow_redirects":false}`, 302, "status 302, expected 2xx", ""},
		{"server error", `{"url":"` + base + `/down"}`, 503, "status 503", "maintenance"},
		{"server error expected", `{"url":"` + base + `/down","expect_status":["200","500-503"]}`, 503, "", ""},
		{"basic auth", `{"url":"` + base + `/private","user":"ops","password_credential":"web-pw"}`, 200, "", "private ok"},
		{"basic auth missing", `{"url":"` + base + `/private"}`, 401, "status 401", ""},
		{"post with headers", `{"url":"` + base + `/echo","method":"post","headers":{"X-Test":"{{name}}","Host":"web.example"},"body":"at {{address}}"}`,
			200, "", "POST /echo host=web.example x=web1 body=at 127.0.0.1"},
	}
	env := check.Env{Secret: func(_ context.Context, name string) (string, error) {
		if name != "web-pw" {
			return "", errors.New("no such credential")
		}
		return "pw-from-store", nil
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, env, addr, c.params)
			if (c.err == "") != (r.Err == nil) || (r.Err != nil && !strings.Contains(r.Err.Error(), c.err)) {
				t.Fatalf("err = %v, want %q (raw %q)", r.Err, c.err, r.Raw)
			}
			if got := num(t, r, ItemStatus); got != c.status {
				t.Fatalf("status %v, want %v", got, c.status)
			}
			if ms := num(t, r, ItemResponse); ms <= 0 || ms > 5000 {
				t.Fatalf("response_ms %v", ms)
			}
			if b := items(r)[ItemBody]; b.Text == nil || !strings.Contains(*b.Text, c.body) {
				t.Fatalf("body %+v, want %q", b, c.body)
			}
			if _, ok := items(r)[ItemCertDays]; ok {
				t.Fatal("cert_days_left on plain HTTP")
			}
			if !strings.HasPrefix(r.Raw, "> ") || !strings.Contains(r.Raw, "< HTTP/1.1 ") {
				t.Fatalf("raw %q", r.Raw)
			}
		})
	}
}

func TestScenario(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	addr, port := hostPort(t, srv.URL)
	base := "http://{{address}}:" + port
	steps := func(pass string) string {
		return `{"headers":{"X-Test":"1"},"steps":[
			{"name":"home","url":"` + base + `/","pattern":"hello"},
			{"name":"login","method":"POST","url":"` + base + `/login","headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":"user=ops&pass=` + pass + `"},
			{"name":"account","url":"` + base + `/account","pattern":"balance: \\d+"}]}`
	}
	r := run(t, check.Env{}, addr, steps("secret"))
	if r.Err != nil {
		t.Fatalf("scenario: %v\n%s", r.Err, r.Raw)
	}
	if r.Items[0].Key != ItemResponse {
		t.Fatalf("first item %q: the main value comes first", r.Items[0].Key)
	}
	for _, k := range []string{"step1.status", "step2.status", "step3.status", ItemStatus} {
		if v := num(t, r, k); v != 200 {
			t.Fatalf("%s = %v", k, v)
		}
	}
	sum := num(t, r, "step1.response_ms") + num(t, r, "step2.response_ms") + num(t, r, "step3.response_ms")
	if total := num(t, r, ItemResponse); total < sum-0.001 || total > sum+0.001 {
		t.Fatalf("response_ms %v, steps sum to %v", total, sum)
	}
	// A wrong password: the login step fails and names itself; the
	// account step is never reached.
	r = run(t, check.Env{}, addr, steps("wrong"))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "step 2 (login): status 403") {
		t.Fatalf("err = %v", r.Err)
	}
	if _, ok := items(r)["step3.status"]; ok {
		t.Fatal("step 3 ran after step 2 failed")
	}
	if num(t, r, "step2.status") != 403 {
		t.Fatalf("items %+v", r.Items)
	}
}

// tlsSite serves site() over TLS with a certificate from a test CA that
// expires exactly 30 days from now; it returns the CA in PEM.
func tlsSite(t testing.TB) (*httptest.Server, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mamori test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "web1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"web1.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(site())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
}

func TestHTTPS(t *testing.T) {
	srv, caPEM := tlsSite(t)
	addr, port := hostPort(t, srv.URL)
	ca, _ := json.Marshal(caPEM)
	u := `"url":"https://{{address}}:` + port + `/"`
	cases := []struct{ name, params, err string }{
		{"trusted CA", `{` + u + `,"ca":` + string(ca) + `}`, ""},
		{"unknown CA", `{` + u + `}`, "certificate signed by unknown authority"},
		{"verify off", `{` + u + `,"tls_verify":false}`, ""},
		{"server name", `{` + u + `,"ca":` + string(ca) + `,"server_name":"web1.test"}`, ""},
		{"wrong server name", `{` + u + `,"ca":` + string(ca) + `,"server_name":"other.test"}`, "other.test"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, check.Env{}, addr, c.params)
			if c.err != "" {
				if r.Err == nil || !strings.Contains(r.Err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", r.Err, c.err)
				}
				return
			}
			if r.Err != nil {
				t.Fatalf("err %v (raw %q)", r.Err, r.Raw)
			}
			if days := num(t, r, ItemCertDays); days > 30 || days < 29.99 {
				t.Fatalf("cert_days_left = %v, want just under 30", days)
			}
			if num(t, r, ItemStatus) != 200 {
				t.Fatal("status")
			}
		})
	}
}

// TestTargetGone: a slow server past the timeout, a closed port, a
// server answering garbage, a server that hangs up: each a failed check
// with the reason, never a panic.
func TestTargetGone(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	addr, port := hostPort(t, srv.URL)
	closed := closedPort(t)
	garbage := rawServer(t, "SSH-2.0-OpenSSH_9.2\r\n\x00\xff\xfe garbage\r\n\r\n")
	hangup := rawServer(t, "")
	cases := []struct{ name, params, err string }{
		{"timeout", `{"url":"http://{{address}}:` + port + `/slow","timeout":"200ms"}`, "deadline exceeded"},
		{"closed port", `{"url":"http://{{address}}:` + closed + `/"}`, "connection refused"},
		{"garbage", `{"url":"http://{{address}}:` + garbage + `/"}`, "malformed HTTP"},
		{"hang up", `{"url":"http://{{address}}:` + hangup + `/"}`, "EOF"},
		{"TLS to plain HTTP", `{"url":"https://{{address}}:` + port + `/"}`, "http: server gave HTTP response to HTTPS client"},
		{"no address", `{"url":"http://{{address}}:` + port + `/"}`, "the node has no address"},
		{"missing credential", `{"url":"http://{{address}}:` + port + `/","user":"u","password_credential":"x"}`, "no credential store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			a := addr
			if c.name == "no address" {
				a = ""
			}
			r := run(t, check.Env{}, a, c.params)
			if r.Err == nil || !strings.Contains(r.Err.Error(), c.err) {
				t.Fatalf("err = %v, want %q (raw %q)", r.Err, c.err, r.Raw)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("took %s", took)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// rawServer answers every connection with reply and hangs up.
func rawServer(t *testing.T, reply string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var v atomic.Value
	v.Store([]byte(reply))
	go serveReplies(l, &v)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestIPv6Address(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("skipped: no IPv6 loopback here")
	}
	srv := &httptest.Server{Listener: l, Config: &nethttp.Server{Handler: site()}}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	r := run(t, check.Env{}, "::1", `{"url":"http://{{address}}:`+port+`/"}`)
	if r.Err != nil || num(t, r, ItemStatus) != 200 {
		t.Fatalf("err %v raw %q", r.Err, r.Raw)
	}
}

// TestCancel: the runner's ctx ends the check at once, whatever the
// request timeout says.
func TestCancel(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := Checker{}.Check(ctx, check.Env{}, check.Target{Address: "127.0.0.1"}, json.RawMessage(`{"url":"`+srv.URL+`/slow","timeout":"1m"}`))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "context canceled") || time.Since(start) > time.Second {
		t.Fatalf("err %v after %s", r.Err, time.Since(start))
	}
}
