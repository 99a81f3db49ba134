package hostile

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/test/cluster"
)

// Good kinds of numbered traffic.
const (
	TCP = iota
	TLS
	Trap
	Newcomer
	UDP
	kinds
)

// KindNames name the kinds in summaries.
var KindNames = [kinds]string{"syslog_tcp", "syslog_tls", "trap", "syslog_newcomer", "syslog_udp"}

// Lossless says whether a kind must be stored exactly once (UDP syslog
// may be lost, counted).
func Lossless(kind int) bool { return kind != UDP }

// Good sends numbered good traffic from one address: syslog over TCP and
// TLS (50 messages/s each, on connections kept open), one message on a
// new TCP connection every 2 s (a newcomer must find a slot), v2c traps
// (10/s), UDP syslog (50/s, whose losses are allowed and counted) and API
// logins and reads (one every 2 s), and checks what the appliance stored.
type Good struct {
	n      *cluster.Node
	t      Target
	src    string
	user   string
	pw     string
	sent   [kinds]atomic.Int64
	resent atomic.Int64 // stream messages written again after a failed write
	apiOK  atomic.Int64
	apiBad atomic.Int64
	stop   context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	seen  [kinds]map[int]int
	after int64 // last event id read
}

// StartGood installs the rules that record good traffic and starts it to
// n's receivers from src; user and pw are an administrator's (n must be
// active).
func StartGood(n *cluster.Node, src, user, pw string) (*Good, error) {
	var out struct{ Token string }
	if code, err := n.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": user, "password": pw}, &out); err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("login %s: HTTP %d %v", user, code, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Good{n: n, t: Of(n), src: src, user: user, pw: pw, stop: cancel}
	if err := g.rules(out.Token); err != nil {
		cancel()
		return nil, err
	}
	time.Sleep(2500 * time.Millisecond) // the active reloads rules every 2 s
	for k := range g.seen {
		g.seen[k] = map[int]int{}
	}
	g.wg.Go(func() { g.stream(ctx, TCP, 20*time.Millisecond) })
	g.wg.Go(func() { g.stream(ctx, TLS, 20*time.Millisecond) })
	g.wg.Go(func() { g.traps(ctx, 100*time.Millisecond) })
	g.wg.Go(func() { g.newcomers(ctx, 2*time.Second) })
	g.wg.Go(func() { g.udp(ctx, 20*time.Millisecond) })
	g.wg.Go(func() { g.api(ctx, 2*time.Second) })
	g.wg.Go(func() { g.verifyLoop(ctx) })
	return g, nil
}

// Stop ends the sending (and the background reading of what is stored).
func (g *Good) Stop() { g.stop(); g.wg.Wait() }

func line(kind, i int) string {
	return fmt.Sprintf("<13>1 - goodhost good - - - good-%s-%06d", KindNames[kind], i)
}

// stream sends octet-counted messages on one connection, reconnecting
// (and writing the message again) when a write fails.
func (g *Good) stream(ctx context.Context, kind int, every time.Duration) {
	var c net.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for i := 0; ctx.Err() == nil; {
		if c == nil {
			var err error
			if c, err = g.dial(ctx, kind); err != nil {
				sleep(ctx, 200*time.Millisecond)
				continue
			}
		}
		msg := line(kind, i)
		if _, err := fmt.Fprintf(c, "%d %s", len(msg), msg); err != nil {
			c.Close()
			c = nil
			g.resent.Add(1)
			continue
		}
		g.sent[kind].Add(1)
		i++
		sleep(ctx, every)
	}
}

// newcomers sends one message per new connection, retrying on a new
// connection until a write succeeds.
func (g *Good) newcomers(ctx context.Context, every time.Duration) {
	for i := 0; ctx.Err() == nil; {
		c, err := dialTCP(ctx, g.src, g.t.SyslogTCP)
		if err == nil {
			msg := line(Newcomer, i)
			_, err = fmt.Fprintf(c, "%d %s", len(msg), msg)
			c.Close()
		}
		if err != nil {
			g.resent.Add(1)
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		g.sent[Newcomer].Add(1)
		i++
		sleep(ctx, every)
	}
}

func (g *Good) dial(ctx context.Context, kind int) (net.Conn, error) {
	if kind == TCP {
		return dialTCP(ctx, g.src, g.t.SyslogTCP)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(g.src)}, Timeout: 5 * time.Second}, Config: TLSConfig()}
	return d.DialContext(ctx, "tcp", g.t.SyslogTLS)
}

func (g *Good) traps(ctx context.Context, every time.Duration) {
	host, port, _ := net.SplitHostPort(g.t.Trap)
	p, _ := strconv.Atoi(port)
	s := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Transport: "udp", Community: "public", Version: gosnmp.Version2c,
		Timeout: time.Second, LocalAddr: net.JoinHostPort(g.src, "0"), MaxOids: gosnmp.MaxOids}
	if err := s.Connect(); err != nil {
		return
	}
	defer s.Conn.Close()
	for i := 0; ctx.Err() == nil; i++ {
		tr := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
			{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1000 + i)},
			{Name: "1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"},
			{Name: "1.3.6.1.4.1.8072.2.3.2.1", Type: gosnmp.OctetString, Value: []byte(fmt.Sprintf("good-trap-%06d", i))}}}
		if _, err := s.SendTrap(tr); err == nil {
			g.sent[Trap].Add(1)
		}
		sleep(ctx, every)
	}
}

func (g *Good) udp(ctx context.Context, every time.Duration) {
	c, err := dialUDP(g.src, g.t.SyslogUDP)
	if err != nil {
		return
	}
	defer c.Close()
	for i := 0; ctx.Err() == nil; i++ {
		if _, err := c.Write([]byte(line(UDP, i))); err == nil {
			g.sent[UDP].Add(1)
		}
		sleep(ctx, every)
	}
}

// api logs in and reads, as an operator's console does.
func (g *Good) api(ctx context.Context, every time.Duration) {
	for ctx.Err() == nil {
		var out struct{ Token string }
		code, err := g.n.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": g.user, "password": g.pw}, &out)
		ok := err == nil && code == http.StatusOK && out.Token != ""
		if ok {
			code, err = g.n.DoAs(out.Token, http.MethodGet, "/api/v1/events?limit=10", nil, nil)
			ok = err == nil && code == http.StatusOK
		}
		if ok {
			g.apiOK.Add(1)
		} else {
			g.apiBad.Add(1)
		}
		sleep(ctx, every)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Rules makes every good message and trap raise an event (a notify rule
// per kind): events are the record the check reads, as the floods make
// retention delete stored messages within seconds. An event is stored in
// the transaction that stores its message, with an id derived from the
// message and its copy number: a message stored twice raises two.
func (g *Good) rules(token string) error {
	for i, r := range []map[string]any{
		{"id": "good-syslog", "kind": "syslog", "pattern": `good-syslog_[a-z]+-\d+`},
		{"id": "good-trap", "kind": "trap", "pattern": `good-trap-\d+`},
	} {
		r["name"], r["position"], r["enabled"], r["action"], r["priority"] = r["id"], i, true, "notify", "info"
		if code, err := g.n.DoAs(token, http.MethodPost, "/api/v1/rules", r, nil); err != nil || code != http.StatusOK {
			return fmt.Errorf("rule %s: HTTP %d %v", r["id"], code, err)
		}
	}
	return nil
}

// verifyLoop reads the good traffic's events every second.
func (g *Good) verifyLoop(ctx context.Context) {
	for ctx.Err() == nil {
		g.read()
		sleep(ctx, time.Second)
	}
}

// read pages through the new events of the good rules (by id, each once).
func (g *Good) read() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		var out struct {
			Events []struct {
				ID      int64 `json:"id"`
				Kind    string
				Message string
			}
		}
		q := url.Values{"after": {strconv.FormatInt(g.after, 10)}, "limit": {"1000"}}
		if code, err := g.n.Do(http.MethodGet, "/api/v1/events?"+q.Encode(), nil, &out); err != nil || code != http.StatusOK {
			return
		}
		for _, e := range out.Events {
			g.after = e.ID
			if strings.HasPrefix(e.Kind, "monitor.") {
				g.count(e.Message)
			}
		}
		if len(out.Events) < 1000 {
			return
		}
	}
}

// count records one stored good item, named in text ("…good-trap-000012").
func (g *Good) count(text string) {
	_, rest, ok := strings.Cut(text, "good-")
	if !ok {
		return
	}
	for k, name := range KindNames {
		if s, ok := strings.CutPrefix(rest, name+"-"); ok {
			if i, err := strconv.Atoi(s); err == nil {
				g.seen[k][i]++
			}
		}
	}
}

// Verdict is what became of the good traffic of one kind.
type Verdict struct {
	Sent, Lost, Duplicated int
}

// Settle reads until every good item of the lossless kinds is stored,
// for as long as more keep arriving (a backlog being drained, slower on a
// loaded machine), and gives up after idle without progress or at most
// timeout. It returns the verdict per kind and how long it waited.
func (g *Good) Settle(idle, timeout time.Duration) ([kinds]Verdict, time.Duration) {
	start := time.Now()
	last, progress := -1, start
	for {
		g.read()
		v := g.verdicts()
		lost := 0
		for k := range v {
			if Lossless(k) {
				lost += v[k].Lost
			}
		}
		if lost != last {
			last, progress = lost, time.Now()
		}
		if lost == 0 || time.Since(progress) > idle || time.Since(start) > timeout {
			return v, time.Since(start)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (g *Good) verdicts() [kinds]Verdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out [kinds]Verdict
	for k := range out {
		n := int(g.sent[k].Load())
		out[k].Sent = n
		for i := range n {
			switch c := g.seen[k][i]; {
			case c == 0:
				out[k].Lost++
			case c > 1:
				out[k].Duplicated += c - 1
			}
		}
	}
	return out
}

// Marks returns how many items of each kind were sent so far (a phase's
// first item, for LostIn).
func (g *Good) Marks() (m [kinds]int) {
	for k := range m {
		m[k] = int(g.sent[k].Load())
	}
	return m
}

// LostIn counts the items of each kind sent in [from, to) that were
// never stored.
func (g *Good) LostIn(from, to [kinds]int) (lost [kinds]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range lost {
		for i := from[k]; i < to[k]; i++ {
			if g.seen[k][i] == 0 {
				lost[k]++
			}
		}
	}
	return lost
}

// API returns the good API rounds (login and read) that worked and failed.
func (g *Good) API() (ok, failed int64) { return g.apiOK.Load(), g.apiBad.Load() }

// Resent counts stream messages written again after a failed write.
func (g *Good) Resent() int64 { return g.resent.Load() }
