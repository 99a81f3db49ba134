package http

import (
	"context"
	"encoding/json"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
)

// FuzzReply: whatever a server sends back, the check returns (an error or
// items), within its timeout, and never panics.
func FuzzReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\nshort"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: http://[::1\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 999 Whatever\r\n\r\n\xff\xfe"))
	f.Add([]byte("\x16\x03\x01\x00\x05hello"))
	var reply atomic.Value
	reply.Store([]byte{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	go serveReplies(l, &reply)
	params := json.RawMessage(`{"url":"http://` + l.Addr().String() + `/","timeout":"300ms","follow_redirects":false}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		reply.Store(b)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r := Checker{}.Check(ctx, check.Env{}, check.Target{Address: "127.0.0.1"}, params)
		if r.Err == nil && len(r.Items) == 0 {
			t.Fatalf("no error and no items for %q", b)
		}
		if len(r.Raw) > check.MaxRaw {
			t.Fatalf("raw of %d bytes", len(r.Raw))
		}
	})
}

func serveReplies(l net.Listener, reply *atomic.Value) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_, _ = c.Write(reply.Load().([]byte))
		}()
	}
}
