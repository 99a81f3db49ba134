package pipeline

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/ingest/spool"
)

// IngestPath is the active's route for batches from the peer's forwarder.
const IngestPath = "/internal/v1/ingest"

// Target says where the active is: Local (this node is active: ingest
// in process), a peer API address, or neither (wait).
type Target struct {
	Local bool
	Peer  string // host:port of the active peer's API
	SNI   string // the peer's node id (selects its appliance certificate)
}

// DefaultBatchBytes is the default of Forwarder.BatchBytes: the store's
// Raft log cache (the latest 512 entries, each about twice its batch's
// payload) stays within 256 MiB whatever the records' size. It was 2,000
// records of any size: 880 MB for 440 KB trap records.
const DefaultBatchBytes = 256 << 10

// Forwarder streams one spool to the active.
type Forwarder struct {
	Spool    *spool.Spool
	Origin   string
	Ingestor *Ingestor
	Target   func() Target
	TLS      *tls.Config // this node's mTLS client configuration
	Log      *slog.Logger
	// Batch bounds the records of one batch (default 2,000) and
	// BatchBytes their payload (default DefaultBatchBytes): a batch is
	// one Raft entry of about twice its payload, and the store keeps the
	// latest 512 entries in memory (rqlite's Raft log cache).
	Batch, BatchBytes int

	mu      sync.Mutex
	clients map[string]*http.Client // by the peer's node id (TLS server name)

	forwarded, failures atomic.Uint64
	acked               atomic.Uint64
	lastErr             atomic.Pointer[string] // the last delivery failure, "" after a success
}

// Status is what an operator sees of the receive path (mamori status).
type Status struct {
	Spooled    uint64 `json:"spooled"`     // records appended since start
	SpoolBytes int64  `json:"spool_bytes"` // held on disk
	Waiting    uint64 `json:"waiting"`     // records the active has not acknowledged yet
	Forwarded  uint64 `json:"forwarded"`
	Target     string `json:"target"` // "local", the active's node id, or "" (none reachable)
	LastError  string `json:"last_error,omitempty"`
}

// Status reports the spool and the forwarder.
func (f *Forwarder) Status() Status {
	st := f.Spool.Stats()
	last := st.NextSeq - 1
	s := Status{Spooled: st.Appended, SpoolBytes: st.Bytes, Waiting: last - min(f.acked.Load(), last), Forwarded: f.forwarded.Load()}
	switch t := f.Target(); {
	case t.Local:
		s.Target = "local"
	default:
		s.Target = t.SNI
	}
	if e := f.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Forwarded counts records sent and acknowledged; Failures counts failed sends.
func (f *Forwarder) Forwarded() uint64 { return f.forwarded.Load() }

// Failures counts batches that could not be delivered (and will be retried).
func (f *Forwarder) Failures() uint64 { return f.failures.Load() }

// Acked is the highest sequence the active acknowledged.
func (f *Forwarder) Acked() uint64 { return f.acked.Load() }

// Run forwards until ctx ends.
//
// Whenever the target changes (or a send failed), the forwarder first
// asks the active for its watermark of this origin and resends from
// there: a new active may lack records an earlier one acknowledged — a
// split brain's loser stored them in a store that recovery sets aside —
// and only records it does not have are sent (it skips the rest by
// sequence number). Records acknowledged by a store that a split brain
// could still set aside are kept (Spool.Release) until an acknowledgement
// that cannot be undone (Ack.Replicated) lets them be trimmed.
func (f *Forwarder) Run(ctx context.Context) error {
	if f.Batch <= 0 {
		f.Batch = 2000
	}
	if f.BatchBytes <= 0 {
		f.BatchBytes = DefaultBatchBytes
	}
	next := uint64(1)
	var at *Target // the target next was agreed with
	idle := 20 * time.Millisecond
	for ctx.Err() == nil {
		t := f.Target()
		if at == nil || *at != t {
			wm, err := f.watermark(ctx, t)
			if err != nil {
				f.failed(ctx, err)
				continue
			}
			next, at = max(wm+1, f.Spool.Stats().FirstSeq), &t
			f.lastErr.Store(nil) // the target answers: an earlier failure is over
		}
		es, err := f.Spool.Read(next, f.Batch, f.BatchBytes)
		if err != nil {
			// A spool that cannot be read now (disk trouble) is retried,
			// never a reason to stop receiving.
			f.failures.Add(1)
			if f.Log != nil {
				f.Log.Warn("spool read failed; retrying", "err", err)
			}
			sleep(ctx, time.Second)
			continue
		}
		if len(es) == 0 {
			sleep(ctx, idle)
			continue
		}
		ack, err := f.send(ctx, t, es)
		if err != nil {
			at = nil
			f.failed(ctx, err)
			continue
		}
		f.forwarded.Add(uint64(len(es)))
		f.lastErr.Store(nil)
		f.acked.Store(ack.Watermark)
		next = ack.Watermark + 1
		f.settle(ack)
	}
	return nil
}

// settle trims what the active has stored for good, and keeps (released)
// what a split brain could still take away.
func (f *Forwarder) settle(ack Ack) {
	if !ack.Replicated {
		f.Spool.Release(ack.Watermark)
		return
	}
	if err := f.Spool.Trim(ack.Watermark); err != nil && f.Log != nil {
		f.Log.Warn("spool trim failed", "err", err)
	}
}

func (f *Forwarder) failed(ctx context.Context, err error) {
	f.failures.Add(1)
	msg := err.Error()
	f.lastErr.Store(&msg)
	if f.Log != nil {
		f.Log.Debug("forward failed; will retry", "err", err)
	}
	sleep(ctx, 200*time.Millisecond)
}

// watermark asks the target how far it has stored this origin (an empty
// batch stores nothing and is answered with the watermark).
func (f *Forwarder) watermark(ctx context.Context, t Target) (uint64, error) {
	ack, err := f.send(ctx, t, nil)
	return ack.Watermark, err
}

func (f *Forwarder) send(ctx context.Context, t Target, es []spool.Entry) (Ack, error) {
	b := Batch{Origin: f.Origin, Items: make([]Item, len(es))}
	for i, e := range es {
		b.Items[i] = Item{Seq: e.Seq, Payload: e.Payload}
	}
	switch {
	case t.Local:
		return f.Ingestor.Ingest(ctx, b)
	case t.Peer == "":
		return Ack{}, errors.New("no active appliance reachable")
	}
	body, _ := json.Marshal(b)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+t.Peer+IngestPath, bytes.NewReader(body))
	if err != nil {
		return Ack{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client(t.SNI).Do(req)
	if err != nil {
		return Ack{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Ack{}, fmt.Errorf("active refused the batch: HTTP %d", resp.StatusCode)
	}
	var ack Ack
	err = json.NewDecoder(resp.Body).Decode(&ack)
	return ack, err
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// client returns the HTTP client for a peer, naming its node id so the
// peer answers with its appliance certificate.
func (f *Forwarder) client(sni string) *http.Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clients == nil {
		f.clients = map[string]*http.Client{}
	}
	c, ok := f.clients[sni]
	if !ok {
		tc := &tls.Config{}
		if f.TLS != nil {
			tc = f.TLS.Clone()
		}
		tc.ServerName = sni
		c = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 2}}
		f.clients[sni] = c
	}
	return c
}
