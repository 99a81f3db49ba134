package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// A small DNS client (RFC 1035): one question, answers decoded for the
// common types. Written here rather than imported because the monitor
// needs a query and a bounds-checked reader of the answer, nothing else.

var qtypes = map[string]uint16{
	"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
}

var rcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

var errDNS = errors.New("malformed DNS message")

// encodeName writes a domain name as labels.
func encodeName(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil, errors.New("required: the name to look up, such as www.example.com")
	}
	var b []byte
	for _, l := range strings.Split(name, ".") {
		if len(l) == 0 || len(l) > 63 {
			return nil, fmt.Errorf("%q: each label is 1–63 characters", name)
		}
		b = append(append(b, byte(len(l))), l...)
	}
	if len(b)+1 > 255 {
		return nil, fmt.Errorf("%q is longer than 255 bytes", name)
	}
	return append(b, 0), nil
}

// buildQuery is a recursive query for name/qtype with id.
func buildQuery(id uint16, name string, qtype uint16) ([]byte, error) {
	n, err := encodeName(name)
	if err != nil {
		return nil, err
	}
	m := binary.BigEndian.AppendUint16(nil, id)
	m = append(m, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; one question
	m = append(m, n...)
	m = binary.BigEndian.AppendUint16(m, qtype)
	return binary.BigEndian.AppendUint16(m, 1), nil // class IN
}

// dnsAnswer is a decoded reply.
type dnsAnswer struct {
	id        uint16
	rcode     int
	truncated bool
	answers   []string // "name TYPE value"
	values    []string // value only, for expect
}

// parseDNS decodes a reply, checking every offset against the message.
func parseDNS(m []byte) (dnsAnswer, error) {
	var a dnsAnswer
	if len(m) < 12 {
		return a, fmt.Errorf("%w: %d bytes, shorter than a header", errDNS, len(m))
	}
	a.id = binary.BigEndian.Uint16(m)
	if m[2]&0x80 == 0 {
		return a, fmt.Errorf("%w: a query, not a reply", errDNS)
	}
	a.truncated = m[2]&0x02 != 0
	a.rcode = int(m[3] & 0x0f)
	qd, an := int(binary.BigEndian.Uint16(m[4:])), int(binary.BigEndian.Uint16(m[6:]))
	off := 12
	for range qd {
		_, next, err := readName(m, off)
		if err != nil || next+4 > len(m) {
			return a, fmt.Errorf("%w: question section", errDNS)
		}
		off = next + 4
	}
	for i := range an {
		text, value, next, err := readRR(m, off)
		if err != nil {
			return a, fmt.Errorf("answer %d: %w", i+1, err)
		}
		a.answers, a.values, off = append(a.answers, text), append(a.values, value), next
	}
	return a, nil
}

func (a dnsAnswer) rcodeName() string {
	if a.rcode < len(rcodes) {
		return rcodes[a.rcode]
	}
	return fmt.Sprintf("RCODE%d", a.rcode)
}

// readRR reads one resource record at off.
func readRR(m []byte, off int) (text, value string, next int, err error) {
	name, off, err := readName(m, off)
	if err != nil {
		return "", "", 0, err
	}
	if off+10 > len(m) {
		return "", "", 0, fmt.Errorf("%w: record header past the end", errDNS)
	}
	typ := binary.BigEndian.Uint16(m[off:])
	rdlen := int(binary.BigEndian.Uint16(m[off+8:]))
	start := off + 10
	if start+rdlen > len(m) {
		return "", "", 0, fmt.Errorf("%w: record data past the end", errDNS)
	}
	value, err = rdata(m, typ, start, rdlen)
	if err != nil {
		return "", "", 0, err
	}
	return fmt.Sprintf("%s %s %s", name, typeName(typ), value), value, start + rdlen, nil
}

func typeName(t uint16) string {
	for k, v := range qtypes {
		if v == t {
			return k
		}
	}
	return fmt.Sprintf("TYPE%d", t)
}

// rdata formats a record's data; names inside it may point anywhere in m.
func rdata(m []byte, typ uint16, off, n int) (string, error) {
	d := m[off : off+n]
	switch {
	case typ == 1 && n == 4, typ == 28 && n == 16:
		ip, _ := netip.AddrFromSlice(d)
		return ip.String(), nil
	case typ == 2 || typ == 5 || typ == 12:
		s, _, err := readName(m, off)
		return s, err
	case typ == 15 && n >= 3:
		s, _, err := readName(m, off+2)
		return fmt.Sprintf("%d %s", binary.BigEndian.Uint16(d), s), err
	case typ == 33 && n >= 7:
		s, _, err := readName(m, off+6)
		return fmt.Sprintf("%d %d %d %s", binary.BigEndian.Uint16(d), binary.BigEndian.Uint16(d[2:]), binary.BigEndian.Uint16(d[4:]), s), err
	case typ == 16:
		return txt(d)
	case typ == 6:
		return soa(m, off, n)
	}
	return fmt.Sprintf("\\# %d %x", n, d), nil
}

func txt(d []byte) (string, error) {
	var parts []string
	for len(d) > 0 {
		l := int(d[0])
		if 1+l > len(d) {
			return "", fmt.Errorf("%w: TXT string past its record", errDNS)
		}
		parts = append(parts, fmt.Sprintf("%q", d[1:1+l]))
		d = d[1+l:]
	}
	return strings.Join(parts, " "), nil
}

func soa(m []byte, off, n int) (string, error) {
	mname, next, err := readName(m, off)
	if err != nil {
		return "", err
	}
	rname, next, err := readName(m, next)
	if err != nil {
		return "", err
	}
	if next+20 > off+n {
		return "", fmt.Errorf("%w: SOA too short", errDNS)
	}
	return fmt.Sprintf("%s %s %d", mname, rname, binary.BigEndian.Uint32(m[next:])), nil
}

// readName reads a possibly compressed name at off and returns it with
// the offset after it (after the first pointer, if any). Pointers must go
// backwards and the walk takes at most 128 steps, so a hostile loop of
// pointers ends in an error.
func readName(m []byte, off int) (string, int, error) {
	var labels []string
	next := -1
	for hops := 0; ; hops++ {
		if off >= len(m) || hops > 127 {
			return "", 0, fmt.Errorf("%w: name past the end", errDNS)
		}
		l := int(m[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			return strings.Join(labels, ".") + ".", next, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(m) {
				return "", 0, fmt.Errorf("%w: cut pointer", errDNS)
			}
			ptr := int(binary.BigEndian.Uint16(m[off:]) & 0x3fff)
			if ptr >= off {
				return "", 0, fmt.Errorf("%w: forward name pointer", errDNS)
			}
			if next < 0 {
				next = off + 2
			}
			off = ptr
		case l&0xc0 != 0:
			return "", 0, fmt.Errorf("%w: unknown label type", errDNS)
		default:
			if off+1+l > len(m) {
				return "", 0, fmt.Errorf("%w: label past the end", errDNS)
			}
			labels = append(labels, escapeLabel(m[off+1:off+1+l]))
			off += 1 + l
		}
	}
}

// escapeLabel keeps a hostile label printable.
func escapeLabel(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c > 0x20 && c < 0x7f && c != '.' && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "\\%03d", c)
		}
	}
	return s.String()
}
