// Package notifytest gives tests real receivers of notifications: a small
// SMTP server (STARTTLS, AUTH PLAIN) and an HTTP webhook receiver that
// record what they get, and count repeats by notification key. Test
// support: nothing in the appliance imports it.
package notifytest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message the SMTP receiver accepted.
type Mail struct {
	From      string
	To        []string
	Data      string
	MessageID string
	Key       string // X-Mamori-Key
	TLS, Auth bool
	User      string
}

// SMTP is a real SMTP server on loopback.
type SMTP struct {
	Addr string
	// CA is the PEM certificate the server presents (self-signed).
	CA             string
	User, Password string
	ln             net.Listener
	tls            *tls.Config
	mu             sync.Mutex
	mails          []Mail
	// Reject, when set, makes DATA fail with 451 (a temporary failure).
	reject bool
	noTLS  bool
}

// NewSMTP starts an SMTP server that offers STARTTLS and AUTH PLAIN (after
// STARTTLS) with user/password, and stops it when the test ends.
func NewSMTP(t testing.TB, user, password string) *SMTP {
	t.Helper()
	cert, pemCert := Cert(t, "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{Addr: ln.Addr().String(), CA: pemCert, User: user, Password: password, ln: ln,
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

// SetNoTLS makes the server stop offering STARTTLS (an old relay).
func (s *SMTP) SetNoTLS(on bool) { s.mu.Lock(); s.noTLS = on; s.mu.Unlock() }

// SetReject makes the server refuse (451) or take messages.
func (s *SMTP) SetReject(on bool) { s.mu.Lock(); s.reject = on; s.mu.Unlock() }

// Mails returns what the server accepted.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

func (s *SMTP) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

// session speaks just enough SMTP (RFC 5321, 3207, 4954) for a client.
func (s *SMTP) session(conn net.Conn) {
	defer func() { conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 notifytest ESMTP")
	var m Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-notifytest"}
			s.mu.Lock()
			noTLS := s.noTLS
			s.mu.Unlock()
			if !m.TLS && !noTLS {
				ext = append(ext, "250-STARTTLS")
			} else {
				ext = append(ext, "250-AUTH PLAIN")
			}
			for _, e := range ext {
				_ = tp.PrintfLine("%s", e)
			}
			_ = tp.PrintfLine("250 8BITMIME")
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, tp = tc, textproto.NewConn(tc)
			m = Mail{TLS: true}
		case "AUTH":
			m.Auth, m.User = s.auth(tp, m.TLS, arg)
		case "MAIL":
			m.From = addr(arg)
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			m.To = append(m.To, addr(arg))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			s.data(tp, &m)
		case "RSET":
			m = Mail{TLS: m.TLS, Auth: m.Auth, User: m.User}
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *SMTP) auth(tp *textproto.Conn, overTLS bool, arg string) (bool, string) {
	mech, resp, _ := strings.Cut(arg, " ")
	if !overTLS || !strings.EqualFold(mech, "PLAIN") {
		_ = tp.PrintfLine("504 PLAIN after STARTTLS only")
		return false, ""
	}
	if resp == "" {
		_ = tp.PrintfLine("334 ")
		resp, _ = tp.ReadLine()
	}
	raw, _ := base64.StdEncoding.DecodeString(resp)
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[1] != s.User || parts[2] != s.Password {
		_ = tp.PrintfLine("535 authentication failed")
		return false, ""
	}
	_ = tp.PrintfLine("235 authenticated")
	return true, parts[1]
}

func (s *SMTP) data(tp *textproto.Conn, m *Mail) {
	if s.User != "" && !m.Auth {
		_ = tp.PrintfLine("530 authentication required")
		return
	}
	_ = tp.PrintfLine("354 end with .")
	b, err := io.ReadAll(tp.DotReader())
	if err != nil {
		return
	}
	s.mu.Lock()
	reject := s.reject
	s.mu.Unlock()
	if reject {
		_ = tp.PrintfLine("451 try again later")
		return
	}
	m.Data = string(b)
	hdr, _ := textproto.NewReader(bufio.NewReader(strings.NewReader(m.Data))).ReadMIMEHeader()
	m.MessageID, m.Key = hdr.Get("Message-Id"), hdr.Get("X-Mamori-Key")
	s.mu.Lock()
	s.mails = append(s.mails, *m)
	s.mu.Unlock()
	_ = tp.PrintfLine("250 queued")
	*m = Mail{TLS: m.TLS, Auth: m.Auth, User: m.User}
}

func addr(arg string) string {
	if i := strings.IndexByte(arg, '<'); i >= 0 {
		if j := strings.IndexByte(arg[i:], '>'); j > 0 {
			return arg[i+1 : i+j]
		}
	}
	return arg
}

// Cert is a self-signed certificate for ip and its PEM (to trust it).
func Cert(t testing.TB, ip string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notifytest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// Hook is one request the webhook receiver got.
type Hook struct {
	Body          map[string]any
	Raw           string
	Authorization string
	Key           string // Idempotency-Key
}

// Webhook is a real HTTP server that records bodies.
type Webhook struct {
	URL    string
	mu     sync.Mutex
	hooks  []Hook
	status int
	delay  time.Duration
}

// NewWebhook starts an HTTP receiver on loopback.
func NewWebhook(t testing.TB) *Webhook {
	t.Helper()
	w := &Webhook{status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// SetDelay makes the receiver record a request at once and answer it
// only after d: a sender killed meanwhile never learns it was taken.
func (w *Webhook) SetDelay(d time.Duration) { w.mu.Lock(); w.delay = d; w.mu.Unlock() }

// SetStatus makes the receiver answer status (e.g. 503 to force retries).
func (w *Webhook) SetStatus(code int) { w.mu.Lock(); w.status = code; w.mu.Unlock() }

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.mu.Lock()
	code := w.status
	if code/100 == 2 {
		h := Hook{Raw: string(b), Authorization: r.Header.Get("Authorization"), Key: r.Header.Get("Idempotency-Key")}
		_ = json.Unmarshal(b, &h.Body)
		w.hooks = append(w.hooks, h)
	}
	delay := w.delay
	w.mu.Unlock()
	time.Sleep(delay)
	rw.WriteHeader(code)
}

// Hooks returns what the receiver accepted.
func (w *Webhook) Hooks() []Hook {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Hook(nil), w.hooks...)
}

// Repeats counts keys received more than once (each extra copy counts).
func Repeats(keys []string) int {
	seen, n := map[string]bool{}, 0
	for _, k := range keys {
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}
