package doctor

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fakeProc copies testdata/proc (the socket tables and locks) and adds
// processes holding sockets: pid → comm and socket inodes.
func fakeProc(t *testing.T, procs map[int]struct {
	comm   string
	inodes []string
}) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/proc")); err != nil {
		t.Fatal(err)
	}
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(p.comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Symlink("/dev/null", filepath.Join(dir, "fd", "0"))
		for i, in := range p.inodes {
			if err := os.Symlink("socket:["+in+"]", filepath.Join(dir, "fd", strconv.Itoa(i+3))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

var errAddrNotAvail = &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}

func TestSockets(t *testing.T) {
	socks, err := Sockets("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{"tcp", net.ParseIP("127.0.0.5").To4(), 514, 41235},
		{"tcp", net.IPv6zero, 8443, 41236},
		{"udp", net.ParseIP("127.0.0.5").To4(), 514, 41234},
		{"udp", net.IPv4zero.To4(), 68, 41240},
		{"udp", net.IPv6loopback, 162, 41237},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets %v, want %d (the established TCP connection is not a listener)", len(socks), socks, len(want))
	}
	for i, w := range want {
		g := socks[i]
		if g.Proto != w.Proto || !g.IP.Equal(w.IP) || g.Port != w.Port || g.Inode != w.Inode {
			t.Errorf("socket %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestParseProcNetRejectsGarbage(t *testing.T) {
	_, err := ParseProcNet(strings.NewReader("header\n 0: ZZZZ:0202 00000000:0000 07 0 0 0 0 0 1 2\n"), "udp")
	if err == nil {
		t.Fatal("a malformed address was accepted")
	}
}

func TestSocketOwnersAndLockHolder(t *testing.T) {
	root := fakeProc(t, map[int]struct {
		comm   string
		inodes []string
	}{1234: {"rsyslogd", []string{"41234", "41235"}}, 99: {"mamori", []string{"41236"}}, 7: {"bash", nil}})
	got := SocketOwners(root, map[uint64]bool{41234: true, 41235: true, 41236: true, 41237: true})
	want := map[uint64]Process{41234: {1234, "rsyslogd"}, 41235: {1234, "rsyslogd"}, 41236: {99, "mamori"}}
	if len(got) != len(want) {
		t.Fatalf("owners %v, want %v", got, want)
	}
	for in, p := range want {
		if got[in] != p {
			t.Errorf("inode %d: %v, want %v", in, got[in], p)
		}
	}
	if pid := LockHolder(root, 777); pid != 99 {
		t.Errorf("lock holder of inode 777: %d, want 99 (the waiter 100 does not hold it)", pid)
	}
	if pid := LockHolder(root, 888); pid != 0 {
		t.Errorf("a POSIX lock counted as the flock: %d", pid)
	}
}

func TestPorts(t *testing.T) {
	root := fakeProc(t, map[int]struct {
		comm   string
		inodes []string
	}{1234: {"rsyslogd", []string{"41234", "41235"}}, 99: {"mamori", []string{"41236"}}, 300: {"snmptrapd", []string{"41237"}}})
	socks, err := Sockets(root)
	if err != nil {
		t.Fatal(err)
	}
	all := map[uint64]bool{41234: true, 41235: true, 41236: true, 41237: true, 41240: true}
	owners := SocketOwners(root, all)
	cases := []struct {
		name    string
		l       Listener
		pid     int
		bindErr error
		level   Level
		says    []string
	}{
		{"rsyslog holds udp 514", Listener{"ingest.syslog.udp", "udp", "127.0.0.5:514"}, 0, nil, Fail, []string{"rsyslogd (pid 1234)", "imudp", "ingest.syslog.udp"}},
		{"rsyslog holds tcp 514 against a wildcard", Listener{"ingest.syslog.tcp", "tcp", ":514"}, 0, nil, Fail, []string{"rsyslogd", "imtcp"}},
		{"another address is free", Listener{"ingest.syslog.udp", "udp", "127.0.0.6:514"}, 0, nil, OK, []string{"free"}},
		{"snmptrapd on ::1 162 clashes with the wildcard", Listener{"ingest.snmp.udp", "udp", ":162"}, 0, nil, Fail, []string{"snmptrapd", "systemctl disable --now snmptrapd"}},
		{"mamori's own port while it runs", Listener{"api.listen", "tcp", ":8443"}, 99, nil, OK, []string{"mamori itself (pid 99)"}},
		{"mamori's port while it does not run", Listener{"api.listen", "tcp", ":8443"}, 0, nil, Fail, []string{"mamori (pid 99)", "another mamori"}},
		{"udp 68 by a process we cannot see", Listener{"x", "udp", ":68"}, 0, nil, Fail, []string{"cannot see", "root"}},
		{"nothing on a port mamori should hold", Listener{"ingest.syslog.tls", "tcp", ":6514"}, 99, nil, Warn, []string{"nothing listens"}},
		{"foreign address", Listener{"api.listen", "tcp", "192.0.2.1:9443"}, 0, errAddrNotAvail, Fail, []string{"not on this host"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := PortsInput{Listeners: []Listener{c.l}, Sockets: socks, Owners: owners, MamoriPID: c.pid}
			if c.pid == 0 {
				in.Bind = func(Listener) error { return c.bindErr }
			}
			r := Ports(in)[0]
			if r.Level != c.level {
				t.Fatalf("level %s, want %s: %s", r.Level, c.level, r.Line())
			}
			for _, s := range c.says {
				if !strings.Contains(r.Line(), s) {
					t.Errorf("%q does not say %q", r.Line(), s)
				}
			}
		})
	}
}
