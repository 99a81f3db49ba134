// Package snmptest starts net-snmp's snmpd on a loopback port for tests of
// the SNMP client and the SNMP monitor kinds, and reads the same agent
// with net-snmp's own snmpget/snmpwalk so tests can compare answers.
package snmptest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The agent's credentials: a v2c community and a v3 authPriv user
// (SHA-256, AES-128).
const (
	Community = "mamori-ro"
	User      = "mamori"
	AuthKey   = "auth-pass-12345"
	PrivKey   = "priv-pass-12345"
	Descr     = "mamori-test-agent"
)

// Values is the subtree whose objects a test sets with SetValues.
const Values = "1.3.6.1.4.1.99999"

// passScript answers snmpd's pass protocol (-g OID) from a file of
// "OID type value" lines, so a test can set any value of any type and
// change it between two reads.
const passScript = `#!/bin/sh
[ "$1" = "-g" ] || exit 0
while read -r oid type val; do
  if [ "$oid" = "$2" ]; then printf '%%s\n%%s\n%%s\n' "$oid" "$type" "$val"; exit 0; fi
done < %s
`

// Agent is a running snmpd.
type Agent struct {
	IP   string
	Port int
	Dir  string
	cmd  *exec.Cmd
}

// Start runs snmpd on 127.0.0.1 with the full default MIB modules
// (HOST-RESOURCES, UCD, IF-MIB) and extra configuration lines. It skips
// the test, saying why, where snmpd is not installed.
func Start(t testing.TB, extra ...string) *Agent {
	t.Helper()
	if _, err := exec.LookPath("/usr/sbin/snmpd"); err != nil {
		t.Skip("snmpd is not installed: make deps installs it (Debian package snmpd)")
	}
	a := &Agent{IP: "127.0.0.1", Port: freeUDPPort(t), Dir: t.TempDir()}
	script := filepath.Join(a.Dir, "pass.sh")
	if err := os.WriteFile(script, fmt.Appendf(nil, passScript, filepath.Join(a.Dir, "values")), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("agentAddress udp:%s:%d\nrocommunity %s 127.0.0.1\ncreateUser %s SHA-256 %q AES %q\nrouser %s priv\nsysDescr %s\npass .%s %s\n%s\n",
		a.IP, a.Port, Community, User, AuthKey, PrivKey, User, Descr, Values, script, strings.Join(extra, "\n"))
	if err := os.WriteFile(filepath.Join(a.Dir, "snmpd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(a.Dir, "snmpd.log"))
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command("/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", filepath.Join(a.Dir, "snmpd.conf"), "-p", filepath.Join(a.Dir, "pid"))
	// No MIB files: answers and snmpwalk output stay numeric.
	// Its persistent state in a folder of its own: snmpd rewrites a
	// snmpd.conf there on exit, which must not be the configuration.
	a.cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+filepath.Join(a.Dir, "state"), "MIBS=")
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(); logf.Close() })
	a.waitReady(t)
	return a
}

// waitReady polls until the agent answers a v2c get.
func (a *Agent) waitReady(t testing.TB) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		if out, err := a.cli("snmpget", "1.3.6.1.2.1.1.1.0"); err == nil && strings.Contains(out, Descr) {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(a.Dir, "snmpd.log"))
			t.Fatalf("snmpd did not answer within 15s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the agent (a test of "the target is gone").
func (a *Agent) Stop() {
	if a.cmd.ProcessState == nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
}

// SetValues sets the objects under Values: lines of "OID type value"
// (OID with a leading dot; types as snmpd's pass takes them: integer,
// gauge, counter, counter64, timeticks, string, objectid).
func (a *Agent) SetValues(t testing.TB, lines ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(a.Dir, "values"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Line is one varbind as snmpwalk printed it.
type Line struct{ OID, Value string }

// Walk reads root with net-snmp's snmpwalk (v2c, numeric OIDs).
func (a *Agent) Walk(t testing.TB, root string) []Line {
	t.Helper()
	out, err := a.cli("snmpwalk", root)
	if err != nil {
		t.Fatalf("snmpwalk %s: %v\n%s", root, err, out)
	}
	return parse(out)
}

// Get reads oids with net-snmp's snmpget (v2c).
func (a *Agent) Get(t testing.TB, oids ...string) []Line {
	t.Helper()
	out, err := a.cli("snmpget", oids...)
	if err != nil {
		t.Fatalf("snmpget %v: %v\n%s", oids, err, out)
	}
	return parse(out)
}

func (a *Agent) cli(tool string, oids ...string) (string, error) {
	args := append([]string{"-v2c", "-c", Community, "-On", "-Oe", "-Oq", "-Ot", "-t", "1", "-r", "1",
		fmt.Sprintf("%s:%d", a.IP, a.Port)}, oids...)
	cmd := exec.Command("/usr/bin/"+tool, args...)
	cmd.Env = append(os.Environ(), "MIBS=")
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// parse reads "-On -Oq" lines: ".1.3.6… value" (-Oq prints no type;
// tests compare values).
func parse(out string) []Line {
	var ls []Line
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		oid, v, ok := strings.Cut(l, " ")
		if !ok || !strings.HasPrefix(oid, ".") {
			continue
		}
		ls = append(ls, Line{OID: strings.TrimPrefix(oid, "."), Value: strings.Trim(v, `"`)})
	}
	return ls
}

func freeUDPPort(t testing.TB) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Garbage starts a UDP "agent" that answers every datagram with bytes
// that look like the start of a BER message and are not one, and
// returns its port.
func Garbage(t testing.TB) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	junk := [][]byte{{0x30, 0x82, 0xff, 0xff, 0x02}, {0x30, 0x03, 0x02, 0x01}, []byte("HTTP/1.0 400 nonsense"), {0x30, 0x80, 0x04, 0x84, 0x7f, 0xff, 0xff, 0xff}}
	go func() {
		buf := make([]byte, 65536)
		for i := 0; ; i++ {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo(junk[i%len(junk)], from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}
