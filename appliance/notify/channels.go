package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"text/template"
	"time"
)

// Vars are what templates (mail subject and body, command arguments) can
// use: {{.Priority}}, {{.Monitor}}, {{.Node}}, {{.Message}}, ...
type Vars struct {
	Key, Kind, Rule, Channel                         string
	Monitor, MonitorName, MonitorKind                string
	Node, NodeName, Scope, Item                      string
	Priority, Previous, Message, Value               string
	EventKind, EventUID, Resolves, Window, At, Title string
}

func varsOf(n Notification) Vars {
	v := Vars{Key: n.Key, Kind: n.Kind, Rule: n.Rule, Channel: n.Channel, Monitor: n.Monitor, MonitorName: n.MonitorName,
		MonitorKind: n.MonitorKind, Node: n.Node, NodeName: n.NodeName, Scope: n.Scope, Item: n.Item, Priority: n.Priority,
		Previous: n.Previous, Message: n.Message, Value: n.Value, EventKind: n.EventKind, EventUID: n.EventUID,
		Resolves: n.Resolves, Window: n.Window, At: n.At.UTC().Format(time.RFC3339)}
	v.Title = title(v)
	return v
}

// title is a one-line summary: "[CRITICAL] Web front on web-1: ..." or
// "[RECOVERED] ...".
func title(v Vars) string {
	what := v.MonitorName
	if what == "" {
		what = v.Monitor
	}
	if v.EventKind != "" {
		what = v.EventKind
	}
	if v.Item != "" {
		what += " (" + v.Item + ")"
	}
	on := v.NodeName
	if on == "" {
		on = v.Node
	}
	tag := strings.ToUpper(v.Priority)
	if v.Kind == KindRecovery {
		tag = "RECOVERED"
	}
	msg := v.Message
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return fmt.Sprintf("[%s] %s on %s: %s", tag, what, on, strings.ReplaceAll(msg, "\n", " "))
}

func render(name, text string, v Vars) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s template: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("%s template: %w", name, err)
	}
	return b.String(), nil
}

// tlsConfig trusts the system roots and the PEM certificates in ca.
func tlsConfig(serverName, ca string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if ca == "" {
		return cfg, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM([]byte(ca)) {
		return nil, errors.New("the channel's ca holds no PEM certificate: paste the CA certificate (BEGIN CERTIFICATE)")
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// runCommand runs the channel's argv, each argument rendered, without a
// shell; the variables are also in the environment as MAMORI_*.
func runCommand(ctx context.Context, c *CommandConfig, v Vars) error {
	argv := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		s, err := render(fmt.Sprintf("argv[%d]", i), a, v)
		if err != nil {
			return err
		}
		argv[i] = s
	}
	timeout, _ := time.ParseDuration(c.Timeout)
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Env = append(cmd.Environ(), "MAMORI_KEY="+v.Key, "MAMORI_KIND="+v.Kind, "MAMORI_PRIORITY="+v.Priority,
		"MAMORI_MONITOR="+v.Monitor, "MAMORI_NODE="+v.Node, "MAMORI_ITEM="+v.Item, "MAMORI_MESSAGE="+v.Message)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if cctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("command %s did not finish within %s: it was killed; make it faster or raise command.timeout", argv[0], timeout)
	}
	if err != nil {
		return fmt.Errorf("command %s: %v: %s", argv[0], err, tail(out.String(), 500))
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// sendWebhook posts the notification in the channel's format.
func (n *Notifier) sendWebhook(ctx context.Context, w *WebhookConfig, v Vars) error {
	token := ""
	if w.TokenCredential != "" {
		t, err := n.secret(ctx, w.TokenCredential)
		if err != nil {
			return err
		}
		token = t
	}
	var body any
	switch w.Format {
	case FormatAlertmanager:
		body = alertmanagerPayload(v, n.opts.Host)
	case FormatPagerDuty:
		body = pagerDutyPayload(v, token)
	default:
		body = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", v.Key)
	if token != "" && w.Format != FormatPagerDuty {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	tcfg, err := tlsConfig(req.URL.Hostname(), w.CA)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tcfg, Proxy: http.ProxyFromEnvironment}, Timeout: sendTimeout}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s answered %s: %s", req.URL.Redacted(), resp.Status, tail(string(msg), 500))
	}
	return nil
}

func (n *Notifier) secret(ctx context.Context, name string) (string, error) {
	if n.opts.Secret == nil {
		return "", fmt.Errorf("credential %q: this appliance has no credential store", name)
	}
	s, err := n.opts.Secret(ctx, name)
	if err != nil {
		return "", fmt.Errorf("credential %q: %w (store it under Credentials)", name, err)
	}
	return s, nil
}
