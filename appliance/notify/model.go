// Package notify turns judged monitor results and appliance events into
// notifications: mail, webhooks (Alertmanager, plain JSON, PagerDuty
// Events v2), a command on the active appliance and syslog forwarding.
//
// Every notification is first recorded in the replicated store (the
// outbox) under a stable key, and only then sent; it is marked sent after
// the receiver accepted it. The active appliance sends what is recorded and
// unsent, including what a previous active left, so a failover loses no
// notification; a repeat happens only when the active dies between the
// hand-off and the record, and then carries the same key (Message-ID,
// dedup_key, Alertmanager groupKey and annotations) so receivers collapse it.
// See DESIGN.md.
package notify

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
)

// ErrInvalid: a channel or rule is wrong; the message names the field.
var ErrInvalid = errors.New("invalid")

// ErrNotFound: no channel or rule of that id.
var ErrNotFound = errors.New("not found")

// Channel types.
const (
	Mail    = "mail"
	Webhook = "webhook"
	Command = "command"
	Syslog  = "syslog"
)

// Webhook formats.
const (
	FormatAlertmanager = "alertmanager"
	FormatJSON         = "json"
	FormatPagerDuty    = "pagerduty"
)

// Priorities, worst first (the monitors' judgement).
var Priorities = []string{"critical", "unknown", "warning", "info"}

// Renotify modes: what a result of the priority last notified does.
const (
	RenotifyAlways = "always" // notify it again
	RenotifyPeriod = "period" // notify it again once Period has passed since the last notification
	RenotifyChange = "change" // notify only when the priority changes
)

// Channel is where notifications go. Exactly the section of its Type is set.
type Channel struct {
	ID        string         `json:"id"`
	Name      string         `json:"name,omitempty"`
	Type      string         `json:"type"`
	Scope     string         `json:"scope,omitempty"`
	OwnerRole string         `json:"owner_role,omitempty"`
	Mail      *MailConfig    `json:"mail,omitempty"`
	Webhook   *WebhookConfig `json:"webhook,omitempty"`
	Command   *CommandConfig `json:"command,omitempty"`
	Syslog    *SyslogConfig  `json:"syslog,omitempty"`
}

// MailConfig sends mail through an SMTP server.
type MailConfig struct {
	// Server is host:port of the SMTP server.
	Server string `json:"server"`
	// Security is "starttls" (default: the server must offer it),
	// "tls" (implicit TLS, port 465) or "none".
	Security string `json:"security,omitempty"`
	// Username and PasswordCredential (a credential of the sealed store)
	// authenticate with AUTH PLAIN, only over TLS.
	Username           string   `json:"username,omitempty"`
	PasswordCredential string   `json:"password_credential,omitempty"`
	From               string   `json:"from"`
	To                 []string `json:"to"`
	// Subject and Body are templates (see Vars); empty: the defaults.
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	// CA is PEM certificates trusted besides the system's (a private CA).
	CA string `json:"ca,omitempty"`
}

// WebhookConfig posts JSON to a URL.
type WebhookConfig struct {
	URL    string `json:"url"`
	Format string `json:"format"`
	// TokenCredential names a credential of the sealed store: sent as
	// "Authorization: Bearer" (alertmanager, json) or as the routing key
	// (pagerduty).
	TokenCredential string `json:"token_credential,omitempty"`
	CA              string `json:"ca,omitempty"`
}

// CommandConfig runs a command on the active appliance.
type CommandConfig struct {
	// Argv is the program and its arguments, each a template (see Vars);
	// no shell is involved.
	Argv    []string `json:"argv"`
	Timeout string   `json:"timeout,omitempty"` // default 30s, at most 10m
}

// SyslogConfig forwards RFC 5424 messages.
type SyslogConfig struct {
	Address   string `json:"address"`             // host:port
	Transport string `json:"transport,omitempty"` // udp (default), tcp, tls
	Facility  int    `json:"facility,omitempty"`  // 0..23, default 1 (user)
	AppName   string `json:"app_name,omitempty"`  // default "mamori"
	CA        string `json:"ca,omitempty"`
}

// Rule decides which results and events notify through which channels.
type Rule struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Scope     string `json:"scope,omitempty"`
	OwnerRole string `json:"owner_role,omitempty"`
	Enabled   bool   `json:"enabled"`
	// Channels are the channel ids the rule sends to.
	Channels []string `json:"channels"`
	// Priorities are the monitor priorities the rule notifies.
	Priorities []string `json:"priorities,omitempty"`
	// Events are appliance event kinds (ha.failover, ha.fenced,
	// ha.recovered, ...) the rule notifies; "*" is every kind.
	Events []string `json:"events,omitempty"`
	// After: notify only after this many identical consecutive results (default 1).
	After int `json:"after,omitempty"`
	// Renotify is always, period or change (default change).
	Renotify string `json:"renotify,omitempty"`
	// Period is the re-notify period for Renotify "period".
	Period string `json:"period,omitempty"`
	// Recovery sends a notice when the priority returns to info after a
	// notified problem.
	Recovery bool `json:"recovery"`
	// Calendar, if set, names a calendar: results outside its business
	// time do not notify.
	Calendar string `json:"calendar,omitempty"`
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// ValidateChannel checks c and fills its defaults.
func ValidateChannel(c *Channel) error {
	if !idRE.MatchString(c.ID) {
		return invalid("id", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if len(c.Name) > 256 || len(c.Scope) > 64 || len(c.OwnerRole) > 64 {
		return invalid("name", "at most 256 bytes (scope and owner_role at most 64)")
	}
	sections := 0
	for _, set := range []bool{c.Mail != nil, c.Webhook != nil, c.Command != nil, c.Syslog != nil} {
		if set {
			sections++
		}
	}
	if sections != 1 {
		return invalid("type", "give exactly one of mail, webhook, command, syslog, matching type")
	}
	switch {
	case c.Type == Mail && c.Mail != nil:
		return validateMail(c.Mail)
	case c.Type == Webhook && c.Webhook != nil:
		return validateWebhook(c.Webhook)
	case c.Type == Command && c.Command != nil:
		return validateCommand(c.Command)
	case c.Type == Syslog && c.Syslog != nil:
		return validateSyslog(c.Syslog)
	}
	return invalid("type", "%q with that section: type is mail, webhook, command or syslog, and its section of the same name is set", c.Type)
}

func validateMail(m *MailConfig) error {
	if _, _, err := net.SplitHostPort(m.Server); err != nil {
		return invalid("mail.server", "host:port of the SMTP server (%v)", err)
	}
	if m.Security == "" {
		m.Security = "starttls"
	}
	if !slices.Contains([]string{"starttls", "tls", "none"}, m.Security) {
		return invalid("mail.security", "starttls, tls or none")
	}
	if (m.Username == "") != (m.PasswordCredential == "") {
		return invalid("mail.password_credential", "give both username and password_credential, or neither")
	}
	if m.Username != "" && m.Security == "none" {
		return invalid("mail.security", "authentication needs starttls or tls: the password must not cross the network in clear")
	}
	if !validAddress(m.From) {
		return invalid("mail.from", "a mail address")
	}
	if len(m.To) == 0 || len(m.To) > 100 {
		return invalid("mail.to", "1 to 100 addresses")
	}
	for _, a := range m.To {
		if !validAddress(a) {
			return invalid("mail.to", "%q is not a mail address", a)
		}
	}
	return validateTemplates("mail", map[string]string{"subject": m.Subject, "body": m.Body})
}

func validAddress(a string) bool {
	i := strings.LastIndexByte(a, '@')
	return i > 0 && i < len(a)-1 && len(a) <= 254 && !strings.ContainsAny(a, " <>\r\n,")
}

func validateWebhook(w *WebhookConfig) error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("webhook.url", "an http:// or https:// URL")
	}
	if !slices.Contains([]string{FormatAlertmanager, FormatJSON, FormatPagerDuty}, w.Format) {
		return invalid("webhook.format", "alertmanager, json or pagerduty")
	}
	if w.Format == FormatPagerDuty && w.TokenCredential == "" {
		return invalid("webhook.token_credential", "PagerDuty needs the integration's routing key as a credential")
	}
	return nil
}

func validateCommand(c *CommandConfig) error {
	if len(c.Argv) == 0 || len(c.Argv) > 64 || c.Argv[0] == "" {
		return invalid("command.argv", "the program (absolute path) and at most 63 arguments")
	}
	if !strings.HasPrefix(c.Argv[0], "/") {
		return invalid("command.argv", "the program must be an absolute path (no search of PATH on the appliance)")
	}
	if c.Timeout == "" {
		c.Timeout = "30s"
	}
	d, err := time.ParseDuration(c.Timeout)
	if err != nil || d <= 0 || d > 10*time.Minute {
		return invalid("command.timeout", "a duration between 1ms and 10m, e.g. 30s")
	}
	args := map[string]string{}
	for i, a := range c.Argv {
		args[fmt.Sprintf("argv[%d]", i)] = a
	}
	return validateTemplates("command", args)
}

func validateSyslog(s *SyslogConfig) error {
	if _, _, err := net.SplitHostPort(s.Address); err != nil {
		return invalid("syslog.address", "host:port of the syslog server (%v)", err)
	}
	if s.Transport == "" {
		s.Transport = "udp"
	}
	if !slices.Contains([]string{"udp", "tcp", "tls"}, s.Transport) {
		return invalid("syslog.transport", "udp, tcp or tls")
	}
	if s.Facility == 0 {
		s.Facility = 1
	}
	if s.Facility < 0 || s.Facility > 23 {
		return invalid("syslog.facility", "0 to 23")
	}
	if s.AppName == "" {
		s.AppName = "mamori"
	}
	if len(s.AppName) > 48 || strings.ContainsAny(s.AppName, " \r\n") {
		return invalid("syslog.app_name", "at most 48 printable characters without spaces")
	}
	return nil
}

func validateTemplates(section string, ts map[string]string) error {
	for name, t := range ts {
		if _, err := template.New(name).Option("missingkey=error").Parse(t); err != nil {
			return invalid(section+"."+name, "template: %v", err)
		}
	}
	return nil
}

// ValidateRule checks r and fills its defaults.
func ValidateRule(r *Rule) error {
	if !idRE.MatchString(r.ID) {
		return invalid("id", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if len(r.Name) > 256 || len(r.Scope) > 64 || len(r.OwnerRole) > 64 || len(r.Calendar) > 64 {
		return invalid("name", "at most 256 bytes (scope, owner_role and calendar at most 64)")
	}
	if len(r.Channels) == 0 || len(r.Channels) > 32 {
		return invalid("channels", "1 to 32 channel ids")
	}
	for _, p := range r.Priorities {
		if !slices.Contains(Priorities, p) {
			return invalid("priorities", "%q is not one of critical, unknown, warning, info", p)
		}
	}
	if len(r.Priorities) == 0 && len(r.Events) == 0 && !r.Recovery {
		return invalid("priorities", "name at least one priority, event kind or the recovery notice: this rule would never notify")
	}
	for _, e := range r.Events {
		if e == "" || len(e) > 128 {
			return invalid("events", "event kinds are 1..128 characters")
		}
	}
	if r.After == 0 {
		r.After = 1
	}
	if r.After < 1 || r.After > 1000 {
		return invalid("after", "1 to 1000 consecutive results")
	}
	if r.Renotify == "" {
		r.Renotify = RenotifyChange
	}
	switch r.Renotify {
	case RenotifyAlways, RenotifyChange:
		if r.Period != "" {
			return invalid("period", "only with renotify \"period\"")
		}
	case RenotifyPeriod:
		if d, err := time.ParseDuration(r.Period); err != nil || d < time.Second || d > 30*24*time.Hour {
			return invalid("period", "a duration between 1s and 720h, e.g. 1h")
		}
	default:
		return invalid("renotify", "always, period or change")
	}
	return nil
}

// period is the rule's re-notify period (0 unless Renotify is period).
func (r Rule) period() time.Duration {
	d, _ := time.ParseDuration(r.Period)
	return d
}
