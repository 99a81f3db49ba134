// Package e2e runs separate mamori processes on loopback addresses (and,
// for partitions, in network namespaces it creates) and checks pairing,
// replication, failover, fencing and recovery the way an operator would
// see them: through the CLI and the API.
package e2e

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
