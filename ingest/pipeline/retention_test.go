package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/trap"
)

// aged returns n syslog items received at `at`, text padded to size bytes.
func aged(first uint64, n, size int, at time.Time, prefix string) []Item {
	out := make([]Item, n)
	for i := range out {
		text := fmt.Sprintf("%s-%06d ", prefix, i)
		if size < 0 { // invalid bytes
			text += strings.Repeat("\xff", max(0, -size-len(text)))
		}
		text += strings.Repeat("x", max(0, size-len(text)))
		r := syslog.Record{Received: at, Source: "10.0.0.9", Transport: "udp", Raw: []byte("<13>1 - - app - - - " + text)}
		out[i] = Item{Seq: first + uint64(i), Payload: r.Encode()}
	}
	return out
}

func usedBytes(t *testing.T, st *store.Store) int64 {
	t.Helper()
	return count(t, st, `SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())`) *
		count(t, st, `SELECT page_size FROM pragma_page_size()`)
}

// The size estimate (rows times the newest rows' average plus
// rowOverhead) is within a third of what SQLite's pages hold.
func TestRetentionEstimate(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true})
	before := usedBytes(t, st)
	// Lines of invalid bytes keep the whole line in raw_head (base64).
	for _, size := range []int{1, 200, -200} {
		for b := range 4 {
			its := aged(1, 2500, size, time.Now(), fmt.Sprintf("s%d-b%d", size, b))
			if _, err := in.Ingest(ctx, Batch{Origin: fmt.Sprintf("o%d-%d", size, b), Items: its}); err != nil {
				t.Fatal(err)
			}
		}
		r := &Retention{Store: st}
		s, err := r.stats(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		used := usedBytes(t, st) - before
		if ratio := s.bytes() / float64(used); ratio < 0.67 || ratio > 1.5 {
			t.Errorf("messages of %d bytes: estimate %.0f, pages %d (ratio %.2f)", size, s.bytes(), used, ratio)
		}
		t.Logf("messages of %d bytes: estimate %.0f, pages %d", size, s.bytes(), used)
		if _, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM syslog_messages`}); err != nil {
			t.Fatal(err)
		}
		before = usedBytes(t, st)
	}
}

// Past max_bytes the oldest messages go first, whatever their kind, in
// batches; past max_age too; watermarks and dedup state stay, so a
// resend of a deleted message stores nothing again.
func TestRetentionDeletesOldestInBatches(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true})
	old := time.Now().Add(-3 * time.Hour)
	if _, err := in.Ingest(ctx, Batch{Origin: "a", Items: aged(1, 3000, 100, old, "old")}); err != nil {
		t.Fatal(err)
	}
	tr := trap.Trap{Received: time.Now().Add(-2 * time.Hour), Source: "10.0.0.7", Version: "v2c", PDU: "trap", TrapOID: "1.3.6.1.6.3.1.1.5.3",
		Varbinds: []trap.Varbind{{OID: "1.2.3", Type: "OctetString", Value: strings.Repeat("v", 100)}}}
	if _, err := in.Ingest(ctx, Batch{Origin: "a", Items: []Item{{Seq: 3001, Payload: tr.Encode()}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Ingest(ctx, Batch{Origin: "a", Items: aged(3002, 3000, 100, time.Now(), "new")}); err != nil {
		t.Fatal(err)
	}
	r := &Retention{Store: st, Batch: 500, Messages: Limit{MaxBytes: 1000 * 260}}
	n, err := r.Apply(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	syslogLeft, trapsLeft := count(t, st, `SELECT COUNT(*) FROM syslog_messages`), count(t, st, `SELECT COUNT(*) FROM snmp_traps`)
	if oldLeft := count(t, st, `SELECT COUNT(*) FROM syslog_messages WHERE text LIKE 'old-%'`); oldLeft != 0 || trapsLeft != 0 {
		t.Fatalf("old messages left: %d syslog, %d traps (deleted %d)", oldLeft, trapsLeft, n)
	}
	if s, _ := r.stats(ctx, 0); s.bytes() > 1000*260 || syslogLeft < 500 {
		t.Fatalf("%d messages (%.0f bytes estimated) left for a limit of %d", syslogLeft, s.bytes(), 1000*260)
	}
	if r.Deleted(0) != uint64(6000-syslogLeft) || r.Deleted(1) != 1 {
		t.Fatalf("deleted counted %d syslog, %d traps", r.Deleted(0), r.Deleted(1))
	}
	// By age: everything older than an hour goes (none here); then all.
	r = &Retention{Store: st, Batch: 400, Messages: Limit{MaxAge: time.Hour}}
	if n, err := r.Apply(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("age limit deleted %d young messages: %v", n, err)
	}
	if n, err := r.Apply(ctx, time.Now().Add(2*time.Hour)); err != nil || n != syslogLeft {
		t.Fatalf("age limit two hours later deleted %d of %d: %v", n, syslogLeft, err)
	}
	// Exactly-once holds: a resend of deleted messages stores nothing.
	if ack, err := in.Ingest(ctx, Batch{Origin: "a", Items: aged(3002, 3000, 100, time.Now(), "new")}); err != nil || ack.Stored != 0 || ack.Watermark != 6001 {
		t.Fatalf("resend after retention: %+v %v", ack, err)
	}
}

func TestRetentionOfEvents(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var stmts []store.Statement
	for i := range 2000 {
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO events (uid, at, severity, kind, node, message) VALUES (?,?,?,?,?,?)`,
			Args: []any{fmt.Sprint("e", i), time.Now().Add(-time.Duration(2000-i) * time.Minute).UTC().Format(time.RFC3339Nano), "info", "k", "n", "m"}})
	}
	if _, err := st.Exec(ctx, stmts...); err != nil {
		t.Fatal(err)
	}
	r := &Retention{Store: st, Batch: 300, Events: Limit{MaxAge: 1000 * time.Minute}}
	if _, err := r.Apply(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM events`); n < 999 || n > 1000 {
		t.Fatalf("%d events left, want the 1,000 younger than the limit", n)
	}
}
