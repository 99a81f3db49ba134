package bench

import (
	"os"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
	"github.com/mamori-ops/mamori/test/hostile"
)

// BenchmarkHostile: the floods of `make soak-hostile`, shortened (8 s
// each, 20 s all together), against one appliance with the default
// memory budget while numbered good traffic flows; it fails only if the
// appliance dies.
func BenchmarkHostile(b *testing.B) {
	n := cluster.NewNode(b, "a", cluster.Subnet()+".1", hostile.Options())
	n.Start()
	n.WaitRole(ha.Active, 30*time.Second)
	n.CreateAdmin("bench", "correct horse battery staple")
	s, err := hostile.Run(n, hostile.Plan{Phase: 8 * time.Second, Together: 20 * time.Second, Admin: "bench", Password: "correct horse battery staple"})
	if err != nil {
		b.Fatal(err)
	}
	s.Print(os.Stderr)
	if s.Died {
		b.Fatal("the appliance died under the floods")
	}
	lost, dup := s.Lost()
	report("hostile_rss_peak_mb", float64(s.PeakRSS)/(1<<20), "MiB")
	report("hostile_budget_mb", float64(s.Budget)/(1<<20), "MiB")
	report("hostile_good_lost", float64(lost), "count")
	report("hostile_good_lost_not_udp_buffer", float64(s.Unexcused()), "count")
	report("hostile_good_duplicated", float64(dup), "count")
	report("hostile_data_growth_mb", float64(s.DataAfter-s.DataBefore)/(1<<20), "MiB")
	report("hostile_udp_good_lost", float64(s.Good[hostile.UDP].Lost), "count")
}
