package pkgtest

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
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// appliance is `mamori serve` of an installed root, run as the mamori
// user in a network namespace of the test, as the unit runs it.
type appliance struct {
	t    testing.TB
	r    *root
	ns   string
	api  string // host:port inside ns
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// prepareNetns lets the unprivileged service user bind 514, 162 and 8443
// and send ICMP echo in ns, as the unit's capabilities let it (no systemd
// here to grant them).
func prepareNetns(t testing.TB, ns string) {
	t.Helper()
	run(t, "ip", "netns", "exec", ns, "sh", "-c",
		"echo 0 >/proc/sys/net/ipv4/ip_unprivileged_port_start && echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range")
}

func startAppliance(t testing.TB, r *root, ns, api string) *appliance {
	t.Helper()
	uid, gid, err := r.ids("mamori")
	if err != nil {
		t.Fatal(err)
	}
	a := &appliance{t: t, r: r, ns: ns, api: api, log: filepath.Join(t.TempDir(), "mamori.log"), done: make(chan struct{})}
	f, err := os.Create(a.log)
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command("ip", "netns", "exec", ns, "chroot", fmt.Sprintf("--userspec=%d:%d", uid, gid), fmt.Sprintf("--groups=%d", gid),
		r.dir, "/usr/bin/mamori", "serve", "--config", "/etc/mamori/mamori.yaml")
	a.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	a.cmd.Stdout, a.cmd.Stderr = f, f
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); f.Close(); close(a.done) }()
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			b, _ := os.ReadFile(a.log)
			t.Logf("log of mamori in %s (%s):\n%s", ns, r.dir, tail(string(b), 60))
		}
	})
	return a
}

// stop ends the process group: SIGTERM, then SIGKILL after 15 s.
func (a *appliance) stop() {
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	}
}

func (a *appliance) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// asNode, given as auth, calls the API as the appliance itself.
const asNode = "node"

// client calls the API from inside the namespace. With auth asNode it
// presents the appliance's own certificate (read at each handshake:
// pairing replaces it), as `mamori status` does.
func (a *appliance) client(auth string) *http.Client {
	tc := &tls.Config{InsecureSkipVerify: true}
	if auth == asNode {
		dir := a.r.path("/var/lib/mamori/tls")
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			kp, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"))
			if err != nil {
				return &tls.Certificate{}, nil
			}
			return &kp, nil
		}
	}
	ns := a.ns
	tr := &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dialIn(ctx, ns, addr) }}
	return &http.Client{Timeout: 5 * time.Second, Transport: tr}
}

// do sends JSON (in may be nil) and decodes the JSON answer into out;
// auth is "" (anonymous), asNode or a session token.
func (a *appliance) do(auth string, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+a.api+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" && auth != asNode {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := a.client(auth).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w (%s)", path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// waitUp polls GET /api/v1/setup (public) until the appliance answers.
func (a *appliance) waitUp(timeout time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if a.exited() {
			a.t.Fatalf("mamori serve in %s exited: %v", a.ns, a.cmd.ProcessState)
		}
		var code int
		if code, err = a.do("", http.MethodGet, "/api/v1/setup", nil, nil); err == nil && code == http.StatusOK {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.t.Fatalf("mamori in %s does not answer on %s within %s: %v", a.ns, a.api, timeout, err)
}

// setupToken runs `mamori setup-token` in the root, as an administrator would.
func (a *appliance) setupToken() (token, out string) {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := exec.Command("chroot", a.r.dir, "/usr/bin/mamori", "setup-token", "--config", "/etc/mamori/mamori.yaml").CombinedOutput()
		out = string(b)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, l := range strings.Split(out, "\n") {
		if tok, ok := strings.CutPrefix(l, "setup token: "); ok {
			return strings.TrimSpace(tok), out
		}
	}
	a.t.Fatalf("mamori setup-token in %s:\n%s", a.r.dir, out)
	return "", out
}

// dialIn opens a TCP connection from inside namespace ns.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// setns applies to the calling thread only: lock it, switch, dial,
		// and let the thread die rather than return it to the pool switched.
		runtime.LockOSThread()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}
