package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/backup"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/test/cluster"
)

// backupPass is the archives' passphrase in this test.
const backupPass = "backup passphrase of the test"

// TestBackupRestore: `mamori backup` on the standby of a running pair
// writes an encrypted archive; `mamori restore` puts it into an empty data
// directory of a third appliance (another node id and address), which
// starts as the single active of a new pair with the same data (checked
// against the archive's per-table checksums when the store is loaded, and
// here for the tables its own start leaves alone), the same CA, the
// original administrator's password, and a node certificate that works:
// `mamori status` answers and a fourth appliance pairs with it. A wrong
// passphrase and a data directory that is not empty are refused, and
// the backup is in the audit log.
func TestBackupRestore(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	b := cluster.NewNode(t, "b", sub+".2", cluster.Options{})
	cluster.Pair(t, a, b)
	a.CreateAdmin("admin", pw)
	seq := lastAuditSeq(t, a)
	writeVariedData(t, a, b)

	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	wrongFile := filepath.Join(dir, "wrong")
	_ = os.WriteFile(passFile, []byte(backupPass+"\n"), 0o600)
	_ = os.WriteFile(wrongFile, []byte("not the passphrase\n"), 0o600)
	archive := filepath.Join(dir, "mamori.backup")
	start := time.Now()
	out, err := b.CLI("backup", "--out", archive, "--passphrase-file", passFile)
	if err != nil {
		t.Fatalf("backup on the standby: %v\n%s", err, out)
	}
	fi, err := os.Stat(archive)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v, mode %v (want 0600)", err, fi.Mode())
	}
	t.Logf("BENCH backup_seconds %.2f s; BENCH backup_bytes %d bytes\n%s", time.Since(start).Seconds(), fi.Size(), out)
	f, _ := os.Open(archive)
	m, err := backup.Verify(f, backup.Key{Passphrase: backupPass})
	f.Close()
	if err != nil || m.NodeID != "b" || m.Role != string(ha.Standby) {
		t.Fatalf("archive manifest: %+v %v", m, err)
	}

	backupFromStdin(t, a, filepath.Join(dir, "active.backup"))

	c := cluster.NewNode(t, "c", sub+".3", cluster.Options{})
	restore := func(n *cluster.Node, pass string) (string, error) {
		return n.CLI("restore", "--in", archive, "--passphrase-file", pass)
	}
	out, err = restore(c, wrongFile)
	if code := exitCode(err); code != 1 || !strings.Contains(out, "wrong passphrase (or not a mamori backup)") {
		t.Fatalf("restore with a wrong passphrase: exit %d, %q", code, out)
	}
	if out, err := restore(a, passFile); err == nil || !strings.Contains(out, "stop mamori") {
		t.Fatalf("restore into a running appliance's data directory: %v %q", err, out)
	}
	if out, err := restore(c, passFile); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	} else if !strings.Contains(out, "node certificate issued anew") {
		t.Errorf("restore under another node id should issue a new node certificate:\n%s", out)
	}
	if out, err := restore(c, passFile); exitCode(err) != 1 || !strings.Contains(out, "data directory holds a store: move it away or choose another --data-dir") {
		t.Fatalf("restore into a data directory that is not empty: %v %q", err, out)
	}

	c.Start()
	c.WaitRole(ha.Active, 60*time.Second)
	if len(c.Grep("store restored from the backup")) != 1 {
		t.Fatalf("the restored appliance did not load and check the backup's store")
	}
	checkRestoredData(t, c, m)
	checkCertificates(t, a, c, m)
	if out, err := c.CLI("status"); err != nil || !strings.Contains(out, "not paired") {
		t.Fatalf("status on the restored appliance: %v\n%s", err, out)
	}
	if n := syslogCount(c, "backup-test"); n != 200 {
		t.Fatalf("syslog messages on the restored appliance: %d, want 200", n)
	}
	admin := c.Login("admin", pw)
	var users struct{ Users []struct{ Name string } }
	if code, err := c.DoAs(admin, http.MethodGet, "/api/v1/users", nil, &users); code != 200 || len(users.Users) != 2 {
		t.Fatalf("users on the restored appliance: HTTP %d %v %+v", code, err, users)
	}
	checkBackupAudited(t, a, seq)

	// A fourth appliance pairs with the restored one: its CA works.
	d := cluster.NewNode(t, "d", sub+".4", cluster.Options{})
	code := c.PairCode("10m")
	if out, err := d.CLI("pair", "join", "--peer", c.AddressAPI(), "--code", code); err != nil {
		t.Fatalf("pair join with the restored appliance: %v\n%s", err, out)
	}
	d.Start()
	d.WaitRole(ha.Standby, 60*time.Second)
	c.WaitRole(ha.Active, 10*time.Second)
	if n := syslogCount(d, "backup-test"); n != 200 {
		t.Fatalf("syslog messages on the fourth appliance, paired with the restored one: %d, want 200", n)
	}
}

// backupFromStdin backs the active up with the passphrase on stdin (an
// empty one is refused).
func backupFromStdin(t *testing.T, a *cluster.Node, out string) {
	t.Helper()
	run := func(stdin string) (string, error) {
		cmd := exec.Command(cluster.Binary(t), "backup", "--out", out, "--config", a.Config)
		cmd.Stdin = strings.NewReader(stdin)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := run("\n"); exitCode(err) != 1 || !strings.Contains(out, "empty passphrase") {
		t.Fatalf("backup with an empty passphrase: %v %q", err, out)
	}
	if out, err := run(backupPass + "\n"); err != nil {
		t.Fatalf("backup on the active, passphrase on stdin: %v\n%s", err, out)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m, err := backup.Verify(f, backup.Key{Passphrase: backupPass}); err != nil || m.NodeID != "a" || m.Role != string(ha.Active) {
		t.Fatalf("active's archive: %+v %v", m, err)
	}
}

// writeVariedData writes users, inventory nodes, a monitor, events and
// syslog messages (over UDP) on the active, and waits until the standby has them.
func writeVariedData(t *testing.T, a, b *cluster.Node) {
	t.Helper()
	admin := a.Login("admin", pw)
	must := func(method, path string, body any) {
		t.Helper()
		var out struct{ Error string }
		if code, err := a.DoAs(admin, method, path, body, &out); code/100 != 2 {
			t.Fatalf("%s %s: HTTP %d %v %s", method, path, code, err, out.Error)
		}
	}
	must(http.MethodPost, "/api/v1/users", map[string]any{"user": "operator", "password": pw, "roles": []string{"auditor"}})
	for i := range 3 {
		must(http.MethodPost, "/api/v1/nodes", map[string]any{"id": fmt.Sprintf("router-%d", i), "address": fmt.Sprintf("10.250.0.%d", i+1), "scope": "A"})
	}
	must(http.MethodPost, "/api/v1/monitors", map[string]any{"id": "router-ping", "name": "TCP router-0", "kind": "tcp", "node": "router-0", "interval": "1h", "timeout": "1s",
		"params": map[string]any{"port": 9, "timeout": "1s"}})
	var evs []map[string]string
	for i := range 20 {
		evs = append(evs, map[string]string{"kind": "backup-test", "message": fmt.Sprintf("event %d", i), "scope": "A"})
	}
	must(http.MethodPost, "/api/v1/events", evs)
	conn, err := net.Dial("udp", a.SyslogUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const messages = 200
	for i := range messages {
		fmt.Fprintf(conn, "<13>Dec  1 10:00:00 router-0 app: backup-test message %d", i)
		if i%50 == 49 {
			time.Sleep(20 * time.Millisecond) // a UDP socket buffer, not a flood test
		}
	}
	if !cluster.WaitFor(t.Context(), 30*time.Second, func() bool { return syslogCount(b, "backup-test") == messages }) {
		t.Fatalf("syslog on the standby: %d messages, want %d", syslogCount(b, "backup-test"), messages)
	}
}

func syslogCount(n *cluster.Node, q string) int {
	var out struct{ Messages []any }
	if code, _ := n.Do(http.MethodGet, "/api/v1/syslog?limit=1000&q="+q, nil, &out); code != 200 {
		return -1
	}
	return len(out.Messages)
}

// volatile are the tables the restored appliance writes to on its own
// start (role change events, the monitor's first run, its series), with
// the reason: their checksums were compared, with every other table's,
// when its store was loaded, before anything ran (serve.go, restoreStore).
var volatile = map[string]string{
	"events":        "the new active records its role changes",
	"status":        "the monitor runs on the new active",
	"metric_series": "the monitor's result is a series point",
}

// checkRestoredData compares the restored appliance's tables with the
// archive's checksums.
func checkRestoredData(t *testing.T, c *cluster.Node, m backup.Manifest) {
	t.Helper()
	got, err := c.Checksums()
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for table, want := range m.Tables {
		if got[table] == want {
			same++
			continue
		}
		if why, ok := volatile[table]; ok {
			t.Logf("table %s changed since the restore (%s): %s → %s", table, why, want, got[table])
			continue
		}
		t.Errorf("table %s: backup %s, restored %s", table, want, got[table])
	}
	for _, table := range []string{"users", "nodes", "monitors"} {
		if got[table] != m.Tables[table] || strings.HasPrefix(m.Tables[table], "rows=0 ") {
			t.Errorf("table %s: backup %s, restored %s (want equal and not empty)", table, m.Tables[table], got[table])
		}
	}
	t.Logf("%d of %d tables identical after the start", same, len(m.Tables))
}

// checkCertificates: the restored CA is the original's, and the restored
// appliance's API serves a certificate of it for its own node id.
func checkCertificates(t *testing.T, a, c *cluster.Node, m backup.Manifest) {
	t.Helper()
	caOf := func(n *cluster.Node) *x509.Certificate {
		cert, err := pairing.Identity{Dir: filepath.Join(n.Dir, "data", "tls")}.CACert()
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	fa, fc := sha256.Sum256(caOf(a).Raw), sha256.Sum256(caOf(c).Raw)
	if fa != fc || pairing.FormatFingerprint(fc) != m.CAFingerprint {
		t.Fatalf("CA fingerprints: original %s, restored %s, manifest %s", pairing.FormatFingerprint(fa), pairing.FormatFingerprint(fc), m.CAFingerprint)
	}
	ka, _ := os.ReadFile(filepath.Join(a.Dir, "data", "secrets.key"))
	kc, _ := os.ReadFile(filepath.Join(c.Dir, "data", "secrets.key"))
	if len(ka) == 0 || string(ka) != string(kc) {
		t.Fatalf("the restored appliance's secrets key differs from the pair's: stored credentials would not open")
	}
	pool := x509.NewCertPool()
	pool.AddCert(caOf(a))
	conn, err := tls.Dial("tcp", c.API, &tls.Config{RootCAs: pool, ServerName: "c"})
	if err != nil {
		t.Fatalf("the restored appliance's API under the original CA: %v", err)
	}
	conn.Close()
}

// checkBackupAudited: the backup (on the standby) is in the pair's audit log.
func checkBackupAudited(t *testing.T, a *cluster.Node, seq int64) {
	t.Helper()
	found := cluster.WaitFor(t.Context(), 15*time.Second, func() bool {
		for _, e := range auditSince(t, a, seq) {
			if e.Action == "GET /internal/v1/backup/store" && e.Result == "200" && e.User != "" {
				return true
			}
		}
		return false
	})
	if !found {
		t.Fatalf("no audit row for the backup on the active")
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}
