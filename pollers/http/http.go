// Package http is the HTTP/HTTPS monitor kind: response time, status,
// body (for patterns) and the days left on the server's certificate, for
// one request or an ordered scenario of requests sharing cookies (a login
// then a page behind it). Each check opens new connections, so a TLS
// handshake is part of every HTTPS measurement, as a user's first visit.
package http

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item keys (a scenario prefixes per-step ones with "stepN.").
const (
	ItemResponse = "response_ms"
	ItemStatus   = "status"
	ItemBody     = "body"
	ItemCertDays = "cert_days_left"
)

// Kind describes the HTTP monitor.
func Kind() check.Kind {
	d := defaults()
	return check.Kind{
		Name: "http", Label: "HTTP / HTTPS", Value: check.Numeric, Where: check.Appliance,
		Fields: []check.Field{
			{Name: "url", Type: "string", Label: "URL", Help: "http(s)://{{address}}/path — {{address}} is the node's address (single request; leave empty for a scenario)"},
			{Name: "method", Type: "select", Label: "Method", Options: []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}, Default: params.JSON("GET")},
			{Name: "headers", Type: "json", Label: "Headers", Help: `{"Name":"value"}; in a scenario they apply to every step`},
			{Name: "body", Type: "text", Label: "Request body"},
			{Name: "expect_status", Type: "list", Label: "Expected status", Help: "codes, classes or ranges: 200, 2xx, 200-204", Default: params.JSON([]string{"2xx"})},
			{Name: "pattern", Type: "string", Label: "Body pattern", Help: "regular expression the body must match (RE2)"},
			{Name: "steps", Type: "json", Label: "Scenario steps", Help: `[{"name","method","url","headers","body","expect_status","pattern"}, …] run in order with one cookie jar`},
			{Name: "timeout", Type: "duration", Label: "Request timeout", Default: params.JSON(d.Timeout)},
			{Name: "follow_redirects", Type: "bool", Label: "Follow redirects", Default: params.JSON(d.FollowRedirects)},
			{Name: "tls_verify", Type: "bool", Label: "Verify TLS certificate", Default: params.JSON(d.TLSVerify)},
			{Name: "ca", Type: "text", Label: "CA certificate (PEM)", Help: "trust these instead of the system CAs"},
			{Name: "server_name", Type: "string", Label: "TLS server name", Help: "name to verify the certificate against (default: the URL's host)"},
			{Name: "user", Type: "string", Label: "Basic auth user"},
			{Name: "password_credential", Type: "credential", Label: "Basic auth password", Help: "a credential of the sealed store"},
			{Name: "max_body", Type: "int", Label: "Body bytes read", Help: "0–1048576", Default: params.JSON(d.MaxBody)},
		},
		New: func() check.Checker { return Checker{} },
	}
}

// Checker requests.
type Checker struct{}

// Validate applies defaults and checks every field.
func (Checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, func(raw json.RawMessage) (Params, error) {
		c, err := parse(raw)
		return c.Params, err
	})
}

// Check runs the request or the scenario once.
func (Checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	c, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	if t.Address == "" && c.usesAddress() {
		// An empty host would make the URL point at the appliance itself.
		return check.Failed(params.ErrNoAddress, "")
	}
	password, err := c.password(ctx, env)
	if err != nil {
		return check.Failed(err, "")
	}
	client, done := c.client()
	defer done()
	s := session{c: c, client: client, target: t, password: password}
	return s.run(ctx)
}

func (c compiled) password(ctx context.Context, env check.Env) (string, error) {
	if c.PasswordCredential == "" {
		return "", nil
	}
	if env.Secret == nil {
		return "", errors.New("no credential store to open password_credential: run the check on the active appliance")
	}
	p, err := env.Secret(ctx, c.PasswordCredential)
	if err != nil {
		return "", fmt.Errorf("open credential %q: %w", c.PasswordCredential, err)
	}
	return p, nil
}

// client is a fresh transport and cookie jar for one check.
func (c compiled) client() (*nethttp.Client, func()) {
	tr := &nethttp.Transport{
		DialContext:            (&net.Dialer{}).DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: !c.TLSVerify, RootCAs: c.roots, ServerName: c.ServerName}, //nolint:gosec // the user turned verification off
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		DisableCompression:     true, // the body pattern matches what the server sent
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	cl := &nethttp.Client{Transport: tr, Jar: jar, CheckRedirect: c.redirect}
	return cl, tr.CloseIdleConnections
}

func (c compiled) redirect(_ *nethttp.Request, via []*nethttp.Request) error {
	if !c.FollowRedirects {
		return nethttp.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// session runs the steps of one check.
type session struct {
	c        compiled
	client   *nethttp.Client
	target   check.Target
	password string
	raw      strings.Builder
}

// answer is what one step saw.
type answer struct {
	status   int
	took     time.Duration
	body     []byte
	certDays *float64
}

func (s *session) run(ctx context.Context) check.Result {
	scenario := len(s.c.Steps) > 0
	var items []check.Item
	var total time.Duration
	var last answer
	var certDays *float64
	for i, st := range s.c.steps {
		a, err := s.step(ctx, i, st)
		total += a.took
		if scenario && a.status != 0 {
			p := fmt.Sprintf("step%d.", i+1)
			items = append(items, check.Num(p+ItemResponse, params.Ms(a.took), "ms"), check.Num(p+ItemStatus, float64(a.status), ""))
		}
		certDays = minDays(certDays, a.certDays)
		last = a
		if err != nil {
			if scenario {
				err = fmt.Errorf("step %d%s: %w", i+1, label(st), err)
			}
			return check.Result{Items: s.summary(items, total, last, certDays), Raw: check.Clip(s.raw.String()), Err: err}
		}
	}
	return check.Result{Items: s.summary(items, total, last, certDays), Raw: check.Clip(s.raw.String())}
}

func label(st step) string {
	if st.Name != "" {
		return " (" + st.Name + ")"
	}
	return ""
}

// summary: the whole check's time, the last status and body, the
// certificate closest to expiry, then the steps' own items; the main
// value, response_ms, comes first.
func (s *session) summary(steps []check.Item, total time.Duration, last answer, certDays *float64) []check.Item {
	if last.status == 0 {
		return steps
	}
	items := []check.Item{
		check.Num(ItemResponse, params.Ms(total), "ms"),
		check.Num(ItemStatus, float64(last.status), ""),
		check.Str(ItemBody, strings.ToValidUTF8(string(last.body), "\uFFFD")),
	}
	if certDays != nil {
		items = append(items, check.Num(ItemCertDays, *certDays, "d"))
	}
	return append(items, steps...)
}

func minDays(a, b *float64) *float64 {
	if a == nil || (b != nil && *b < *a) {
		return b
	}
	return a
}

// step sends one request and checks its answer.
func (s *session) step(ctx context.Context, i int, st step) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout.D())
	defer cancel()
	req, err := s.request(ctx, st)
	if err != nil {
		return answer{}, err
	}
	fmt.Fprintf(&s.raw, "> %s %s\n", req.Method, req.URL.Redacted())
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		fmt.Fprintf(&s.raw, "! %v\n", err)
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), unwrapURL(err))
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(s.c.MaxBody)))
	a := answer{status: resp.StatusCode, took: time.Since(start), body: body, certDays: certDays(resp)}
	s.record(resp, body)
	if rerr != nil {
		return a, fmt.Errorf("read the body: %w", rerr)
	}
	return a, st.verify(a)
}

func (st step) verify(a answer) error {
	if !st.accepts(a.status) {
		return fmt.Errorf("status %d, expected %s", a.status, strings.Join(st.ExpectStatus, ", "))
	}
	if st.pattern != nil && !st.pattern.Match(a.body) {
		return fmt.Errorf("the body (first %d bytes) does not match %q", len(a.body), st.Pattern)
	}
	return nil
}

func (s *session) request(ctx context.Context, st step) (*nethttp.Request, error) {
	ex := func(v string) string { return expand(v, s.target.Address, s.target.Name) }
	var body io.Reader
	if st.Body != "" {
		body = strings.NewReader(ex(st.Body))
	}
	req, err := nethttp.NewRequestWithContext(ctx, st.Method, ex(st.URL), body)
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", err)
	}
	for _, h := range []map[string]string{s.c.Headers, st.Headers} {
		for k, v := range h {
			if strings.EqualFold(k, "Host") {
				req.Host = ex(v)
				continue
			}
			req.Header.Set(k, ex(v))
		}
	}
	req.Header.Set("User-Agent", "mamori-monitor")
	if s.c.User != "" {
		req.SetBasicAuth(s.c.User, s.password)
	}
	return req, nil
}

// unwrapURL drops url.Error's repeat of method and URL (already said).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// certDays is the days left on the leaf certificate the server presented
// (also when verification is off: an expiring self-signed certificate
// still expires).
func certDays(resp *nethttp.Response) *float64 {
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil
	}
	d := time.Until(resp.TLS.PeerCertificates[0].NotAfter).Hours() / 24
	return &d
}

// rawBodyExcerpt bounds the body shown in Raw per step.
const rawBodyExcerpt = 2048

func (s *session) record(resp *nethttp.Response, body []byte) {
	fmt.Fprintf(&s.raw, "< %s %s\n", resp.Proto, resp.Status)
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&s.raw, "< %s: %s\n", k, v)
		}
	}
	if len(body) > rawBodyExcerpt {
		body = body[:rawBodyExcerpt]
	}
	fmt.Fprintf(&s.raw, "\n%s\n", strings.ToValidUTF8(string(body), "\uFFFD"))
}
