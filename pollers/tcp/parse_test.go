package tcp

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/params/paramstest"
)

func TestValidate(t *testing.T) {
	paramstest.Validate(t, Checker{}, []paramstest.Case{
		{"tcp", `{"port":22}`, `{"protocol":"tcp","port":22,"tls":false,"starttls":false,"tls_verify":true,"timeout":"5s"}`, ""},
		{"smtp default port", `{"protocol":"SMTP"}`, `{"protocol":"smtp","port":25,"tls":false,"starttls":false,"tls_verify":true,"ehlo_name":"mamori.invalid","timeout":"5s"}`, ""},
		{"imaps port", `{"protocol":"imap","tls":true}`, `{"protocol":"imap","port":993,"tls":true,"starttls":false,"tls_verify":true,"timeout":"5s"}`, ""},
		{"dns defaults", `{"protocol":"dns","query":"example.com"}`,
			`{"protocol":"dns","port":53,"tls":false,"starttls":false,"tls_verify":true,"query":"example.com","qtype":"A","transport":"udp","timeout":"5s"}`, ""},
		{"tcp needs a port", `{}`, "", "port: required for protocol tcp"},
		{"port range", `{"port":70000}`, "", "port: 70000 is out of range"},
		{"unknown protocol", `{"protocol":"gopher"}`, "", `protocol: "gopher" is not one of`},
		{"starttls on imap", `{"protocol":"imap","starttls":true}`, "", "starttls: only for protocol smtp"},
		{"tls and starttls", `{"protocol":"smtp","tls":true,"starttls":true}`, "", "not both"},
		{"ntp over tls", `{"protocol":"ntp","tls":true}`, "", "tls: not for protocol ntp"},
		{"dns without query", `{"protocol":"dns"}`, "", "query: required"},
		{"dns bad label", `{"protocol":"dns","query":"a..b"}`, "", "each label is 1–63"},
		{"dns long label", `{"protocol":"dns","query":"` + strings.Repeat("x", 64) + `.com"}`, "", "each label is 1–63"},
		{"dns bad type", `{"protocol":"dns","query":"a","qtype":"AXFR"}`, "", `qtype: "AXFR"`},
		{"dns bad transport", `{"protocol":"dns","query":"a","transport":"quic"}`, "", `transport: "quic"`},
		{"query on smtp", `{"protocol":"smtp","query":"a"}`, "", "for protocol dns only"},
		{"ehlo on pop3", `{"protocol":"pop3","ehlo_name":"x"}`, "", "ehlo_name: only for protocol smtp"},
		{"unknown field", `{"port":1,"prot":"x"}`, "", `unknown field "prot"`},
	})
}

func TestReplyCode(t *testing.T) {
	cases := []struct {
		in       string
		code     int
		more, ok bool
	}{
		{"220 ready", 220, false, true}, {"250-PIPELINING", 250, true, true}, {"221", 221, false, true},
		{"22 x", 0, false, false}, {"2200 x", 0, false, false}, {"abc def", 0, false, false},
		{"+OK", 0, false, false}, {"099 x", 0, false, false}, {"600 x", 0, false, false}, {"", 0, false, false},
	}
	for _, c := range cases {
		code, more, ok := replyCode(c.in)
		if code != c.code || more != c.more || ok != c.ok {
			t.Errorf("replyCode(%q) = %d %v %v", c.in, code, more, ok)
		}
	}
}

func TestReadName(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		off  int
		want string
		next int
		err  bool
	}{
		{"plain", []byte("\x03www\x04test\x00"), 0, "www.test.", 10, false},
		{"root", []byte{0}, 0, ".", 1, false},
		{"pointer", []byte("\x04test\x00\x03www\xc0\x00"), 6, "www.test.", 12, false},
		{"pointer to itself", []byte{0xc0, 0x00}, 0, "", 0, true},
		{"loop through labels", []byte("\x01a\xc0\x00"), 2, "", 0, true},
		{"cut label", []byte("\x05ab"), 0, "", 0, true},
		{"cut pointer", []byte{0xc0}, 0, "", 0, true},
		{"reserved label type", []byte{0x80, 0}, 0, "", 0, true},
		{"odd bytes escaped", []byte("\x03a.\x01\x00"), 0, `a\046\001.`, 5, false},
	}
	for _, c := range cases {
		got, next, err := readName(c.msg, c.off)
		if (err != nil) != c.err || got != c.want || next != c.next {
			t.Errorf("%s: readName = %q %d %v", c.name, got, next, err)
		}
	}
}

func TestNTPStamps(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 12, 1, 7, 0, 0, 123456789, time.UTC),
		time.Date(2036, 2, 7, 6, 28, 17, 0, time.UTC), // era 1 begins at 06:28:16
		time.Date(2040, 1, 1, 0, 0, 0, 500000000, time.UTC),
	} {
		if back := fromNTP(toNTP(tm)); back.Sub(tm).Abs() > time.Microsecond {
			t.Errorf("%s → %s", tm, back)
		}
	}
}

// FuzzParseDNS: any message is decoded or refused, never a panic.
func FuzzParseDNS(f *testing.F) {
	q, _ := buildQuery(7, "www.mon.test", 1)
	f.Add(dnsZone{}.reply(q, true))
	q, _ = buildQuery(7, "alias.mon.test", 1)
	f.Add(dnsZone{}.reply(q, true))
	q, _ = buildQuery(7, "x.mon.test", 15)
	f.Add(dnsZone{}.reply(q, true))
	f.Add([]byte{0, 7, 0x81, 0x80, 0, 1, 0, 1, 0xc0, 0x0c, 0xc0})
	f.Fuzz(func(t *testing.T, m []byte) {
		a, err := parseDNS(m)
		if err == nil && len(a.answers) != len(a.values) {
			t.Fatalf("answers %d, values %d", len(a.answers), len(a.values))
		}
	})
}

// FuzzParseNTP: any reply is read or refused, never a panic.
func FuzzParseNTP(f *testing.F) {
	b := make([]byte, 48)
	b[0], b[1] = 4<<3|4, 2
	f.Add(b, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, sent uint64) {
		now := time.Now()
		_, _ = parseNTP(b, sent, now, now.Add(time.Millisecond))
	})
}

// FuzzCodeReply: any byte stream ends in a reply or an error within the
// line and count bounds.
func FuzzCodeReply(f *testing.F) {
	f.Add([]byte("220-a\r\n b\r\n220 c\r\n"))
	f.Add([]byte("250-x\n250-y\n251 z\n"))
	f.Add([]byte("220-" + strings.Repeat("x", 5000)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr transcript
		lr := &lineReader{r: bufio.NewReaderSize(strings.NewReader(string(b)), maxLine), t: &tr}
		_, lines, err := lr.codeReply()
		if err == nil && (len(lines) == 0 || len(lines) > maxLines) {
			t.Fatalf("%d lines", len(lines))
		}
	})
}

func TestFields(t *testing.T) {
	paramstest.Fields(t, Kind(), `{"port":22}`)
	paramstest.Fields(t, Kind(), `{"protocol":"smtp"}`)
	paramstest.Fields(t, Kind(), `{"protocol":"dns","query":"example.com"}`)
}
