package syslog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/ingest/spool"
)

func TestReadFrames(t *testing.T) {
	long := strings.Repeat("x", MaxMessage+10)
	for _, tc := range []struct {
		name, in  string
		want      []string
		truncated int
	}{
		{"non-transparent", "<13>a\n<13>b\r\n<13>c", []string{"<13>a", "<13>b", "<13>c"}, 0},
		{"octet counting", "5 <13>a6 <13>bb", []string{"<13>a", "<13>bb"}, 0},
		{"mixed per frame", "5 <13>a<13>b\n", []string{"<13>a", "<13>b"}, 0},
		{"NUL delimited", "<13>a\x00<13>b\x00", []string{"<13>a", "<13>b"}, 0},
		{"digit that is not a length", "2026 is the year\n", []string{"2026 is the year"}, 0},
		{"oversized line", "<13>" + long + "\n<13>next\n", []string{("<13>" + long)[:MaxMessage], "<13>next"}, 1},
		{"oversized octet frame", fmt.Sprintf("%d <13>%s3 <9>", len(long)+4, long), []string{("<13>" + long)[:MaxMessage], "<9>"}, 1},
		{"empty lines", "\n\n<13>a\n\n", []string{"<13>a"}, 0},
		// A count too long to be one is no octet frame: the line is
		// truncated like any other (it was stored whole, 1 MiB and more).
		{"fake octet count", "12345678901 <13>" + long + "\n<9>x\n", []string{("12345678901 <13>" + long)[:MaxMessage], "<9>x"}, 1},
		{"count without <PRI>", "5 " + long + "\n", []string{("5 " + long)[:MaxMessage]}, 1},
		{"digits without a space", strings.Repeat("1", 3*MaxMessage) + "\n<13>b\n", []string{strings.Repeat("1", MaxMessage), "<13>b"}, 1},
		{"zero count", "0 <13>a\n", []string{"0 <13>a"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			trunc := 0
			err := ReadFrames(bufio.NewReader(strings.NewReader(tc.in)), func(b []byte, tr bool) {
				got = append(got, string(b))
				if tr {
					trunc++
				}
			})
			if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") || trunc != tc.truncated {
				t.Fatalf("got %d frames %q (truncated %d, err %v), want %d", len(got), abbreviate(got), trunc, err, len(tc.want))
			}
		})
	}
}

// heapProbe is a stream of digits that never contains a space or a
// newline; every 4 MiB it reads how much heap is in use, so a framer
// that buffers the stream (instead of at most one frame) is caught while
// it reads, whatever it does at the end.
type heapProbe struct {
	left, read, peak int
	base             uint64
}

func (p *heapProbe) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := min(len(b), p.left)
	for i := range b[:n] {
		b[i] = '1'
	}
	if p.read/(4<<20) != (p.read+n)/(4<<20) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.peak = max(p.peak, int(ms.HeapAlloc)-int(p.base))
	}
	p.left, p.read = p.left-n, p.read+n
	return n, nil
}

// A connection sending 64 MiB of digits without a space (the octet-count
// memory bomb: 512 MiB of "1" raised RSS by up to 0.9 GiB) costs at most
// about one frame of memory while it is read.
func TestReadFramesBoundedMemory(t *testing.T) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := &heapProbe{left: 64 << 20, base: ms.HeapAlloc}
	frames, trunc := 0, 0
	err := ReadFrames(bufio.NewReaderSize(p, 16<<10), func(b []byte, tr bool) {
		frames++
		if tr {
			trunc++
		}
		if len(b) > MaxMessage {
			t.Fatalf("frame of %d bytes", len(b))
		}
	})
	if err != nil || p.read != 64<<20 {
		t.Fatalf("read %d of %d bytes: %v", p.read, 64<<20, err)
	}
	if p.peak > 4*MaxMessage {
		t.Fatalf("heap grew by %d bytes while reading digits without a space, want at most %d", p.peak, 4*MaxMessage)
	}
	if frames != 1 || trunc != 1 {
		t.Fatalf("%d frames (%d truncated), want the one truncated line", frames, trunc)
	}
}

func abbreviate(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		out[i] = s
	}
	return out
}

func TestRecordRoundTrip(t *testing.T) {
	r := Record{Received: time.Unix(1700000000, 123), Source: "10.1.2.3", Transport: "tcp", Raw: []byte("<13>hello")}
	got, err := DecodeRecord(r.Encode())
	if err != nil || !got.Received.Equal(r.Received) || got.Source != r.Source || got.Transport != r.Transport || string(got.Raw) != string(r.Raw) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := DecodeRecord([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
}

// util-linux logger sends numbered messages over UDP, TCP and TCP with
// octet counting; every one lands in the spool exactly once and parses.
func TestReceiveFromLogger(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		t.Skip("logger (util-linux) is not installed")
	}
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	rcv := &Receiver{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", Sink: func(r Record) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := sp.Append(r.Encode())
		return err
	}}
	if err := rcv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rcv.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; sp.Close() }()
	udp, tcp, _ := rcv.Addrs()

	const per = 300
	for i, mode := range [][]string{{"-d"}, {"-T"}, {"-T", "--octet-count"}, {"-d", "--rfc3164"}} {
		addr := udp
		if mode[0] == "-T" {
			addr = tcp
		}
		host, port, _ := net.SplitHostPort(addr)
		var lines strings.Builder
		for n := range per {
			fmt.Fprintf(&lines, "mode%d-msg-%04d\n", i, n)
		}
		cmd := exec.Command("logger", append([]string{"-n", host, "-P", port, "-t", "mamori-test"}, mode...)...)
		cmd.Stdin = strings.NewReader(lines.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v\n%s", mode, err, out)
		}
	}
	want := 4 * per
	deadline := time.Now().Add(10 * time.Second)
	for rcv.Counters.Received.Load() < uint64(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	es, err := sp.Read(1, 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	p := NewParser(time.UTC, UTF8)
	for _, e := range es {
		rec, err := DecodeRecord(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.Parse(rec.Raw, rec.Received)
		if err != nil || m.AppName != "mamori-test" {
			t.Fatalf("spooled message does not parse: %q -> %+v %v", rec.Raw, m, err)
		}
		seen[m.Text]++
	}
	if len(seen) != want {
		t.Fatalf("%d distinct messages spooled, want %d", len(seen), want)
	}
	for text, n := range seen {
		if n != 1 {
			t.Fatalf("%q spooled %d times", text, n)
		}
	}
}

// FuzzReadFrames: no stream crashes the framer, and it never invents bytes.
func FuzzReadFrames(f *testing.F) {
	for _, s := range []string{"<13>a\n", "5 <13>a", "12 <13>", "\x00\x00", "99999999999 <1>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		total := 0
		_ = ReadFrames(bufio.NewReader(strings.NewReader(string(in))), func(b []byte, _ bool) {
			total += len(b)
			if len(b) > MaxMessage {
				t.Fatalf("frame of %d bytes exceeds MaxMessage", len(b))
			}
		})
		if total > len(in) {
			t.Fatalf("emitted %d bytes from %d", total, len(in))
		}
	})
}

// A flood of TCP connections is refused beyond MaxConns (and counted),
// a silent connection is closed after IdleTimeout, and a sender still
// gets through once a slot is free.
func TestConnectionLimitAndIdleTimeout(t *testing.T) {
	var got atomic.Int64
	rcv := &Receiver{TCP: "127.0.0.1:0", MaxConns: 2, IdleTimeout: 300 * time.Millisecond,
		Sink: func(Record) error { got.Add(1); return nil }}
	if err := rcv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rcv.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	_, addr, _ := rcv.Addrs()
	for range 2 { // two silent connections take both slots
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("two connections accepted", func() bool { return rcv.Counters.Conns.Load() == 2 })
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = third.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("the third connection was served")
	}
	third.Close()
	if n := rcv.Counters.ConnsRefused.Load(); n != 1 {
		t.Fatalf("refused %d connections, want 1", n)
	}
	waitFor("idle connections closed", func() bool { return rcv.Counters.IdleClosed.Load() == 2 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "<13>1 - h app - - - after the idle ones left\n")
	waitFor("a message from a new connection", func() bool { return got.Load() == 1 })

}
