package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
)

// ingestBatch stores a batch from the peer's spool (node certificates only).
func (s *Server) ingestBatch(c *gin.Context) {
	var b pipeline.Batch
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 256<<20)).Decode(&b); err != nil {
		fail(c, http.StatusBadRequest, "bad batch: "+err.Error())
		return
	}
	ack, err := s.opts.Ingestor.Ingest(c.Request.Context(), b)
	switch {
	case errors.Is(err, store.ErrNotLeader), errors.Is(err, store.ErrClosed):
		s.notActive(c)
	case err != nil:
		fail(c, http.StatusInternalServerError, err.Error())
	default:
		c.JSON(http.StatusOK, ack)
	}
}

// SyslogMessage is a stored syslog message as the API lists it.
type SyslogMessage struct {
	ID         int64  `json:"id"`
	ReceivedAt string `json:"received_at"`
	Source     string `json:"source"`
	Facility   int64  `json:"facility"`
	Severity   int64  `json:"severity"`
	Hostname   string `json:"hostname"`
	AppName    string `json:"app_name"`
	Text       string `json:"text"`
	Origin     string `json:"origin"`
}

// listSyslog lists stored syslog messages. Messages are not yet mapped to
// nodes and scopes, so only callers who see every scope get them.
func (s *Server) listSyslog(c *gin.Context) {
	p, _ := principal(c)
	if p.Scopes() != nil {
		c.JSON(http.StatusOK, gin.H{"messages": []SyslogMessage{}})
		return
	}
	after, err1 := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	limit, err2 := strconv.Atoi(c.DefaultQuery("limit", "1000"))
	if err1 != nil || err2 != nil || limit < 1 || limit > 100000 {
		fail(c, http.StatusBadRequest, "after and limit (1..100000) must be integers")
		return
	}
	rows, err := s.events.Query(c.Request.Context(), store.Local, `SELECT id, received_at, source, facility, severity, hostname, app_name, text, origin
		FROM syslog_messages WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		s.authFail(c, err)
		return
	}
	out := make([]SyslogMessage, 0, len(rows.Values))
	for _, v := range rows.Values {
		str := func(i int) string { x, _ := v[i].(string); return x }
		num := func(i int) int64 { x, _ := v[i].(int64); return x }
		out = append(out, SyslogMessage{ID: num(0), ReceivedAt: str(1), Source: str(2), Facility: num(3), Severity: num(4),
			Hostname: str(5), AppName: str(6), Text: str(7), Origin: str(8)})
	}
	c.JSON(http.StatusOK, gin.H{"messages": out})
}
