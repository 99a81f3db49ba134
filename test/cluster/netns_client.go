package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
)

// StatusVia fetches GET /api/v1/cluster from addr (host:port) with a
// connection made inside namespace ns (a client host of the test), as
// this node (its certificate): whichever appliance answers there says who
// it is.
func (n *Node) StatusVia(ns, addr string, timeout time.Duration) (ha.Status, error) {
	cl := n.httpClient(false)
	cl.Timeout = timeout
	cl.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dialIn(ctx, ns, addr)
	}
	var st ha.Status
	resp, err := cl.Get("https://" + addr + "/api/v1/cluster")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
