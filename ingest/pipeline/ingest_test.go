package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/trap"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return storetest.New(t, slices.Concat(events.Migrations(), inventory.Migrations(), Migrations()))
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
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true})
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
	rows, _ = st.Query(ctx, store.Local, `SELECT COUNT(*) FROM ingest_dedup_log`)
	if rows.Values[0][0] != int64(0) {
		t.Fatalf("dedup rows after expiry: %v", rows.Values)
	}
}

func count(t *testing.T, st *store.Store, q string) int64 {
	t.Helper()
	rows, err := st.Query(context.Background(), store.Local, q)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := rows.Values[0][0].(int64)
	return n
}

// Rules turn messages of every kind into events or drop them; unmatched
// messages are kept only when the setting says so; a message stored
// twice (a failover between store and acknowledgement) raises one event.
func TestRulesRaiseEventsAndDrop(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if err := inventory.Put(ctx, st, inventory.Node{ID: "web1", Name: "web1", Address: "10.0.0.9", Scope: "A"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []rules.Rule{
		{ID: "r1", Name: "noise", Position: 1, Enabled: true, Kind: rules.Syslog, Keywords: []string{"heartbeat"}, Action: rules.Drop},
		{ID: "r2", Name: "disk", Position: 2, Enabled: true, Kind: rules.Syslog, Scope: "A", Pattern: "disk .* failed", Action: rules.Notify,
			Priority: "critical", Template: "${node}: ${message}"},
		{ID: "r3", Name: "link", Position: 3, Enabled: true, Kind: rules.Trap, TrapOID: "1.3.6.1.6.3.1.1.5.*", Action: rules.Notify, Priority: "warning",
			Template: "${trap_name} on ${source}"},
		{ID: "r4", Name: "app", Position: 4, Enabled: true, Kind: rules.Custom, App: "^batch$", Pattern: "FAILED", Action: rules.Notify, Priority: "critical"},
	} {
		if err := PutRule(ctx, st, r); err != nil {
			t.Fatal(err)
		}
	}
	names := func(oid string) string {
		if oid == "1.3.6.1.6.3.1.1.5.3" {
			return "IF-MIB::linkDown"
		}
		return ""
	}
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: false, Names: names})
	tr := trap.Trap{Received: time.Now(), Source: "10.0.0.9", Version: "v2c", PDU: "trap", TrapOID: "1.3.6.1.6.3.1.1.5.3", Uptime: 1,
		Varbinds: []trap.Varbind{{OID: "1.3.6.1.2.1.2.2.1.1.3", Type: "Integer", Value: "3"}}}
	its := items(1, "heartbeat ok", "disk sda failed", "unmatched line")
	its = append(its, Item{Seq: 4, Payload: tr.Encode()},
		Item{Seq: 5, Payload: Custom{Received: time.Now(), Source: "10.0.0.50", Sender: "robot", ID: "job-1", Node: "web1", Key: "batch", Message: "nightly FAILED"}.Encode()},
		Item{Seq: 6, Payload: []byte{9, 9, 9}})
	ack, err := in.Ingest(ctx, Batch{Origin: "a", Items: its})
	if err != nil || ack.Watermark != 6 {
		t.Fatalf("%+v %v", ack, err)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM events WHERE kind LIKE 'monitor.%'`); n != 3 {
		t.Errorf("events raised: %d, want 3", n)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM events WHERE message = 'web1: disk sda failed' AND scope = 'A' AND severity = 'critical'`); n != 1 {
		t.Error("the disk event lacks its template, scope or priority")
	}
	if n := count(t, st, `SELECT COUNT(*) FROM events WHERE message = 'IF-MIB::linkDown on 10.0.0.9'`); n != 1 {
		t.Error("the trap event lacks its MIB name")
	}
	if n := count(t, st, `SELECT COUNT(*) FROM syslog_messages`); n != 1 {
		t.Errorf("syslog rows %d, want 1 (the notified one; dropped and unmatched are not kept)", n)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM custom_messages WHERE scope = 'A' AND node = 'web1'`); n != 1 {
		t.Errorf("custom rows in scope A: %d, want 1", n)
	}
	c := &in.Counters
	if c.RuleDrops.Load() != 1 || c.Unmatched.Load() != 1 || c.BadRecords.Load() != 1 || c.Events.Load() != 3 {
		t.Errorf("counters drops=%d unmatched=%d bad=%d events=%d", c.RuleDrops.Load(), c.Unmatched.Load(), c.BadRecords.Load(), c.Events.Load())
	}
	// The same batch ingested again after the ingestor lost its state
	// (as a new active whose watermark row was not yet written would):
	// events are keyed by message, so none is added.
	if _, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM ingest_watermarks`}, store.Statement{SQL: `DELETE FROM ingest_dedup_log`}); err != nil {
		t.Fatal(err)
	}
	in.Forget()
	if _, err := in.Ingest(ctx, Batch{Origin: "a", Items: its}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM events WHERE kind LIKE 'monitor.%'`); n != 3 {
		t.Errorf("events after a replay: %d, want 3", n)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r", "ctl \x01\x1f\x7f", "日本語", "bad \xff\xfe utf8", "</script>"} {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("%q came back %q", s, got)
		}
	}
}

// Once both appliances delivered a message, nothing of it stays in
// memory; repeats are still judged right afterwards.
func TestDedupStateHoldsOnlyUnpairedCopies(t *testing.T) {
	d := dedupState{}
	k := hashKey("10.0.0.9", "<13>1 - - app - - - x")
	d.set(k, "a/1", 1, 1)
	if len(d) != 1 || d.maxOther(k, "b/1") != 1 {
		t.Fatalf("first copy not remembered: %d entries", len(d))
	}
	d.set(k, "b/1", 1, 2)
	if len(d) != 0 {
		t.Fatalf("%d entries after both copies, want 0", len(d))
	}
	// A genuine repeat from the sender: new on a, a copy on b.
	if n := d.count(k, "a/1") + 1; n <= d.maxOther(k, "a/1") {
		t.Fatal("the repeat was taken for a copy")
	}
	d.set(k, "a/1", 1, 3)
	if n := d.count(k, "b/1") + 1; n > d.maxOther(k, "b/1") {
		t.Fatal("b's copy of the repeat was taken for a new message")
	}
}

// The dedup memory is bounded: a lone active fed only by its own spool
// (every message waits for a second copy that may never come) forgets
// the oldest past DedupMaxEntries, counts them, and stores everything.
func TestDedupMemoryBounded(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true, DedupMaxEntries: 100})
	seq := uint64(1)
	for b := range 5 {
		texts := make([]string, 60)
		for i := range texts {
			texts[i] = fmt.Sprintf("m-%d-%d", b, i)
		}
		if ack, err := in.Ingest(ctx, Batch{Origin: "a", Items: items(seq, texts...)}); err != nil || ack.Stored != 60 {
			t.Fatalf("batch %d: %+v %v", b, ack, err)
		}
		seq += 60
		if len(in.copies) > 100 {
			t.Fatalf("%d messages remembered, bound 100", len(in.copies))
		}
	}
	if n := in.Counters.DedupEvicted.Load(); n != 300-uint64(len(in.copies)) {
		t.Fatalf("evicted %d, want %d", n, 300-len(in.copies))
	}
	if n := count(t, st, `SELECT COUNT(*) FROM syslog_messages`); n != 300 {
		t.Fatalf("%d messages stored, want 300", n)
	}
}

// A batch larger than MaxBatchBytes is stored in part and acknowledged up
// to there; the resend of the rest stores the rest, nothing twice.
func TestPartialBatch(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	its := items(1, "a", "b", "c", "d", "e")
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true, MaxBatchBytes: 2*len(its[0].Payload) + 1})
	ack, err := in.Ingest(ctx, Batch{Origin: "a", Items: its})
	if err != nil || ack.Watermark != 2 || ack.Stored != 2 {
		t.Fatalf("first: %+v %v, want watermark 2", ack, err)
	}
	for ack.Watermark < 5 {
		if ack, err = in.Ingest(ctx, Batch{Origin: "a", Items: its[ack.Watermark:]}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, st, `SELECT COUNT(*) FROM syslog_messages`); n != 5 || in.Counters.PartialBatches.Load() != 2 {
		t.Fatalf("%d stored, %d partial batches; want 5 and 2", n, in.Counters.PartialBatches.Load())
	}
}

func TestDedupLimitKeepsNewest(t *testing.T) {
	d := dedupState{}
	for i := range 1000 {
		d.set(hashKey(fmt.Sprint(i)), "a", 1, int64(i/100)) // ten seconds, 100 each
	}
	if n := d.limit(400); n != 650 || len(d) != 350 {
		t.Fatalf("dropped %d, kept %d; want 650 and 350", n, len(d))
	}
	for k, e := range d {
		if e.last < 6 {
			t.Fatalf("kept %x seen at %d, older than dropped ones", k, e.last)
		}
	}
	if d.limit(400) != 0 || d.limit(0) != 0 {
		t.Fatal("dropped below the bound")
	}
}

// Compaction keeps the stored dedup state to what memory holds, and a new
// active that reloads it judges copies and repeats as before.
func TestCompactionKeepsDecisions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true})
	step := func(origin string, its []Item, stored, dup int) {
		t.Helper()
		ack, err := in.Ingest(ctx, Batch{Origin: origin, Items: its})
		if err != nil || ack.Stored != stored || ack.Duplicate != dup {
			t.Fatalf("%s: %+v %v, want stored %d dup %d", origin, ack, err, stored, dup)
		}
	}
	step("a", items(1, "x", "y", "z"), 3, 0)
	step("b", items(1, "x", "y"), 0, 2) // z still waits for b's copy
	if err := in.Expire(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM ingest_dedup_log`); n != 1 {
		t.Fatalf("%d dedup rows after compaction, want 1 (the snapshot of z)", n)
	}
	in.Forget()                         // a new active
	step("b", items(3, "z"), 0, 1)      // b's copy of z
	step("a", items(4, "x"), 1, 0)      // a sender's genuine repeat of x
	step("b", items(4, "x", "w"), 1, 1) // b's copy of that repeat, and a new w
}

// A node whose id reads like another node's address does not take that
// address's messages: ids and addresses are looked up apart.
func TestSourcesKeepIDsAndAddressesApart(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	for _, n := range []inventory.Node{{ID: "dev-b", Address: "10.0.0.7", Scope: "B"}, {ID: "10.0.0.7", Address: "10.0.0.70", Scope: "A"}} {
		if err := inventory.Put(ctx, st, n); err != nil {
			t.Fatal(err)
		}
	}
	in := NewIngestor(st, syslog.NewParser(time.UTC, syslog.UTF8), Options{KeepUnmatched: true})
	r := syslog.Record{Received: time.Now(), Source: "10.0.0.7", Transport: "udp", Raw: []byte("<13>1 - - app - - - probe")}
	if _, err := in.Ingest(ctx, Batch{Origin: "a", Items: []Item{{Seq: 1, Payload: r.Encode()}}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT COUNT(*) FROM syslog_messages WHERE scope = 'B' AND node = 'dev-b'`); n != 1 {
		t.Fatalf("the message from 10.0.0.7 is not the node at that address's (scope B): %d rows", n)
	}
}
