package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Snmpd is net-snmp's agent (Debian's snmpd) run by the test on a
// loopback address with one SNMPv3 user.
type Snmpd struct {
	IP   string
	Port int
}

// StartSnmpd starts snmpd answering sysDescr = descr, with an authPriv
// user (SHA-256, AES) whose passphrases are authKey and privKey.
func StartSnmpd(t TB, ip, user, authKey, privKey, descr string) *Snmpd {
	t.Helper()
	if _, err := exec.LookPath("/usr/sbin/snmpd"); err != nil {
		t.Skip("snmpd is not installed: make deps installs it")
	}
	dir := t.TempDir()
	port := 0
	fmt.Sscan(freeUDPPort(t, ip), &port)
	conf := fmt.Sprintf("agentAddress udp:%s:%d\ncreateUser %s SHA-256 %q AES %q\nrouser %s priv\nsysDescr %s\n", ip, port, user, authKey, privKey, user, descr)
	if err := os.WriteFile(filepath.Join(dir, "snmpd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(dir, "snmpd.log"))
	cmd := exec.Command("/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", filepath.Join(dir, "snmpd.conf"), "-p", filepath.Join(dir, "pid"))
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir, "MIBS=")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
		if strings.Contains(string(b), "NET-SNMP version") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmpd did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &Snmpd{IP: ip, Port: port}
}
