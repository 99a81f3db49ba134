package doctor

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Capability bits (linux/capability.h).
const (
	CapNetBindService = 10
	CapNetAdmin       = 12
	CapNetRaw         = 13
)

// ProcessInfo is what the capability check needs of a process.
type ProcessInfo struct {
	PID    int
	Who    string // "the running mamori (pid 12)" or "this process (doctor)"
	UID    int
	GID    int
	CapEff uint64
}

// Has says whether the process holds capability bit c.
func (p ProcessInfo) Has(c int) bool { return p.CapEff&(1<<c) != 0 }

// ReadProcess reads the effective uid, gid and capabilities of pid from
// <procRoot>/<pid>/status.
func ReadProcess(procRoot string, pid int, who string) (ProcessInfo, error) {
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return ProcessInfo{}, err
	}
	defer f.Close()
	p := ProcessInfo{PID: pid, Who: who}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fs := strings.Fields(v)
		switch {
		case k == "Uid" && len(fs) > 1:
			p.UID, _ = strconv.Atoi(fs[1])
		case k == "Gid" && len(fs) > 1:
			p.GID, _ = strconv.Atoi(fs[1])
		case k == "CapEff" && len(fs) > 0:
			p.CapEff, err = strconv.ParseUint(fs[0], 16, 64)
			if err != nil {
				return p, fmt.Errorf("CapEff %q: %w", fs[0], err)
			}
		}
	}
	return p, sc.Err()
}

// CapsInput is what the capability check looks at.
type CapsInput struct {
	Proc ProcessInfo
	// LowestPort is the lowest port mamori binds.
	LowestPort int
	// UnprivilegedPortStart is net.ipv4.ip_unprivileged_port_start.
	UnprivilegedPortStart int
	// PingGroups is net.ipv4.ping_group_range.
	PingGroups [2]int
	// WitnessICMP: pair-only mode pings its witness addresses (a bare IP
	// or the default gateway), so failover depends on ICMP.
	WitnessICMP bool
	// ServiceAddress: ha.service_address is set (needs CAP_NET_ADMIN).
	ServiceAddress bool
}

// Capabilities judges whether the process can bind its ports, send ICMP
// and (with a service address) change interface addresses.
func Capabilities(in CapsInput) Report {
	p := in.Proc
	var r Report
	switch {
	case in.LowestPort >= in.UnprivilegedPortStart:
		r = append(r, ok("capabilities", "every port is %d or above (net.ipv4.ip_unprivileged_port_start): no privilege needed to bind", in.UnprivilegedPortStart))
	case p.Has(CapNetBindService):
		r = append(r, ok("capabilities", "%s holds CAP_NET_BIND_SERVICE: it may bind port %d", p.Who, in.LowestPort))
	default:
		r = append(r, fail("capabilities", "run mamori with AmbientCapabilities=CAP_NET_BIND_SERVICE (the packaged unit has it), or sysctl net.ipv4.ip_unprivileged_port_start="+strconv.Itoa(in.LowestPort),
			"%s lacks CAP_NET_BIND_SERVICE and port %d is below %d", p.Who, in.LowestPort, in.UnprivilegedPortStart))
	}
	r = append(r, icmp(in))
	switch {
	case !in.ServiceAddress:
		r = append(r, ok("capabilities", "CAP_NET_ADMIN not needed (no ha.service_address)"))
	case p.Has(CapNetAdmin):
		r = append(r, ok("capabilities", "%s holds CAP_NET_ADMIN for the service address", p.Who))
	default:
		r = append(r, fail("capabilities", "grant CAP_NET_ADMIN (AmbientCapabilities and CapabilityBoundingSet in the mamori unit) or unset ha.service_address",
			"%s lacks CAP_NET_ADMIN, which adding ha.service_address to an interface needs", p.Who))
	}
	return r
}

// icmp: as root, the witness probe and ping monitors use a raw socket
// (CAP_NET_RAW); otherwise the kernel's ICMP datagram socket, which
// admits only groups inside net.ipv4.ping_group_range.
func icmp(in CapsInput) Result {
	p := in.Proc
	inRange := p.GID >= in.PingGroups[0] && p.GID <= in.PingGroups[1]
	switch {
	case p.UID == 0 && p.Has(CapNetRaw):
		return ok("capabilities", "%s holds CAP_NET_RAW: ICMP witness probes and ping monitors work", p.Who)
	case p.UID != 0 && inRange:
		return ok("capabilities", "%s's group %d is inside net.ipv4.ping_group_range (%d %d): ICMP works", p.Who, p.GID, in.PingGroups[0], in.PingGroups[1])
	case p.UID != 0 && p.Has(CapNetRaw):
		// Ping monitors fall back to a raw socket; the witness probe does not.
		if !in.WitnessICMP {
			return ok("capabilities", "%s holds CAP_NET_RAW: ping monitors work", p.Who)
		}
	}
	action := "grant CAP_NET_RAW (the packaged unit has it) or admit the group: sysctl net.ipv4.ping_group_range=\"0 2147483647\""
	if in.WitnessICMP {
		return fail("capabilities", action+"; or give ha.witness_addresses as host:port (TCP)",
			"%s (uid %d, gid %d) cannot send ICMP, so the pair-only witness probe fails and the standby never takes over", p.Who, p.UID, p.GID)
	}
	return warn("capabilities", action, "%s (uid %d, gid %d) cannot send ICMP: ping monitors fail", p.Who, p.UID, p.GID)
}

// ReceiveBufferBytes is what the syslog and trap receivers ask for
// (internal/udpconn.BufferBytes).
const ReceiveBufferBytes = 16 << 20

// ReceiveBuffer judges net.core.rmem_max: below what the UDP receivers
// ask, a burst is dropped by the kernel (counted) rather than queued,
// unless the process may force its buffer (CAP_NET_ADMIN).
func ReceiveBuffer(rmemMax int64, p ProcessInfo, udp bool) Result {
	switch {
	case !udp:
		return ok("receive buffer", "no UDP receiver configured")
	case rmemMax >= ReceiveBufferBytes:
		return ok("receive buffer", "net.core.rmem_max is %d: the UDP receivers get the %d bytes they ask", rmemMax, ReceiveBufferBytes)
	case p.Has(CapNetAdmin):
		return ok("receive buffer", "net.core.rmem_max is %d, but %s holds CAP_NET_ADMIN and forces %d bytes", rmemMax, p.Who, ReceiveBufferBytes)
	}
	return warn("receive buffer", fmt.Sprintf("sysctl -w net.core.rmem_max=%d and keep it (the packages install /usr/lib/sysctl.d/60-mamori.conf; sysctl --system loads it)", ReceiveBufferBytes),
		"net.core.rmem_max is %d, below the %d bytes the UDP receivers ask: a burst is dropped instead of queued", rmemMax, ReceiveBufferBytes)
}

// DiskInput is the file system of the data directory and the spool.
type DiskInput struct {
	Dir             string
	Avail, Total    uint64
	SpoolBytes      int64
	SpoolMaxBytes   int64
	SpoolUnreadable bool
}

// Disk judges the free space of the data directory (WARN under 10 % or
// 2 GiB, FAIL under 2 %) and how full the spool is.
func Disk(in DiskInput) Report {
	pct := 0.0
	if in.Total > 0 {
		pct = 100 * float64(in.Avail) / float64(in.Total)
	}
	free := fmt.Sprintf("%s has %s free (%.1f %%)", in.Dir, bytes(int64(in.Avail)), pct)
	var r Report
	switch {
	case pct < 2:
		r = append(r, fail("disk", "free space now: raise the disk, lower retention.messages.max_bytes, or move data_dir", "%s", free))
	case pct < 10 || in.Avail < 2<<30:
		r = append(r, warn("disk", "plan more space, or lower retention.messages.max_bytes", "%s", free))
	default:
		r = append(r, ok("disk", "%s", free))
	}
	if in.SpoolUnreadable {
		return append(r, warn("disk", "run as root or as the mamori user: sudo -u mamori mamori doctor", "cannot read the spool under %s", in.Dir))
	}
	used := fmt.Sprintf("spool holds %s of ingest.spool_max_bytes %s", bytes(in.SpoolBytes), bytes(in.SpoolMaxBytes))
	switch {
	case in.SpoolBytes >= in.SpoolMaxBytes*9/10:
		r = append(r, fail("disk", "the active is not taking records: check `mamori status` (forwarding) and the peer", "%s: new messages are refused when it is full", used))
	case in.SpoolBytes >= in.SpoolMaxBytes/2:
		r = append(r, warn("disk", "check `mamori status` (ingest forwarding): records are waiting for the active", "%s", used))
	default:
		r = append(r, ok("disk", "%s", used))
	}
	if left := uint64(max(0, in.SpoolMaxBytes-in.SpoolBytes)); left > in.Avail {
		r = append(r, warn("disk", "lower ingest.spool_max_bytes or free space",
			"the spool may grow by %s more but the disk has %s free", bytes(int64(left)), bytes(int64(in.Avail))))
	}
	return r
}

// DirBytes is the size of the files under dir (0 if it does not exist).
func DirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

func bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

// CertFile is one certificate to check.
type CertFile struct {
	Name string // "node certificate"
	Path string
	// Renew says what to do when it expires.
	Renew string
	// Required: a missing file is a FAIL (api.tls_cert); otherwise a WARN
	// (the node identity appears at the first start).
	Required bool
}

// Certificates judges each certificate's expiry: WARN within 30 days,
// FAIL once expired or not yet valid.
func Certificates(files []CertFile, now time.Time) Report {
	var r Report
	for _, f := range files {
		r = append(r, certificate(f, now))
	}
	return r
}

func certificate(f CertFile, now time.Time) Result {
	b, err := os.ReadFile(f.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && f.Required:
		return fail("certificates", "fix the path or unset it", "%s %s does not exist", f.Name, f.Path)
	case errors.Is(err, fs.ErrNotExist):
		return warn("certificates", "start mamori once (systemctl start mamori): it creates its identity", "no %s at %s yet", f.Name, f.Path)
	case errors.Is(err, fs.ErrPermission):
		return warn("certificates", "run as root or as the mamori user: sudo -u mamori mamori doctor", "cannot read %s %s (permission denied)", f.Name, f.Path)
	case err != nil:
		return fail("certificates", "check the file", "%s %s: %v", f.Name, f.Path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return fail("certificates", "replace it with a PEM certificate", "%s %s holds no PEM certificate", f.Name, f.Path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return fail("certificates", "replace it", "%s %s: %v", f.Name, f.Path, err)
	}
	left := c.NotAfter.Sub(now)
	until := c.NotAfter.UTC().Format("2006-01-02")
	switch {
	case now.Before(c.NotBefore):
		return fail("certificates", "check this host's clock (timedatectl), or reissue it", "%s %s is not valid before %s", f.Name, f.Path, c.NotBefore.UTC().Format(time.RFC3339))
	case left <= 0:
		return fail("certificates", f.Renew, "%s %s expired on %s", f.Name, f.Path, until)
	case left < 30*24*time.Hour:
		return warn("certificates", f.Renew, "%s %s expires in %d days (%s)", f.Name, f.Path, int(left.Hours()/24), until)
	}
	return ok("certificates", "%s valid until %s", f.Name, until)
}
