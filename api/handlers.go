package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

const maxBody = 4 << 20

func peerOf(r *http.Request) (pairing.Peer, error) {
	return pairing.PeerOf(r.TLS)
}

// health says up or down to anyone (a load balancer); its role and node
// id only to a logged-in user or a certificate of the pair.
func (s *Server) health(c *gin.Context) {
	st := s.cluster.Status(c.Request.Context())
	code := http.StatusOK
	if !st.Store.Open {
		code = http.StatusServiceUnavailable
	}
	if _, known := principal(c); !known {
		c.JSON(code, Health{Status: http.StatusText(code)})
		return
	}
	c.JSON(code, Health{Status: http.StatusText(code), Role: st.Role, NodeID: st.NodeID})
}

// ClusterStatus is /api/v1/cluster: the HA view and this appliance's receive path.
type ClusterStatus struct {
	ha.Status
	Ingest *pipeline.Status `json:"ingest,omitempty"`
}

func (s *Server) clusterStatus(c *gin.Context) {
	out := ClusterStatus{Status: s.cluster.Status(c.Request.Context())}
	if s.opts.IngestStatus != nil {
		st := s.opts.IngestStatus()
		out.Ingest = &st
	}
	c.JSON(http.StatusOK, out)
}

// postEvents stores one event or an array of events in one transaction.
func (s *Server) postEvents(c *gin.Context) {
	evs, err := decodeEvents(c.Request)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	p, _ := principal(c)
	for _, ev := range evs {
		o := auth.Object{Kind: "event", ID: ev.UID, Scope: ev.Scope}
		if err := p.MayWrite(auth.Write{F: auth.MonitorResult, New: &o}); err != nil {
			refused(c, err)
			return
		}
	}
	c.Set(ctxDetail, strconv.Itoa(len(evs))+" events")
	for i := range evs {
		if evs[i].UID == "" {
			evs[i].UID = keyedID(c, i, events.NewUID)
		}
		if evs[i].At.IsZero() {
			evs[i].At = time.Now().UTC()
		}
		if evs[i].Severity == "" {
			evs[i].Severity = events.Info
		}
		if evs[i].Node == "" {
			evs[i].Node = "api"
		}
	}
	s.storeEvents(c, evs)
}

func (s *Server) storeEvents(c *gin.Context, evs []events.Event) {
	err := events.Insert(c.Request.Context(), s.events, evs)
	switch {
	case err == nil:
		c.JSON(http.StatusOK, Stored{Stored: len(evs)})
	case errors.Is(err, events.ErrInvalid):
		fail(c, http.StatusBadRequest, err.Error())
	default:
		s.storeFail(c, err)
	}
}

// keyedID is the id of the i-th item of a request that names none: made
// from the request's Idempotency-Key when it has one (a resent request
// then names the same items), else by fresh().
func keyedID(c *gin.Context, i int, fresh func() string) string {
	key := c.GetHeader(IdempotencyHeader)
	if key == "" {
		return fresh()
	}
	p, _ := principal(c)
	h := sha256.Sum256([]byte(p.User + "\x00" + key))
	return "ik-" + hex.EncodeToString(h[:12]) + "-" + strconv.Itoa(i)
}

func decodeEvents(r *http.Request) ([]events.Event, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, errors.New("request body too large or unreadable (limit 4 MiB)")
	}
	var evs []events.Event
	if len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &evs)
	} else {
		var ev events.Event
		err = json.Unmarshal(b, &ev)
		evs = []events.Event{ev}
	}
	if err != nil {
		return nil, errors.New("body must be a JSON event or array of events: " + err.Error())
	}
	if len(evs) == 0 || len(evs) > 10000 {
		return nil, errors.New("send between 1 and 10000 events per request")
	}
	return evs, nil
}

func (s *Server) heartbeat(c *gin.Context) {
	var in ha.Beat
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 64<<10)).Decode(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad heartbeat: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, s.cluster.Heartbeat(in))
}

func (s *Server) peerEvents(c *gin.Context) {
	evs, err := decodeEvents(c.Request)
	if err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	s.storeEvents(c, evs)
}

func (s *Server) recover(c *gin.Context) {
	err := s.cluster.Recover(c.Request.Context())
	switch {
	case err == nil:
		c.JSON(http.StatusOK, s.cluster.Status(c.Request.Context()))
	case errors.Is(err, ha.ErrIsActive), errors.Is(err, ha.ErrNotPaired), errors.Is(err, ha.ErrBusy):
		fail(c, http.StatusConflict, err.Error())
	case errors.Is(err, ha.ErrPeerNotActive):
		fail(c, http.StatusServiceUnavailable, err.Error())
	default:
		fail(c, http.StatusInternalServerError, err.Error())
	}
}

// checksums are of whole tables, every scope's rows: only a caller that
// sees all scopes may read them.
func (s *Server) checksums(c *gin.Context) {
	if p, _ := principal(c); !p.Covers("") {
		fail(c, http.StatusForbidden, "the checksums cover the rows of every scope: they need a role that sees all scopes")
		return
	}
	sums, err := s.events.Checksums(c.Request.Context())
	if err != nil {
		fail(c, http.StatusServiceUnavailable, err.Error())
		return
	}
	c.JSON(http.StatusOK, sums)
}
