package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

// fakeCluster is an active appliance whose role a test may change.
type fakeCluster struct {
	mu   sync.Mutex
	role ha.Role
	peer []string
}

func (f *fakeCluster) Status(context.Context) ha.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := ha.Status{NodeID: "n1", Role: f.role, Store: store.Status{Open: true}}
	if f.peer != nil {
		st.Peer = &ha.PeerStatus{ID: "n2", APIAddrs: f.peer}
	}
	return st
}
func (f *fakeCluster) Heartbeat(b ha.Beat) ha.Beat   { return b }
func (f *fakeCluster) Recover(context.Context) error { return nil }
func (f *fakeCluster) PeerLeaving(string) error      { return nil }
func (f *fakeCluster) Switchover(context.Context, time.Duration) (ha.SwitchoverReport, error) {
	return ha.SwitchoverReport{}, ha.ErrNotPaired
}
func (f *fakeCluster) Role() ha.Role { f.mu.Lock(); defer f.mu.Unlock(); return f.role }
func (f *fakeCluster) ActiveTarget() (bool, string, string) {
	return f.Role() == ha.Active, "", ""
}
func (f *fakeCluster) setRole(r ha.Role) { f.mu.Lock(); f.role = r; f.mu.Unlock() }

// streamEnv is an API server on a real store with an administrator
// ("admin") and a viewer of scope A ("va") logged in.
type streamEnv struct {
	st      *store.Store
	auth    *auth.Service
	srv     *Server
	cluster *fakeCluster
	url     string
	tokens  map[string]string
}

func newStreamEnv(t *testing.T, tm streamTiming, cfg func(*http.Server)) *streamEnv {
	t.Helper()
	ctx := context.Background()
	var ms []store.Migration
	for _, m := range [][]store.Migration{events.Migrations(), pipeline.Migrations(), auth.Migrations()} {
		ms = append(ms, m...)
	}
	st := storetest.New(t, ms)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	au := auth.New(st, auth.DefaultOptions())
	if err := au.CreateRole(ctx, auth.Role{Name: "viewer_a", Privileges: map[auth.Function][]auth.Action{auth.MonitorResult: {auth.Read}}, Scopes: []string{"A"}}); err != nil {
		t.Fatal(err)
	}
	env := &streamEnv{st: st, auth: au, cluster: &fakeCluster{role: ha.Active}, tokens: map[string]string{}}
	for _, u := range []struct{ name, role string }{{"admin", auth.RoleAdministrator}, {"va", "viewer_a"}} {
		if err := au.CreateUser(ctx, u.name, "correct horse battery", []string{u.role}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := au.Login(ctx, u.name, "correct horse battery", "", "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		env.tokens[u.name] = tok
	}
	env.srv = New(Options{}, env.cluster, nil, st, au, logger)
	env.srv.streamTiming = tm
	hs := httptest.NewUnstartedServer(env.srv.routes())
	if cfg != nil {
		cfg(hs.Config)
	}
	hs.Config.RegisterOnShutdown(func() { close(env.srv.closing) })
	hs.Start()
	t.Cleanup(hs.Close)
	env.url = hs.URL
	return env
}

var fastStream = streamTiming{Poll: 20 * time.Millisecond, Cluster: 50 * time.Millisecond, Heartbeat: 5 * time.Second, Write: 5 * time.Second}

func (e *streamEnv) postEvents(t *testing.T, evs ...events.Event) {
	t.Helper()
	for i := range evs {
		evs[i].UID, evs[i].Severity, evs[i].Node, evs[i].At = events.NewUID(), events.Warning, "n", time.Now()
	}
	if err := events.Insert(context.Background(), e.st, evs); err != nil {
		t.Fatal(err)
	}
}

func (e *streamEnv) postMessage(t *testing.T, scope, text string) {
	t.Helper()
	_, err := e.st.Exec(context.Background(), store.Statement{SQL: `INSERT INTO syslog_messages (origin, received_at, source, transport, format,
		facility, severity, ts, hostname, app_name, proc_id, msg_id, text, scope) VALUES ('n1', ?, '127.0.0.1', 'udp', 'rfc5424', 1, 4, '', 'h', 'app', '', '', ?, ?)`,
		Args: []any{time.Now().UTC().Format(time.RFC3339Nano), text, scope}})
	if err != nil {
		t.Fatal(err)
	}
}

// sse is one server-sent event as a client reads it.
type sse struct{ name, id, data string }

// open starts a stream and returns its events as they come.
func (e *streamEnv) open(t *testing.T, user, query, lastID string) (<-chan sse, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream"+query, nil)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan sse, 1000)
	if resp.StatusCode != http.StatusOK {
		close(out)
		return out, resp
	}
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				out <- ev
				ev = sse{}
			case strings.HasPrefix(line, ": "):
				ev.name = "comment"
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out, resp
}

// next returns the next event other than a comment or cluster state
// (unless asked for), failing after a deadline.
func next(t *testing.T, ch <-chan sse, names ...string) sse {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("the stream ended")
			}
			for _, n := range names {
				if ev.name == n {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v within 5 s", names)
		}
	}
}

// A viewer of scope A gets the events and messages of A, never those of
// B, each with a cursor; reconnecting with Last-Event-ID replays exactly
// what came after it.
func TestStreamScopeAndReplay(t *testing.T) {
	env := newStreamEnv(t, fastStream, nil)
	ch, _ := env.open(t, "va", "?topics=events,messages", "")
	ready := next(t, ch, "ready")
	if ready.id != "e0.m0" {
		t.Fatalf("ready id %q, want e0.m0 on an empty store", ready.id)
	}
	env.postEvents(t, events.Event{Kind: "k", Scope: "B", Message: "b1"}, events.Event{Kind: "k", Scope: "A", Message: "a1"})
	env.postMessage(t, "B", "mb1")
	env.postMessage(t, "A", "ma1")
	got := []sse{next(t, ch, "event", "message"), next(t, ch, "event", "message")}
	var ev events.Event
	var msg SyslogMessage
	if err := json.Unmarshal([]byte(got[0].data), &ev); err != nil || got[0].name != "event" || ev.Message != "a1" || got[0].id != "e2.m0" {
		t.Fatalf("first: %+v (%v), want the event a1 with id e2.m0", got[0], err)
	}
	if err := json.Unmarshal([]byte(got[1].data), &msg); err != nil || got[1].name != "message" || msg.Text != "ma1" || got[1].id != "e2.m2" {
		t.Fatalf("second: %+v (%v), want the message ma1 with id e2.m2", got[1], err)
	}
	env.postEvents(t, events.Event{Kind: "k", Scope: "A", Message: "a2"}, events.Event{Kind: "k", Scope: "B", Message: "b2"}, events.Event{Kind: "k", Scope: "A", Message: "a3"})

	t.Run("replay", func(t *testing.T) {
		ch, _ := env.open(t, "va", "?topics=events", "e2.m2")
		if r := next(t, ch, "ready"); r.id != "e2.m2" {
			t.Fatalf("ready id %q, want the cursor given", r.id)
		}
		for _, want := range []string{"a2", "a3"} {
			got := next(t, ch, "event", "message")
			if err := json.Unmarshal([]byte(got.data), &ev); err != nil || ev.Message != want || ev.Scope != "A" {
				t.Fatalf("replayed %+v, want %s", got, want)
			}
		}
	})
	t.Run("admin sees all scopes", func(t *testing.T) {
		ch, _ := env.open(t, "admin", "?topics=events&last_event_id=e0.m0", "")
		var seen []string
		for range 5 {
			_ = json.Unmarshal([]byte(next(t, ch, "event").data), &ev)
			seen = append(seen, ev.Message)
		}
		if strings.Join(seen, ",") != "b1,a1,a2,b2,a3" {
			t.Fatalf("admin replay %v", seen)
		}
	})
	t.Run("reset beyond the end", func(t *testing.T) {
		ch, _ := env.open(t, "va", "?topics=events", "e999.m0")
		if r := next(t, ch, "reset", "ready"); r.name != "reset" || r.id != "e5.m2" {
			t.Fatalf("got %+v, want a reset to e5.m2", r)
		}
	})
}

// What a caller may not read, or did not ask for properly, is refused
// before the stream starts.
func TestStreamRefusals(t *testing.T) {
	env := newStreamEnv(t, fastStream, nil)
	tests := []struct{ name, user, query, lastID string }{
		{"no topics", "admin", "", ""},
		{"unknown topic", "admin", "?topics=events,mail", ""},
		{"unknown parameter", "admin", "?topics=events&since=1", ""},
		{"bad cursor", "admin", "?topics=events", "12"},
		{"cluster for a viewer", "va", "?topics=events,cluster", ""},
		{"anonymous", "", "?topics=events", ""},
	}
	want := []int{400, 400, 400, 400, 403, 401}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, resp := env.open(t, tc.user, tc.query, tc.lastID)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want[i] || !strings.Contains(string(b), `"error"`) {
				t.Fatalf("HTTP %d %s, want %d with an error", resp.StatusCode, b, want[i])
			}
		})
	}
}

// The cluster topic sends a snapshot at once and again when the role
// changes.
func TestStreamCluster(t *testing.T) {
	env := newStreamEnv(t, fastStream, nil)
	ch, _ := env.open(t, "admin", "?topics=cluster", "")
	var st ClusterStatus
	if err := json.Unmarshal([]byte(next(t, ch, "cluster").data), &st); err != nil || st.Role != ha.Active {
		t.Fatalf("snapshot %+v %v", st, err)
	}
	env.cluster.setRole(ha.Standby)
	if err := json.Unmarshal([]byte(next(t, ch, "cluster").data), &st); err != nil || st.Role != ha.Standby {
		t.Fatalf("after the change %+v %v", st, err)
	}
}

// Heartbeats keep an idle stream open past the server's read and write
// timeouts, which bound ordinary requests only.
func TestStreamHeartbeatOutlivesTimeouts(t *testing.T) {
	tm := fastStream
	tm.Heartbeat = 100 * time.Millisecond
	env := newStreamEnv(t, tm, func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond })
	ch, _ := env.open(t, "va", "?topics=events", "")
	next(t, ch, "ready")
	start := time.Now()
	beats := 0
	for time.Since(start) < 1200*time.Millisecond {
		next(t, ch, "comment")
		beats++
	}
	if beats < 5 {
		t.Fatalf("%d heartbeats in 1.2 s at 100 ms", beats)
	}
	env.postEvents(t, events.Event{Kind: "k", Scope: "A", Message: "late"})
	if ev := next(t, ch, "event"); !strings.Contains(ev.data, "late") {
		t.Fatalf("after the timeouts: %+v", ev)
	}
}

// A stream ends with its session: at the next heartbeat after a logout.
func TestStreamEndsWithSession(t *testing.T) {
	tm := fastStream
	tm.Heartbeat = 100 * time.Millisecond
	env := newStreamEnv(t, tm, nil)
	ch, _ := env.open(t, "va", "?topics=events", "")
	next(t, ch, "ready")
	next(t, ch, "comment")
	if err := env.auth.Logout(context.Background(), env.tokens["va"]); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch, "end"); !strings.Contains(ev.data, "session") {
		t.Fatalf("end: %+v", ev)
	}
	waitStreams(t, env.srv, 0)
}

// A client that stops reading is cut once a write stalls for
// streamTiming.Write: the server holds one page for it, not a backlog.
func TestStreamSlowClientCut(t *testing.T) {
	tm := fastStream
	tm.Write = 300 * time.Millisecond
	env := newStreamEnv(t, tm, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // the kernel buffers less for a client that never reads
	}
	fmt.Fprintf(conn, "GET /api/v1/stream?topics=events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", env.tokens["admin"])
	waitStreams(t, env.srv, 1)
	big := strings.Repeat("x", 60<<10)
	for range 10 { // 60 MiB in all: far more than socket buffers hold
		batch := make([]events.Event, 100)
		for i := range batch {
			batch[i] = events.Event{Kind: "big", Scope: "A", Message: big}
		}
		env.postEvents(t, batch...)
		if env.srv.streams.Load() == 0 {
			break
		}
	}
	waitStreams(t, env.srv, 0)
}

func waitStreams(t *testing.T, s *Server, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.streams.Load() != n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d open streams, want %d", s.streams.Load(), n)
		}
	}
}

// The cursor is the two row ids, written and read back the same.
func TestCursor(t *testing.T) {
	for _, s := range []string{"e0.m0", "e12.m345"} {
		c, err := parseCursor(s)
		if err != nil || c.String() != s {
			t.Errorf("%q: %v %v", s, c, err)
		}
	}
	for _, s := range []string{"", "12", "e1", "m1.e1", "e-1.m0", "ex.m1"} {
		if _, err := parseCursor(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
