package ha

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The peer's clock, from the At of its heartbeat answer against the
// middle of the round trip.
func TestPathClockOffset(t *testing.T) {
	for _, skew := range []time.Duration{2 * time.Second, -1500 * time.Millisecond, 0} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(Beat{ID: "b", Role: Standby, At: time.Now().Add(skew)})
		}))
		p := newPath(strings.TrimPrefix(srv.URL, "https://"), "b", &tls.Config{InsecureSkipVerify: true}, time.Second)
		p.beat(t.Context(), Beat{ID: "a"})
		ps, _ := p.status(time.Now(), time.Minute)
		srv.Close()
		if !ps.Up {
			t.Fatalf("skew %s: path not up: %s", skew, ps.Error)
		}
		if got := time.Duration(ps.ClockOffsetMs * float64(time.Millisecond)); (got - skew).Abs() > 100*time.Millisecond {
			t.Errorf("skew %s: measured %s", skew, got)
		}
	}
}
