package trap

import (
	"testing"
	"time"
)

// BenchmarkDecodeBigTrap: what one 60 KB trap of 4,400 varbinds costs
// to decode and encode for the spool (1.5 ms and 1.9 MB allocated on the
// 2-core test machine): why a flood of them is refused before decoding
// under pressure, not after.
func BenchmarkDecodeBigTrap(b *testing.B) {
	r := &Receiver{}
	_ = r.SetUsers(nil)
	pkt := bigTrap(b, 4400)
	d := &decoder{}
	b.ReportAllocs()
	for b.Loop() {
		tr, _, err := r.Decode(d, pkt, "10.0.0.1", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		_ = tr.Encode()
	}
}
