package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/internal/doctor"
	"github.com/mamori-ops/mamori/test/cluster"
)

// doctorReport is `mamori doctor --json`.
type doctorReport struct {
	Healthy bool `json:"healthy"`
	Results []struct {
		Level   string `json:"level"`
		Check   string `json:"check"`
		Finding string `json:"finding"`
		Action  string `json:"action"`
	} `json:"results"`
}

// runDoctor runs `mamori doctor` with args and returns its output and exit code.
func runDoctor(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(cluster.Binary(t), append([]string{"doctor"}, args...)...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("mamori doctor: %v\n%s", err, out)
	return "", -1
}

// startRsyslogInputs runs Debian's rsyslogd with a UDP and a TCP input
// on addr (a loopback address of this test), as a distribution's syslog
// daemon holds port 514, and returns its process id.
func startRsyslogInputs(t *testing.T, host, port string) int {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd is not installed (make deps installs rsyslog)")
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imtcp")
input(type="imudp" address=%q port=%q)
input(type="imtcp" address=%q port=%q)
action(type="omfile" file=%q)
`, dir, host, port, host, port, filepath.Join(dir, "messages"))
	path := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", path, "-i", filepath.Join(dir, "rsyslogd.pid"))
	logf, err := os.Create(filepath.Join(dir, "rsyslogd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort(host, port)
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		u, err := net.ListenPacket("udp", addr)
		if err == nil {
			u.Close()
		}
		return errors.Is(err, syscall.EADDRINUSE)
	}) {
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("rsyslogd did not bind udp and tcp %s:\n%s", addr, b)
	}
	return cmd.Process.Pid
}

// startSnmptrapd runs net-snmp's snmptrapd on udp host:port, as a
// distribution's trap daemon holds port 162, and returns its process id.
func startSnmptrapd(t *testing.T, host, port string) int {
	t.Helper()
	bin, err := exec.LookPath("snmptrapd")
	if err != nil {
		t.Skip("snmptrapd is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmptrapd.conf")
	if err := os.WriteFile(conf, []byte("disableAuthorization yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-C", "-c", conf, "-m", "", "-Lf", filepath.Join(dir, "snmptrapd.log"), "udp:"+net.JoinHostPort(host, port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err == nil {
			u.Close()
		}
		return errors.Is(err, syscall.EADDRINUSE)
	}) {
		t.Fatalf("snmptrapd did not bind udp %s:%s", host, port)
	}
	return cmd.Process.Pid
}

// A distribution's rsyslog holds port 514: `mamori doctor` (mamori not
// running) fails on both syslog ports, names rsyslogd and its pid, and
// says what to do; the same for snmptrapd on 162. Once they are gone the
// same checks pass.
func TestDoctorPortConflict(t *testing.T) {
	skipShort(t)
	ip := cluster.Subnet() + ".1"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mamori.yaml")
	yaml := fmt.Sprintf(`node:
  id: a
  address: %[1]s
data_dir: %[2]s
api:
  listen: %[1]s:%[3]s
cluster:
  port: %[4]s
ingest:
  syslog:
    udp: %[1]s:514
    tcp: %[1]s:514
    tls: %[1]s:%[5]s
  snmp:
    udp: %[1]s:162
`, ip, filepath.Join(dir, "data"), cluster.FreePort(t, ip), cluster.FreePort(t, ip), cluster.FreePort(t, ip))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	pid := startRsyslogInputs(t, ip, "514")
	trapd := startSnmptrapd(t, ip, "162")

	out, code := runDoctor(t, "--config", cfg)
	t.Logf("doctor with rsyslog on %s:514 (exit %d):\n%s", ip, code, out)
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a FAIL)", code)
	}
	for _, want := range []string{
		fmt.Sprintf("FAIL ports: udp %s:514 (ingest.syslog.udp) is held by rsyslogd (pid %d) — stop rsyslog's UDP input (imudp", ip, pid),
		fmt.Sprintf("FAIL ports: tcp %s:514 (ingest.syslog.tcp) is held by rsyslogd (pid %d) — stop rsyslog's TCP input (imtcp", ip, pid),
		"or set ingest.syslog.udp to another port",
		fmt.Sprintf("FAIL ports: udp %s:162 (ingest.snmp.udp) is held by snmptrapd (pid %d) — stop snmptrapd (systemctl disable --now snmptrapd", ip, trapd),
		"mamori is not running",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^FAIL `).FindAllString(out, -1)); n != 3 {
		t.Errorf("%d FAIL lines, want 3 (the two syslog ports and the trap port)", n)
	}
	jout, code := runDoctor(t, "--config", cfg, "--json")
	var rep doctorReport
	if err := json.Unmarshal([]byte(strings.SplitN(jout, "\nmamori:", 2)[0]), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, jout)
	}
	if rep.Healthy || code != 1 {
		t.Errorf("--json: healthy %v, exit %d; want false, 1", rep.Healthy, code)
	}

	// Without rsyslog and snmptrapd the same ports are free.
	for _, p := range []int{pid, trapd} {
		_ = syscall.Kill(p, syscall.SIGKILL)
		if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return syscall.Kill(p, 0) != nil || isZombie(p) }) {
			t.Fatalf("pid %d did not exit", p)
		}
	}
	time.Sleep(200 * time.Millisecond) // the sockets close with the process
	out, code = runDoctor(t, "--config", cfg)
	t.Logf("doctor without rsyslog (exit %d):\n%s", code, out)
	if code != 0 || strings.Contains(out, "FAIL") || !strings.Contains(out, fmt.Sprintf("OK   ports: udp %s:514 (ingest.syslog.udp) is free", ip)) ||
		!strings.Contains(out, fmt.Sprintf("OK   ports: udp %s:162 (ingest.snmp.udp) is free", ip)) {
		t.Errorf("without rsyslog and snmptrapd: exit %d, want 0 with the syslog and trap ports free", code)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err != nil || strings.Contains(string(b), ") Z ")
}

// A healthy pair: `mamori doctor` on each appliance finds no FAIL, says
// healthy, and reports every peer path up, a small clock difference and
// a store of two voters. Then the standby stops: the active's doctor
// fails on the peer, naming what to do.
func TestDoctorPair(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	for _, n := range []*cluster.Node{a, b} {
		var out string
		var rep doctorReport
		// Heartbeats start once the role is decided: allow them a moment.
		healthy := cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
			var err error
			out, err = n.CLI("doctor", "--json")
			rep = doctorReport{}
			return json.Unmarshal([]byte(out), &rep) == nil && rep.Healthy && err == nil
		})
		text, err := n.CLI("doctor")
		t.Logf("mamori doctor on %s:\n%s", n.Name, text)
		if !healthy || err != nil {
			t.Fatalf("doctor on %s: not healthy (%v):\n%s", n.Name, err, out)
		}
		peer := map[*cluster.Node]string{a: "b", b: "a"}[n]
		for _, re := range []string{
			`(?m)^OK   mamori: mamori runs \(pid \d+`,
			`(?m)^OK   ports: tcp \S+ \(api.listen\) is held by mamori itself`,
			`(?m)^OK   ports: udp \S+ \(ingest.syslog.udp\) is held by mamori itself`,
			`(?m)^OK   role: ` + n.Name + ` is (active|standby)`,
			`(?m)^OK   peer: ` + peer + ` reachable on \S+ \(rtt [0-9.]+ ms\)`,
			`(?m)^OK   clock: ` + peer + `'s clock differs by -?[0-9.]+[µm]?s from this appliance's$`,
			`(?m)^OK   store: (leader|follower), 2 voters`,
			`(?m)^OK   service address: not configured`,
			`(?m)^healthy`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("doctor on %s does not match %s", n.Name, re)
			}
		}
	}

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	a.WaitRole(ha.Active, 30*time.Second)
	var out string
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		out, _ = a.CLI("doctor")
		return strings.Contains(out, "FAIL peer: b unreachable")
	}) {
		t.Fatalf("doctor on a does not report b unreachable:\n%s", out)
	}
	t.Logf("mamori doctor on a with b stopped:\n%s", out)
	if !strings.Contains(out, "is mamori running on b") {
		t.Errorf("the peer line does not say what to do")
	}
	if _, err := a.CLI("doctor"); err == nil {
		t.Errorf("doctor exits 0 with the peer down")
	}

	// Restarted alone, a stays starting (it has seen no active since its
	// start): a command that needs it waits and says so, the doctor says
	// starting; once b is back the command ends with a clear answer.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	a.Start()
	// As after `systemctl start mamori`: the process runs (holds its data directory).
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		pid, _ := doctor.Running("/proc", filepath.Join(a.Dir, "data"))
		return pid != 0
	}) {
		t.Fatal("a did not lock its data directory within 10 s")
	}
	pw := filepath.Join(a.Dir, "pw")
	logPath := filepath.Join(a.Dir, "admin-create.out")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	create := exec.Command(cluster.Binary(t), "admin", "create", "--user", "late", "--password-file", pw, "--config", a.Config)
	create.Stdout, create.Stderr = logf, logf
	if err := create.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- create.Wait() }()
	t.Cleanup(func() { _ = create.Process.Kill() })
	const waiting = "mamori is starting (role: starting); waiting up to 60 s"
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), waiting)
	}) {
		b, _ := os.ReadFile(logPath)
		t.Fatalf("admin create on a starting appliance does not say it waits:\n%s", b)
	}
	if out, _ := a.CLI("doctor"); !strings.Contains(out, "WARN role: a is starting") {
		t.Errorf("doctor on a starting appliance:\n%s", out)
	}
	b.Start()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("admin create still waits 90 s after b started")
	}
	out2, _ := os.ReadFile(logPath)
	t.Logf("admin create while a starts, b started meanwhile:\n%s", out2)
	if strings.Contains(string(out2), "no such table") ||
		!(strings.Contains(string(out2), "administrator late created") || strings.Contains(string(out2), "not active: send writes to the active")) {
		t.Errorf("admin create ended without a clear answer")
	}
}

// `mamori admin create` right after a start: the CLI waits while the
// appliance is starting (the schema is migrated when it becomes active)
// instead of failing with "no such table".
func TestAdminCreateRightAfterStart(t *testing.T) {
	skipShort(t)
	n := cluster.NewNode(t, "a", cluster.Subnet()+".1", cluster.Options{})
	n.Start()
	f := filepath.Join(n.Dir, "pw")
	if err := os.WriteFile(f, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The identity exists once serve has begun; the API may not be open yet.
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(n.Dir, "data", "tls", "node.crt"))
		return err == nil
	}) {
		t.Fatal("no node identity after 10 s")
	}
	out, err := n.CLI("admin", "create", "--user", "root", "--password-file", f)
	t.Logf("admin create at once:\n%s", out)
	if err != nil || !strings.Contains(out, "administrator root created") {
		t.Fatalf("admin create right after the start: %v\n%s", err, out)
	}
	if strings.Contains(out, "no such table") {
		t.Errorf("the CLI met the unmigrated store")
	}
}
