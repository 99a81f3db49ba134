package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// backupStore streams a consistent snapshot of this appliance's store to
// `mamori backup`, which adds the keys and encrypts the whole. It works
// on the standby too: the snapshot is of what this appliance has applied.
// The route is audited like every self route (one row once it ends).
func (s *Server) backupStore(c *gin.Context) {
	if s.opts.Snapshot == nil {
		fail(c, http.StatusServiceUnavailable, "this appliance cannot take store snapshots")
		return
	}
	w := &lazyBody{c: c}
	err := s.opts.Snapshot(w)
	switch {
	case err != nil && !w.started:
		fail(c, http.StatusServiceUnavailable, "store snapshot failed: "+err.Error()+": retry in a moment")
	case err != nil:
		// The status is sent: the CLI checks the SQLite file it received
		// (quick_check) and refuses a partial one.
		s.log.Warn("store snapshot failed", "err", err)
		c.Set(ctxDetail, "snapshot failed: "+err.Error())
	case !w.started:
		w.start()
	}
}

// lazyBody sends the 200 status with the first byte of the snapshot, so a
// snapshot that fails before it starts is answered with an error status.
type lazyBody struct {
	c       *gin.Context
	started bool
}

func (w *lazyBody) start() {
	w.started = true
	w.c.Header("Content-Type", "application/octet-stream")
	w.c.Status(http.StatusOK)
	w.c.Writer.WriteHeaderNow()
}

func (w *lazyBody) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.c.Writer.Write(p)
}
