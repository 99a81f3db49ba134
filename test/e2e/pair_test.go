package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs separate mamori processes (make e2e)")
	}
}

// A row written on the active is read on the standby; the standby refuses
// writes and names the active.
func TestPairReplicates(t *testing.T) {
	skipShort(t)
	net := cluster.Subnet()
	a := cluster.NewNode(t, "a", net+".1", cluster.Options{})
	b := cluster.NewNode(t, "b", net+".2", cluster.Options{})
	cluster.Pair(t, a, b)

	for i := range 20 {
		if ok, err := a.Write(fmt.Sprintf("row-%d", i)); !ok {
			t.Fatalf("write %d on active failed: %v", i, err)
		}
	}
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return len(b.Events("test.write")) == 20 }) {
		t.Fatalf("standby holds %d of 20 rows", len(b.Events("test.write")))
	}
	var refusal struct {
		Error    string `json:"error"`
		ActiveID string `json:"active_id"`
	}
	code, err := b.Do(http.MethodPost, "/api/v1/events", map[string]string{"kind": "test.write", "message": "x"}, &refusal)
	if err != nil || code != http.StatusServiceUnavailable || refusal.ActiveID != "a" {
		t.Fatalf("write on standby: HTTP %d %+v %v; want 503 naming a", code, refusal, err)
	}
	cluster.WaitFor(t.Context(), 5*time.Second, func() bool { // the first heartbeats
		st, err := b.Status()
		return err == nil && st.Peer != nil && st.Peer.Reachable
	})
	st, err := b.Status()
	if err != nil || st.ActiveID != "a" || st.Peer == nil || !st.Peer.Reachable || st.Epoch != 1 {
		t.Fatalf("standby status: %+v %v", st, err)
	}
	out, err := b.CLI("status")
	if err != nil || !strings.Contains(out, "standby") || !strings.Contains(out, "active") {
		t.Fatalf("mamori status on b: %v\n%s", err, out)
	}
	sameData(t, a, b)

	var health struct {
		Status string `json:"status"`
		Role   string `json:"role"`
	}
	if code, err := b.Do(http.MethodGet, "/healthz", nil, &health); err != nil || code != 200 || health.Role != "standby" {
		t.Fatalf("healthz on b: HTTP %d %+v %v", code, health, err)
	}
	for n, want := range map[*cluster.Node]string{a: "mamori_ha_active 1", b: "mamori_ha_active 0"} {
		if m := metrics(t, n); !strings.Contains(m, want) || !strings.Contains(m, "mamori_ha_epoch 1") || !strings.Contains(m, "mamori_ha_peer_reachable 1") {
			t.Fatalf("metrics of %s lack %q:\n%s", n.Name, want, m)
		}
	}
}

func metrics(t *testing.T, n *cluster.Node) string {
	t.Helper()
	return n.Metrics()
}

// sameData fails unless both nodes hold identical tables.
func sameData(t *testing.T, a, b *cluster.Node) {
	t.Helper()
	var sa, sb map[string]string
	ok := cluster.WaitFor(t.Context(), 15*time.Second, func() bool {
		var err1, err2 error
		sa, err1 = a.Checksums()
		sb, err2 = b.Checksums()
		return err1 == nil && err2 == nil && len(sa) > 0 && fmt.Sprint(sa) == fmt.Sprint(sb)
	})
	if !ok {
		t.Fatalf("data differs:\n%s: %v\n%s: %v", a.Name, sa, b.Name, sb)
	}
}

// Wrong, expired and reused codes are refused and leave both appliances as they were.
func TestPairingRefusals(t *testing.T) {
	skipShort(t)
	net := cluster.Subnet()
	a := cluster.NewNode(t, "a", net+".1", cluster.Options{})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)

	good := a.PairCode("10m")
	wrong := []byte(good)
	if wrong[0] == 'A' {
		wrong[0] = 'B'
	} else {
		wrong[0] = 'A'
	}
	expired := a.PairCode("1s")
	time.Sleep(1500 * time.Millisecond)

	b := cluster.NewNode(t, "b", net+".2", cluster.Options{})
	for _, tc := range []struct{ name, code, want string }{
		{"wrong secret", string(wrong), "refused"},
		{"expired", expired, "expired"},
		{"garbage", "not-a-code", "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := b.CLI("pair", "join", "--peer", a.API, "--code", tc.code)
			if err == nil || !strings.Contains(strings.ToLower(out), tc.want) {
				t.Fatalf("pair join with %s code: err=%v, output:\n%s", tc.name, err, out)
			}
			if _, err := os.Stat(filepath.Join(b.Dir, "data", "pair.json")); err == nil {
				t.Fatalf("joiner wrote pair.json after a refused join")
			}
			if st, _ := a.Status(); st.Paired {
				t.Fatalf("founder is paired after a refused join")
			}
		})
	}

	if out, err := b.CLI("pair", "join", "--peer", a.API, "--code", good); err != nil {
		t.Fatalf("pair join with the good code: %v\n%s", err, out)
	}
	c := cluster.NewNode(t, "c", net+".3", cluster.Options{})
	out, err := c.CLI("pair", "join", "--peer", a.API, "--code", good)
	if err == nil || !strings.Contains(out, "used") {
		t.Fatalf("reused code: err=%v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "data", "pair.json")); err == nil {
		t.Fatalf("third appliance wrote pair.json after a refused join")
	}
	st, _ := a.Status()
	if st.Peer == nil || st.Peer.ID != "b" {
		t.Fatalf("founder's peer after reuse attempt: %+v", st.Peer)
	}
}
