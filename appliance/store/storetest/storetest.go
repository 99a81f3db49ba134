// Package storetest gives unit tests a real single-node store: a Raft
// leader of one on loopback, with fast timeouts, migrated. Test support:
// nothing in the appliance imports it.
package storetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// New opens a store of one node in a temporary folder, waits until it
// leads, applies migrations, and closes it when the test ends.
func New(t testing.TB, migrations []store.Migration) *store.Store {
	t.Helper()
	tun := config.Default().Store
	tun.HeartbeatTimeout, tun.ElectionTimeout, tun.LeaderLease = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	st := store.New(store.Options{Dir: t.TempDir(), ID: "n1", Listen: "127.0.0.1:0", Tuning: tun}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := st.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	if err := st.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !st.Status().Leader; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
	}
	if err := st.Migrate(context.Background(), migrations); err != nil {
		t.Fatal(err)
	}
	return st
}
