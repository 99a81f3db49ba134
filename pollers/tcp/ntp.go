package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// An SNTP client (RFC 4330 / RFC 5905 client mode): one request, the
// server's clock offset and the round trip.

var errNTP = errors.New("bad NTP reply")

// ntpEpoch is NTP's era 0 start; stamps below 2^31 seconds are read in
// era 1 (from 2036), as RFC 4330 section 3 suggests.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

func toNTP(t time.Time) uint64 {
	d := t.Sub(ntpEpoch) // saturates after 2192, far past era 1
	secs := uint64(d / time.Second)
	frac := uint64(d%time.Second) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

func fromNTP(v uint64) time.Time {
	secs, frac := v>>32, v&0xffffffff
	base := ntpEpoch
	if secs < 1<<31 {
		base = ntpEpoch.Add(time.Duration(1<<32) * time.Second)
	}
	return base.Add(time.Duration(secs)*time.Second + time.Duration(frac*uint64(time.Second)>>32))
}

// ntpRequest is a version 4 client request whose transmit stamp is sent.
func ntpRequest(sent uint64) []byte {
	b := make([]byte, 48)
	b[0] = 4<<3 | 3 // LI 0, version 4, mode 3 (client)
	binary.BigEndian.PutUint64(b[40:], sent)
	return b
}

// ntpReply is what the monitor reads from a server's answer.
type ntpReply struct {
	stratum  int
	offset   time.Duration
	delay    time.Duration
	refID    string
	received time.Time // the server's receive stamp
}

// parseNTP checks a reply to the request stamped sent (t1), received at
// t4 (t1 plus the monotonic round trip), and computes offset and delay.
func parseNTP(b []byte, sent uint64, t1, t4 time.Time) (ntpReply, error) {
	var r ntpReply
	if len(b) < 48 {
		return r, fmt.Errorf("%w: %d bytes, want 48", errNTP, len(b))
	}
	li, mode := b[0]>>6, b[0]&7
	r.stratum = int(b[1])
	r.refID = refID(b[12:16], r.stratum)
	switch {
	case mode != 4:
		return r, fmt.Errorf("%w: mode %d, want 4 (server)", errNTP, mode)
	case binary.BigEndian.Uint64(b[24:]) != sent:
		return r, fmt.Errorf("%w: it answers another request (origin stamp differs)", errNTP)
	case r.stratum == 0 && r.refID != "":
		return r, fmt.Errorf("%w: kiss-o'-death %q: the server refuses to serve now", errNTP, r.refID)
	case li == 3 || r.stratum == 0 || r.stratum > 15:
		// chronyd without a source answers leap 3, stratum 0, no kiss code.
		return r, fmt.Errorf("%w: the server's clock is not synchronised (leap %d, stratum %d)", errNTP, li, r.stratum)
	}
	t2, t3 := fromNTP(binary.BigEndian.Uint64(b[32:])), fromNTP(binary.BigEndian.Uint64(b[40:]))
	if binary.BigEndian.Uint64(b[40:]) == 0 {
		return r, fmt.Errorf("%w: no transmit stamp", errNTP)
	}
	r.offset = (t2.Sub(t1) + t3.Sub(t4)) / 2
	r.delay = t4.Sub(t1) - t3.Sub(t2)
	r.received = t2
	return r, nil
}

// refID is the reference: a kiss code or clock name at stratum 0–1, an
// IPv4 address (or hash) above.
func refID(b []byte, stratum int) string {
	if stratum <= 1 {
		s := make([]byte, 0, 4)
		for _, c := range b {
			if c >= 0x20 && c < 0x7f {
				s = append(s, c)
			}
		}
		return string(s)
	}
	return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
}
