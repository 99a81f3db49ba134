package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mamori-ops/mamori/internal/config"
)

// LockFile is the data directory's lock, held by a running `mamori serve`.
const LockFile = "mamori.lock"

// Running finds the mamori process holding dataDir's lock (0: none)
// from /proc/locks, without touching the lock itself.
func Running(procRoot, dataDir string) (int, error) {
	fi, err := os.Stat(filepath.Join(dataDir, LockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("no inode for %s", fi.Name())
	}
	return LockHolder(procRoot, st.Ino), nil
}

// Offline runs the checks that need no running appliance: ports,
// capabilities, receive buffer, disk and certificates. pid is the
// running mamori (0: not running); service says whether
// ha.service_address is set.
func Offline(cfg config.Config, procRoot string, pid int, service bool, now time.Time) Report {
	var r Report
	r = append(r, ports(cfg, procRoot, pid)...)
	proc, procErr := process(procRoot, pid)
	if procErr != nil {
		r = append(r, warn("capabilities", "run doctor as root", "cannot read the status of pid %d: %v", pid, procErr))
	} else {
		r = append(r, Capabilities(capsInput(cfg, procRoot, proc, service))...)
		if pid == 0 {
			// The service will not run with this process's capabilities
			// (the packaged unit grants no CAP_NET_ADMIN): the sysctl decides.
			proc = ProcessInfo{Who: "mamori"}
		}
		r = append(r, ReceiveBuffer(readInt(procRoot, "sys/net/core/rmem_max", 0), proc, cfg.Ingest.Syslog.UDP != "" || cfg.Ingest.SNMP.UDP != ""))
	}
	r = append(r, disk(cfg)...)
	return append(r, Certificates(certFiles(cfg), now)...)
}

func ports(cfg config.Config, procRoot string, pid int) Report {
	in := PortsInput{Listeners: Listeners(cfg), MamoriPID: pid}
	socks, err := Sockets(procRoot)
	if err != nil {
		return Report{warn("ports", "run doctor as root", "cannot read the socket tables: %v", err)}
	}
	in.Sockets = socks
	inodes := map[uint64]bool{}
	for _, s := range socks {
		inodes[s.Inode] = true
	}
	in.Owners = SocketOwners(procRoot, inodes)
	if pid == 0 {
		in.Bind = BindProbe
	}
	return Ports(in)
}

func process(procRoot string, pid int) (ProcessInfo, error) {
	if pid != 0 {
		return ReadProcess(procRoot, pid, fmt.Sprintf("the running mamori (pid %d)", pid))
	}
	for _, u := range unitFiles {
		if b, err := os.ReadFile(u); err == nil {
			return UnitProcess(string(b), u), nil
		}
	}
	return ReadProcess(procRoot, os.Getpid(), "doctor itself (mamori is not running and no mamori unit is installed)")
}

// unitFiles are where the mamori systemd unit may be installed, in the
// order systemd prefers them.
var unitFiles = []string{"/etc/systemd/system/mamori.service", "/usr/lib/systemd/system/mamori.service", "/lib/systemd/system/mamori.service"}

// UnitProcess is the process a systemd unit would start: its User and
// Group, and as capabilities its AmbientCapabilities (all of them for
// root without a CapabilityBoundingSet).
func UnitProcess(unit, path string) ProcessInfo {
	p := ProcessInfo{Who: "mamori as " + path + " starts it"}
	user, group, ambient, bounding := "root", "", "", ""
	for line := range strings.SplitSeq(unit, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "User":
			user = v
		case "Group":
			group = v
		case "AmbientCapabilities":
			ambient += " " + v
		case "CapabilityBoundingSet":
			bounding += " " + v
		}
	}
	p.UID, p.GID = lookupIDs(user, group)
	if p.UID == 0 && strings.TrimSpace(bounding) == "" {
		p.CapEff = ^uint64(0)
		return p
	}
	names := map[string]int{"CAP_NET_BIND_SERVICE": CapNetBindService, "CAP_NET_ADMIN": CapNetAdmin, "CAP_NET_RAW": CapNetRaw}
	grant := ambient
	if p.UID == 0 {
		grant = bounding
	}
	for _, c := range strings.Fields(grant) {
		if bit, ok := names[c]; ok {
			p.CapEff |= 1 << bit
		}
	}
	return p
}

// lookupIDs resolves a unit's User and Group (-1 when unknown: the
// package creates the user at install).
func lookupIDs(name, group string) (int, int) {
	uid, gid := -1, -1
	if u, err := user.Lookup(name); err == nil {
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if group != "" {
		if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	return uid, gid
}

func capsInput(cfg config.Config, procRoot string, p ProcessInfo, service bool) CapsInput {
	in := CapsInput{Proc: p, LowestPort: 65536, ServiceAddress: service,
		UnprivilegedPortStart: int(readInt(procRoot, "sys/net/ipv4/ip_unprivileged_port_start", 1024))}
	for _, l := range Listeners(cfg) {
		in.LowestPort = min(in.LowestPort, l.Port())
	}
	if f := strings.Fields(readString(procRoot, "sys/net/ipv4/ping_group_range")); len(f) == 2 {
		in.PingGroups[0], _ = strconv.Atoi(f[0])
		in.PingGroups[1], _ = strconv.Atoi(f[1])
	} else {
		in.PingGroups = [2]int{1, 0} // the kernel's default: nobody
	}
	if cfg.HA.Mode == config.PairOnly {
		in.WitnessICMP = len(cfg.HA.WitnessAddresses) == 0 // the default gateway, pinged
		for _, w := range cfg.HA.WitnessAddresses {
			if net.ParseIP(w) != nil {
				in.WitnessICMP = true
			}
		}
	}
	return in
}

func disk(cfg config.Config) Report {
	dir := cfg.DataDir
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			break
		}
		dir = filepath.Dir(dir)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil {
		return Report{warn("disk", "check data_dir", "cannot read the file system of %s: %v", dir, err)}
	}
	in := DiskInput{Dir: cfg.DataDir, Avail: sfs.Bavail * uint64(sfs.Bsize), Total: sfs.Blocks * uint64(sfs.Bsize), SpoolMaxBytes: cfg.Ingest.SpoolMaxBytes}
	n, err := DirBytes(filepath.Join(cfg.DataDir, "spool"))
	in.SpoolBytes, in.SpoolUnreadable = n, errors.Is(err, fs.ErrPermission)
	return Disk(in)
}

func certFiles(cfg config.Config) []CertFile {
	tls := filepath.Join(cfg.DataDir, "tls")
	files := []CertFile{
		{Name: "node certificate", Path: filepath.Join(tls, "node.crt"), Renew: "pair the appliance again (mamori pair join) to get a new one"},
		{Name: "pair CA", Path: filepath.Join(tls, "ca.crt"), Renew: "the pair's CA has expired: re-form the pair (restore from backup onto fresh appliances)"},
	}
	if cfg.API.TLSCert != "" {
		files = append(files, CertFile{Name: "api.tls_cert", Path: cfg.API.TLSCert, Required: true,
			Renew: "install a renewed certificate at api.tls_cert and restart mamori (systemctl restart mamori)"})
	}
	return files
}

func readString(procRoot, name string) string {
	b, _ := os.ReadFile(filepath.Join(procRoot, name))
	return strings.TrimSpace(string(b))
}

func readInt(procRoot, name string, def int64) int64 {
	n, err := strconv.ParseInt(readString(procRoot, name), 10, 64)
	if err != nil {
		return def
	}
	return n
}
