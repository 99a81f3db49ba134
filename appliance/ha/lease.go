package ha

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/internal/fileutil"
)

// LeasePath is the witness's only route.
const LeasePath = "/witness/v1/lease"

// Lease operations.
const (
	OpStatus  = "status"  // who holds the lease; changes nothing
	OpRenew   = "renew"   // the holder extends its lease
	OpAcquire = "acquire" // take the lease (and a new epoch) if it is free or expired
)

// LeaseRequest is sent by an appliance to the witness. The node is the
// CN of the client certificate, never a field the client could forge.
type LeaseRequest struct {
	Op    string `json:"op"`
	Epoch uint64 `json:"epoch"`
	TTLms int64  `json:"ttl_ms"`
}

// LeaseReply is the witness's answer.
type LeaseReply struct {
	Granted     bool   `json:"granted"`
	Holder      string `json:"holder"`
	Epoch       uint64 `json:"epoch"`
	ExpiresInMs int64  `json:"expires_in_ms"`
	Reason      string `json:"reason,omitempty"`
}

// Witness is the lease arbiter run by `mamori witness` on a third host.
// It holds no monitoring data: only who is active and the pair's epoch,
// persisted before any grant is answered. A node is granted the lease
// only if the lease is free or expired (or already its own) and the node
// is not behind the current epoch, so under any single failure at most
// one appliance holds it.
type Witness struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex
	st   witnessState
	// until is on this process's monotonic clock: a restarted witness
	// grants nothing to a new holder until one full TTL has passed.
	until time.Time
}

type witnessState struct {
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`
}

// OpenWitness loads the witness state from dataDir.
func OpenWitness(dataDir string, logger *slog.Logger) (*Witness, error) {
	w := &Witness{path: filepath.Join(dataDir, "lease.json"), log: logger.With("component", "witness")}
	if err := fileutil.ReadJSON(w.path, &w.st); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	w.until = time.Now().Add(10 * time.Second) // a restarted witness honours the old lease for a while
	return w, nil
}

// Decide applies one request from node.
func (w *Witness) Decide(node string, req LeaseRequest) (LeaseReply, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	ttl := time.Duration(req.TTLms) * time.Millisecond
	if ttl <= 0 || ttl > time.Minute {
		return LeaseReply{}, fmt.Errorf("ttl_ms must be 1..60000")
	}
	free := w.st.Holder == "" || now.After(w.until)
	reply := func(ok bool, reason string) LeaseReply {
		return LeaseReply{Granted: ok, Holder: w.st.Holder, Epoch: w.st.Epoch, ExpiresInMs: max(0, w.until.Sub(now).Milliseconds()), Reason: reason}
	}
	switch req.Op {
	case OpStatus:
		return reply(false, ""), nil
	case OpRenew:
		if w.st.Holder != node || req.Epoch != w.st.Epoch {
			return reply(false, "not the holder at this epoch"), nil
		}
		w.until = now.Add(ttl)
		return reply(true, ""), nil
	case OpAcquire:
		if req.Epoch < w.st.Epoch && w.st.Holder != node {
			return reply(false, fmt.Sprintf("node is behind: epoch %d < %d", req.Epoch, w.st.Epoch)), nil
		}
		if !free && w.st.Holder != node {
			return reply(false, "held by "+w.st.Holder), nil
		}
		next := witnessState{Holder: node, Epoch: max(w.st.Epoch, req.Epoch) + 1}
		if err := fileutil.WriteJSON(w.path, next); err != nil {
			return LeaseReply{}, err
		}
		w.st, w.until = next, now.Add(ttl)
		w.log.Info("lease granted", "holder", node, "epoch", next.Epoch)
		return reply(true, ""), nil
	}
	return LeaseReply{}, fmt.Errorf("unknown op %q", req.Op)
}

// leaseClient talks to the witness.
type leaseClient struct {
	addr   string
	client *http.Client
}

func newLeaseClient(addr string, tlsCfg *tls.Config, timeout time.Duration) *leaseClient {
	return &leaseClient{addr: addr, client: &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 1}}}
}

func (l *leaseClient) call(ctx context.Context, req LeaseRequest) (LeaseReply, error) {
	b, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+l.addr+LeasePath, bytes.NewReader(b))
	if err != nil {
		return LeaseReply{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(hr)
	if err != nil {
		return LeaseReply{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return LeaseReply{}, fmt.Errorf("witness: HTTP %d", resp.StatusCode)
	}
	var r LeaseReply
	err = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&r)
	return r, err
}
