// Package prometheus is the Prometheus exposition monitor: it scrapes a
// /metrics page (text format, HTTP or HTTPS), selects series with a
// PromQL-style selector and gives one item per series, counters marked so
// the runner judges their rate.
package prometheus

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/credential"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Bounds: a page larger than maxBody fails the check (a node exporter's
// is ~100 KiB); at most maxItems series are kept.
const (
	maxBody  = 16 << 20
	maxItems = 1000
)

const defaultURL = "http://{{address}}:9100/metrics"

// Params are the monitor's parameters.
type Params struct {
	// URL of the page; {{address}} is the node's address.
	URL string `json:"url"`
	// Select is a series selector: name{label="v",label=~"re"}.
	Select string `json:"select"`
	// TLSVerify checks an HTTPS server's certificate (default true).
	TLSVerify *bool `json:"tls_verify"`
	// Credential names a sealed bearer token sent as Authorization.
	Credential string `json:"credential,omitempty"`
}

// Kind is the Prometheus exposition monitor.
func Kind() check.Kind {
	return check.Kind{Name: "prometheus", Label: "Prometheus metrics (scrape)", Value: check.Numeric, Where: check.Appliance,
		PerItem: true,
		Fields: []check.Field{
			{Name: "url", Type: "string", Label: "URL", Default: params.JSON(defaultURL),
				Help: "The metrics page; {{address}} is the node's address."},
			{Name: "select", Type: "string", Label: "Series", Required: true,
				Help: `A selector as in PromQL: node_filesystem_avail_bytes{mountpoint="/"}, {__name__=~"node_load.*"}. One item per series.`},
			{Name: "tls_verify", Type: "bool", Label: "Verify TLS certificate", Default: params.JSON(true)},
			{Name: "credential", Type: "credential", Label: "Bearer token", Help: "A credential sent as Authorization: Bearer."},
		},
		New: func() check.Checker { return checker{} }}
}

type checker struct{}

type parsed struct {
	Params
	sel selector
}

// Validate checks the URL and the selector and applies defaults.
func (checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (parsed, error) {
	var p parsed
	if err := params.Decode(raw, &p.Params); err != nil {
		return p, err
	}
	if p.URL == "" {
		p.URL = defaultURL
	}
	if p.TLSVerify == nil {
		yes := true
		p.TLSVerify = &yes
	}
	if _, err := target(p.URL, "192.0.2.1"); err != nil {
		return p, params.Bad("url", "%v: write it like %s", err, defaultURL)
	}
	if p.Select == "" {
		return p, params.Bad("select", `name the series, e.g. node_load1 or http_requests_total{code="500"}`)
	}
	sel, err := parseSelector(p.Select)
	if err != nil {
		return p, params.Bad("select", "%v", err)
	}
	p.sel = sel
	return p, nil
}

// target is the page's URL for a node address (an IPv6 address is
// bracketed).
func target(tmpl, address string) (*url.URL, error) {
	host := address
	if strings.Contains(address, ":") {
		host = "[" + address + "]"
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{{address}}", host))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", tmpl)
	}
	return u, nil
}

// Check scrapes the page once and returns the selected series.
func (checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	token, err := credential.Open(ctx, env, p.Credential, "add it under Credentials")
	if err != nil {
		return check.Failed(err, "")
	}
	u, err := target(p.URL, t.Address)
	if err != nil {
		return check.Failed(err, "")
	}
	body, status, err := fetch(ctx, u, *p.TLSVerify, token)
	if err != nil {
		return check.Failed(err, status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return check.Failed(fmt.Errorf("%s is not a Prometheus text exposition: %w", u.Redacted(), err), status+"\n"+body)
	}
	return selected(samples(fams), p)
}

// selected turns the matching samples into items, at most maxItems.
func selected(all []sample, p parsed) check.Result {
	var items []check.Item
	var lines []string
	n := 0
	for _, s := range all {
		if !s.matches(p.sel) {
			continue
		}
		n++
		if len(items) == maxItems {
			continue
		}
		it := check.Num(s.key(), s.value, "")
		it.Counter = s.counter
		items = append(items, it)
		lines = append(lines, fmt.Sprintf("%s %s", s.key(), formatFloat(s.value)))
	}
	sort.Strings(lines)
	raw := fmt.Sprintf("%d series match %s", n, p.Select)
	if n > maxItems {
		raw += fmt.Sprintf(" (the first %d kept: narrow the selector)", maxItems)
	}
	if n == 0 {
		return check.Result{Items: []check.Item{{Key: p.Select, Err: "no series matches: check the selector against the page"}}, Raw: raw}
	}
	return check.Result{Items: items, Raw: check.Clip(raw + "\n" + strings.Join(lines, "\n"))}
}

// fetch gets the page with a client of its own (no keep-alive: one scrape
// per interval; no proxy from the appliance's environment: targets are
// reached directly) and returns its body and status line.
func fetch(ctx context.Context, u *url.URL, verify bool, token string) (string, string, error) {
	// Not verifying is the operator's choice per monitor (exporters often
	// have self-signed certificates).
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: !verify, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("User-Agent", "mamori")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("scrape %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	status := resp.Proto + " " + resp.Status
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	switch {
	case err != nil:
		return "", status, fmt.Errorf("scrape %s: reading the page after %v: %w", u.Redacted(), time.Since(start).Round(time.Millisecond), err)
	case resp.StatusCode != http.StatusOK:
		return "", status + "\n" + check.Clip(string(b)), fmt.Errorf("scrape %s: %s (want 200 OK)", u.Redacted(), resp.Status)
	case len(b) > maxBody:
		return "", status, fmt.Errorf("scrape %s: the page is larger than %d MiB", u.Redacted(), maxBody>>20)
	}
	return string(b), status, nil
}
