// Package tcp is the TCP service monitor kind: the time to connect to a
// port and, optionally, a short dialogue proving the service answers in
// its protocol — SMTP (greeting, EHLO, STARTTLS), IMAP, POP3 and FTP
// greetings, a DNS query over UDP or TCP, an SNTP query with the clock
// offset. Every reply is read with bounds (line length, line count,
// message size) so a hostile server can only fail the check.
package tcp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item keys.
const (
	ItemConnect  = "connect_ms"
	ItemResponse = "response_ms"
	ItemBanner   = "banner"
	ItemCertDays = "cert_days_left"
	ItemAnswers  = "answers"
	ItemAnswer   = "answer"
	ItemOffset   = "offset_ms"
	ItemStratum  = "stratum"
)

// Kind describes the TCP service monitor.
func Kind() check.Kind {
	d := defaults()
	return check.Kind{
		Name: "tcp", Label: "TCP service", Value: check.Numeric, Where: check.Appliance,
		Fields: []check.Field{
			{Name: "protocol", Type: "select", Label: "Protocol", Options: protocols, Default: params.JSON(d.Protocol),
				Help: "tcp: connect only; the others also talk the protocol"},
			{Name: "port", Type: "int", Label: "Port", Help: "default: the protocol's (25, 143, 110, 21, 53, 123; with TLS 465, 993, 995, 990, 853); required for tcp"},
			{Name: "tls", Type: "bool", Label: "TLS at once", Help: "smtps, imaps, pop3s, ftps, DNS over TLS, or a TLS handshake for tcp", Default: params.JSON(false)},
			{Name: "starttls", Type: "bool", Label: "STARTTLS (SMTP)", Default: params.JSON(false)},
			{Name: "tls_verify", Type: "bool", Label: "Verify TLS certificate", Default: params.JSON(d.TLSVerify)},
			{Name: "server_name", Type: "string", Label: "TLS server name", Help: "default: the node's address"},
			{Name: "ehlo_name", Type: "string", Label: "EHLO name (SMTP)", Default: params.JSON("mamori.invalid")},
			{Name: "query", Type: "string", Label: "DNS name", Help: "name to look up (dns)"},
			{Name: "qtype", Type: "select", Label: "DNS type", Options: []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}, Default: params.JSON("A")},
			{Name: "transport", Type: "select", Label: "DNS transport", Options: []string{"udp", "tcp"}, Default: params.JSON("udp")},
			{Name: "expect", Type: "string", Label: "DNS expected answer", Help: "one answer must equal this (an address, a name)"},
			{Name: "timeout", Type: "duration", Label: "Timeout", Default: params.JSON(d.Timeout)},
		},
		New: func() check.Checker { return Checker{} },
	}
}

// Checker connects and talks.
type Checker struct{}

// Validate applies defaults (the protocol's port) and checks fields.
func (Checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

// Check runs the probe once.
func (Checker) Check(ctx context.Context, _ check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	if t.Address == "" {
		return check.Failed(params.ErrNoAddress, "")
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.D())
	defer cancel()
	pr := &probe{p: p, target: t, addr: net.JoinHostPort(t.Address, strconv.Itoa(p.Port))}
	switch {
	case p.Protocol == NTP:
		err = pr.ntp(ctx)
	case p.Protocol == DNS && p.Transport == "udp":
		err = pr.dnsUDP(ctx)
	default:
		err = pr.stream(ctx)
	}
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
		err = fmt.Errorf("no answer within %s: %w", p.Timeout.D(), err)
	}
	return check.Result{Items: pr.items, Raw: check.Clip(pr.tr.String()), Err: err}
}

// probe is one check's state.
type probe struct {
	p      Params
	target check.Target
	addr   string
	items  []check.Item
	tr     transcript
}

func (pr *probe) add(it check.Item) { pr.items = append(pr.items, it) }

// dial connects (TCP or UDP) and ties the connection to ctx: its
// deadline, and closing it when ctx ends first.
func (pr *probe) dial(ctx context.Context, network string) (net.Conn, func(), error) {
	start := time.Now()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, pr.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", pr.addr, err)
	}
	if network == "tcp" {
		pr.add(check.Num(ItemConnect, params.Ms(time.Since(start)), "ms"))
		fmt.Fprintf(&pr.tr, "connected to %s in %.3f ms\n", pr.addr, params.Ms(time.Since(start)))
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

func (pr *probe) tlsConfig() *tls.Config {
	name := pr.p.ServerName
	if name == "" {
		name = pr.target.Address
	}
	return &tls.Config{ServerName: name, InsecureSkipVerify: !pr.p.TLSVerify} //nolint:gosec // the user turned verification off
}

// handshake upgrades conn to TLS and records the certificate's days left.
func (pr *probe) handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	tc := tls.Client(conn, pr.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	st := tc.ConnectionState()
	fmt.Fprintf(&pr.tr, "TLS %s, %s\n", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	if len(st.PeerCertificates) > 0 {
		c := st.PeerCertificates[0]
		pr.add(check.Num(ItemCertDays, time.Until(c.NotAfter).Hours()/24, "d"))
		fmt.Fprintf(&pr.tr, "certificate %q expires %s\n", c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return tc, nil
}

// stream: a TCP connection, TLS if asked, then the protocol's dialogue.
func (pr *probe) stream(ctx context.Context) error {
	start := time.Now()
	conn, closeConn, err := pr.dial(ctx, "tcp")
	if err != nil {
		return err
	}
	defer closeConn()
	if pr.p.TLS {
		if conn, err = pr.handshake(ctx, conn); err != nil {
			return err
		}
	}
	d := &dialogue{pr: pr, conn: conn}
	d.lr = newLineReader(conn, &pr.tr)
	switch pr.p.Protocol {
	case TCP:
		return nil
	case DNS:
		return pr.dnsStream(conn, start)
	case SMTP:
		err = d.smtp(ctx)
	case IMAP:
		err = d.imap()
	case POP3:
		err = d.pop3()
	case FTP:
		err = d.ftp()
	}
	if d.banner != "" {
		pr.add(check.Str(ItemBanner, d.banner))
	}
	if err == nil {
		pr.add(check.Num(ItemResponse, params.Ms(time.Since(start)), "ms"))
	}
	return err
}
