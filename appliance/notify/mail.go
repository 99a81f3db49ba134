package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

const defaultSubject = `{{.Title}}`

const defaultBody = `{{.Title}}

Priority: {{.Priority}}{{if .Previous}} (was {{.Previous}}){{end}}
Monitor:  {{.MonitorName}} ({{.Monitor}})
Node:     {{.NodeName}} ({{.Node}})
{{if .Item}}Item:     {{.Item}}
{{end}}{{if .Value}}Value:    {{.Value}}
{{end}}Time:     {{.At}}

{{.Message}}

Notification key: {{.Key}}
`

// sendMail sends one mail. Its Message-ID is derived from the
// notification's key, so a repeat after a failover is the same message.
func (n *Notifier) sendMail(ctx context.Context, m *MailConfig, v Vars) error {
	subject, err := render("subject", or(m.Subject, defaultSubject), v)
	if err != nil {
		return err
	}
	body, err := render("body", or(m.Body, defaultBody), v)
	if err != nil {
		return err
	}
	password := ""
	if m.PasswordCredential != "" {
		if password, err = n.secret(ctx, m.PasswordCredential); err != nil {
			return err
		}
	}
	msg := mailMessage(m, v.Key, subject, body, n.opts.Now())
	return smtpSend(ctx, m, password, msg)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// MessageID is the Message-ID of a notification's mail: the key alone,
// so that either appliance of the pair sends a repeat under the same id.
func MessageID(key string) string { return "<" + key + "@notify.mamori>" }

func mailMessage(m *MailConfig, key, subject, body string, now time.Time) []byte {
	var b strings.Builder
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", m.From)
	hdr("To", strings.Join(m.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", strings.ReplaceAll(subject, "\n", " ")))
	hdr("Date", now.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", MessageID(key))
	hdr("X-Mamori-Key", key)
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	// Lines end in CRLF; net/smtp's DATA writer dot-stuffs them.
	for line := range strings.Lines(body) {
		b.WriteString(strings.TrimRight(line, "\r\n") + "\r\n")
	}
	return []byte(b.String())
}

// smtpSend delivers msg: implicit TLS or STARTTLS (refused if the server
// does not offer it) and AUTH PLAIN when a username is set.
func smtpSend(ctx context.Context, m *MailConfig, password string, msg []byte) error {
	host, _, _ := net.SplitHostPort(m.Server)
	tcfg, err := tlsConfig(host, m.CA)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	if m.Security == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tcfg}).DialContext(ctx, "tcp", m.Server)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.Server)
	}
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", m.Server, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP server %s: %w", m.Server, err)
	}
	defer c.Close()
	if err := smtpSession(c, m, tcfg, password, msg); err != nil {
		return fmt.Errorf("SMTP server %s: %w", m.Server, err)
	}
	return c.Quit()
}

func smtpSession(c *smtp.Client, m *MailConfig, tcfg *tls.Config, password string, msg []byte) error {
	if err := c.Hello("mamori"); err != nil {
		return err
	}
	if m.Security == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("it does not offer STARTTLS: enable it there, or set security to tls or none")
		}
		if err := c.StartTLS(tcfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, password, tcfg.ServerName)); err != nil {
			return fmt.Errorf("AUTH PLAIN as %s: %w (check the username and the password credential)", m.Username, err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", m.From, err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}
