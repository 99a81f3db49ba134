package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
)

// Merger merges back what this appliance wrote while it was the losing
// side of a split brain. `mamori recover` sets the losing store aside;
// once this appliance is a member again (standby or active), the merger
// reads each set-aside store not merged yet, finds where it parted from
// the pair's store (walking back from its newest rows to the first one
// the pair holds unchanged), and sends the events and audit entries
// written after that point to the active through the spool as
// MergeRecords. Settings are not merged: rows that differ are listed in
// an ha.merged event for the operator. A set-aside store from a recovery
// without a split brain parts nowhere: nothing to merge.
type Merger struct {
	Self  string
	Old   func() []store.OldStore
	Local Store // this appliance's store: a replica of the active's
	Spool interface {
		AppendDurable([][]byte) (int, error)
	}
	// Ready says whether this appliance is a current member (standby or active).
	Ready func() bool
	// Record raises an event (kept pending until the active stores it).
	Record func(context.Context, events.Event)
	// Prune applies the retention of merged set-aside stores.
	Prune func(now time.Time) ([]string, error)
	Log   *slog.Logger
}

// Run merges whatever is pending every few seconds until ctx ends.
func (m *Merger) Run(ctx context.Context) error {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if m.Ready() {
			m.mergePending(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *Merger) mergePending(ctx context.Context) {
	for _, o := range m.Old() {
		if o.Merge != nil {
			continue
		}
		r, err := m.Merge(ctx, o.Path)
		if err != nil {
			m.Log.Warn("merge of a set-aside store failed; will retry", "store", o.Name, "err", err)
			return
		}
		m.Log.Info("set-aside store merged", "store", o.Name, "events", r.Events, "audit", r.Audit, "settings_differing", len(r.Settings))
		m.report(ctx, o, r)
	}
	if gone, err := m.Prune(time.Now()); err != nil || len(gone) > 0 {
		m.Log.Info("set-aside stores removed by retention", "removed", gone, "err", err)
	}
}

func (m *Merger) report(ctx context.Context, o store.OldStore, r store.MergeReport) {
	if r.Events == 0 && r.Audit == 0 && len(r.Settings) == 0 {
		return // nothing happened here that the pair lacks
	}
	msg := fmt.Sprintf("%s merged back %d events and %d audit entries it wrote during a split brain (from %s)", m.Self, r.Events, r.Audit, o.Path)
	sev := events.Warning
	if len(r.Settings) > 0 {
		sev = events.Critical
		msg += fmt.Sprintf("; %d settings differ and were NOT merged — check them: %s", len(r.Settings), strings.Join(r.Settings, "; "))
	}
	m.Record(ctx, events.Event{Severity: sev, Kind: "ha.merged", Message: msg,
		Attrs: map[string]string{"store": o.Path, "events": fmt.Sprint(r.Events), "audit": fmt.Sprint(r.Audit), "settings": fmt.Sprint(len(r.Settings))}})
}

// Merge sends what the set-aside store at path holds that the pair's
// store lacks, and records the report in it.
func (m *Merger) Merge(ctx context.Context, path string) (store.MergeReport, error) {
	rep := store.MergeReport{At: time.Now().UTC()}
	db, err := store.OpenOld(path)
	if err != nil {
		return rep, store.MarkMerged(path, rep) // no database: nothing was ever stored there
	}
	defer db.Close()
	var recs [][]byte
	if db.HasTable(ctx, "events") {
		evs, err := m.newEvents(ctx, db)
		if err != nil {
			return rep, err
		}
		for _, ev := range evs {
			recs = append(recs, MergeRecord{From: m.Self, Event: &ev}.Encode())
		}
		rep.Events = len(evs)
	}
	if db.HasTable(ctx, "audit") {
		es, err := m.newAudit(ctx, db)
		if err != nil {
			return rep, err
		}
		for _, e := range es {
			recs = append(recs, MergeRecord{From: m.Self, Audit: &e}.Encode())
		}
		rep.Audit = len(es)
	}
	if rep.Settings, err = m.settingsDiff(ctx, db); err != nil {
		return rep, err
	}
	for chunk := range slices.Chunk(recs, 500) {
		if _, err := m.Spool.AppendDurable(chunk); err != nil {
			return rep, fmt.Errorf("spool the merged rows: %w", err)
		}
	}
	return rep, store.MarkMerged(path, rep)
}

// walkBack pages through a table of the set-aside store from its newest
// row (keyset on key, descending) and gives each page to f until f says
// the pair's store holds a row unchanged (where the two parted).
func walkBack(ctx context.Context, db *store.OldDB, q string, f func([][]any) (stop bool, err error)) error {
	after := int64(1) << 62
	for {
		rows, err := db.Query(ctx, q, after)
		if err != nil {
			return err
		}
		if len(rows.Values) == 0 {
			return nil
		}
		stop, err := f(rows.Values)
		if stop || err != nil {
			return err
		}
		after, _ = rows.Values[len(rows.Values)-1][0].(int64)
	}
}

// newEvents returns, oldest first, the events of the set-aside store that
// the pair's store lacks (by uid) and that are newer than the newest
// event both hold under the same id. The walk also stops at events no
// newer than what retention deleted from the pair: the common rows may
// be gone, and those older rows would be deleted again anyway.
func (m *Merger) newEvents(ctx context.Context, db *store.OldDB) ([]events.Event, error) {
	horizon, err := Horizon(ctx, m.Local, "events")
	if err != nil {
		return nil, err
	}
	var out []events.Event
	err = walkBack(ctx, db, `SELECT id, uid, at, severity, kind, node, message, attrs, scope FROM events WHERE id < ? ORDER BY id DESC LIMIT 500`,
		func(page [][]any) (bool, error) {
			uids := make([]string, len(page))
			for i, v := range page {
				uids[i], _ = v[1].(string)
			}
			held, err := m.localIDs(ctx, `SELECT uid, id FROM events WHERE uid IN (SELECT value FROM json_each(?))`, uids)
			if err != nil {
				return false, err
			}
			for i, v := range page {
				id, _ := v[0].(int64)
				at, _ := v[2].(string)
				switch hid, ok := held[uids[i]]; {
				case ok && hid == id, horizon != "" && at <= horizon:
					return true, nil
				case !ok:
					out = append(out, scanEvent(v))
				}
			}
			return false, nil
		})
	slices.Reverse(out)
	return out, err
}

// newAudit returns, oldest first, the audit entries of the set-aside store
// newer than the newest row the pair's chain holds unchanged (same seq,
// same hash). Entries the spool carried (recorded while not active) are
// left out: the spool resends them by itself.
func (m *Merger) newAudit(ctx context.Context, db *store.OldDB) ([]auth.Entry, error) {
	var out []auth.Entry
	err := walkBack(ctx, db, `SELECT seq, at, user, source, user_agent, action, object, result, detail, prev_hash, hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT 500`,
		func(page [][]any) (bool, error) {
			seqs := make([]int64, len(page))
			for i, v := range page {
				seqs[i], _ = v[0].(int64)
			}
			held, err := m.localHashes(ctx, seqs)
			if err != nil {
				return false, err
			}
			for _, v := range page {
				e := scanEntry(v)
				if held[e.Seq] == e.Hash {
					return true, nil
				}
				if !strings.HasSuffix(e.Detail, spooledSuffix) {
					out = append(out, e)
				}
			}
			return false, nil
		})
	slices.Reverse(out)
	return out, err
}

func (m *Merger) localIDs(ctx context.Context, q string, keys []string) (map[string]int64, error) {
	b, _ := json.Marshal(keys)
	rows, err := m.Local.Query(ctx, store.Local, q, string(b))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows.Values))
	for _, v := range rows.Values {
		k, _ := v[0].(string)
		out[k], _ = v[1].(int64)
	}
	return out, nil
}

func (m *Merger) localHashes(ctx context.Context, seqs []int64) (map[int64]string, error) {
	b, _ := json.Marshal(seqs)
	rows, err := m.Local.Query(ctx, store.Local, `SELECT seq, hash FROM audit WHERE seq IN (SELECT value FROM json_each(?))`, string(b))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows.Values))
	for _, v := range rows.Values {
		s, _ := v[0].(int64)
		out[s], _ = v[1].(string)
	}
	return out, nil
}

func scanEvent(v []any) events.Event {
	s := func(i int) string { x, _ := v[i].(string); return x }
	at, _ := time.Parse(time.RFC3339Nano, s(2))
	ev := events.Event{UID: s(1), At: at, Severity: events.Severity(s(3)), Kind: s(4), Node: s(5), Message: s(6), Scope: s(8)}
	_ = json.Unmarshal([]byte(s(7)), &ev.Attrs)
	return ev
}

func scanEntry(v []any) auth.Entry {
	s := func(i int) string { x, _ := v[i].(string); return x }
	seq, _ := v[0].(int64)
	at, _ := time.Parse(time.RFC3339Nano, s(1))
	return auth.Entry{Seq: seq, At: at, User: s(2), Source: s(3), UserAgent: s(4), Action: s(5), Object: s(6),
		Result: s(7), Detail: s(8), PrevHash: s(9), Hash: s(10)}
}

// settingsTables are the settings compared after a split brain, by key.
var settingsTables = []struct{ table, key, label string }{
	{"users", "name", "user"}, {"roles", "name", "role"}, {"nodes", "id", "node"},
	{"credentials", "name", "credential"}, {"monitor_rules", "id", "monitor rule"},
}

// settingsDiff lists the settings rows that differ between the set-aside
// store and the pair's store (at most 100).
func (m *Merger) settingsDiff(ctx context.Context, db *store.OldDB) ([]string, error) {
	var out []string
	for _, t := range settingsTables {
		if !db.HasTable(ctx, t.table) {
			continue
		}
		q := fmt.Sprintf(`SELECT %s, * FROM %s`, t.key, t.table)
		old, err := db.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		cur, err := m.Local.Query(ctx, store.Local, q)
		if err != nil {
			return nil, err
		}
		out = append(out, diffRows(t.label, old, cur)...)
	}
	if len(out) > 100 {
		out = append(out[:100], fmt.Sprintf("and %d more", len(out)-100))
	}
	return out, nil
}

// diffRows compares rows keyed by their first column. Volatile columns
// (a TOTP step counter moves at every login) do not count.
func diffRows(label string, old, cur store.Rows) []string {
	key := func(rows store.Rows) map[string]string {
		m := map[string]string{}
		for _, v := range rows.Values {
			vals := []any{}
			for i, c := range rows.Columns[1:] {
				if c != "totp_last_step" {
					vals = append(vals, v[i+1])
				}
			}
			b, _ := json.Marshal(vals)
			m[fmt.Sprint(v[0])] = string(b)
		}
		return m
	}
	o, c := key(old), key(cur)
	var out []string
	for k, ov := range o {
		switch cv, ok := c[k]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s %s exists only in the set-aside copy", label, k))
		case cv != ov:
			out = append(out, fmt.Sprintf("%s %s differs", label, k))
		}
	}
	for k := range c {
		if _, ok := o[k]; !ok {
			out = append(out, fmt.Sprintf("%s %s exists only on the active", label, k))
		}
	}
	slices.Sort(out)
	return out
}
