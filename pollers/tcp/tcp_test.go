package tcp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

func run(t *testing.T, params string) check.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Checker{}.Check(ctx, check.Env{}, check.Target{NodeID: "n1", Address: "127.0.0.1"}, json.RawMessage(params))
}

func items(r check.Result) map[string]check.Item {
	m := map[string]check.Item{}
	for _, it := range r.Items {
		m[it.Key] = it
	}
	return m
}

// want describes a result: the error it contains ("" none), the items it
// has, and text the banner/answer item or Raw must contain.
type want struct {
	err   string
	keys  []string
	text  string
	inRaw string
}

func (w want) verify(t *testing.T, r check.Result) {
	t.Helper()
	if (w.err == "") != (r.Err == nil) || (r.Err != nil && !strings.Contains(r.Err.Error(), w.err)) {
		t.Fatalf("err = %v, want %q\nraw:\n%s", r.Err, w.err, r.Raw)
	}
	got := items(r)
	for _, k := range w.keys {
		it, ok := got[k]
		if !ok || (it.Number == nil && it.Text == nil) {
			t.Fatalf("no item %q in %+v\nraw:\n%s", k, r.Items, r.Raw)
		}
		if it.Number != nil && (*it.Number < 0 && k != ItemOffset || *it.Number > 5000 && k != ItemCertDays) {
			t.Fatalf("%s = %v", k, *it.Number)
		}
	}
	if w.text != "" {
		b, a := got[ItemBanner], got[ItemAnswer]
		if !(b.Text != nil && strings.Contains(*b.Text, w.text)) && !(a.Text != nil && strings.Contains(*a.Text, w.text)) {
			t.Fatalf("banner/answer %+v %+v, want %q", b, a, w.text)
		}
	}
	if !strings.Contains(r.Raw, w.inRaw) {
		t.Fatalf("raw lacks %q:\n%s", w.inRaw, r.Raw)
	}
}

func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		return u.LocalAddr().(*net.UDPAddr).Port
	}
	l := listen(t)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestServices(t *testing.T) {
	cert := testCert(t)
	plain := &smtpServer{}
	smtpPort := serve(t, listen(t), plain.handle)
	withTLS := &smtpServer{cert: &cert}
	starttlsPort := serve(t, listen(t), withTLS.handle)
	tlsL := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	smtpsPort := serve(t, tlsL, (&smtpServer{}).handle)
	imapPort := serve(t, listen(t), scripted("* OK [CAPABILITY IMAP4rev1] test ready\r\n",
		map[string]string{"LOGOUT": "* BYE logging out\r\nm1 OK LOGOUT completed\r\n"}))
	pop3Port := serve(t, listen(t), scripted("+OK POP3 test ready\r\n", map[string]string{"QUIT": "+OK bye\r\n"}))
	ftpPort := serve(t, listen(t), scripted("220-Welcome to the test FTP\r\n   a line without a code\r\n220 ready\r\n",
		map[string]string{"QUIT": "221 Goodbye\r\n"}))
	silentPort := serve(t, listen(t), silent)
	cases := []struct {
		name, params string
		want
	}{
		{"connect", p(`"port":%d`, smtpPort), want{keys: []string{ItemConnect}, inRaw: "connected to 127.0.0.1"}},
		{"connect TLS", p(`"port":%d,"tls":true,"tls_verify":false`, smtpsPort),
			want{keys: []string{ItemConnect, ItemCertDays}, inRaw: "TLS 1.3"}},
		{"smtp", p(`"protocol":"smtp","port":%d`, smtpPort),
			want{keys: []string{ItemConnect, ItemResponse, ItemBanner}, text: "220-mx.test ESMTP", inRaw: "C: EHLO mamori.invalid"}},
		{"smtp starttls", p(`"protocol":"smtp","port":%d,"starttls":true,"tls_verify":false,"ehlo_name":"probe.test"`, starttlsPort),
			want{keys: []string{ItemConnect, ItemResponse, ItemCertDays}, inRaw: "S: 220 go ahead"}},
		{"smtp starttls not offered", p(`"protocol":"smtp","port":%d,"starttls":true`, smtpPort),
			want{err: "does not offer it", keys: []string{ItemConnect}}},
		{"smtp starttls unverified", p(`"protocol":"smtp","port":%d,"starttls":true`, starttlsPort),
			want{err: "certificate signed by unknown authority"}},
		{"smtps", p(`"protocol":"smtp","port":%d,"tls":true,"tls_verify":false`, smtpsPort),
			want{keys: []string{ItemResponse, ItemCertDays}, text: "ESMTP"}},
		{"imap", p(`"protocol":"imap","port":%d`, imapPort), want{keys: []string{ItemResponse}, text: "* OK", inRaw: "m1 OK LOGOUT"}},
		{"pop3", p(`"protocol":"pop3","port":%d`, pop3Port), want{keys: []string{ItemResponse}, text: "+OK POP3"}},
		{"ftp", p(`"protocol":"ftp","port":%d`, ftpPort), want{keys: []string{ItemResponse}, text: "220-Welcome", inRaw: "S: 221 Goodbye"}},
		{"wrong protocol", p(`"protocol":"imap","port":%d`, pop3Port), want{err: `"+OK POP3 test ready", expected * OK`}},
		{"closed port", p(`"protocol":"smtp","port":%d`, closedPort(t, "tcp")), want{err: "connection refused"}},
		{"silent", p(`"protocol":"smtp","port":%d,"timeout":"300ms"`, silentPort), want{err: "no answer within 300ms", keys: []string{ItemConnect}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.verify(t, run(t, c.params)) })
	}
	if got := withTLS.commands(); !strings.HasPrefix(got, "EHLO probe.test|STARTTLS|EHLO probe.test|QUIT|") {
		t.Fatalf("the STARTTLS server heard %q", got)
	}
}

func p(format string, args ...any) string { return "{" + fmt.Sprintf(format, args...) + "}" }

// TestHostileGreetings: refusals and garbage fail the check with the
// reason; nothing makes it hang past its timeout or panic.
func TestHostileGreetings(t *testing.T) {
	long := strings.Repeat("A", 5000)
	cases := []struct{ name, protocol, greeting, err string }{
		{"smtp refuses", "smtp", "554 no service here\r\n", `"554 no service here", expected 220`},
		{"imap bye", "imap", "* BYE too many connections\r\n", "expected * OK or * PREAUTH"},
		{"pop3 err", "pop3", "-ERR go away\r\n", "expected +OK"},
		{"ftp not ready", "ftp", "120 ready in 5 minutes\r\n", "expected 220"},
		{"not numbered", "smtp", "hello there\r\n", "is not a numbered reply"},
		{"long line", "smtp", long, "longer than 4096 bytes"},
		{"endless reply", "ftp", strings.Repeat("220-more\r\n", 200), "longer than 100 lines"},
		{"hang up", "pop3", "", "EOF"},
		{"binary", "smtp", "\x00\xff\xfe\r\n", "is not a numbered reply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := serve(t, listen(t), scripted(c.greeting, nil))
			start := time.Now()
			r := run(t, p(`"protocol":%q,"port":%d,"timeout":"1s"`, c.protocol, port))
			if r.Err == nil || !strings.Contains(r.Err.Error(), c.err) {
				t.Fatalf("err = %v, want %q\n%s", r.Err, c.err, r.Raw)
			}
			if time.Since(start) > 2*time.Second || len(r.Raw) > check.MaxRaw {
				t.Fatalf("took %s, raw %d bytes", time.Since(start), len(r.Raw))
			}
		})
	}
}

func TestDNS(t *testing.T) {
	port := dnsServer(t)
	closed := closedPort(t, "udp")
	q := func(extra string) string { return p(`"protocol":"dns","port":%d,%s`, port, extra) }
	cases := []struct {
		name, params string
		want
	}{
		{"udp A", q(`"query":"www.mon.test"`), want{keys: []string{ItemResponse, ItemAnswers}, text: "192.0.2.10, 192.0.2.11"}},
		{"tcp A", q(`"query":"www.mon.test","transport":"tcp"`), want{keys: []string{ItemConnect, ItemResponse}, text: "192.0.2.10"}},
		{"cname", q(`"query":"alias.mon.test."`), want{text: "www.mon.test., 192.0.2.10", inRaw: "alias.mon.test. CNAME www.mon.test."}},
		{"mx", q(`"query":"www.mon.test","qtype":"mx"`), want{text: "10 mail.mon.test."}},
		{"txt", q(`"query":"www.mon.test","qtype":"TXT"`), want{text: `"hello" "world"`}},
		{"expect", q(`"query":"www.mon.test","expect":"192.0.2.11"`), want{}},
		{"expect missing", q(`"query":"www.mon.test","expect":"192.0.2.99"`), want{err: "192.0.2.99 is not among the answers"}},
		{"nxdomain", q(`"query":"nx.mon.test"`), want{err: "NXDOMAIN", keys: []string{ItemAnswers}}},
		{"no answer", q(`"query":"empty.mon.test"`), want{err: "no answer"}},
		{"truncated: again over TCP", q(`"query":"big.mon.test"`), want{keys: []string{ItemConnect}, text: "192.0.2.10", inRaw: "asking again over TCP"}},
		{"garbage", q(`"query":"garbage.mon.test"`), want{err: "malformed DNS message"}},
		{"silent", q(`"query":"silent.mon.test","timeout":"300ms"`), want{err: "no answer within 300ms"}},
		{"closed port", p(`"protocol":"dns","port":%d,"query":"www.mon.test"`, closed), want{err: "connection refused"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.verify(t, run(t, c.params)) })
	}
}

func TestNTP(t *testing.T) {
	good := ntpServer(t, 250*time.Millisecond, nil)
	r := run(t, p(`"protocol":"ntp","port":%d`, good))
	want{keys: []string{ItemOffset, ItemResponse, ItemStratum}, inRaw: "stratum 2"}.verify(t, r)
	// SNTP's error is at most half the round trip (the server's stamps
	// fall somewhere between send and receive): a loaded machine widens it.
	if off, rtt := *items(r)[ItemOffset].Number, *items(r)[ItemResponse].Number; math.Abs(off-250) > rtt/2+10 {
		t.Fatalf("offset %v ms, want 250 ± %v", off, rtt/2+10)
	}
	behind := ntpServer(t, -2*time.Second, nil)
	r = run(t, p(`"protocol":"ntp","port":%d`, behind))
	if off, rtt := *items(r)[ItemOffset].Number, *items(r)[ItemResponse].Number; math.Abs(off+2000) > rtt/2+10 {
		t.Fatalf("offset %v ms, want -2000 ± %v", off, rtt/2+10)
	}
	cases := []struct {
		name   string
		mangle func([]byte)
		err    string
	}{
		{"kiss of death", func(b []byte) { b[1] = 0; copy(b[12:], "RATE") }, `kiss-o'-death "RATE"`},
		{"unsynchronised", func(b []byte) { b[0] |= 3 << 6 }, "not synchronised"},
		{"no source", func(b []byte) { b[0] |= 3 << 6; b[1] = 0; clear(b[12:16]) }, "not synchronised (leap 3, stratum 0)"},
		{"other request", func(b []byte) { b[31] ^= 1 }, "answers another request"},
		{"client mode", func(b []byte) { b[0] = 4<<3 | 3 }, "mode 3"},
		{"no transmit stamp", func(b []byte) { clear(b[40:48]) }, "no transmit stamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, p(`"protocol":"ntp","port":%d`, ntpServer(t, 0, c.mangle)))
			if r.Err == nil || !strings.Contains(r.Err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", r.Err, c.err)
			}
		})
	}
	r = run(t, p(`"protocol":"ntp","port":%d,"timeout":"200ms"`, closedPort(t, "udp")))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "connection refused") {
		t.Fatalf("closed port: %v", r.Err)
	}
}
