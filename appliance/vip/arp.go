package vip

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// gratuitousARP broadcasts an ARP request for ip from ip on the interface
// (sender and target address both ip), which makes every host on the
// link that knows ip point it at this interface's MAC: Linux takes such
// a request as an override even inside its neighbour lock time.
func gratuitousARP(ifi *net.Interface, ip net.IP) error {
	if len(ifi.HardwareAddr) != 6 {
		return fmt.Errorf("interface %s has no Ethernet address: gratuitous ARP needs an Ethernet link", ifi.Name)
	}
	// SOCK_DGRAM: the kernel writes the Ethernet header; protocol 0: this
	// socket receives nothing.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("packet socket (needs CAP_NET_RAW): %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index, Halen: 6,
		Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	if err := unix.Sendto(fd, arpRequest(ifi.HardwareAddr, ip.To4()), 0, to); err != nil {
		return fmt.Errorf("send gratuitous ARP on %s: %w", ifi.Name, err)
	}
	return nil
}

// arpRequest is an Ethernet/IPv4 ARP request (RFC 826) whose sender and
// target protocol addresses are both ip (RFC 5227's announcement).
func arpRequest(mac net.HardwareAddr, ip4 net.IP) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)      // hardware: Ethernet
	binary.BigEndian.PutUint16(b[2:], 0x0800) // protocol: IPv4
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], 1) // request
	copy(b[8:], mac)
	copy(b[14:], ip4)
	// target hardware address stays zero
	copy(b[24:], ip4)
	return b
}

// htons puts a 16-bit value in network byte order for a sockaddr field.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
