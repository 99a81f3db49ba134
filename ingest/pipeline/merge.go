package pipeline

import (
	"encoding/json"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/store"
)

// MergeRecord carries one row that an appliance wrote while it was the
// losing side of a split brain (read from its set-aside store after
// recovery) to the active, through the spool: so it arrives exactly once
// even across restarts and failovers. Events are stored by uid (INSERT OR
// IGNORE); audit entries are chained anew, marked as merged (auth.Merged).
// Stored messages need no merge record: the loser's spool kept them (see
// Spool.Release) and resends them, deduplicated like any copy.
type MergeRecord struct {
	From  string        `json:"from"` // the appliance that wrote the row
	Event *events.Event `json:"event,omitempty"`
	Audit *auth.Entry   `json:"audit,omitempty"`
}

const mergeKind = 5

// kindMerge marks merge records among received items.
const kindMerge = 4

// Encode serialises a merge record for the spool.
func (m MergeRecord) Encode() []byte {
	b, _ := json.Marshal(m)
	return append([]byte{mergeKind}, b...)
}

func decodeMerge(b []byte) (received, error) {
	var m MergeRecord
	if err := json.Unmarshal(b, &m); err != nil {
		return received{}, err
	}
	id := ""
	switch {
	case m.Event != nil:
		id = "event " + m.Event.UID
	case m.Audit != nil:
		id = "audit " + m.Audit.Hash
	}
	return received{kind: kindMerge, key: hashKey("merge", m.From, id), merge: m}, nil
}

// mergeStatements returns the inserts of the merged events and the
// merged audit entries (chained by the caller).
func mergeStatements(fresh []received) ([]store.Statement, []auth.Merged) {
	var evs rowSet
	var audits []auth.Merged
	for _, r := range fresh {
		switch {
		case r.kind != kindMerge:
		case r.merge.Event != nil:
			ev := r.merge.Event
			if events.Validate(*ev) != nil {
				continue
			}
			attrs, _ := json.Marshal(ev.Attrs)
			evs.add(ev.UID, ev.At.UTC().Format(time.RFC3339Nano), string(ev.Severity), ev.Kind, ev.Node, ev.Message, string(attrs), ev.Scope)
		case r.merge.Audit != nil:
			audits = append(audits, auth.Merged{From: r.merge.From, Entry: *r.merge.Audit})
		}
	}
	return evs.statements(3, nil), audits
}
