package tcp

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	// Ready when it serves time (with local) or answers at all (without a
	// source the answer is an error).
	daemon(t, func() bool {
		err := run(t, p(`"protocol":"ntp","port":%d,"timeout":"200ms"`, port)).Err
		return err == nil || !local && strings.Contains(err.Error(), "bad NTP reply")
	}, bin, "-d", "-x", "-u", "root", "-f", filepath.Join(dir, "chrony.conf"))
	return port
}

func TestChrony(t *testing.T) {
	r := run(t, p(`"protocol":"ntp","port":%d`, startChrony(t, true)))
	want{keys: []string{ItemOffset, ItemResponse, ItemStratum}, inRaw: "stratum 8"}.verify(t, r)
	// Same machine, same clock: the offset is the measurement's error, at
	// most half the round trip.
	if off, rtt := *items(r)[ItemOffset].Number, *items(r)[ItemResponse].Number; math.Abs(off) > rtt/2+10 {
		t.Fatalf("offset %v ms from a server on the same clock (round trip %v ms)", off, rtt)
	}
	r = run(t, p(`"protocol":"ntp","port":%d`, startChrony(t, false)))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not synchronised") {
		t.Fatalf("a server without a source: err %v\n%s", r.Err, r.Raw)
	}
}
