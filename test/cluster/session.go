package cluster

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
)

// Session is an operator's session token, valid on both appliances
// (sessions are replicated). Every answer to it is recorded, and a 401
// fails the test: a failover must never throw an operator out.
type Session struct {
	t     TB
	Token string
	mu    sync.Mutex
	codes map[int]int
}

// NewSession creates an administrator on n (the CLI, as on a real
// appliance) and logs in.
func NewSession(t TB, n *Node, user, password string) *Session {
	t.Helper()
	n.CreateAdmin(user, password)
	return &Session{t: t, Token: n.Login(user, password), codes: map[int]int{}}
}

// Do sends a request with the session to n.
func (s *Session) Do(n *Node, method, path string, in, out any) (int, error) {
	code, err := n.DoAs(s.Token, method, path, in, out)
	if err != nil {
		return code, err
	}
	s.mu.Lock()
	s.codes[code]++
	s.mu.Unlock()
	if code == http.StatusUnauthorized {
		s.t.Errorf("%s answered 401 to a valid session: %s %s", n.Name, method, path)
	}
	return code, nil
}

// Write posts one event with uid; ok when n stored it (200).
func (s *Session) Write(n *Node, uid string) (bool, int) {
	code, err := s.Do(n, http.MethodPost, "/api/v1/events", events.Event{UID: uid, Kind: "test.write", Message: uid}, nil)
	return err == nil && code == http.StatusOK, code
}

// Codes summarises the answers seen ("200×812 503×31").
func (s *Session) Codes() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []int
	for k := range s.codes {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%d×%d ", k, s.codes[k])
	}
	return strings.TrimSpace(b.String())
}

// Watch reads /api/v1/me with the session on every node every 50 ms until
// the test ends: a 401 from any of them, at any moment of a failover,
// fails it.
func (s *Session) Watch(nodes ...*Node) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, n := range nodes {
				if n.Running() {
					_, _ = s.Do(n, http.MethodGet, "/api/v1/me", nil, nil)
				}
			}
			select {
			case <-quit:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	s.t.Cleanup(func() {
		close(quit)
		<-done
		s.t.Logf("session answers: %s", s.Codes())
	})
}
