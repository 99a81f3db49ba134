package http

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/mamori-ops/mamori/pollers/check"
)

// BenchmarkHTTP and BenchmarkHTTPS run checks in parallel against a
// loopback server; each check opens its own connection (and, for HTTPS,
// makes a full handshake), as the monitor does.
func BenchmarkHTTP(b *testing.B) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	benchChecks(b, `{"url":"`+srv.URL+`/","pattern":"hello"}`)
}

// BenchmarkHTTPS: the server's certificate is ECDSA P-256 (RSA-2048
// signing on the server would dominate the figure on a shared machine),
// verified against its CA.
func BenchmarkHTTPS(b *testing.B) {
	srv, ca := tlsSite(b)
	caJSON, _ := json.Marshal(ca)
	benchChecks(b, `{"url":"`+srv.URL+`/","ca":`+string(caJSON)+`,"pattern":"hello"}`)
}

func benchChecks(b *testing.B, params string) {
	p := json.RawMessage(params)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := Checker{}.Check(context.Background(), check.Env{}, check.Target{Address: "127.0.0.1"}, p)
			if r.Err != nil {
				b.Error(r.Err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
