package tcp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Small servers the tests start on 127.0.0.1, each speaking just enough
// of its protocol, plus hostile ones.

// serve accepts connections on l and runs h on each until the test ends.
func serve(t testing.TB, l net.Listener, h func(net.Conn)) int {
	t.Helper()
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				h(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testCert is a self-signed certificate for 127.0.0.1 expiring in 10 days.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// smtpServer greets, answers EHLO (offering STARTTLS when cert is set),
// upgrades on STARTTLS, and records the commands it heard.
type smtpServer struct {
	cert  *tls.Certificate
	mu    sync.Mutex
	heard []string
}

func (s *smtpServer) handle(c net.Conn) {
	io.WriteString(c, "220-mx.test ESMTP test server\r\n220 ready\r\n")
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSpace(line)
		s.mu.Lock()
		s.heard = append(s.heard, cmd)
		s.mu.Unlock()
		switch verb := strings.ToUpper(strings.Fields(cmd + " x")[0]); {
		case verb == "EHLO" && s.cert != nil:
			io.WriteString(c, "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
		case verb == "EHLO":
			io.WriteString(c, "250-mx.test\r\n250 PIPELINING\r\n")
		case verb == "STARTTLS":
			io.WriteString(c, "220 go ahead\r\n")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*s.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r = tc, bufio.NewReader(tc)
		case verb == "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			io.WriteString(c, "502 unknown\r\n")
		}
	}
}

func (s *smtpServer) commands() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.heard, "|")
}

// scripted greets with greeting, then answers each line it reads with
// replies[last word of the line], and hangs up after QUIT/LOGOUT; with no
// replies it hangs up after the greeting.
func scripted(greeting string, replies map[string]string) func(net.Conn) {
	return func(c net.Conn) {
		io.WriteString(c, greeting)
		if replies == nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			key := strings.ToUpper(f[len(f)-1])
			io.WriteString(c, replies[key])
			if key == "QUIT" || key == "LOGOUT" {
				return
			}
		}
	}
}

// silent accepts and says nothing until the client leaves.
func silent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// --- DNS ---

// dnsZone answers A, CNAME, MX and TXT questions for *.mon.test.
type dnsZone struct{}

// reply builds the answer to query q; tcp says which transport asked.
func (dnsZone) reply(q []byte, tcp bool) []byte {
	if len(q) < 12 {
		return nil
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	if end+5 > len(q) {
		return nil
	}
	name := decodeTestName(q[12:end])
	qtype := binary.BigEndian.Uint16(q[end+1:])
	question := q[12 : end+5]
	flags, rrs := uint16(0x8180), [][]byte(nil) // QR RD RA, NOERROR
	switch {
	case name == "garbage.mon.test":
		return []byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0xc0, 0x0c, 0xc0}
	case name == "nx.mon.test":
		flags |= 3
	case name == "big.mon.test" && !tcp:
		flags |= 0x0200 // TC
	case name == "alias.mon.test":
		rrs = append(rrs, rr(5, encodeTestName("www.mon.test")), rr(1, []byte{192, 0, 2, 10}))
	case qtype == 15:
		rrs = append(rrs, rr(15, append([]byte{0, 10}, encodeTestName("mail.mon.test")...)))
	case qtype == 16:
		rrs = append(rrs, rr(16, []byte("\x05hello\x05world")))
	case name == "www.mon.test" || name == "big.mon.test":
		rrs = append(rrs, rr(1, []byte{192, 0, 2, 10}), rr(1, []byte{192, 0, 2, 11}))
	}
	m := append([]byte{q[0], q[1]}, byte(flags>>8), byte(flags), 0, 1, 0, byte(len(rrs)), 0, 0, 0, 0)
	m = append(m, question...)
	for _, r := range rrs {
		m = append(m, r...)
	}
	return m
}

// rr is a record named by a pointer to the question's name.
func rr(typ uint16, data []byte) []byte {
	b := []byte{0xc0, 12, byte(typ >> 8), byte(typ), 0, 1, 0, 0, 0, 60}
	return append(binary.BigEndian.AppendUint16(b, uint16(len(data))), data...)
}

func encodeTestName(s string) []byte {
	var b []byte
	for _, l := range strings.Split(s, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return append(b, 0)
}

func decodeTestName(b []byte) string {
	var parts []string
	for len(b) > 0 && int(b[0])+1 <= len(b) {
		parts = append(parts, string(b[1:1+b[0]]))
		b = b[1+b[0]:]
	}
	return strings.Join(parts, ".")
}

// dnsServer serves the zone on UDP and TCP on the same port; the name
// "silent.mon.test" gets no answer at all.
func dnsServer(t testing.TB) int {
	t.Helper()
	z := dnsZone{}
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			u.Close() // the TCP port is taken: try another pair
			continue
		}
		t.Cleanup(func() { u.Close() })
		go serveUDP(u, func(q []byte) []byte {
			if strings.Contains(string(q), "\x06silent") {
				return nil
			}
			return z.reply(q, false)
		})
		serve(t, l, func(c net.Conn) {
			var n [2]byte
			if _, err := io.ReadFull(c, n[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(n[:]))
			if _, err := io.ReadFull(c, q); err != nil {
				return
			}
			a := z.reply(q, true)
			c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...))
		})
		return port
	}
	t.Fatal("no free UDP+TCP port pair")
	return 0
}

func serveUDP(u net.PacketConn, answer func([]byte) []byte) {
	buf := make([]byte, 2048)
	for {
		n, from, err := u.ReadFrom(buf)
		if err != nil {
			return
		}
		if a := answer(append([]byte(nil), buf[:n]...)); a != nil {
			u.WriteTo(a, from)
		}
	}
}

// --- NTP ---

// ntpServer answers as a stratum 2 server whose clock is offset ahead of
// ours; mangle may spoil the reply.
func ntpServer(t testing.TB, offset time.Duration, mangle func([]byte)) int {
	t.Helper()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	go serveUDP(u, func(q []byte) []byte {
		if len(q) < 48 {
			return nil
		}
		now := toNTP(time.Now().Add(offset))
		b := make([]byte, 48)
		b[0], b[1], b[2], b[3] = 4<<3|4, 2, 6, 0xec // LI 0, v4, server; stratum 2
		copy(b[12:16], []byte{127, 0, 0, 1})
		copy(b[24:32], q[40:48]) // origin = the client's transmit stamp
		binary.BigEndian.PutUint64(b[32:], now)
		binary.BigEndian.PutUint64(b[40:], now)
		if mangle != nil {
			mangle(b)
		}
		return b
	})
	return u.LocalAddr().(*net.UDPAddr).Port
}

// daemon runs a real server for the test's life, its output in a file;
// ready is polled until it holds (or the test fails with that output).
func daemon(t *testing.T, ready func() bool, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ready() {
			return
		}
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("%s %s is not ready:\n%s", name, strings.Join(args, " "), log)
}
