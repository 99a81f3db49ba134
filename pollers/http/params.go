package http

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/params"
)

// Request is one HTTP request and what its answer must be: the whole
// check in single mode, one step of a scenario.
type Request struct {
	Name    string            `json:"name,omitempty"`
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// ExpectStatus lists accepted status codes: "200", "2xx", "200-204".
	ExpectStatus []string `json:"expect_status,omitempty"`
	// Pattern is a regular expression the body must match.
	Pattern string `json:"pattern,omitempty"`
}

// Params are the HTTP monitor's parameters: a request (single mode) or
// steps (scenario), and connection settings shared by every request.
type Params struct {
	Request
	Steps              []Request       `json:"steps,omitempty"`
	Timeout            params.Duration `json:"timeout"`
	FollowRedirects    bool            `json:"follow_redirects"`
	TLSVerify          bool            `json:"tls_verify"`
	CA                 string          `json:"ca,omitempty"`
	ServerName         string          `json:"server_name,omitempty"`
	User               string          `json:"user,omitempty"`
	PasswordCredential string          `json:"password_credential,omitempty"`
	MaxBody            int             `json:"max_body"`
}

// compiled is Params checked and ready to run.
type compiled struct {
	Params
	steps []step
	roots *x509.CertPool
}

type step struct {
	Request
	accept  []statusRange
	pattern *regexp.Regexp
}

type statusRange struct{ lo, hi int }

func defaults() Params {
	return Params{Timeout: params.Duration(10 * time.Second), FollowRedirects: true, TLSVerify: true, MaxBody: 16 << 10}
}

func parse(raw json.RawMessage) (compiled, error) {
	c := compiled{Params: defaults()}
	if err := params.Decode(raw, &c.Params); err != nil {
		return c, err
	}
	errs := []error{
		params.Between("timeout", c.Timeout.D(), 10*time.Millisecond, 5*time.Minute),
		params.IntBetween("max_body", c.MaxBody, 0, 1<<20),
		c.parseAuth(), c.parseCA(), c.parseSteps(),
	}
	return c, errors.Join(errs...)
}

func (c *compiled) parseAuth() error {
	if c.PasswordCredential != "" && c.User == "" {
		return params.Bad("user", "a password credential is set: name the user it belongs to")
	}
	return nil
}

func (c *compiled) parseCA() error {
	if strings.TrimSpace(c.CA) == "" {
		return nil
	}
	c.roots = x509.NewCertPool()
	if !c.roots.AppendCertsFromPEM([]byte(c.CA)) {
		return params.Bad("ca", "no PEM certificate found: paste the CA certificate(s) beginning with -----BEGIN CERTIFICATE-----")
	}
	return nil
}

// parseSteps: single mode is one step made of the top-level request;
// a scenario's requests live in steps only, so nothing is silently mixed.
func (c *compiled) parseSteps() error {
	if len(c.Steps) == 0 {
		s, err := compileStep("", c.Request)
		c.Request = s.Request
		c.steps = []step{s}
		return err
	}
	if err := checkHeaders("headers", c.Headers); err != nil {
		return err
	}
	if c.Method != "" || c.URL != "" || c.Body != "" || c.Pattern != "" || len(c.ExpectStatus) > 0 || c.Name != "" {
		return params.Bad("steps", "a scenario takes its method, url, body, expect_status and pattern from each step: remove them from the top level (headers there apply to every step)")
	}
	if len(c.Steps) > 20 {
		return params.Bad("steps", "%d steps: at most 20", len(c.Steps))
	}
	var errs []error
	for i, r := range c.Steps {
		s, err := compileStep(fmt.Sprintf("steps[%d].", i), r)
		c.Steps[i] = s.Request
		c.steps = append(c.steps, s)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func compileStep(prefix string, r Request) (step, error) {
	s := step{Request: r}
	if s.Method == "" {
		s.Method = "GET"
	}
	s.Method = strings.ToUpper(s.Method)
	if len(s.ExpectStatus) == 0 {
		s.ExpectStatus = []string{"2xx"}
	}
	var errs []error
	if !validMethod(s.Method) {
		errs = append(errs, params.Bad(prefix+"method", "%q is not an HTTP method: use GET, POST, HEAD, …", s.Method))
	}
	errs = append(errs, checkURL(prefix+"url", s.URL), checkHeaders(prefix+"headers", s.Headers))
	for _, spec := range s.ExpectStatus {
		rg, err := parseStatus(spec)
		if err != nil {
			errs = append(errs, params.Bad(prefix+"expect_status", "%v", err))
		}
		s.accept = append(s.accept, rg)
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			errs = append(errs, params.Bad(prefix+"pattern", "not a regular expression (Go RE2 syntax): %v", err))
		}
		s.pattern = re
	}
	return s, errors.Join(errs...)
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// checkURL checks a URL with its placeholders filled by a sample address.
func checkURL(field, raw string) error {
	if raw == "" {
		return params.Bad(field, "required: the address to request, such as http://{{address}}/health")
	}
	u, err := url.Parse(expand(raw, "192.0.2.1", "node"))
	if err != nil {
		return params.Bad(field, "not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return params.Bad(field, "scheme %q: use http:// or https://", u.Scheme)
	}
	if u.Host == "" {
		return params.Bad(field, "no host: write http://{{address}}/… to use the node's address")
	}
	return nil
}

// parseStatus reads "200", "2xx" or "200-299".
func parseStatus(spec string) (statusRange, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		lo := int(s[0]-'0') * 100
		return statusRange{lo, lo + 99}, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi := lo
	var err2 error
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || lo < 100 || hi > 599 || lo > hi {
		return statusRange{}, fmt.Errorf("%q: write a code (200), a class (2xx) or a range (200-299) within 100–599", spec)
	}
	return statusRange{lo, hi}, nil
}

func (s step) accepts(code int) bool {
	for _, r := range s.accept {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// expand fills {{address}} (bracketed when IPv6, as a URL host needs) and
// {{name}}.
func expand(s, address, name string) string {
	if strings.Contains(address, ":") && !strings.HasPrefix(address, "[") {
		address = "[" + address + "]"
	}
	return strings.NewReplacer("{{address}}", address, "{{name}}", name).Replace(s)
}

// checkHeaders refuses names that are not HTTP tokens and values that
// would split the header (CR, LF, NUL): the request would fail at every
// check, so say it at once.
func checkHeaders(field string, h map[string]string) error {
	for k, v := range h {
		if !isToken(k) {
			return params.Bad(field, "%q is not a header name (letters, digits and !#$%%&'*+-.^_`|~)", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return params.Bad(field, "the value of %s holds a line break or NUL", k)
		}
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// usesAddress: some request (URL, header, body) names the node's address.
func (c compiled) usesAddress() bool {
	b, _ := json.Marshal(c.Params) // plain strings and maps: cannot fail
	return strings.Contains(string(b), "{{address}}")
}
