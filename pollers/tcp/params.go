package tcp

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/params"
)

// Protocols.
const (
	TCP  = "tcp"
	SMTP = "smtp"
	IMAP = "imap"
	POP3 = "pop3"
	FTP  = "ftp"
	DNS  = "dns"
	NTP  = "ntp"
)

var protocols = []string{TCP, SMTP, IMAP, POP3, FTP, DNS, NTP}

// defaultPort per protocol, plain and with implicit TLS (smtps, imaps,
// pop3s, ftps).
var defaultPort = map[string][2]int{
	SMTP: {25, 465}, IMAP: {143, 993}, POP3: {110, 995}, FTP: {21, 990}, DNS: {53, 853}, NTP: {123, 0},
}

// Params are the TCP service monitor's parameters.
type Params struct {
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
	// TLS: the service speaks TLS from the first byte (smtps, imaps, …).
	TLS bool `json:"tls"`
	// StartTLS: upgrade an SMTP session with STARTTLS after EHLO.
	StartTLS   bool            `json:"starttls"`
	TLSVerify  bool            `json:"tls_verify"`
	ServerName string          `json:"server_name,omitempty"`
	EHLOName   string          `json:"ehlo_name,omitempty"`
	Query      string          `json:"query,omitempty"`
	QType      string          `json:"qtype,omitempty"`
	Transport  string          `json:"transport,omitempty"`
	Expect     string          `json:"expect,omitempty"`
	Timeout    params.Duration `json:"timeout"`
}

func defaults() Params {
	return Params{Protocol: TCP, TLSVerify: true, Timeout: params.Duration(5 * time.Second)}
}

func parse(raw json.RawMessage) (Params, error) {
	p := defaults()
	if err := params.Decode(raw, &p); err != nil {
		return p, err
	}
	p.Protocol = strings.ToLower(p.Protocol)
	if !slices.Contains(protocols, p.Protocol) {
		return p, params.Bad("protocol", "%q is not one of %s", p.Protocol, strings.Join(protocols, ", "))
	}
	if p.Port == 0 {
		p.Port = defaultPort[p.Protocol][b2i(p.TLS)]
	}
	errs := []error{
		params.Between("timeout", p.Timeout.D(), 10*time.Millisecond, time.Minute),
		p.checkPort(), p.checkTLS(), p.checkDNS(),
	}
	if p.Protocol == SMTP && p.EHLOName == "" {
		p.EHLOName = "mamori.invalid"
	}
	if p.Protocol != SMTP && p.EHLOName != "" {
		errs = append(errs, params.Bad("ehlo_name", "only for protocol smtp"))
	}
	return p, errors.Join(errs...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p Params) checkPort() error {
	if p.Port == 0 && p.Protocol == TCP {
		return params.Bad("port", "required for protocol tcp: the port to connect to")
	}
	return params.IntBetween("port", p.Port, 1, 65535)
}

func (p Params) checkTLS() error {
	switch {
	case p.StartTLS && p.Protocol != SMTP:
		return params.Bad("starttls", "only for protocol smtp (use tls for a service that speaks TLS at once)")
	case p.StartTLS && p.TLS:
		return params.Bad("starttls", "choose tls (TLS at once) or starttls (upgrade after EHLO), not both")
	case p.TLS && (p.Protocol == NTP || (p.Protocol == DNS && p.Transport != "tcp")):
		return params.Bad("tls", "not for protocol %s over UDP", p.Protocol)
	}
	return nil
}

// checkDNS: the query fields belong to dns only, and a dns check needs a
// name to ask for.
func (p *Params) checkDNS() error {
	if p.Protocol != DNS {
		if p.Query != "" || p.QType != "" || p.Transport != "" || p.Expect != "" {
			return params.Bad("query", "query, qtype, transport and expect are for protocol dns only")
		}
		return nil
	}
	if p.QType == "" {
		p.QType = "A"
	}
	if p.Transport == "" {
		p.Transport = "udp"
	}
	p.QType = strings.ToUpper(p.QType)
	var errs []error
	if _, ok := qtypes[p.QType]; !ok {
		errs = append(errs, params.Bad("qtype", "%q: use one of A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT", p.QType))
	}
	if p.Transport != "udp" && p.Transport != "tcp" {
		errs = append(errs, params.Bad("transport", "%q: use udp or tcp", p.Transport))
	}
	if _, err := encodeName(p.Query); err != nil {
		errs = append(errs, params.Bad("query", "%v", err))
	}
	return errors.Join(errs...)
}
