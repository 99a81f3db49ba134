package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// The address is added and removed with one rtnetlink request each (what
// `ip addr add|del` sends), written here on golang.org/x/sys rather than
// through a netlink library: two messages do not justify a dependency.

// addAddr adds ip/prefix to the interface; an address already there is
// not an error.
func addAddr(ifindex int, ip net.IP, prefix int) error {
	err := addrRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, ifindex, ip, prefix)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

// delAddr removes ip/prefix from the interface; an address already gone is
// not an error.
func delAddr(ifindex int, ip net.IP, prefix int) error {
	err := addrRequest(unix.RTM_DELADDR, 0, ifindex, ip, prefix)
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}

// hasAddr reports whether the interface holds ip.
func hasAddr(name string, ip net.IP) (bool, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return false, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true, nil
		}
	}
	return false, nil
}

func addrRequest(typ, flags uint16, ifindex int, ip net.IP, prefix int) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5}); err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink bind: %w", err)
	}
	msg := addrMessage(typ, flags, ifindex, ip.To4(), prefix)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("netlink answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != 1 || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("netlink answer: short error message")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
				return syscall.Errno(-code)
			}
			return nil
		}
	}
}

// addrMessage is an RTM_NEWADDR/RTM_DELADDR request for an IPv4 address:
// nlmsghdr, ifaddrmsg, then IFA_LOCAL and IFA_ADDRESS (equal on a
// broadcast link), asking for an acknowledgement.
func addrMessage(typ, flags uint16, ifindex int, ip4 net.IP, prefix int) []byte {
	const hdr, ifa, attr = unix.SizeofNlMsghdr, unix.SizeofIfAddrmsg, 8
	b := make([]byte, hdr+ifa+2*attr)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	ne.PutUint32(b[8:], 1) // sequence
	b[hdr] = unix.AF_INET
	b[hdr+1] = byte(prefix)
	b[hdr+3] = unix.RT_SCOPE_UNIVERSE
	ne.PutUint32(b[hdr+4:], uint32(ifindex))
	for i, t := range []uint16{unix.IFA_LOCAL, unix.IFA_ADDRESS} {
		off := hdr + ifa + i*attr
		ne.PutUint16(b[off:], attr)
		ne.PutUint16(b[off+2:], t)
		copy(b[off+4:], ip4)
	}
	return b
}
