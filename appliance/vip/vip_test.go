package vip

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mamori-ops/mamori/internal/config"
)

func TestARPRequest(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	got := arpRequest(mac, net.IPv4(10, 0, 0, 10).To4())
	want := []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 9, 10, 0, 0, 10, 0, 0, 0, 0, 0, 0, 10, 0, 0, 10}
	if !bytes.Equal(got, want) {
		t.Fatalf("arpRequest = % x, want % x", got, want)
	}
}

func TestNewRefusesNonIPv4(t *testing.T) {
	for _, addr := range []string{"", "10.0.0.10", "fd00::1/64"} {
		if _, err := New(config.ServiceAddress{Address: addr, Interface: "eth0"}, Options{}, slog.Default()); err == nil {
			t.Errorf("New(%q) accepted", addr)
		}
	}
}

// ipIn runs ip in namespace ns.
func ipIn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inNetns runs f on a thread switched into namespace ns; the thread is
// never handed back to other goroutines.
func inNetns(t *testing.T, ns string, f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		fd, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			t.Error(err)
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Error(err)
			return
		}
		f()
	}()
	<-done
}

// The real thing on a veth pair in two namespaces: a leftover is released,
// Run adds the address and announces it (the peer's stale neighbour entry
// moves to our MAC), adds it again when someone removes it, and removes it
// when its context ends.
func TestAddressOnVeth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed: make deps installs it")
	}
	x, y := fmt.Sprintf("vipx%d", os.Getpid()), fmt.Sprintf("vipy%d", os.Getpid())
	for _, ns := range []string{x, y} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	if out, err := exec.Command("ip", "link", "add", "v0", "netns", x, "type", "veth", "peer", "name", "v1", "netns", y).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v %s", err, out)
	}
	ipIn(t, x, "addr", "add", "10.215.0.1/24", "dev", "v0")
	ipIn(t, y, "addr", "add", "10.215.0.2/24", "dev", "v1")
	ipIn(t, x, "link", "set", "v0", "up")
	ipIn(t, y, "link", "set", "v1", "up")
	ipIn(t, x, "addr", "add", "10.215.0.10/24", "dev", "v0") // a killed run's leftover
	ipIn(t, y, "neigh", "replace", "10.215.0.10", "lladdr", "02:00:00:00:00:01", "dev", "v1", "nud", "stale")
	held := func() bool {
		return strings.Contains(ipIn(t, x, "-4", "addr", "show", "dev", "v0"), " 10.215.0.10/24 ")
	}
	ourMAC := macRE.FindStringSubmatch(ipIn(t, x, "-o", "link", "show", "v0"))[1]
	seen := func() string {
		if m := macRE.FindStringSubmatch(ipIn(t, y, "neigh", "show", "10.215.0.10", "dev", "v1")); m != nil {
			return m[1]
		}
		return ""
	}
	a, err := New(config.ServiceAddress{Address: "10.215.0.10/24", Interface: "v0"}, Options{Refresh: 100 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	inNetns(t, x, func() {
		if err := a.Release(); err != nil {
			t.Errorf("Release: %v", err)
		}
	})
	if held() {
		t.Fatal("Release left the address on the interface")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); inNetns(t, x, func() { _ = a.Run(ctx) }) }()
	waitFor(t, "the address added and announced", func() bool { return held() && a.Held() && seen() == ourMAC })
	ipIn(t, x, "addr", "del", "10.215.0.10/24", "dev", "v0")
	waitFor(t, "the address added again after someone removed it", held)
	cancel()
	<-done
	if held() || a.Held() {
		t.Fatalf("Run returned with the address still on the interface (%v) or held (%v)", held(), a.Held())
	}
}

var macRE = regexp.MustCompile(`(?:link/ether|lladdr) ([0-9a-f:]{17})`)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within 5s: %s", what)
}
