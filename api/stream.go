package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/internal/sqlpage"
)

// Live updates: GET /api/v1/stream?topics=events,messages,cluster answers
// server-sent events (text/event-stream). See DESIGN.md, "Live updates".

// Stream topics.
const (
	topicEvents   = "events"
	topicMessages = "messages"
	topicCluster  = "cluster"
)

// streamTiming bounds a stream; tests shorten it.
type streamTiming struct {
	// Poll is how often the store is read for new rows.
	Poll time.Duration
	// Cluster is how often the cluster state is compared with the last sent.
	Cluster time.Duration
	// Heartbeat is how often a comment line is sent (and the session
	// checked again) when nothing else was.
	Heartbeat time.Duration
	// Write bounds one write: a client that does not read for this long
	// is cut.
	Write time.Duration
}

var defaultStreamTiming = streamTiming{Poll: 250 * time.Millisecond, Cluster: time.Second, Heartbeat: 15 * time.Second, Write: 10 * time.Second}

const (
	// streamPage is the most rows read per table and poll.
	streamPage = 200
	// streamMaxReplay is the most rows replayed after a reconnect; a
	// client further behind is told to reload its lists (event "reset").
	streamMaxReplay = 2000
	// maxStreams bounds the open streams of one appliance; each polls the
	// store, so they are bounded apart from the connection caps.
	maxStreams = 256
)

// ErrBadCursor: a Last-Event-ID this API did not write.
var ErrBadCursor = errors.New("bad stream cursor")

// cursor is a position in the stream: the last event id and the last
// syslog message id sent. Both are store row ids, the same on both
// appliances, so a client resumes on the other appliance after a failover.
// Written "e<id>.m<id>".
type cursor struct{ Event, Message int64 }

func (c cursor) String() string {
	return "e" + strconv.FormatInt(c.Event, 10) + ".m" + strconv.FormatInt(c.Message, 10)
}

func parseCursor(s string) (cursor, error) {
	e, m, ok := strings.Cut(s, ".")
	if !ok || !strings.HasPrefix(e, "e") || !strings.HasPrefix(m, "m") {
		return cursor{}, fmt.Errorf("%w %q: expected e<id>.m<id>", ErrBadCursor, s)
	}
	ev, err1 := strconv.ParseInt(e[1:], 10, 64)
	msg, err2 := strconv.ParseInt(m[1:], 10, 64)
	if err1 != nil || err2 != nil || ev < 0 || msg < 0 {
		return cursor{}, fmt.Errorf("%w %q: expected e<id>.m<id>", ErrBadCursor, s)
	}
	return cursor{ev, msg}, nil
}

// streamReq is what a stream was asked for and may show.
type streamReq struct {
	topics map[string]bool
	scopes []string // nil: all
	token  string   // the session or API token, checked again at heartbeats
	from   *cursor  // Last-Event-ID; nil: from now on
}

// parseStream reads the topics and the cursor and checks the caller's
// privileges for each topic.
func parseStream(c *gin.Context) (streamReq, int, error) {
	p, _ := principal(c)
	r := streamReq{topics: map[string]bool{}, scopes: p.Scopes(), token: c.GetString(ctxToken)}
	for k := range c.Request.URL.Query() {
		if k != "topics" && k != "last_event_id" {
			return r, http.StatusBadRequest, fmt.Errorf("unknown query parameter %q: use topics, last_event_id", k)
		}
	}
	for t := range strings.SplitSeq(c.Query("topics"), ",") {
		switch t {
		case topicEvents, topicMessages:
			if !p.Can(auth.MonitorResult, auth.Read) {
				return r, http.StatusForbidden, fmt.Errorf("your roles do not allow read on %s, needed for the topic %s: ask an administrator", auth.MonitorResult, t)
			}
		case topicCluster:
			if !p.Can(auth.Cluster, auth.Read) {
				return r, http.StatusForbidden, fmt.Errorf("your roles do not allow read on %s, needed for the topic cluster: ask an administrator", auth.Cluster)
			}
		default:
			return r, http.StatusBadRequest, fmt.Errorf("topics must list one or more of events, messages, cluster (comma-separated), not %q", t)
		}
		r.topics[t] = true
	}
	// EventSource sends Last-Event-ID when it reconnects; a client moving
	// to the other appliance names its cursor in the query.
	if id := firstSet(c.GetHeader("Last-Event-ID"), c.Query("last_event_id")); id != "" {
		cur, err := parseCursor(id)
		if err != nil {
			return r, http.StatusBadRequest, err
		}
		r.from = &cur
	}
	return r, 0, nil
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// stream serves server-sent events until the client leaves, the server
// shuts down, the session ends, or a write stalls.
func (s *Server) stream(c *gin.Context) {
	req, status, err := parseStream(c)
	if err != nil {
		fail(c, status, err.Error())
		return
	}
	if n := s.streams.Add(1); n > maxStreams {
		s.streams.Add(-1)
		c.Header("Retry-After", "5")
		fail(c, http.StatusServiceUnavailable, "too many live streams open on this appliance: the list routes still answer")
		return
	}
	defer s.streams.Add(-1)
	tail, err := s.tailCursor(c.Request.Context())
	if err != nil {
		s.unavailable(c, CodeUnavailable, "this appliance cannot read its store right now ("+err.Error()+"): retry in a moment")
		return
	}
	rc := http.NewResponseController(c.Writer)
	// The server's read and write timeouts bound ordinary requests; a
	// stream is bounded per write instead (streamTiming.Write).
	_ = rc.SetReadDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := &sseWriter{rc: rc, bw: bufio.NewWriter(c.Writer), timeout: s.timing().Write}
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := s.runStream(ctx, w, req, tail); err != nil && ctx.Err() == nil {
		s.log.Info("live stream ended", "source", sourceIP(c.Request), "reason", err.Error())
	}
}

// runStream writes the stream: the start (cursor, replay, cluster
// snapshot), then new rows as the store gets them; tail is the store's
// end when the stream began.
func (s *Server) runStream(ctx context.Context, w *sseWriter, req streamReq, tail cursor) error {
	tm := s.timing()
	cur, err := startStream(w, req, tail)
	if err != nil {
		return err
	}
	var lastCluster any
	if req.topics[topicCluster] {
		if lastCluster, err = s.sendCluster(ctx, w, nil); err != nil {
			return err
		}
	}
	poll, clus, beat := time.NewTicker(tm.Poll), time.NewTicker(tm.Cluster), time.NewTicker(tm.Heartbeat)
	defer poll.Stop()
	defer clus.Stop()
	defer beat.Stop()
	for {
		wrote := false
		for {
			n, err := s.sendRows(ctx, w, req, &cur)
			if err != nil {
				return err
			}
			wrote = wrote || n > 0
			if n < streamPage {
				break
			}
		}
		if wrote {
			beat.Reset(tm.Heartbeat)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
		case <-clus.C:
			if req.topics[topicCluster] {
				if lastCluster, err = s.sendCluster(ctx, w, lastCluster); err != nil {
					return err
				}
			}
		case <-beat.C:
			if err := s.streamHeartbeat(ctx, w, req.token); err != nil {
				return err
			}
		}
	}
}

// startStream writes the first events: a reset if the client's cursor
// cannot be replayed, then ready with the cursor the stream goes on from.
func startStream(w *sseWriter, req streamReq, tail cursor) (cursor, error) {
	cur := tail
	if req.from != nil {
		cur = *req.from
		// A cursor beyond the store's end (a row lost in a failover) or
		// too far behind resumes at the end, and says so.
		if cur.Event > tail.Event || cur.Message > tail.Message || tail.Event-cur.Event+tail.Message-cur.Message > streamMaxReplay {
			cur = tail
			if err := w.send("reset", cur.String(), map[string]string{"reason": "the stream cannot replay from the given id: reload the lists"}); err != nil {
				return cur, err
			}
		}
	}
	topics := slices.Sorted(maps.Keys(req.topics))
	return cur, w.send("ready", cur.String(), map[string]any{"topics": topics, "retry_ms": 2000})
}

func (s *Server) timing() streamTiming {
	if s.streamTiming.Poll > 0 {
		return s.streamTiming
	}
	return defaultStreamTiming
}

// streamHeartbeat checks the session again (a stream must end with its
// session) and writes a comment line.
func (s *Server) streamHeartbeat(ctx context.Context, w *sseWriter, tok string) error {
	if tok != "" && s.auth != nil {
		if _, err := s.auth.Authenticate(ctx, tok); errors.Is(err, auth.ErrUnauthenticated) {
			_ = w.send("end", "", map[string]string{"reason": "the session ended: log in again"})
			return err
		}
	}
	return w.comment("heartbeat")
}

// tailCursor is the end of the store now.
func (s *Server) tailCursor(ctx context.Context) (cursor, error) {
	rows, err := s.events.Query(ctx, store.Local, `SELECT (SELECT coalesce(max(id), 0) FROM events), (SELECT coalesce(max(id), 0) FROM syslog_messages)`)
	if err != nil {
		return cursor{}, fmt.Errorf("read the stream's start: %w", err)
	}
	var cur cursor
	if len(rows.Values) == 1 && len(rows.Values[0]) == 2 {
		cur.Event, _ = rows.Values[0][0].(int64)
		cur.Message, _ = rows.Values[0][1].(int64)
	}
	return cur, nil
}

// sendRows sends the events and messages after cur in the caller's
// scopes, one page of each at most, and says how many it sent of the
// fuller table (the caller reads again while pages come back full).
func (s *Server) sendRows(ctx context.Context, w *sseWriter, req streamReq, cur *cursor) (int, error) {
	full := 0
	if req.topics[topicEvents] {
		evs, _, err := events.List(ctx, s.events, events.Filter{AfterID: cur.Event, Scopes: req.scopes, Limit: streamPage, MaxBytes: maxAnswerBytes})
		if err != nil {
			return 0, fmt.Errorf("read events: %w", err)
		}
		for _, ev := range evs {
			cur.Event = ev.ID
			if err := w.send("event", cur.String(), ev); err != nil {
				return 0, err
			}
		}
		full = len(evs)
	}
	if req.topics[topicMessages] {
		msgs, err := s.syslogAfter(ctx, cur.Message, req.scopes)
		if err != nil {
			return 0, err
		}
		for _, m := range msgs {
			cur.Message = m.ID
			if err := w.send("message", cur.String(), m); err != nil {
				return 0, err
			}
		}
		full = max(full, len(msgs))
	}
	return full, nil
}

// syslogAfter reads one page of syslog messages after id in scopes.
func (s *Server) syslogAfter(ctx context.Context, after int64, scopes []string) ([]SyslogMessage, error) {
	q := `SELECT ` + syslogColumns + `, ` + sqlpage.Size(syslogColumns) + ` AS _size FROM syslog_messages WHERE id > ?`
	args := []any{after}
	if scopes != nil {
		b, _ := json.Marshal(scopes)
		q, args = q+` AND scope IN (SELECT value FROM json_each(?))`, append(args, string(b))
	}
	q += ` ORDER BY id LIMIT ?`
	rows, err := s.events.Query(ctx, store.Local, sqlpage.Wrap(q, "id ASC"), append(args, streamPage+1, maxAnswerBytes)...)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	vals, _ := sqlpage.Cut(rows.Values, streamPage)
	out := make([]SyslogMessage, 0, len(vals))
	rd := pipeline.NewSyslogReader()
	for _, v := range vals {
		out = append(out, syslogMessage(rd, v))
	}
	return out, nil
}

// sendCluster sends the cluster state if what matters in it (roles,
// epoch, where the active is, the peer's reachability) changed since last.
func (s *Server) sendCluster(ctx context.Context, w *sseWriter, last any) (any, error) {
	out := ClusterStatus{Status: s.cluster.Status(ctx)}
	if s.opts.IngestStatus != nil {
		st := s.opts.IngestStatus()
		out.Ingest = &st
	}
	key := []any{out.Role, out.Reason, out.Epoch, out.ActiveID, out.ActiveAPI, out.Store.Open}
	if p := out.Peer; p != nil {
		key = append(key, p.ID, p.Role, p.Reachable, p.APIAddrs)
	}
	if last != nil && reflect.DeepEqual(key, last) {
		return last, nil
	}
	return key, w.send("cluster", "", out)
}

// sseWriter writes server-sent events, each within a deadline.
type sseWriter struct {
	rc      *http.ResponseController
	bw      *bufio.Writer
	timeout time.Duration
}

// send writes one event; id "" leaves the client's last id as it is.
func (w *sseWriter) send(name, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.deadline()
	w.bw.WriteString("event: " + name + "\n")
	if id != "" {
		w.bw.WriteString("id: " + id + "\n")
	}
	w.bw.WriteString("data: ")
	w.bw.Write(b) // JSON has no raw newline
	w.bw.WriteString("\n\n")
	return w.flush()
}

func (w *sseWriter) comment(text string) error {
	w.deadline()
	w.bw.WriteString(": " + text + "\n\n")
	return w.flush()
}

// deadline bounds the writes of one event (a large one passes the
// buffer and is written at once): a client that does not read is cut
// instead of being buffered for.
func (w *sseWriter) deadline() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

// flush writes what is buffered.
func (w *sseWriter) flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("client too slow or gone: %w", err)
	}
	if err := w.rc.Flush(); err != nil {
		return fmt.Errorf("client too slow or gone: %w", err)
	}
	return nil
}
