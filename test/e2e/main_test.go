// Package e2e runs separate mamori processes on loopback addresses (and,
// for partitions, in network namespaces it creates) and checks pairing,
// replication, failover, fencing and recovery the way an operator would
// see them: through the CLI and the API.
package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

// newPair starts two appliances on loopback addresses and pairs them (a
// founder, b joiner).
func newPair(t *testing.T, o cluster.Options) (a, b *cluster.Node) {
	t.Helper()
	sub := cluster.Subnet()
	a = cluster.NewNode(t, "a", sub+".1", o)
	b = cluster.NewNode(t, "b", sub+".2", o)
	cluster.Pair(t, a, b)
	return a, b
}

// newSingle starts one appliance on a loopback address and waits until it
// is active (unpaired).
func newSingle(t *testing.T, o cluster.Options) *cluster.Node {
	t.Helper()
	a := cluster.NewNode(t, "a", cluster.Subnet()+".1", o)
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	return a
}

// watchSession logs an operator in on the first node and reads with that
// session on every node every 50 ms for the whole test: a failover must
// never answer 401 to a valid session (cluster.Session.Watch).
func watchSession(t *testing.T, nodes ...*cluster.Node) *cluster.Session {
	t.Helper()
	s := cluster.NewSession(t, nodes[0], "watcher", "correct horse battery")
	s.Watch(nodes...)
	return s
}
