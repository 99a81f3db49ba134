package tcp

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
)

// dnsmasq (Debian package dnsmasq-base, in the Makefile's DEB_PKGS) is a
// real DNS server: the same questions the test zone answers, asked of a
// server users run.

// startDnsmasq serves a few records of real.test on 127.0.0.1 over UDP
// and TCP, with no upstream (anything else under real.test is NXDOMAIN).
func startDnsmasq(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Skip("skipped: dnsmasq is not installed (make deps installs dnsmasq-base)")
	}
	port := freeUDPPort(t)
	daemon(t, func() bool {
		return run(t, p(`"protocol":"dns","port":%d,"query":"www.real.test","timeout":"200ms"`, port)).Err == nil
	}, bin, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--listen-address=127.0.0.1", "--bind-interfaces", "--port="+strconv.Itoa(port), "--user=root",
		"--pid-file=", "--log-facility=-", "--local=/real.test/",
		"--host-record=www.real.test,192.0.2.20", "--host-record=www.real.test,2001:db8::20",
		"--cname=alias.real.test,www.real.test", "--mx-host=real.test,mail.real.test,10",
		"--txt-record=real.test,v=mamori test")
	return port
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free UDP+TCP port")
	return 0
}

func TestDnsmasq(t *testing.T) {
	port := startDnsmasq(t)
	q := func(extra string) string { return p(`"protocol":"dns","port":%d,%s`, port, extra) }
	cases := []struct {
		name, params string
		want
	}{
		{"udp A", q(`"query":"www.real.test"`), want{keys: []string{ItemResponse, ItemAnswers}, text: "192.0.2.20"}},
		{"tcp A", q(`"query":"www.real.test","transport":"tcp"`), want{keys: []string{ItemConnect, ItemResponse}, text: "192.0.2.20"}},
		{"AAAA", q(`"query":"www.real.test","qtype":"AAAA","expect":"2001:db8::20"`), want{text: "2001:db8::20"}},
		{"cname", q(`"query":"alias.real.test"`), want{text: "www.real.test., 192.0.2.20", inRaw: "alias.real.test. CNAME www.real.test."}},
		{"mx", q(`"query":"real.test","qtype":"MX"`), want{text: "10 mail.real.test."}},
		{"txt", q(`"query":"real.test","qtype":"TXT"`), want{text: `"v=mamori test"`}},
		{"nxdomain", q(`"query":"nope.real.test"`), want{err: "NXDOMAIN"}},
		{"expect missing", q(`"query":"www.real.test","expect":"192.0.2.99"`), want{err: "192.0.2.99 is not among the answers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.verify(t, run(t, c.params)) })
	}
}
