package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/notify/notifytest"
)

func sample() Notification {
	return Notification{Key: "k123", Kind: KindProblem, Rule: "r", Channel: "c", Monitor: "web-1", MonitorName: "Web front",
		Node: "n1", NodeName: "node one", Item: "disk:/var", Priority: "critical", Previous: "warning", Message: `disk "full"] 99%`,
		Value: "99", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestSyslogForwardOverUDPTCPAndTLS(t *testing.T) {
	n := New(Options{Host: "mamori-a"})
	want := `<10>1 2026-01-02T03:04:05.000000Z mamori-a mamori - notify [mamori@32473 key="k123" kind="problem" priority="critical" monitor="web-1" node="n1" item="disk:/var" rule="r"] [CRITICAL] Web front (disk:/var) on node one: disk "full"] 99%`

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if err := n.deliver(context.Background(), Channel{Type: Syslog, Syslog: &SyslogConfig{Address: udp.LocalAddr().String(), Transport: "udp", Facility: 1, AppName: "mamori"}}, sample()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	_ = udp.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, _, err := udp.ReadFrom(buf)
	if err != nil || string(buf[:k]) != want {
		t.Errorf("UDP datagram %q (%v), want %q", buf[:k], err, want)
	}

	cert, ca := notifytest.Cert(t, "127.0.0.1")
	for _, transport := range []string{"tcp", "tls"} {
		var ln net.Listener
		if transport == "tls" {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		} else {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			lenStr, _ := r.ReadString(' ')
			size, _ := strconv.Atoi(strings.TrimSpace(lenStr))
			b := make([]byte, size)
			_, _ = r.Read(b)
			got <- string(b)
		}()
		ch := Channel{Type: Syslog, Syslog: &SyslogConfig{Address: ln.Addr().String(), Transport: transport, Facility: 1, AppName: "mamori", CA: ca}}
		if err := n.deliver(context.Background(), ch, sample()); err != nil {
			t.Fatalf("%s: %v", transport, err)
		}
		if s := <-got; s != want {
			t.Errorf("%s frame %q, want %q (octet-counted)", transport, s, want)
		}
		ln.Close()
	}
}

func TestCommandGetsTheVariables(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	ch := Channel{ID: "cmd", Type: Command, Command: &CommandConfig{Argv: []string{"/bin/sh", "-c", `printf '%s|%s|%s' "$1" "$2" "$MAMORI_KEY" > ` + out, "sh", "{{.Priority}}", "{{.Node}}"}}}
	if err := ValidateChannel(&ch); err != nil {
		t.Fatal(err)
	}
	if err := New(Options{}).deliver(context.Background(), ch, sample()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if string(b) != "critical|n1|k123" {
		t.Errorf("the command wrote %q, want critical|n1|k123", b)
	}
	slow := Channel{ID: "slow", Type: Command, Command: &CommandConfig{Argv: []string{"/bin/sleep", "5"}, Timeout: "200ms"}}
	start := time.Now()
	err := New(Options{}).deliver(context.Background(), slow, sample())
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") || time.Since(start) > 3*time.Second {
		t.Errorf("a command past its timeout: %v after %s", err, time.Since(start))
	}
	fail := Channel{ID: "f", Type: Command, Command: &CommandConfig{Argv: []string{"/bin/sh", "-c", "echo no route >&2; exit 3"}, Timeout: "5s"}}
	if err := New(Options{}).deliver(context.Background(), fail, sample()); err == nil || !strings.Contains(err.Error(), "no route") {
		t.Errorf("a failing command: %v, want its exit and output", err)
	}
}

func TestPagerDutyResolveUsesTheProblemKey(t *testing.T) {
	v := varsOf(sample())
	if ev := pagerDutyPayload(v, "rk"); ev.DedupKey != "k123" || ev.EventAction != "trigger" || ev.Payload.Severity != "critical" {
		t.Errorf("trigger: %+v", ev)
	}
	rec := sample()
	rec.Kind, rec.Priority, rec.Resolves = KindRecovery, "info", "k-problem"
	if ev := pagerDutyPayload(varsOf(rec), "rk"); ev.DedupKey != "k-problem" || ev.EventAction != "resolve" {
		t.Errorf("resolve: %+v", ev)
	}
	a, b := alertmanagerPayload(v, "h"), alertmanagerPayload(varsOf(rec), "h")
	if a.Alerts[0].Fingerprint == "" || a.GroupKey != "k123" || b.Status != "resolved" {
		t.Errorf("alertmanager: %+v / %+v", a, b)
	}
	rec.Previous = "critical"
	if b := alertmanagerPayload(varsOf(rec), "h"); b.Alerts[0].Fingerprint != a.Alerts[0].Fingerprint {
		t.Errorf("the resolved alert's labels %v differ from the firing one's %v", b.Alerts[0].Labels, a.Alerts[0].Labels)
	}
}

func TestMailFailuresSayWhatToDo(t *testing.T) {
	smtp := notifytest.NewSMTP(t, "alerts", "right")
	n := New(Options{Secret: func(context.Context, string) (string, error) { return "wrong", nil }})
	ch := Channel{ID: "m", Type: Mail, Mail: &MailConfig{Server: smtp.Addr, Username: "alerts", PasswordCredential: "p",
		From: "a@example.com", To: []string{"b@example.com"}, CA: smtp.CA}}
	if err := ValidateChannel(&ch); err != nil {
		t.Fatal(err)
	}
	if err := n.deliver(context.Background(), ch, sample()); err == nil || !strings.Contains(err.Error(), "check the username and the password credential") {
		t.Errorf("a wrong password: %v", err)
	}
	untrusted := ch
	untrusted.Mail = &MailConfig{Server: smtp.Addr, Security: "starttls", From: "a@example.com", To: []string{"b@example.com"}}
	if err := n.deliver(context.Background(), untrusted, sample()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("a certificate of an unknown CA: %v", err)
	}
	if len(smtp.Mails()) != 0 {
		t.Errorf("mails accepted: %d", len(smtp.Mails()))
	}
	smtp.SetNoTLS(true)
	if err := n.deliver(context.Background(), ch, sample()); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS: enable it there") {
		t.Errorf("a server without STARTTLS: %v", err)
	}
	smtp.SetNoTLS(false)
	smtp.SetReject(true)
	n.opts.Secret = func(context.Context, string) (string, error) { return "right", nil }
	if err := n.deliver(context.Background(), ch, sample()); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("a temporary refusal: %v", err)
	}
}
