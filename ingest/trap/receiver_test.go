package trap

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// collector starts a receiver on loopback and gathers what it accepts.
type collector struct {
	r   *Receiver
	mu  sync.Mutex
	got []Trap
}

func newCollector(t *testing.T, communities []string, users []User) *collector {
	t.Helper()
	c := &collector{}
	c.r = &Receiver{Addr: "127.0.0.1:0", Communities: communities, Sink: func(tr Trap) error {
		c.mu.Lock()
		c.got = append(c.got, tr)
		c.mu.Unlock()
		return nil
	}}
	if err := c.r.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Listen(); err != nil {
		t.Fatal(err)
	}
	c.start(t)
	return c
}

// start runs the receiver until the test ends.
func (c *collector) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (c *collector) wait(t *testing.T, n int) []Trap {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		k := len(c.got)
		c.mu.Unlock()
		if k >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Trap(nil), c.got...)
}

func sender(t *testing.T, addr string, configure func(g *gosnmp.GoSNMP)) *gosnmp.GoSNMP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Transport: "udp", Timeout: time.Second, Retries: 1, MaxOids: gosnmp.MaxOids}
	configure(g)
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

var linkDown = gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
	{Name: OIDSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(4242)},
	{Name: OIDTrapOID, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"},
	{Name: ".1.3.6.1.2.1.2.2.1.1.7", Type: gosnmp.Integer, Value: 7},
	{Name: ".1.3.6.1.2.1.2.2.1.2.7", Type: gosnmp.OctetString, Value: []byte("eth7")},
	{Name: ".1.3.6.1.2.1.2.2.1.6.7", Type: gosnmp.OctetString, Value: []byte{0, 0x1b, 0x21, 0xff, 0, 1}},
}}

func TestV2cTrapAndCommunity(t *testing.T) {
	c := newCollector(t, []string{"s3cret"}, nil)
	good := sender(t, c.r.BoundAddr(), func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "s3cret" })
	bad := sender(t, c.r.BoundAddr(), func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "public" })
	if _, err := bad.SendTrap(linkDown); err != nil {
		t.Fatal(err)
	}
	if _, err := good.SendTrap(linkDown); err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 1)
	if len(got) != 1 {
		t.Fatalf("accepted %d traps, want 1", len(got))
	}
	tr := got[0]
	if tr.Version != "v2c" || tr.TrapOID != "1.3.6.1.6.3.1.1.5.3" || tr.Uptime != 4242 || len(tr.Varbinds) != 3 || tr.Source != "127.0.0.1" {
		t.Fatalf("decoded %+v", tr)
	}
	if tr.Varbinds[1].Value != "eth7" || tr.Varbinds[2].Value != "0x001b21ff0001" {
		t.Errorf("varbind values %+v", tr.Varbinds)
	}
	if n := c.r.Counters.BadCommunity.Load(); n != 1 {
		t.Errorf("bad community counted %d, want 1", n)
	}
}

func TestV1TrapGetsV2OID(t *testing.T) {
	c := newCollector(t, nil, nil)
	g := sender(t, c.r.BoundAddr(), func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version1, "public" })
	_, err := g.SendTrap(gosnmp.SnmpTrap{Enterprise: ".1.3.6.1.4.1.8072.3.2.10", AgentAddress: "127.0.0.9", GenericTrap: 6, SpecificTrap: 17, Timestamp: 99,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.4.1.8072.2.3.2.1", Type: gosnmp.Integer, Value: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 1)
	if len(got) != 1 || got[0].TrapOID != "1.3.6.1.4.1.8072.3.2.10.0.17" || got[0].AgentAddr != "127.0.0.9" || got[0].Uptime != 99 {
		t.Fatalf("got %+v", got)
	}
}

func v3Sender(t *testing.T, addr, user, auth, priv string) *gosnmp.GoSNMP {
	return sender(t, addr, func(g *gosnmp.GoSNMP) {
		g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.AuthPriv
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: user, AuthoritativeEngineID: "\x80\x00\x1f\x88\x04sender-1",
			AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: auth, PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: priv}
	})
}

func TestV3AuthPrivSeveralUsersAndWrongKeys(t *testing.T) {
	users := []User{
		{Name: "ops", Level: "authPriv", AuthProtocol: "SHA-256", AuthKey: "auth-key-ops-1", PrivProtocol: "AES", PrivKey: "priv-key-ops-1"},
		{Name: "ops", Level: "authPriv", AuthProtocol: "SHA-256", AuthKey: "auth-key-ops-2", PrivProtocol: "AES", PrivKey: "priv-key-ops-2"},
		{Name: "net", Level: "authPriv", AuthProtocol: "SHA-256", AuthKey: "auth-key-net", PrivProtocol: "AES", PrivKey: "priv-key-net",
			EngineID: "80001f8804" + "6f74686572"},
	}
	c := newCollector(t, nil, users)
	addr := c.r.BoundAddr()
	for _, s := range []*gosnmp.GoSNMP{
		v3Sender(t, addr, "ops", "auth-key-ops-1", "priv-key-ops-1"), // accepted
		v3Sender(t, addr, "ops", "auth-key-ops-2", "priv-key-ops-2"), // accepted: second key set of the same name
		v3Sender(t, addr, "ops", "auth-key-ops-1", "wrong-priv-key"), // authentic, not decryptable
		v3Sender(t, addr, "ops", "wrong-auth-key", "priv-key-ops-1"), // not authentic
		v3Sender(t, addr, "net", "auth-key-net", "priv-key-net"),     // right keys, wrong engine
		v3Sender(t, addr, "nobody", "auth-key-ops-1", "priv-key-ops-1"),
	} {
		if _, err := s.SendTrap(linkDown); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	got := c.wait(t, 2)
	if len(got) != 2 {
		t.Fatalf("accepted %d v3 traps, want 2: %+v", len(got), got)
	}
	for _, tr := range got {
		if tr.Version != "v3" || tr.User != "ops" || tr.Level != "authPriv" || tr.Varbinds[1].Value != "eth7" {
			t.Errorf("decoded %+v", tr)
		}
	}
	if n := c.r.Counters.AuthFailed.Load(); n != 4 {
		t.Errorf("auth failures counted %d, want 4", n)
	}
}

func TestInformIsAnswered(t *testing.T) {
	c := newCollector(t, nil, nil)
	g := sender(t, c.r.BoundAddr(), func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "public" })
	in := linkDown
	in.IsInform = true
	resp, err := g.SendTrap(in)
	if err != nil {
		t.Fatalf("inform not answered: %v", err)
	}
	if resp.PDUType != gosnmp.GetResponse {
		t.Fatalf("answer %v", resp.PDUType)
	}
	if got := c.wait(t, 1); len(got) != 1 || got[0].PDU != "inform" {
		t.Fatalf("got %+v", got)
	}
}

func TestGarbageIsCountedNotFatal(t *testing.T) {
	c := newCollector(t, nil, nil)
	conn, err := net.Dial("udp", c.r.BoundAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, b := range [][]byte{{}, {0x30}, {0x30, 0x82, 0xff, 0xff}, []byte("<13>not snmp"), {0x30, 3, 2, 1, 1}} {
		_, _ = conn.Write(b)
	}
	g := sender(t, c.r.BoundAddr(), func(g *gosnmp.GoSNMP) { g.Version, g.Community = gosnmp.Version2c, "public" })
	if _, err := g.SendTrap(linkDown); err != nil {
		t.Fatal(err)
	}
	if got := c.wait(t, 1); len(got) != 1 {
		t.Fatalf("good trap after garbage: got %d", len(got))
	}
	if n := c.r.Counters.Malformed.Load(); n < 4 {
		t.Errorf("malformed counted %d, want ≥ 4", n)
	}
}

func TestEncodeDecodeAndDedupKey(t *testing.T) {
	a := Trap{Source: "10.0.0.1", Version: "v2c", TrapOID: "1.2.3", Uptime: 5, Varbinds: []Varbind{{OID: "1.2", Type: "Integer", Value: "1"}}}
	b, err := Decode(a.Encode())
	if err != nil || b.DedupKey() != a.DedupKey() {
		t.Fatalf("round trip: %v %+v", err, b)
	}
	b.Uptime = 6
	if b.DedupKey() == a.DedupKey() {
		t.Error("a later trap with the same varbinds must be a new one")
	}
	if IsRecord([]byte{1, 2, 3}) {
		t.Error("a syslog record taken for a trap")
	}
}
