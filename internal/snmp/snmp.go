// Package snmp is the SNMP client code shared by the trap receiver
// (ingest/trap: USM users) and the SNMP pollers and node tools (Get, Walk):
// features import this package, never each other. It talks to agents v2c
// and v3 with USM, including authPriv with SHA-2 authentication and AES
// privacy. gosnmp stays inside this package (and the trap receiver's
// decoder); callers pass plain settings and the secrets already opened from
// the credential store.
package snmp

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// ErrBadSettings: the target's SNMP settings are incomplete or unknown.
var ErrBadSettings = errors.New("bad SNMP settings")

// Target is one agent to poll.
type Target struct {
	Address       string
	Port          int
	Version       string // "3" or "2c"
	Community     string
	User          string
	SecurityLevel string // authPriv, authNoPriv, noAuthNoPriv
	AuthProtocol  string // SHA, SHA-224, SHA-256, SHA-384, SHA-512
	AuthKey       string
	PrivProtocol  string // AES, AES-192, AES-256 (Blumenthal)
	PrivKey       string
	Timeout       time.Duration
	Retries       int
}

// Value is one variable binding.
type Value struct {
	OID   string `json:"oid"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

var authProtos = map[string]gosnmp.SnmpV3AuthProtocol{
	"SHA": gosnmp.SHA, "SHA-224": gosnmp.SHA224, "SHA-256": gosnmp.SHA256, "SHA-384": gosnmp.SHA384, "SHA-512": gosnmp.SHA512,
}

var privProtos = map[string]gosnmp.SnmpV3PrivProtocol{
	"AES": gosnmp.AES, "AES-192": gosnmp.AES192, "AES-256": gosnmp.AES256,
}

var levels = map[string]gosnmp.SnmpV3MsgFlags{
	"authPriv": gosnmp.AuthPriv, "authNoPriv": gosnmp.AuthNoPriv, "noAuthNoPriv": gosnmp.NoAuthNoPriv,
}

// Level names a security level (authPriv, authNoPriv, noAuthNoPriv).
func Level(name string) (gosnmp.SnmpV3MsgFlags, bool) {
	l, ok := levels[name]
	return l, ok
}

// USM builds the user-based security parameters of one USM user.
func USM(user string, lvl gosnmp.SnmpV3MsgFlags, authProto, authKey, privProto, privKey string) (*gosnmp.UsmSecurityParameters, error) {
	usm := &gosnmp.UsmSecurityParameters{UserName: user, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	var ok bool
	if lvl != gosnmp.NoAuthNoPriv {
		if usm.AuthenticationProtocol, ok = authProtos[authProto]; !ok {
			return nil, fmt.Errorf("%w: auth protocol %q (SHA, SHA-224, SHA-256, SHA-384, SHA-512)", ErrBadSettings, authProto)
		}
		usm.AuthenticationPassphrase = authKey
	}
	if lvl == gosnmp.AuthPriv {
		if usm.PrivacyProtocol, ok = privProtos[privProto]; !ok {
			return nil, fmt.Errorf("%w: privacy protocol %q (AES, AES-192, AES-256)", ErrBadSettings, privProto)
		}
		usm.PrivacyPassphrase = privKey
	}
	return usm, nil
}

// client builds a fresh client with its own parameters (never gosnmp's
// package default, which is shared mutable state).
func client(ctx context.Context, t Target) (*gosnmp.GoSNMP, error) {
	port := t.Port
	if port == 0 {
		port = 161
	}
	g := &gosnmp.GoSNMP{Target: t.Address, Port: uint16(port), Context: ctx, Timeout: t.Timeout, Retries: t.Retries,
		MaxOids: gosnmp.MaxOids, Transport: "udp"}
	if g.Timeout == 0 {
		g.Timeout = 2 * time.Second
	}
	switch t.Version {
	case "2c":
		g.Version, g.Community = gosnmp.Version2c, t.Community
		return g, nil
	case "3":
	default:
		return nil, fmt.Errorf("%w: version %q", ErrBadSettings, t.Version)
	}
	lvl, ok := levels[t.SecurityLevel]
	if !ok {
		return nil, fmt.Errorf("%w: security level %q", ErrBadSettings, t.SecurityLevel)
	}
	usm, err := USM(t.User, lvl, t.AuthProtocol, t.AuthKey, t.PrivProtocol, t.PrivKey)
	if err != nil {
		return nil, err
	}
	g.Version, g.SecurityModel, g.MsgFlags, g.SecurityParameters = gosnmp.Version3, gosnmp.UserSecurityModel, lvl, usm
	return g, nil
}

// connect opens a client's socket (UDP: no packet is sent yet).
func connect(ctx context.Context, t Target) (*gosnmp.GoSNMP, error) {
	g, err := client(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("snmp %s: %w", t.Address, err)
	}
	return g, nil
}

// Get fetches oids from the target.
func Get(ctx context.Context, t Target, oids []string) ([]Value, error) {
	if len(oids) == 0 || len(oids) > gosnmp.MaxOids {
		return nil, fmt.Errorf("%w: ask for 1..%d OIDs", ErrBadSettings, gosnmp.MaxOids)
	}
	g, err := connect(ctx, t)
	if err != nil {
		return nil, err
	}
	defer g.Conn.Close()
	pkt, err := g.Get(oids)
	if err != nil {
		return nil, fmt.Errorf("snmp get from %s: %w (check the address, the USM user and its keys)", t.Address, err)
	}
	out := make([]Value, 0, len(pkt.Variables))
	for _, v := range pkt.Variables {
		out = append(out, value(v))
	}
	return out, nil
}

// Render formats a variable's value as text.
func Render(v gosnmp.SnmpPDU) string {
	switch x := v.Value.(type) {
	case []byte:
		if printable(x) {
			return string(x)
		}
		return "0x" + hex.EncodeToString(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// printable says whether an octet string reads as text (a MAC address or
// an engine ID does not and is shown in hex).
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// MaxWalk bounds the rows one Walk returns: an agent that answers an
// endless or looping table must not hold a poller or its memory.
const MaxWalk = 100_000

// errWalkFull stops a walk that reached its bound.
var errWalkFull = errors.New("walk bound reached")

// Walk reads the subtree under root (GETBULK; at most max rows, MaxWalk
// when max <= 0). An empty subtree is no error: the caller decides whether
// the agent lacks the table.
func Walk(ctx context.Context, t Target, root string, max int) ([]Value, error) {
	if max <= 0 || max > MaxWalk {
		max = MaxWalk
	}
	g, err := connect(ctx, t)
	if err != nil {
		return nil, err
	}
	defer g.Conn.Close()
	var out []Value
	err = g.BulkWalk(root, func(v gosnmp.SnmpPDU) error {
		if len(out) >= max {
			return errWalkFull
		}
		out = append(out, value(v))
		return nil
	})
	if errors.Is(err, errWalkFull) {
		return out, fmt.Errorf("snmp walk of %s on %s: more than %d rows (walk a narrower OID)", root, t.Address, max)
	}
	if err != nil {
		return nil, fmt.Errorf("snmp walk of %s on %s: %w (check the address, the community or USM user and its keys)", root, t.Address, err)
	}
	return out, nil
}

func value(v gosnmp.SnmpPDU) Value {
	return Value{OID: strings.TrimPrefix(v.Name, "."), Type: v.Type.String(), Value: Render(v)}
}

// Number reads v as a number: integers, counters, gauges, time ticks,
// opaque floats, and octet strings holding a decimal number (UCD's
// laLoad is "0.15"). ok is false for anything else.
func (v Value) Number() (n float64, ok bool) {
	switch v.Type {
	case "Integer", "Counter32", "Gauge32", "TimeTicks", "Counter64", "Uinteger32", "OpaqueFloat", "OpaqueDouble", "OctetString":
		n, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
		return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
	}
	return 0, false
}

// Counter says whether v is a monotonically increasing counter whose rate
// matters more than its value.
func (v Value) Counter() bool { return v.Type == "Counter32" || v.Type == "Counter64" }

// Missing says whether the agent answered that the object does not exist.
func (v Value) Missing() bool {
	return v.Type == "NoSuchObject" || v.Type == "NoSuchInstance" || v.Type == "EndOfMibView" || v.Type == "Null"
}

// Index is the part of oid after the table column col ("1.3.6.1.2.1.2.2.1.2"
// and "1.3.6.1.2.1.2.2.1.2.7" → "7"); ok is false outside the column.
func Index(oid, col string) (string, bool) {
	oid, col = strings.TrimPrefix(oid, "."), strings.TrimPrefix(col, ".")
	rest, ok := strings.CutPrefix(oid, col+".")
	if !ok || rest == "" {
		return "", false
	}
	return rest, true
}
