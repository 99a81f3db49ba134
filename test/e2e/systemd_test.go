package e2e

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// sd_notify: READY=1 only once a role is decided, WATCHDOG=1 while
// healthy, STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	skipShort(t)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a := cluster.NewNode(t, "a", cluster.Subnet()+".1", cluster.Options{})
	a.Extra = map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "600000"}
	a.Start()

	read := func(timeout time.Duration) string {
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(timeout))
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
	msg := read(30 * time.Second)
	if msg != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", msg)
	}
	st, err := a.Status()
	if err != nil || st.Role != ha.Active || !st.Store.Open {
		t.Fatalf("at READY=1 the appliance says %+v %v", st, err)
	}
	watchdogs := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		if read(time.Second) == "WATCHDOG=1" {
			watchdogs++
		}
	}
	if watchdogs < 3 {
		t.Fatalf("%d watchdog pings in 3 s with a 600 ms watchdog", watchdogs)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for m := read(2 * time.Second); m != ""; m = read(500 * time.Millisecond) {
		seen = append(seen, m)
	}
	if !strings.Contains(strings.Join(seen, " "), "STOPPING=1") {
		t.Fatalf("after SIGTERM: %v, want STOPPING=1", seen)
	}
}
