package cluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Slapd is an OpenLDAP server (Debian's slapd) run by the test on a
// loopback address with its own configuration and database.
type Slapd struct {
	URL    string
	RootDN string
	RootPW string
}

// StartSlapd starts slapd for suffix dc=example,dc=com and loads ldif.
func StartSlapd(t TB, ip, ldif string) *Slapd {
	t.Helper()
	for _, bin := range []string{"/usr/sbin/slapd", "ldapadd"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: make deps installs slapd and ldap-utils", bin)
		}
	}
	dir := t.TempDir()
	port := freePort(t, ip)
	s := &Slapd{URL: fmt.Sprintf("ldap://%s:%s", ip, port), RootDN: "cn=admin,dc=example,dc=com", RootPW: "rootsecret"}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
database mdb
suffix "dc=example,dc=com"
rootdn "%[2]s"
rootpw %[3]s
directory %[1]s/db
`, dir, s.RootDN, s.RootPW)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(dir, "slapd.log"))
	cmd := exec.Command("/usr/sbin/slapd", "-f", filepath.Join(dir, "slapd.conf"), "-h", s.URL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "slapd.log"))
			t.Fatalf("slapd did not start: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	add := exec.Command("ldapadd", "-x", "-H", s.URL, "-D", s.RootDN, "-w", s.RootPW)
	add.Stdin = strings.NewReader(ldif)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, out)
	}
	return s
}
