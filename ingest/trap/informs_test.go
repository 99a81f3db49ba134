package trap

import (
	"testing"
	"time"
)

// A retransmitted inform (same sender port, same content) is stored
// once; a new notification — later uptime, or another sender process —
// is not mistaken for one; the memory forgets after the window.
func TestInformRetransmission(t *testing.T) {
	var r Receiver
	now := time.Now()
	in := Trap{Version: "v2c", PDU: "inform", TrapOID: "1.3.6.1.4.1.8072.2.3.0.1", Uptime: 777,
		Varbinds: []Varbind{{OID: "1.3.6.1.4.1.8072.2.3.2.1", Type: "Integer", Value: "41"}}}
	if r.retransmitted("127.0.0.1:5000", in, now) {
		t.Fatal("the first copy taken for a retransmission")
	}
	if !r.retransmitted("127.0.0.1:5000", in, now.Add(time.Second)) {
		t.Fatal("the retransmission stored again")
	}
	later := in
	later.Uptime = 778
	if r.retransmitted("127.0.0.1:5000", later, now.Add(2*time.Second)) {
		t.Fatal("a new notification (later uptime) dropped")
	}
	if r.retransmitted("127.0.0.1:5001", in, now.Add(2*time.Second)) {
		t.Fatal("the same content from another sender process dropped")
	}
	if r.retransmitted("127.0.0.1:5000", in, now.Add(informWindow+time.Second)) {
		t.Fatal("remembered past the window")
	}
}
