package prometheus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/prometheus"
)

const page = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027
http_requests_total{code="500",method="get"} 3
http_requests_total{code="500",method="post"} 1.5e3
# HELP node_load1 Load.
# TYPE node_load1 gauge
node_load1 0.42
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.2345e+10
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 8e6
node_filesystem_avail_bytes{device="x",fstype="ext4",mountpoint="/we\"ird\\path\n"} 7
# TYPE rpc_duration_seconds histogram
rpc_duration_seconds_bucket{le="0.1"} 10
rpc_duration_seconds_bucket{le="1"} 12
rpc_duration_seconds_bucket{le="+Inf"} 13
rpc_duration_seconds_sum 4.5
rpc_duration_seconds_count 13
# TYPE gc_seconds summary
gc_seconds{quantile="0.5"} 0.002
gc_seconds{quantile="0.99"} 0.1
gc_seconds_sum 1.5
gc_seconds_count 300
queue_length 17 1700000000000
`

// exporter serves page at /metrics, what status says for /status/N, and
// records the Authorization header it got.
func exporter(t *testing.T, tlsOn bool) (*httptest.Server, *string) {
	auth := new(string)
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		*auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>{{not metrics\x00\xff") })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500); fmt.Fprint(w, "boom") })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		line := strings.Repeat("# padding comment line\n", 1000)
		for i := 0; i < 1000; i++ {
			if _, err := fmt.Fprint(w, line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/many", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(w, "many{i=\"%d\"} %d\n", i, i)
		}
	})
	s := httptest.NewUnstartedServer(mux)
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	if tlsOn {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s, auth
}

// urlFor writes the server's URL with {{address}} for its host.
func urlFor(s *httptest.Server, path string) string {
	u, _ := url.Parse(s.URL)
	return u.Scheme + "://{{address}}:" + u.Port() + path
}

func scrape(t *testing.T, p map[string]any, timeout time.Duration) check.Result {
	t.Helper()
	b, _ := json.Marshal(p)
	c := prometheus.Kind().New()
	norm, err := c.Validate(b)
	if err != nil {
		t.Fatalf("validate %s: %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	env := check.Env{Timeout: timeout, Secret: func(context.Context, string) (string, error) { return "tok-9", nil }}
	return c.Check(ctx, env, check.Target{NodeID: "n1", Address: "127.0.0.1"}, norm)
}

type series struct {
	value   float64
	counter bool
}

func TestPrometheusSelect(t *testing.T) {
	s, auth := exporter(t, false)
	for _, c := range []struct {
		sel  string
		want map[string]series
	}{
		{`http_requests_total{code="500"}`, map[string]series{
			`http_requests_total{code="500",method="get"}`:  {3, true},
			`http_requests_total{code="500",method="post"}`: {1500, true}}},
		{`node_load1`, map[string]series{`node_load1`: {0.42, false}}},
		{`node_filesystem_avail_bytes{fstype!="tmpfs", mountpoint=~"/.*"}`, map[string]series{
			`node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"}`:        {1.2345e10, false},
			`node_filesystem_avail_bytes{device="x",fstype="ext4",mountpoint="/we\"ird\\path\n"}`: {7, false}}},
		{`{__name__=~"rpc_duration_seconds_(sum|count)"}`, map[string]series{
			`rpc_duration_seconds_sum`: {4.5, true}, `rpc_duration_seconds_count`: {13, true}}},
		{`rpc_duration_seconds_bucket{le="+Inf"}`, map[string]series{`rpc_duration_seconds_bucket{le="+Inf"}`: {13, true}}},
		{`gc_seconds{quantile="0.99"}`, map[string]series{`gc_seconds{quantile="0.99"}`: {0.1, false}}},
		{`queue_length`, map[string]series{`queue_length`: {17, false}}},
		{`http_requests_total{method!~"get|post"}`, nil},
	} {
		t.Run(c.sel, func(t *testing.T) {
			r := scrape(t, map[string]any{"url": urlFor(s, "/metrics"), "select": c.sel, "credential": "tok"}, 5*time.Second)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if c.want == nil {
				if len(r.Items) != 1 || r.Items[0].Err == "" {
					t.Errorf("no match: %+v, want one item error", r.Items)
				}
				return
			}
			got := map[string]series{}
			for _, it := range r.Items {
				if it.Number == nil {
					t.Fatalf("item %+v", it)
				}
				got[it.Key] = series{*it.Number, it.Counter}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("items\n%v\nwant\n%v", got, c.want)
			}
		})
	}
	if *auth != "Bearer tok-9" {
		t.Errorf("Authorization %q", *auth)
	}
	r := scrape(t, map[string]any{"url": urlFor(s, "/many"), "select": "many"}, 5*time.Second)
	if r.Err != nil || len(r.Items) != 1000 || !strings.Contains(r.Raw, "3000 series") {
		t.Errorf("3000 series: %d items, %v, %.80s", len(r.Items), r.Err, r.Raw)
	}
}

// HTTPS with and without verification; a page that is not an exposition,
// an error status, an oversized page, a slow server and a closed one fail
// the check (→ unknown) within the timeout.
func TestPrometheusFailures(t *testing.T) {
	tlsSrv, _ := exporter(t, true)
	if r := scrape(t, map[string]any{"url": urlFor(tlsSrv, "/metrics"), "select": "node_load1", "tls_verify": false}, 5*time.Second); r.Err != nil || len(r.Items) != 1 {
		t.Errorf("https without verification: %+v %v", r.Items, r.Err)
	}
	if r := scrape(t, map[string]any{"url": urlFor(tlsSrv, "/metrics"), "select": "node_load1"}, 5*time.Second); r.Err == nil {
		t.Error("https with an unknown certificate: no error")
	}
	s, _ := exporter(t, false)
	for _, path := range []string{"/garbage", "/broken", "/huge", "/slow", "/nope"} {
		start := time.Now()
		r := scrape(t, map[string]any{"url": urlFor(s, path), "select": "node_load1"}, 1500*time.Millisecond)
		if r.Err == nil {
			t.Errorf("%s: %+v, want a failed check", path, r.Items)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v", path, d)
		}
	}
	u := urlFor(s, "/metrics")
	s.Close()
	if r := scrape(t, map[string]any{"url": u, "select": "node_load1"}, 2*time.Second); r.Err == nil {
		t.Error("closed server: no error")
	}
}

func TestPrometheusValidate(t *testing.T) {
	got, err := prometheus.Kind().New().Validate(json.RawMessage(`{"select":"up"}`))
	if err != nil || string(got) != `{"url":"http://{{address}}:9100/metrics","select":"up","tls_verify":true}` {
		t.Errorf("defaults: %s %v", got, err)
	}
	for p, field := range map[string]string{
		`{}`:                                      "select",
		`{"select":"{}"}`:                         "select",
		`{"select":"{job=~\".*\"}"}`:              "select",
		`{"select":"up{job=\"a\""}`:               "select",
		`{"select":"up{job=~\"(\"}"}`:             "select",
		`{"select":"up{job:\"a\"}"}`:              "select",
		`{"select":"1up"}`:                        "select",
		`{"select":"up","url":"ftp://x/metrics"}`: "url",
		`{"select":"up","url":"::"}`:              "url",
		`{"select":"up","timeout":"5s"}`:          "timeout",
	} {
		if _, err := prometheus.Kind().New().Validate(json.RawMessage(p)); !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v; want ErrBadParams naming %s", p, err, field)
		}
	}
}
