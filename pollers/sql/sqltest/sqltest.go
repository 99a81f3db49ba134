// Package sqltest starts Debian's PostgreSQL and MariaDB on loopback ports
// for tests of the SQL monitor (pollers/sql) and the end-to-end tests: a
// throwaway cluster in a temporary folder, run as the server's own
// account (both refuse root, and tests run as root).
package sqltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a database server the test started and can stop.
type Server struct {
	Port int
	cmd  *exec.Cmd
	log  string
}

// Stop stops the server (a test of "the target is gone").
func (s *Server) Stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
}

// ownedDir is a fresh folder owned by the account a server runs as (the
// servers refuse to run as root, and the test runs as root): the
// temporary folders above it are opened for traversal.
func ownedDir(t testing.TB, account string) (string, *syscall.Credential) {
	t.Helper()
	u, err := user.Lookup(account)
	if err != nil {
		t.Skipf("no %s account: install the server package (make deps)", account)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	root := t.TempDir()
	for d := root; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	dir := filepath.Join(root, account)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func run(t testing.TB, cred *syscall.Credential, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func start(t testing.TB, cred *syscall.Credential, log string, port int, name string, args ...string) *Server {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: port, log: log, cmd: exec.Command(name, args...)}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(); f.Close() })
	return s
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady polls ready until it holds, or fails with the server's log.
func (s *Server) waitReady(t testing.TB, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			t.Fatalf("server not ready after 60s: %v\n%s", err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Password is the password of the test users (with quotes and a
// backslash, so quoting mistakes show).
const Password = "s3cret 'pw\\x"

// StartPostgres runs Debian's PostgreSQL as postgres on a loopback port
// with a superuser mamori (password Password, SCRAM), TLS on with a
// self-signed certificate (so "require" works and "verify" must fail),
// and the given SQL run in database postgres.
func StartPostgres(t testing.TB, setup ...string) *Server {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("PostgreSQL is not installed: make deps installs it (Debian package postgresql)")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, cred := ownedDir(t, "postgres")
	pw := filepath.Join(dir, "pw")
	writeOwned(t, pw, []byte(Password+"\n"), cred)
	crt, key := selfSigned(t)
	writeOwned(t, filepath.Join(dir, "server.crt"), crt, cred)
	writeOwned(t, filepath.Join(dir, "server.key"), key, cred)
	data := filepath.Join(dir, "data")
	run(t, cred, filepath.Join(bin, "initdb"), "-D", data, "-U", "mamori", "--pwfile="+pw, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8")
	port := freePort(t)
	s := start(t, cred, filepath.Join(dir, "log"), port, filepath.Join(bin, "postgres"), "-D", data, "-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port), "-c", "unix_socket_directories="+dir, "-c", "fsync=off", "-c", "shared_buffers=16MB",
		"-c", "ssl=on", "-c", "ssl_cert_file="+filepath.Join(dir, "server.crt"), "-c", "ssl_key_file="+filepath.Join(dir, "server.key"))
	psql := func(q string) error {
		return runSQL(cred, filepath.Join(bin, "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "mamori", "-d", "postgres",
			"-v", "ON_ERROR_STOP=1", "-c", q)
	}
	s.waitReady(t, func() error { return psql("SELECT 1") })
	for _, q := range setup {
		if err := psql(q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func writeOwned(t testing.TB, path string, b []byte, cred *syscall.Credential) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
}

// selfSigned makes a certificate for 127.0.0.1 that no system trusts.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func runSQL(cred *syscall.Credential, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+Password, "PGCONNECT_TIMEOUT=2")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// StartMariaDB runs Debian's MariaDB as mysql on a loopback port with a
// user mon@127.0.0.1 (password Password) that may read database mon,
// after running setup as root over the socket.
func StartMariaDB(t testing.TB, setup ...string) *Server {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
		t.Skip("MariaDB is not installed: make deps installs it (Debian package mariadb-server)")
	}
	dir, cred := ownedDir(t, "mysql")
	data := filepath.Join(dir, "data")
	run(t, nil, "/usr/bin/mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=mysql", "--auth-root-authentication-method=normal", "--skip-test-db")
	port := freePort(t)
	sock := filepath.Join(dir, "sock")
	s := start(t, cred, filepath.Join(dir, "log"), port, "/usr/sbin/mariadbd", "--no-defaults", "--datadir="+data, "--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(port), "--socket="+sock, "--pid-file="+filepath.Join(dir, "pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M")
	root := func(q string) error {
		return runSQL(nil, "/usr/bin/mariadb", "--no-defaults", "-S", sock, "-u", "root", "-e", q)
	}
	s.waitReady(t, func() error { return root("SELECT 1") })
	pw := strings.ReplaceAll(strings.ReplaceAll(Password, `\`, `\\`), `'`, `\'`)
	all := append([]string{"CREATE DATABASE mon", "CREATE USER 'mon'@'127.0.0.1' IDENTIFIED BY '" + pw + "'", "GRANT SELECT ON mon.* TO 'mon'@'127.0.0.1'"}, setup...)
	for _, q := range all {
		if err := root(q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
