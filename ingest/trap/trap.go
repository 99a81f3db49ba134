// Package trap receives SNMP notifications (v1, v2c and v3 traps and
// informs), checks their community or USM credentials, and turns each into
// a Trap: what the pipeline spools, forwards and the active stores.
//
// Traps are decoded and authenticated where they arrive (an inform must be
// answered, a forged v3 trap must be dropped before it costs anything
// further), so a spool holds only authentic, decoded notifications.
package trap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mamori-ops/mamori/internal/snmp"
)

// Varbind is one variable binding of a notification.
type Varbind struct {
	OID   string `json:"oid"`
	Name  string `json:"name,omitempty"` // from the loaded MIBs, filled in by the active
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Trap is one received notification. v1 traps carry their v1 header and
// get the equivalent v2 notification OID (RFC 3584 section 3.1), so rules
// can match every version on TrapOID.
type Trap struct {
	Received   time.Time `json:"received"`
	Source     string    `json:"source"`           // sender IP
	Version    string    `json:"version"`          // v1, v2c, v3
	PDU        string    `json:"pdu"`              // trap, inform
	User       string    `json:"user,omitempty"`   // v3 USM user
	Level      string    `json:"level,omitempty"`  // v3 security level
	EngineID   string    `json:"engine,omitempty"` // v3 authoritative engine ID, hex
	TrapOID    string    `json:"trap_oid"`         // snmpTrapOID.0
	TrapName   string    `json:"trap_name,omitempty"`
	Uptime     uint32    `json:"uptime"`               // sysUpTime.0 (v1: time-stamp), centiseconds
	Enterprise string    `json:"enterprise,omitempty"` // v1
	AgentAddr  string    `json:"agent_addr,omitempty"` // v1
	Generic    int       `json:"generic,omitempty"`    // v1
	Specific   int       `json:"specific,omitempty"`   // v1
	Varbinds   []Varbind `json:"varbinds"`
	// Truncated counts the varbinds left out past MaxVarbindBytes.
	Truncated int `json:"truncated,omitempty"`
}

// MaxVarbindBytes bounds what one notification keeps of its varbinds
// (OIDs, types and rendered values), like syslog's 64 KiB per message:
// a 60 KB packet of 4,400 varbinds became a 440 KB record, and about
// 8 MiB while it was stored. Varbinds past it are counted, not kept.
const MaxVarbindBytes = 64 << 10

// varbindOverhead is what a varbind costs besides its strings (JSON keys).
const varbindOverhead = 32

// Well-known OIDs (SNMPv2-MIB).
const (
	OIDSysUpTime  = "1.3.6.1.2.1.1.3.0"
	OIDTrapOID    = "1.3.6.1.6.3.1.1.4.1.0"
	oidTrapPrefix = "1.3.6.1.6.3.1.1.5." // coldStart.. (generic traps 0-5 → .1-.6)
)

// recordKind marks a trap record in a spool that also holds syslog
// records (whose first byte is 1).
const recordKind = 2

// Encode serialises a trap for the spool.
func (t Trap) Encode() []byte {
	b, _ := json.Marshal(t)
	return append([]byte{recordKind}, b...)
}

// IsRecord says whether a spool payload is a trap record.
func IsRecord(b []byte) bool { return len(b) > 0 && b[0] == recordKind }

// Decode reverses Encode.
func Decode(b []byte) (Trap, error) {
	var t Trap
	if !IsRecord(b) {
		return t, errors.New("not a trap spool record")
	}
	err := json.Unmarshal(b[1:], &t)
	return t, err
}

// DedupKey identifies "the same notification" as both appliances received
// it: same sender, same content. Request IDs, message IDs and v3 salts
// differ between the copies a device sends to two destinations and are
// left out; sysUpTime is in, so a device repeating a trap later is a new one.
func (t Trap) DedupKey() [16]byte {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w("trap")
	w(t.Source)
	w(t.Version)
	w(t.User)
	w(t.TrapOID)
	w(strconv.FormatUint(uint64(t.Uptime), 10))
	w(t.Enterprise)
	w(t.AgentAddr)
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(t.Generic))
	binary.BigEndian.PutUint32(n[4:], uint32(t.Specific))
	h.Write(n[:])
	for _, v := range t.Varbinds {
		w(v.OID)
		w(v.Type)
		w(v.Value)
	}
	return [16]byte(h.Sum(nil)[:16])
}

// Text is a one-line rendering of the varbinds, for rules and display.
func (t Trap) Text() string {
	var sb strings.Builder
	for i, v := range t.Varbinds {
		if i > 0 {
			sb.WriteByte(' ')
		}
		name := v.Name
		if name == "" {
			name = v.OID
		}
		sb.WriteString(name)
		sb.WriteByte('=')
		sb.WriteString(v.Value)
	}
	if t.Truncated > 0 {
		fmt.Fprintf(&sb, " [%d more varbinds not kept: over %d KiB]", t.Truncated, MaxVarbindBytes>>10)
	}
	return sb.String()
}

// fromPacket converts a decoded packet.
func fromPacket(p *gosnmp.SnmpPacket, source string, received time.Time) (Trap, error) {
	t := Trap{Received: received, Source: source, PDU: "trap", Varbinds: []Varbind{}}
	if p.PDUType == gosnmp.InformRequest {
		t.PDU = "inform"
	}
	switch p.Version {
	case gosnmp.Version1:
		t.Version = "v1"
		if p.PDUType != gosnmp.Trap {
			return t, fmt.Errorf("v1 %v PDU is not a trap", p.PDUType)
		}
		t.Enterprise, t.AgentAddr = strings.TrimPrefix(p.Enterprise, "."), p.AgentAddress
		t.Generic, t.Specific, t.Uptime = p.GenericTrap, p.SpecificTrap, uint32(p.Timestamp)
		if t.Generic >= 0 && t.Generic < 6 {
			t.TrapOID = oidTrapPrefix + strconv.Itoa(t.Generic+1)
		} else {
			t.TrapOID = t.Enterprise + ".0." + strconv.Itoa(t.Specific)
		}
	case gosnmp.Version2c:
		t.Version = "v2c"
	case gosnmp.Version3:
		t.Version = "v3"
		if usm, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok {
			t.User, t.EngineID = usm.UserName, hex.EncodeToString([]byte(usm.AuthoritativeEngineID))
		}
		switch p.MsgFlags & gosnmp.AuthPriv {
		case gosnmp.AuthPriv:
			t.Level = "authPriv"
		case gosnmp.AuthNoPriv:
			t.Level = "authNoPriv"
		default:
			t.Level = "noAuthNoPriv"
		}
	default:
		return t, fmt.Errorf("unknown SNMP version %v", p.Version)
	}
	if p.Version != gosnmp.Version1 && p.PDUType != gosnmp.SNMPv2Trap && p.PDUType != gosnmp.InformRequest {
		return t, fmt.Errorf("%v PDU is not a notification", p.PDUType)
	}
	kept := 0
	for i, v := range p.Variables {
		oid := strings.TrimPrefix(v.Name, ".")
		if p.Version != gosnmp.Version1 && i < 2 {
			// RFC 3416 4.2.6: sysUpTime.0 then snmpTrapOID.0 come first.
			switch oid {
			case OIDSysUpTime:
				if u, ok := v.Value.(uint32); ok {
					t.Uptime = u
				}
				continue
			case OIDTrapOID:
				s, _ := v.Value.(string)
				t.TrapOID = strings.TrimPrefix(s, ".")
				continue
			}
		}
		val := snmp.Render(v)
		if v.Type == gosnmp.ObjectIdentifier {
			val = strings.TrimPrefix(val, ".")
		}
		vb := Varbind{OID: oid, Type: v.Type.String(), Value: val}
		cost := len(vb.OID) + len(vb.Type) + len(vb.Value) + varbindOverhead
		if kept+cost > MaxVarbindBytes {
			t.Truncated = len(p.Variables) - i
			break
		}
		kept += cost
		t.Varbinds = append(t.Varbinds, vb)
	}
	if t.TrapOID == "" {
		return t, errors.New("notification without snmpTrapOID.0")
	}
	return t, nil
}
