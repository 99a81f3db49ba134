package trap

import (
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// capture returns the bytes gosnmp sends for a trap.
func capture(t testing.TB, configure func(g *gosnmp.GoSNMP), tr gosnmp.SnmpTrap) []byte {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(pc.LocalAddr().(*net.UDPAddr).Port), Transport: "udp", Timeout: time.Second, MaxOids: gosnmp.MaxOids}
	configure(g)
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	if _, err := g.SendTrap(tr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

var fuzzUsers = []User{{Name: "ops", Level: "authPriv", AuthProtocol: "SHA-256", AuthKey: "auth-key-ops-1", PrivProtocol: "AES", PrivKey: "priv-key-ops-1"}}

// FuzzDecode feeds hostile packets to the decoder: it must return an
// error or a notification, never panic past Decode, never hang.
func FuzzDecode(f *testing.F) {
	f.Add(capture(f, func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "public" }, linkDown))
	f.Add(capture(f, func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version1, "public" },
		gosnmp.SnmpTrap{Enterprise: ".1.3.6.1.4.1.8072", AgentAddress: "10.0.0.1", GenericTrap: 2, Timestamp: 7, Variables: linkDown.Variables[2:]}))
	f.Add(capture(f, func(g *gosnmp.GoSNMP) {
		g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.AuthPriv
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: "ops", AuthoritativeEngineID: "\x80\x00\x1f\x88\x04fuzz",
			AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: "auth-key-ops-1", PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "priv-key-ops-1"}
	}, linkDown))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03})
	cases, _ := filepath.Glob("testdata/cases/*/input.hex")
	for _, c := range cases { // every golden packet net-snmp sent
		h, _ := os.ReadFile(c)
		if b, err := hex.DecodeString(strings.TrimSpace(string(h))); err == nil {
			f.Add(b)
		}
	}
	r := &Receiver{engineID: "\x80\x00\x1f\x88\x04fuzz-receiver"}
	if err := r.SetUsers(append(fuzzUsers, goldenUsers...)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &decoder{}
		tr, _, err := r.Decode(d, b, "127.0.0.1", time.Unix(0, 0))
		if err == nil && tr.TrapOID == "" {
			t.Fatalf("accepted a notification without a trap OID: %+v", tr)
		}
	})
}
