package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Netns is a set of test hosts, each a network namespace this test
// creates (and deletes at cleanup), joined by veth links and bridges.
// Addresses inside are the test's own hosts; nothing leaves the machine.
type Netns struct {
	t      TB
	prefix string
	hosts  []string
}

var netnsSeq atomic.Int32

// NewNetns needs root and iproute2; without them the test is skipped with
// the reason (make test runs as root and installs iproute2).
func NewNetns(t TB) *Netns {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed: make deps installs it")
	}
	n := &Netns{t: t, prefix: fmt.Sprintf("mm%d%d", os.Getpid()%10000, netnsSeq.Add(1))}
	t.Cleanup(func() {
		for _, h := range n.hosts {
			_ = exec.Command("ip", "netns", "del", h).Run()
		}
	})
	return n
}

func (n *Netns) run(args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Host creates a namespace with its loopback up and returns its name.
func (n *Netns) Host(name string) string {
	ns := n.prefix + name
	n.run("netns", "add", ns)
	n.hosts = append(n.hosts, ns)
	n.run("-n", ns, "link", "set", "lo", "up")
	return ns
}

// Link joins two hosts with a veth pair named after them and gives each
// end an address (CIDR form, e.g. 10.77.1.1/24). It returns the two
// interface names.
func (n *Netns) Link(ns1, if1, cidr1, ns2, if2, cidr2 string) {
	n.run("link", "add", if1, "netns", ns1, "type", "veth", "peer", "name", if2, "netns", ns2)
	for _, e := range [][2]string{{ns1, if1}, {ns2, if2}} {
		n.run("-n", e[0], "link", "set", e[1], "up")
	}
	if cidr1 != "" {
		n.run("-n", ns1, "addr", "add", cidr1, "dev", if1)
	}
	if cidr2 != "" {
		n.run("-n", ns2, "addr", "add", cidr2, "dev", if2)
	}
}

// Bridge makes a bridge br0 in host ns and enslaves the given interfaces of it.
func (n *Netns) Bridge(ns string, ifaces ...string) {
	n.run("-n", ns, "link", "add", "br0", "type", "bridge")
	n.run("-n", ns, "link", "set", "br0", "up")
	for _, i := range ifaces {
		n.run("-n", ns, "link", "set", i, "master", "br0")
	}
}

// SetLink brings an interface of host ns up or down.
func (n *Netns) SetLink(ns, iface string, up bool) {
	state := "down"
	if up {
		state = "up"
	}
	n.run("-n", ns, "link", "set", iface, state)
}

// dialIn opens a TCP connection from inside namespace ns.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// setns applies to the calling thread only: lock it, switch, dial,
		// and let the thread die rather than return it to the pool switched.
		runtime.LockOSThread()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}
