package tcp

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// aiosmtpd (Debian package python3-aiosmtpd, in the Makefile's DEB_PKGS)
// is a real SMTP server with STARTTLS and SMTPS.

const debianPython = "/usr/bin/python3" // the Debian package installs for the system's Python

// startAiosmtpd runs aiosmtpd on a free port with the extra arguments
// (TLS settings) and waits until it greets.
func startAiosmtpd(t *testing.T, tlsArg string, smtps bool) int {
	t.Helper()
	if exec.Command(debianPython, "-c", "import aiosmtpd").Run() != nil {
		t.Skip("skipped: python3-aiosmtpd is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	port := freeUDPPort(t) // free on TCP too
	args := []string{"-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + strconv.Itoa(port), tlsArg, certFile}
	args = append(args, strings.Replace(tlsArg, "cert", "key", 1), keyFile)
	if !smtps {
		args = append(args, "--no-requiretls")
	}
	daemon(t, func() bool { return run(t, p(`"port":%d,"timeout":"200ms"`, port)).Err == nil }, debianPython, args...)
	return port
}

func writeCert(t *testing.T, dir string) (string, string) {
	t.Helper()
	c := testCert(t)
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestAiosmtpd(t *testing.T) {
	starttls := startAiosmtpd(t, "--tlscert", false)
	smtps := startAiosmtpd(t, "--smtpscert", true)
	cases := []struct {
		name, params string
		want
	}{
		{"plain", p(`"protocol":"smtp","port":%d`, starttls),
			want{keys: []string{ItemConnect, ItemResponse, ItemBanner}, text: "220 ", inRaw: "S: 250-STARTTLS"}},
		{"starttls", p(`"protocol":"smtp","port":%d,"starttls":true,"tls_verify":false`, starttls),
			want{keys: []string{ItemResponse, ItemCertDays}, inRaw: "S: 221 "}},
		{"starttls verified", p(`"protocol":"smtp","port":%d,"starttls":true`, starttls),
			want{err: "certificate signed by unknown authority"}},
		{"smtps", p(`"protocol":"smtp","port":%d,"tls":true,"tls_verify":false`, smtps),
			want{keys: []string{ItemResponse, ItemCertDays}, text: "220 "}},
		{"smtps spoken plainly", p(`"protocol":"smtp","port":%d,"timeout":"500ms"`, smtps), want{err: "greeting"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.verify(t, run(t, c.params)) })
	}
}
