package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/internal/config"
)

func newStore(t *testing.T) *store.Store {
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
	if err := st.Migrate(context.Background(), Migrations()); err != nil {
		t.Fatal(err)
	}
	return st
}

func items(first uint64, texts ...string) []Item {
	out := make([]Item, len(texts))
	for i, s := range texts {
		r := syslog.Record{Received: time.Now(), Source: "10.0.0.9", Transport: "udp", Raw: []byte("<13>1 - - app - - - " + s)}
		out[i] = Item{Seq: first + uint64(i), Payload: r.Encode()}
	}
	return out
}

func TestIngestDedupAndWatermarks(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8))
	step := func(origin string, its []Item, stored, dup int, mark uint64) {
		t.Helper()
		ack, err := in.Ingest(ctx, Batch{Origin: origin, Items: its})
		if err != nil || ack.Stored != stored || ack.Duplicate != dup || ack.Watermark != mark {
			t.Fatalf("%s: %+v %v, want stored %d dup %d mark %d", origin, ack, err, stored, dup, mark)
		}
	}
	step("a", items(1, "x", "x", "y"), 3, 0, 3) // a sender repeating "x" is not deduplicated
	step("b", items(1, "x", "y", "x"), 0, 3, 3) // the second appliance's copies are
	step("b", items(4, "x"), 1, 0, 4)           // ...but its third "x" is a new message
	step("a", items(2, "x", "y", "z"), 1, 0, 4) // resent after a lost ack: only seq 4 is new
	in.Forget()                                 // a failover: state reloads from the store
	step("a", items(5, "x"), 0, 1, 5)           // a's third "x" is b's third "x"
	rows, err := st.Query(ctx, store.Local, `SELECT COUNT(*) FROM syslog_messages`)
	if err != nil || rows.Values[0][0] != int64(5) {
		t.Fatalf("stored rows: %v %v, want 5", rows.Values, err)
	}
	if err := in.Expire(ctx, time.Now().Add(2*DedupWindow)); err != nil {
		t.Fatal(err)
	}
	rows, _ = st.Query(ctx, store.Local, `SELECT COUNT(*) FROM ingest_dedup`)
	if rows.Values[0][0] != int64(0) {
		t.Fatalf("dedup rows after expiry: %v", rows.Values)
	}
}
