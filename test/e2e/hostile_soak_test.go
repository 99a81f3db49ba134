package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/test/hostile"
)

// TestHostileSoak runs every receive-path flood of issue 9 at full size,
// one after another and then all together, while numbered good traffic
// flows from another address: the appliance never dies, its RSS stays
// under the budget, the stored messages stay under their retention, and
// every good message over TCP/TLS and every good trap is stored exactly
// once. `make soak-hostile` runs it (about 15 minutes).
func TestHostileSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("MAMORI_HOSTILE_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("the hostile-traffic soak runs with `make soak-hostile` (MAMORI_HOSTILE_SOAK=<duration of each flood>, e.g. 100s)")
	}
	n := newSingle(t, hostile.Options())
	n.CreateAdmin("soak", "correct horse battery staple")
	s, err := hostile.Run(n, hostile.Plan{Phase: d, Together: d * 2, Admin: "soak", Password: "correct horse battery staple", Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	s.Print(os.Stdout)
	checkHostile(t, s)
}

// checkHostile fails the test on what a hostile run must never show.
func checkHostile(t *testing.T, s hostile.Summary) {
	t.Helper()
	lost, dup := s.Lost()
	if s.Died {
		t.Error("the appliance died")
	}
	if s.PeakRSS >= s.Budget {
		t.Errorf("peak RSS %s, budget %s", hostile.MiB(s.PeakRSS), hostile.MiB(s.Budget))
	}
	// Good traps lost in a phase where the kernel dropped trap datagrams
	// (its buffer full: UDP cannot push back) are UDP's loss, counted and
	// printed per phase; every other lost or doubled good item fails.
	if un := s.Unexcused(); un != 0 || dup != 0 {
		t.Errorf("good traffic: lost=%d (%d not excused by the kernel's UDP drops) duplicated=%d", lost, un, dup)
	}
	// The database holds the retained messages (their estimate is within
	// 10% of its pages), what arrives between two retention runs, and
	// what else the store keeps: the dedup log of ingest.dedup_window (an
	// hour: about 20 bytes for each of the millions of flood messages) and
	// the good traffic's events; its file does not shrink (free pages are
	// reused).
	if db := s.Files["store/db.sqlite"]; db > 5*hostile.RetainedBytes/2+64<<20 {
		t.Errorf("the database grew to %s with %s of messages retained", hostile.MiB(db), hostile.MiB(hostile.RetainedBytes))
	}
	if total := s.APIOK + s.APIFailed; total == 0 || s.APIFailed*10 > total {
		t.Errorf("API logins and reads: %d ok, %d failed", s.APIOK, s.APIFailed)
	}
}
