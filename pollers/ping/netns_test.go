package ping

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// A network namespace the test makes gives targets nobody answers without
// touching the host's network: an unanswered neighbour swallows what is
// routed to it, and a namespace with only loopback has no route at all.

var nsSeq atomic.Int32

// newNetns makes a namespace with loopback up and runs the setup commands
// (arguments to "ip -n NAME ..."), deleting it when the test ends.
func newNetns(t testing.TB, setup ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: network namespaces need root (run the tests as root, as make test does)")
	}
	name := fmt.Sprintf("mamori-ping-%d-%d", os.Getpid(), nsSeq.Add(1))
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	for _, s := range setup {
		ipCmd(t, append([]string{"-n", name}, strings.Fields(s)...)...)
	}
	return name
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// deadNetns has 10.77.0.1/24 on one end of a veth pair whose other end
// (in the same namespace) has no address: 10.77.0.2 is routed there, its
// ARP request goes unanswered, and so do the pings.
func deadNetns(t testing.TB) string {
	return newNetns(t, "link add v0 type veth peer name v1", "addr add 10.77.0.1/24 dev v0",
		"link set v1 up", "link set v0 up")
}

// inNetns runs f on an OS thread moved into the namespace, so the sockets
// f opens live there. The thread is never unlocked: Go ends it with the
// goroutine, so no other goroutine ever runs in the namespace.
func inNetns(t testing.TB, name string, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("enter namespace %s: %v", name, err)
	}
}
