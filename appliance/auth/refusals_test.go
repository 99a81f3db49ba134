package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// collect is an audit sink that keeps the rows.
type collect struct {
	mu   sync.Mutex
	rows []Entry
}

func (c *collect) write(_ context.Context, e Entry) {
	c.mu.Lock()
	c.rows = append(c.rows, e)
	c.mu.Unlock()
}

// attempts is how many refused attempts the rows stand for.
func attempts(rows []Entry) int {
	n := 0
	for _, e := range rows {
		var k int
		if _, err := fmt.Sscanf(e.Detail, "aggregated: %d more", &k); err == nil {
			n += k
		} else {
			n++
		}
	}
	return n
}

// A flood adds a bounded number of rows per window, however it is made,
// and the rows still account for every attempt.
func TestRefusalsBounded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sources  int
		users    int
		per      int // attempts per (source, user)
		maxRows  int
		wantRows int // 0: only the bound is checked
	}{
		{"one password guesser", 1, 1, 10000, 6, 6},
		{"a spray of 300 user names from one address", 1, 300, 3, 5 + refusalKeysPerSource + 1, 5 + refusalKeysPerSource + 1},
		{"5000 addresses, 3 users each", 5000, 3, 2, refusalImmediate + refusalKeys + refusalSources + 1, 0},
		{"a single mistake", 1, 1, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sink collect
			r := NewRefusals(time.Minute, sink.write)
			ctx := context.Background()
			ua := strings.Repeat("x", 1<<20)
			for s := range tc.sources {
				for u := range tc.users {
					for range tc.per {
						r.Add(ctx, Entry{Source: fmt.Sprintf("10.%d.%d.%d", s>>16, s>>8&255, s&255), User: fmt.Sprintf("user%d", u),
							Action: "login", Result: "failed", UserAgent: ua})
					}
				}
			}
			r.Flush(ctx)
			total := tc.sources * tc.users * tc.per
			if got := attempts(sink.rows); got != total {
				t.Fatalf("rows stand for %d attempts, want %d", got, total)
			}
			if len(sink.rows) > tc.maxRows || (tc.wantRows > 0 && len(sink.rows) != tc.wantRows) {
				t.Fatalf("%d rows for %d attempts, want at most %d (exactly %d)", len(sink.rows), total, tc.maxRows, tc.wantRows)
			}
			for _, e := range sink.rows {
				if len(e.UserAgent) > maxAuditUA {
					t.Fatalf("a row keeps a %d-byte user agent", len(e.UserAgent))
				}
			}
			// The next window starts with fresh budgets.
			before := len(sink.rows)
			r.Add(ctx, Entry{Source: "10.0.0.0", User: "user0", Action: "login", Result: "failed"})
			if len(sink.rows) != before+1 {
				t.Fatal("the first refusal of a new window is not written at once")
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
	}{{"short", 10}, {strings.Repeat("a", 1000), 128}, {strings.Repeat("日本", 300), 128}, {strings.Repeat("x", 20), 5}} {
		got := truncate(tc.in, tc.limit)
		if len(got) > tc.limit && len(tc.in) > tc.limit && len(got) > tc.limit+len("…[999 bytes cut]") {
			t.Fatalf("truncate(%d bytes, %d) = %d bytes", len(tc.in), tc.limit, len(got))
		}
		if len(tc.in) <= tc.limit && got != tc.in {
			t.Fatalf("short string changed: %q", got)
		}
		if !strings.HasPrefix(tc.in, strings.Split(got, "…")[0]) || !utf8Valid(got) {
			t.Fatalf("truncate(%q) = %q", tc.in[:min(20, len(tc.in))], got)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "?") == s }
