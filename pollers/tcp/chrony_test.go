package tcp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// chronyd (Debian package chrony, in the Makefile's DEB_PKGS) is a real
// NTP server. It runs here with -x: it serves time and never touches the
// machine's clock.

// startChrony serves NTP on a free loopback port; with local, it claims
// stratum 8 from the local clock, without, it has no source and says so.
func startChrony(t *testing.T, local bool) int {
	t.Helper()
	bin, err := exec.LookPath("chronyd")
	if err != nil {
		t.Skip("skipped: chronyd is not installed (make deps installs chrony)")
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	conf := fmt.Sprintf("port %d\nbindaddress 127.0.0.1\ncmdport 0\nallow 127.0.0.1\npidfile %s\n", port, filepath.Join(dir, "pid"))
	if local {
		conf += "local stratum 8\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "chrony.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-d", "-x", "-u", "root", "-f", filepath.Join(dir, "chrony.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return port
}

// ntpUntil checks until the server gives a reply (any: valid or not)
// rather than silence while it starts.
func ntpUntil(t *testing.T, port int) check.Result {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := run(t, p(`"protocol":"ntp","port":%d,"timeout":"200ms"`, port))
		if r.Err == nil || !strings.Contains(r.Err.Error(), "no answer within") && !strings.Contains(r.Err.Error(), "refused") ||
			time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestChrony(t *testing.T) {
	r := ntpUntil(t, startChrony(t, true))
	want{keys: []string{ItemOffset, ItemResponse, ItemStratum}, inRaw: "stratum 8"}.verify(t, r)
	// Same machine, same clock: the offset is the measurement's noise.
	if off := *items(r)[ItemOffset].Number; off < -50 || off > 50 {
		t.Fatalf("offset %v ms from a server on the same clock", off)
	}
	r = ntpUntil(t, startChrony(t, false))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not synchronised") {
		t.Fatalf("a server without a source: err %v\n%s", r.Err, r.Raw)
	}
}
