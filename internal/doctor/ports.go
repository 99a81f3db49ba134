package doctor

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/mamori-ops/mamori/internal/config"
)

// Listener is one address mamori binds.
type Listener struct {
	Key   string // the configuration key, e.g. ingest.syslog.udp
	Proto string // tcp or udp
	Addr  string // host:port; an empty host is every address
}

// Listeners are every address the configuration makes mamori bind.
func Listeners(cfg config.Config) []Listener {
	ls := []Listener{{"api.listen", "tcp", cfg.API.Listen}}
	if cfg.API.RedirectListen != "" {
		ls = append(ls, Listener{"api.redirect_listen", "tcp", cfg.API.RedirectListen})
	}
	ls = append(ls, Listener{"cluster.port", "tcp", cfg.ClusterAddr()})
	for _, l := range []Listener{
		{"ingest.syslog.udp", "udp", cfg.Ingest.Syslog.UDP},
		{"ingest.syslog.tcp", "tcp", cfg.Ingest.Syslog.TCP},
		{"ingest.syslog.tls", "tcp", cfg.Ingest.Syslog.TLS},
		{"ingest.snmp.udp", "udp", cfg.Ingest.SNMP.UDP},
	} {
		if l.Addr != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// Port is the listener's port number (0 if the address has none).
func (l Listener) Port() int {
	_, p, _ := net.SplitHostPort(l.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// clashes says whether a bound socket keeps l from binding: same
// protocol and port, and the same address or a wildcard on either side.
func (l Listener) clashes(s Socket) bool {
	if s.Proto != l.Proto || s.Port != l.Port() {
		return false
	}
	h, _, _ := net.SplitHostPort(l.Addr)
	ip := net.ParseIP(h)
	return ip == nil || ip.IsUnspecified() || s.IP.IsUnspecified() || ip.Equal(s.IP)
}

// PortsInput is what the port check looks at.
type PortsInput struct {
	Listeners []Listener
	Sockets   []Socket
	Owners    map[uint64]Process
	// MamoriPID is the running mamori (0: not running).
	MamoriPID int
	// Bind tries to bind a listener that no visible socket holds (nil:
	// skip); its error tells an unknown holder or a foreign address.
	Bind func(Listener) error
}

// Ports judges every listener: free, held by mamori itself, or held by
// another program (named, with how to free it).
func Ports(in PortsInput) Report {
	var r Report
	for _, l := range in.Listeners {
		r = append(r, judgePort(in, l))
	}
	return r
}

func judgePort(in PortsInput, l Listener) Result {
	what := fmt.Sprintf("%s %s (%s)", l.Proto, l.Addr, l.Key)
	for _, s := range in.Sockets {
		if !l.clashes(s) {
			continue
		}
		p, known := in.Owners[s.Inode]
		switch {
		case known && in.MamoriPID != 0 && p.PID == in.MamoriPID:
			return ok("ports", "%s is held by mamori itself (pid %d)", what, p.PID)
		case known:
			return fail("ports", freeAction(p, l), "%s is held by %s (pid %d)", what, p.Name, p.PID)
		case in.MamoriPID != 0:
			// Most likely mamori's own socket, whose descriptors this user may not read.
			return ok("ports", "%s is in use, presumably by the running mamori (pid %d; run doctor as root to be sure)", what, in.MamoriPID)
		default:
			return fail("ports", "run doctor as root to name the process (ss -lunpt shows it too), then stop it or set "+l.Key+" to another port",
				"%s is in use by a process this user cannot see", what)
		}
	}
	if in.MamoriPID != 0 {
		return warn("ports", "see mamori's log (journalctl -u mamori): it may have failed to bind it, or it runs in another network namespace",
			"mamori runs (pid %d) but nothing listens on %s", in.MamoriPID, what)
	}
	if in.Bind == nil {
		return ok("ports", "%s is free", what)
	}
	switch err := in.Bind(l); {
	case err == nil:
		return ok("ports", "%s is free", what)
	case errors.Is(err, syscall.EACCES):
		return ok("ports", "%s is free (binding a port below 1024 needs CAP_NET_BIND_SERVICE: see capabilities)", what)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fail("ports", "set "+l.Key+" to an address of this host, or an empty host (\":"+strconv.Itoa(l.Port())+"\") for every address",
			"%s cannot be bound: the address is not on this host", what)
	case errors.Is(err, syscall.EADDRINUSE):
		return fail("ports", "run doctor as root to name the process (ss -lunpt shows it too), then stop it or set "+l.Key+" to another port",
			"%s is in use by a process this user cannot see", what)
	default:
		return warn("ports", "check "+l.Key, "%s cannot be bound: %v", what, err)
	}
}

// freeAction says how to free a port from the program holding it.
func freeAction(p Process, l Listener) string {
	other := " or set " + l.Key + " to another port"
	switch p.Name {
	case "rsyslogd":
		if l.Proto == "udp" {
			return fmt.Sprintf("stop rsyslog's UDP input (imudp: its input(type=\"imudp\" port=\"%d\") or $UDPServerRun line in /etc/rsyslog.conf or /etc/rsyslog.d/, then systemctl restart rsyslog)%s", l.Port(), other)
		}
		return fmt.Sprintf("stop rsyslog's TCP input (imtcp: its input(type=\"imtcp\" port=\"%d\") or $InputTCPServerRun line in /etc/rsyslog.conf or /etc/rsyslog.d/, then systemctl restart rsyslog)%s", l.Port(), other)
	case "syslog-ng":
		return "remove syslog-ng's network source on this port (/etc/syslog-ng/), then systemctl restart syslog-ng" + other
	case "snmptrapd":
		return "stop snmptrapd (systemctl disable --now snmptrapd; mamori receives the traps itself)" + other
	case "mamori":
		return "another mamori runs on this host (another data_dir?): stop it" + other
	}
	return fmt.Sprintf("stop %s (pid %d)%s", p.Name, p.PID, other)
}

// BindProbe binds l for a moment and releases it.
func BindProbe(l Listener) error {
	if l.Proto == "udp" {
		c, err := net.ListenPacket("udp", l.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return err
	}
	return ln.Close()
}
