// Package udpconn is a UDP listener that tells how many datagrams the
// kernel dropped because the socket's receive buffer was full (Linux
// SO_RXQ_OVFL), so a burst beyond what a receiver takes is counted,
// never silent.
package udpconn

import (
	"encoding/binary"
	"net"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Conn is a listening UDP socket with a 16 MiB receive buffer.
type Conn struct {
	*net.UDPConn
	dropped atomic.Uint64
	oob     []byte
	buffer  int
}

// Listen binds addr.
func Listen(addr string) (*Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	conn := &Conn{UDPConn: c, oob: make([]byte, unix.CmsgSpace(4))}
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			// Bursts queue in the kernel, not on the floor. Beyond
			// net.core.rmem_max only with CAP_NET_ADMIN (or root).
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, BufferBytes) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, BufferBytes)
			}
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			if n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil {
				conn.buffer = n / 2 // Linux reports twice the size asked (bookkeeping)
			}
		})
	}
	return conn, nil
}

// BufferBytes is the receive buffer asked for.
const BufferBytes = 16 << 20

// Buffer is the receive buffer the kernel granted; less than BufferBytes
// means net.core.rmem_max is lower and the process may not exceed it.
func (c *Conn) Buffer() int { return c.buffer }

// Read reads one datagram (not safe for concurrent use: one read loop
// per socket) and updates the drop count from its ancillary data.
func (c *Conn) Read(b []byte) (int, *net.UDPAddr, error) {
	n, oobn, _, from, err := c.ReadMsgUDP(b, c.oob)
	if err != nil {
		return n, from, err
	}
	if oobn > 0 {
		if msgs, err := unix.ParseSocketControlMessage(c.oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
					// The kernel's cumulative count for this socket.
					c.dropped.Store(uint64(binary.NativeEndian.Uint32(m.Data)))
				}
			}
		}
	}
	return n, from, nil
}

// Dropped is how many datagrams the kernel dropped on this socket
// because its receive buffer was full (as of the last datagram read).
func (c *Conn) Dropped() uint64 {
	if c == nil {
		return 0
	}
	return c.dropped.Load()
}
