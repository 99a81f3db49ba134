// Package cluster starts real mamori processes for end-to-end tests and
// benchmarks: each node gets its own loopback address, data directory,
// configuration file and log file, and is driven through its CLI and API.
package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
)

// TB is the part of testing.TB the harness uses.
type TB interface {
	testing.TB
}

// Binary returns the mamori binary under test ($MAMORI_BIN), or skips with
// the reason when it is not set.
func Binary(t TB) string {
	bin := os.Getenv("MAMORI_BIN")
	if bin == "" {
		t.Skip("MAMORI_BIN is not set: run `make e2e` (it builds bin/mamori first)")
	}
	return bin
}

var subnet atomic.Int32

// Subnet returns a fresh 127.x.y prefix so tests never share addresses.
func Subnet() string {
	n := subnet.Add(1) + int32(os.Getpid()%200)*50
	return fmt.Sprintf("127.%d.%d", 10+n/250%200, n%250+1)
}

// Node is one mamori process.
type Node struct {
	t       TB
	Name    string
	IP      string
	API     string // host:port
	Dir     string
	Config  string
	LogPath string
	bin     string
	cmd     *exec.Cmd
	waitc   chan error
	Extra   map[string]string // extra environment
	// Netns, when set, runs the node inside that network namespace; the
	// test reaches its API through the namespace's loopback.
	Netns string
	// SyslogUDP and SyslogTCP are the node's syslog receivers.
	SyslogUDP, SyslogTCP string
	// SyslogTLS and SNMPTrap are the node's RFC 5425 and trap receivers.
	SyslogTLS, SNMPTrap string
	// Wrap is a command that runs mamori (e.g. setpriv with its options),
	// inside the namespace when there is one.
	Wrap []string
}

// Options tune a node's configuration.
type Options struct {
	Detection   time.Duration
	AutoRecover bool
	Witness     []string // default: the node's own loopback address (always answers)
	ExtraYAML   string
	// Netns runs the node in that namespace: the API listens on every
	// interface at port 8443, the cluster port is 7443, and the test
	// reaches the API on the namespace's loopback.
	Netns string
	// WitnessAddr switches to ha.mode witness with this lease arbiter.
	WitnessAddr string
	// ExtraPaths (netns only) are more IPs of this node that the peer
	// probes for heartbeats, besides its address.
	ExtraPaths []string
	// APIYAML is more keys of the api section, indented by two spaces.
	APIYAML string
	// IngestYAML is more keys of the ingest section, indented by two spaces.
	IngestYAML string
	// SNMPYAML is more keys of ingest.snmp, indented by four spaces.
	SNMPYAML string
	// SyslogYAML is more keys of ingest.syslog, indented by four spaces.
	SyslogYAML string
	// HAYAML is more keys of the ha section, indented by two spaces.
	HAYAML string
}

// NewNode writes a configuration for a node on ip; it does not start it.
func NewNode(t TB, name, ip string, o Options) *Node {
	bin := Binary(t)
	dir := t.TempDir()
	n := &Node{t: t, Name: name, IP: ip, Dir: dir, bin: bin, Netns: o.Netns,
		Config: filepath.Join(dir, "mamori.yaml"), LogPath: filepath.Join(dir, "mamori.log")}
	listen, advertise, clusterPort := "", "[]", ""
	if o.Netns != "" {
		paths := []string{fmt.Sprintf("%q", ip+":8443")}
		for _, p := range o.ExtraPaths {
			paths = append(paths, fmt.Sprintf("%q", p+":8443"))
		}
		n.API, listen, advertise, clusterPort = "127.0.0.1:8443", "0.0.0.0:8443", "["+strings.Join(paths, ", ")+"]", "7443"
	} else {
		n.API = net.JoinHostPort(ip, freePort(t, ip))
		listen, clusterPort = n.API, freePort(t, ip)
	}
	if o.Netns != "" {
		n.SyslogUDP, n.SyslogTCP = net.JoinHostPort(ip, "514"), net.JoinHostPort(ip, "514")
		n.SyslogTLS, n.SNMPTrap = net.JoinHostPort(ip, "6514"), net.JoinHostPort(ip, "162")
	} else {
		n.SyslogUDP, n.SyslogTCP = net.JoinHostPort(ip, freeUDPPort(t, ip)), net.JoinHostPort(ip, freePort(t, ip))
		n.SyslogTLS, n.SNMPTrap = net.JoinHostPort(ip, freePort(t, ip)), net.JoinHostPort(ip, freeUDPPort(t, ip))
	}
	// In a namespace the receivers listen on every interface, so senders
	// on any link of the test topology reach them.
	bind := func(a string) string {
		if o.Netns == "" {
			return a
		}
		_, p, _ := net.SplitHostPort(a)
		return ":" + p
	}
	mode := "pair-only"
	if o.WitnessAddr != "" {
		mode = "witness\n  witness: " + o.WitnessAddr
	}
	if o.Detection == 0 {
		o.Detection = 3 * time.Second
	}
	if o.Witness == nil {
		o.Witness = []string{ip}
	}
	w, _ := json.Marshal(o.Witness)
	cfg := fmt.Sprintf(`node:
  id: %s
  address: %s
data_dir: %s
api:
  listen: %s
  advertise: %s
%scluster:
  port: %s
ha:
  mode: %s
  detection_time: %s
  witness_addresses: %s
  auto_recover: %v
%singest:
  syslog:
    udp: %s
    tcp: %s
    tls: %s
%s  snmp:
    udp: %s
%s%slog:
  level: debug
%s`, name, ip, filepath.Join(dir, "data"), listen, advertise, o.APIYAML, clusterPort, mode, o.Detection, w, o.AutoRecover, o.HAYAML,
		bind(n.SyslogUDP), bind(n.SyslogTCP), bind(n.SyslogTLS), o.SyslogYAML, bind(n.SNMPTrap), o.SNMPYAML, o.IngestYAML, o.ExtraYAML)
	if err := os.WriteFile(n.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Kill()
		if t.Failed() {
			n.dumpLog()
			n.keepLog()
		}
	})
	return n
}

// SetBinary makes the next Start run another mamori build (a rolling
// upgrade replaces the binary between a stop and a start).
func (n *Node) SetBinary(path string) { n.bin = path }

// FreePort asks the kernel for a port free on ip.
func FreePort(t TB, ip string) string { return freePort(t, ip) }

// handedOut remembers every port given to a test in this process: the
// kernel may give a port it just freed to the next bind(0), and two settings
// of one node then collide ("address already in use", seen in CI).
var handedOut = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// fresh reports whether proto/ip/port was not handed out before, and marks it.
func fresh(proto, ip, port string) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	k := proto + "/" + net.JoinHostPort(ip, port)
	if handedOut.m[k] {
		return false
	}
	handedOut.m[k] = true
	return true
}

func freePort(t TB, ip string) string {
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		if fresh("tcp", ip, p) {
			return p
		}
	}
}

func (n *Node) dumpLog() {
	b, _ := os.ReadFile(n.LogPath)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	n.t.Logf("---- last log lines of %s ----\n%s", n.Name, strings.Join(lines, "\n"))
}

// keepLog copies the whole log of a failed test's node to
// $TMPDIR/mamori-e2e-logs, which outlives the test's directory.
func (n *Node) keepLog() {
	dir := filepath.Join(os.TempDir(), "mamori-e2e-logs")
	b, err := os.ReadFile(n.LogPath)
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(n.t.Name())+"-"+n.Name+".log")
	if os.WriteFile(name, b, 0o644) == nil {
		n.t.Logf("whole log of %s: %s", n.Name, name)
	}
}

// Start runs `mamori serve` in the background.
func (n *Node) Start() {
	n.t.Helper()
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	n.cmd = n.command("serve", "--config", n.Config)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.Env = os.Environ()
	for k, v := range n.Extra {
		n.cmd.Env = append(n.cmd.Env, k+"="+v)
	}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.waitc = make(chan error, 1)
	go func(c *exec.Cmd) { n.waitc <- c.Wait(); logf.Close() }(n.cmd)
}

// PID is the process id of the running mamori (0 when not started; in a
// network namespace, that of `ip netns exec`'s child is the same process).
func (n *Node) PID() int {
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Running says whether the process is alive.
func (n *Node) Running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case err := <-n.waitc:
		n.waitc <- err
		return false
	default:
		return true
	}
}

// Signal sends sig to the process.
func (n *Node) Signal(sig syscall.Signal) {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL (after SIGCONT, in case it was stopped) and waits.
func (n *Node) Kill() {
	if !n.Running() {
		return
	}
	n.Signal(syscall.SIGKILL)
	n.Signal(syscall.SIGCONT)
	<-n.waitc
	n.waitc <- nil
}

// Stop sends SIGTERM and waits for a clean exit.
func (n *Node) Stop() error {
	if !n.Running() {
		return nil
	}
	n.Signal(syscall.SIGTERM)
	select {
	case err := <-n.waitc:
		n.waitc <- err
		return err
	case <-time.After(20 * time.Second):
		n.Kill()
		return fmt.Errorf("%s did not stop within 20s of SIGTERM", n.Name)
	}
}

// CLI runs a mamori subcommand with this node's configuration.
func (n *Node) CLI(args ...string) (string, error) {
	args = append(args, "--config", n.Config)
	out, err := n.command(args...).CombinedOutput()
	return string(out), err
}

func (n *Node) command(args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, n.Wrap...), n.bin), args...)
	if n.Netns != "" {
		argv = append([]string{"ip", "netns", "exec", n.Netns}, argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

// httpClient presents this node's own certificate (read afresh at each
// handshake: pairing replaces it), i.e. calls as the appliance itself.
// anonymous clients present none.
func (n *Node) httpClient(anonymous bool) *http.Client {
	tc := &tls.Config{InsecureSkipVerify: true}
	if !anonymous {
		dir := filepath.Join(n.Dir, "data", "tls")
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			kp, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"))
			if err != nil {
				return &tls.Certificate{}, nil
			}
			return &kp, nil
		}
	}
	tr := &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}
	if n.Netns != "" {
		ns := n.Netns
		tr.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return dialIn(ctx, ns, addr) }
	}
	return &http.Client{Timeout: 3 * time.Second, Transport: tr}
}

// Metrics returns the node's /metrics text ("" when unreachable), read
// with the node's own certificate (/metrics is not anonymous).
func (n *Node) Metrics() string {
	resp, err := n.httpClient(false).Get("https://" + n.API + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Do sends a JSON request to the node's API as the appliance itself
// (its node certificate) and decodes the JSON answer.
func (n *Node) Do(method, path string, in, out any) (int, error) {
	return n.do(n.httpClient(false), "", method, path, in, out)
}

// DoAs sends a request as a user (bearer token), or anonymously with "".
func (n *Node) DoAs(token, method, path string, in, out any) (int, error) {
	return n.do(n.httpClient(true), token, method, path, in, out)
}

// DoWithHeaders is DoAs with extra request headers; it returns the
// answer's headers too.
func (n *Node) DoWithHeaders(token, method, path string, headers map[string]string, in, out any) (int, http.Header, error) {
	return n.request(n.httpClient(true), token, method, path, headers, in, out)
}

func (n *Node) do(cl *http.Client, token, method, path string, in, out any) (int, error) {
	code, _, err := n.request(cl, token, method, path, nil, in, out)
	return code, err
}

func (n *Node) request(cl *http.Client, token, method, path string, headers map[string]string, in, out any) (int, http.Header, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "https://"+n.API+path, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("decode %s: %w (%s)", path, err, b)
		}
	}
	return resp.StatusCode, resp.Header, nil
}

// Status fetches GET /api/v1/cluster.
func (n *Node) Status() (ha.Status, error) {
	var st ha.Status
	code, err := n.Do(http.MethodGet, "/api/v1/cluster", nil, &st)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("HTTP %d", code)
	}
	return st, err
}

// WaitRole polls until the node reports role, or fails the test.
func (n *Node) WaitRole(role ha.Role, timeout time.Duration) ha.Status {
	n.t.Helper()
	var st ha.Status
	var err error
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st, err = n.Status(); err == nil && st.Role == role {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("%s did not become %s within %s: last status %+v, err %v", n.Name, role, timeout, st, err)
	return st
}

// Write posts one event and reports whether this node stored it.
func (n *Node) Write(uid string) (bool, error) {
	code, err := n.Do(http.MethodPost, "/api/v1/events", events.Event{UID: uid, Kind: "test.write", Message: uid}, nil)
	return err == nil && code == http.StatusOK, err
}

// Events lists the events this node holds (its local copy).
func (n *Node) Events(kind string) []events.Event {
	n.t.Helper()
	var all []events.Event
	err := n.Pages("/api/v1/events?limit=10000&kind="+kind, func(b []byte) error {
		var out struct {
			Events []events.Event `json:"events"`
		}
		err := json.Unmarshal(b, &out)
		all = append(all, out.Events...)
		return err
	})
	if err != nil {
		n.t.Fatalf("%s: list events: %v", n.Name, err)
	}
	return all
}

// Pages reads a list route as the appliance itself, handing each answer
// to page and following the cursor of answers cut in bytes ("more",
// "next") to the end.
func (n *Node) Pages(path string, page func(body []byte) error) error {
	route, _, _ := strings.Cut(path, "?")
	for path != "" {
		var raw json.RawMessage
		code, err := n.Do(http.MethodGet, path, nil, &raw)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("GET %s: HTTP %d", path, code)
		}
		if err != nil {
			return err
		}
		if err := page(raw); err != nil {
			return err
		}
		var cursor struct {
			More bool   `json:"more"`
			Next string `json:"next"`
		}
		_ = json.Unmarshal(raw, &cursor)
		path = ""
		if cursor.More && cursor.Next != "" {
			path = route + cursor.Next
		}
	}
	return nil
}

// Checksums fetches per-table row counts and checksums of the local copy.
func (n *Node) Checksums() (map[string]string, error) {
	var out map[string]string
	code, err := n.Do(http.MethodGet, "/api/v1/cluster/checksums", nil, &out)
	if err == nil && code != 200 {
		err = fmt.Errorf("HTTP %d", code)
	}
	return out, err
}

var codeRE = regexp.MustCompile(`pairing code: (\S+)`)

// AddressAPI is the API address the peer uses (node.address:port).
func (n *Node) AddressAPI() string {
	if n.Netns != "" {
		return net.JoinHostPort(n.IP, "8443")
	}
	return n.API
}

// PairCode runs `mamori pair init` and returns the code.
func (n *Node) PairCode(ttl string) string {
	n.t.Helper()
	out, err := n.CLI("pair", "init", "--ttl", ttl)
	m := codeRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		n.t.Fatalf("pair init on %s: %v\n%s", n.Name, err, out)
	}
	return m[1]
}

// Pair starts a as the founder and b as the joiner and waits until a is
// active and b standby.
func Pair(t TB, a, b *Node) {
	t.Helper()
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	code := a.PairCode("10m")
	if out, err := b.CLI("pair", "join", "--peer", a.AddressAPI(), "--code", code); err != nil {
		t.Fatalf("pair join: %v\n%s", err, out)
	}
	b.Start()
	b.WaitRole(ha.Standby, 60*time.Second)
	a.WaitRole(ha.Active, 10*time.Second)
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return cond()
}

// CreateAdmin runs `mamori admin create` on the node.
func (n *Node) CreateAdmin(user, password string) {
	n.t.Helper()
	f := filepath.Join(n.Dir, "pw-"+user)
	if err := os.WriteFile(f, []byte(password+"\n"), 0o600); err != nil {
		n.t.Fatal(err)
	}
	if out, err := n.CLI("admin", "create", "--user", user, "--password-file", f); err != nil {
		n.t.Fatalf("admin create: %v\n%s", err, out)
	}
}

// Login returns a session token for user, or fails the test.
func (n *Node) Login(user, password string) string {
	n.t.Helper()
	var out struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	code, err := n.DoAs("", http.MethodPost, "/api/v1/login", map[string]string{"user": user, "password": password}, &out)
	if err != nil || code != http.StatusOK || out.Token == "" {
		n.t.Fatalf("login %s on %s: HTTP %d %v %s", user, n.Name, code, err, out.Error)
	}
	return out.Token
}

// freeUDPPort asks the kernel for a UDP port free on ip.
func freeUDPPort(t TB, ip string) string {
	for {
		c, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(c.LocalAddr().String())
		c.Close()
		if fresh("udp", ip, p) {
			return p
		}
	}
}

// Grep returns the lines of the node's log that contain any of words.
func (n *Node) Grep(words ...string) []string {
	b, _ := os.ReadFile(n.LogPath)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
