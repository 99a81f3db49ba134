package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"
)

// syslogSeverity maps a priority to an RFC 5424 severity.
var syslogSeverity = map[string]int{"critical": 2, "unknown": 3, "warning": 4, "info": 6}

// sendSyslog forwards one RFC 5424 message: one datagram over UDP,
// octet-counted (RFC 6587/5425) over TCP and TLS.
func (n *Notifier) sendSyslog(ctx context.Context, s *SyslogConfig, v Vars) error {
	msg := syslogMessage(s, v, n.opts.Host)
	d := net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	switch s.Transport {
	case "tls":
		host, _, _ := net.SplitHostPort(s.Address)
		tcfg, terr := tlsConfig(host, s.CA)
		if terr != nil {
			return terr
		}
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tcfg}).DialContext(ctx, "tcp", s.Address)
	case "tcp":
		conn, err = d.DialContext(ctx, "tcp", s.Address)
	default:
		conn, err = d.DialContext(ctx, "udp", s.Address)
	}
	if err != nil {
		return fmt.Errorf("syslog %s over %s: %w", s.Address, s.Transport, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	frame := msg
	if s.Transport != "udp" {
		frame = fmt.Sprintf("%d %s", len(msg), msg)
	}
	if _, err := conn.Write([]byte(frame)); err != nil {
		return fmt.Errorf("syslog %s over %s: %w", s.Address, s.Transport, err)
	}
	return nil
}

// syslogMessage is <PRI>1 TIMESTAMP HOST APP - MSGID [SD] MSG, the
// structured data carrying the key and what the notification is about.
func syslogMessage(s *SyslogConfig, v Vars, host string) string {
	sev, ok := syslogSeverity[v.Priority]
	if !ok {
		sev = 3
	}
	if v.Kind == KindRecovery {
		sev = 5 // notice
	}
	pri := s.Facility*8 + sev
	sd := fmt.Sprintf(`[mamori@32473 key="%s" kind="%s" priority="%s" monitor="%s" node="%s" item="%s" rule="%s"]`,
		sdEscape(v.Key), sdEscape(v.Kind), sdEscape(v.Priority), sdEscape(v.Monitor), sdEscape(v.Node), sdEscape(v.Item), sdEscape(v.Rule))
	ts := v.At
	if t, err := time.Parse(time.RFC3339, v.At); err == nil {
		ts = t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	return fmt.Sprintf("<%d>1 %s %s %s - %s %s %s", pri, ts, header(host), header(s.AppName), "notify", sd,
		strings.ReplaceAll(v.Title, "\n", " "))
}

// header makes a header field printable ASCII without spaces ("-" if empty).
func header(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= 32 || r >= 127 {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}

func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}
