package doctor

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Socket is one bound socket from /proc/net/{tcp,udp}{,6}.
type Socket struct {
	Proto string // "tcp" or "udp"
	IP    net.IP
	Port  int
	Inode uint64
}

// tcpListen is the state column of a listening TCP socket (TCP_LISTEN).
const tcpListen = "0A"

// ParseProcNet reads one /proc/net/{tcp,udp}{,6} table: every UDP socket
// bound to a port, and every listening TCP socket.
func ParseProcNet(r io.Reader, proto string) ([]Socket, error) {
	var out []Socket
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		if proto == "tcp" && f[3] != tcpListen {
			continue
		}
		ip, port, err := parseHexAddr(f[1])
		if err != nil {
			return nil, fmt.Errorf("%s line %q: %w", proto, sc.Text(), err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %q: inode: %w", proto, sc.Text(), err)
		}
		if port == 0 || inode == 0 {
			continue
		}
		out = append(out, Socket{Proto: proto, IP: ip, Port: port, Inode: inode})
	}
	return out, sc.Err()
}

// parseHexAddr decodes "0100007F:0202": the address as the kernel's
// 32-bit words in host order (little-endian on the machines mamori runs
// on), the port big-endian.
func parseHexAddr(s string) (net.IP, int, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("address %q has no port", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, fmt.Errorf("address %q is not hex IPv4 or IPv6", s)
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(ip[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("port %q: %w", p, err)
	}
	return ip, int(port), nil
}

// Sockets reads every table under procRoot (normally /proc).
func Sockets(procRoot string) ([]Socket, error) {
	var all []Socket
	for _, t := range []struct{ file, proto string }{{"tcp", "tcp"}, {"tcp6", "tcp"}, {"udp", "udp"}, {"udp6", "udp"}} {
		f, err := os.Open(filepath.Join(procRoot, "net", t.file))
		if os.IsNotExist(err) {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return nil, err
		}
		s, err := ParseProcNet(f, t.proto)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, s...)
	}
	return all, nil
}

// Process is the owner of a socket.
type Process struct {
	PID  int
	Name string // /proc/<pid>/comm
}

// SocketOwners maps socket inodes to the process holding them, from the
// /proc/<pid>/fd links ("socket:[inode]"). Processes whose descriptors
// this user may not read are missing (run as root to see them all).
func SocketOwners(procRoot string, inodes map[uint64]bool) map[uint64]Process {
	out := map[uint64]Process{}
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			inode, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 64)
			if err != nil || !inodes[inode] {
				continue
			}
			if _, seen := out[inode]; !seen {
				out[inode] = Process{PID: pid, Name: processName(procRoot, pid)}
			}
		}
	}
	return out
}

func processName(procRoot string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// LockHolder is the process holding a flock on the file with inode
// (from /proc/locks), or 0.
func LockHolder(procRoot string, inode uint64) int {
	f, err := os.Open(filepath.Join(procRoot, "locks"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || fs[1] != "FLOCK" {
			continue
		}
		parts := strings.Split(fs[5], ":")
		if n, err := strconv.ParseUint(parts[len(parts)-1], 10, 64); err == nil && n == inode {
			pid, _ := strconv.Atoi(fs[4])
			return pid
		}
	}
	return 0
}
