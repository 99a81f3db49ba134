package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/pollers/metrics"
	"github.com/mamori-ops/mamori/pollers/monitor"
)

// The series store of numeric monitor results (pollers/metrics): reading
// series for graphs, and "custom metrics" posted by scripts.

// MetricSeries is one series of a GET /api/v1/metrics answer.
type MetricSeries struct {
	Monitor    string `json:"monitor"`
	Node       string `json:"node"`
	Item       string `json:"item"`
	Unit       string `json:"unit"`
	Resolution string `json:"resolution"`
	// Points are [unix ms, value] for one result, [unix ms, average, min,
	// max] for a 5m or 1h bucket or a run of results combined to stay
	// within points.
	Points [][]float64 `json:"points"`
}

// MetricsAnswer is the answer of GET /api/v1/metrics.
type MetricsAnswer struct {
	Series []MetricSeries `json:"series"`
	// Thresholds is the monitor's judgement, when the appliance knows the
	// monitor (absent otherwise).
	Thresholds json.RawMessage `json:"thresholds,omitempty"`
}

// MetricKey names one stored series.
type MetricKey struct {
	Monitor string `json:"monitor"`
	Node    string `json:"node"`
	Item    string `json:"item"`
}

// MetricSeriesList is the answer of GET /api/v1/metrics/series.
type MetricSeriesList struct {
	Series []MetricKey `json:"series"`
}

// MetricPoint is one value a script posts.
type MetricPoint struct {
	Monitor string `json:"monitor"` // a name for the series' source (a monitor id, or any name for a script's metrics)
	Node    string `json:"node"`    // inventory node id or address
	Item    string `json:"item"`    // optional
	// At is the value's time (RFC 3339); empty: now.
	At    string  `json:"at"`
	Value float64 `json:"value"`
}

// MetricPointsRequest is the body of POST /api/v1/metrics.
type MetricPointsRequest struct {
	Points []MetricPoint `json:"points"`
}

var metricsQuery = []queryParam{
	{"monitor", "string", "the monitor (required)", nil},
	{"node", "string", "node ids, comma-separated or the parameter repeated (none: every node of the monitor)", nil},
	{"item", "string", "item keys, comma-separated or repeated (none: every item)", nil},
	{"from", "integer", "start, unix ms (an RFC 3339 time is taken too; default: 1 hour before to)", nil},
	{"to", "integer", "end, unix ms (or RFC 3339; default: now)", nil},
	{"points", "integer", "at most this many points per series (default 1000, at most 200000); also picks the resolution", nil},
}

// Bounds of metric requests.
const (
	maxMetricSeries    = 50
	maxMetricPoints    = 200_000
	maxMetricPost      = 10_000
	maxMetricNameBytes = 256
	metricFuture       = 5 * time.Minute
)

func (s *Server) metricsStore(c *gin.Context) (*metrics.Writer, bool) {
	if s.opts.Metrics == nil {
		fail(c, http.StatusServiceUnavailable, "the metrics store is not running on this appliance")
		return nil, false
	}
	return s.opts.Metrics, true
}

func (s *Server) getMetrics(c *gin.Context) {
	w, ok := s.metricsStore(c)
	if !ok {
		return
	}
	from, to, points, ok := metricsRange(c)
	if !ok {
		return
	}
	keys, ok := s.metricKeys(c, w)
	if !ok {
		return
	}
	res := w.Resolution(from, to, points)
	ss, err := w.Read(c.Request.Context(), keys, from, to, res, points)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	out := MetricsAnswer{Series: make([]MetricSeries, len(ss))}
	for i, x := range ss {
		out.Series[i] = MetricSeries{Monitor: x.Monitor, Node: x.Node, Item: x.Item, Resolution: x.Resolution, Points: x.Points}
	}
	out.Thresholds = s.metricThresholds(c)
	c.JSON(http.StatusOK, out)
}

func metricsRange(c *gin.Context) (from, to time.Time, points int, ok bool) {
	to, points = time.Now(), 1000
	var err error
	if v := c.Query("to"); v != "" {
		if to, err = parseMetricTime(v); err != nil {
			fail(c, http.StatusBadRequest, "to: "+err.Error())
			return
		}
	}
	from = to.Add(-time.Hour)
	if v := c.Query("from"); v != "" {
		if from, err = parseMetricTime(v); err != nil {
			fail(c, http.StatusBadRequest, "from: "+err.Error())
			return
		}
	}
	if from.After(to) {
		fail(c, http.StatusBadRequest, "from must not be after to")
		return
	}
	if v := c.Query("points"); v != "" {
		if points, err = strconv.Atoi(v); err != nil || points < 1 || points > maxMetricPoints {
			fail(c, http.StatusBadRequest, "points: give a number from 1 to "+strconv.Itoa(maxMetricPoints))
			return
		}
	}
	return from, to, points, true
}

func parseMetricTime(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, errBadTime
	}
	return t, nil
}

var errBadTime = &metricError{"give an RFC 3339 time (2026-12-01T09:00:00Z) or unix milliseconds"}

type metricError struct{ s string }

func (e *metricError) Error() string { return e.s }

// metricKeys lists the series the query names that the caller may see:
// nodes of scopes outside the caller's are left out as if absent.
func (s *Server) metricKeys(c *gin.Context, w *metrics.Writer) ([]metrics.Key, bool) {
	monitor := c.Query("monitor")
	if monitor == "" {
		fail(c, http.StatusBadRequest, "monitor: name the monitor whose series to read (GET /api/v1/metrics/series lists them)")
		return nil, false
	}
	all, err := w.Series(c.Request.Context(), monitor, 10_000)
	if err != nil {
		s.storeFail(c, err)
		return nil, false
	}
	nodes, items := set(c.QueryArray("node")), set(c.QueryArray("item"))
	// A series with no item is named by an empty item= (or a list with an empty member).
	seen := s.scopeFilter(c)
	var keys []metrics.Key
	for _, k := range all {
		if (len(nodes) > 0 && !nodes[k.Node]) || (len(items) > 0 && !items[k.Item]) || !seen(k.Node) {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) > maxMetricSeries {
		fail(c, http.StatusBadRequest, "the query names "+strconv.Itoa(len(keys))+" series: name at most "+strconv.Itoa(maxMetricSeries)+" with node= and item=")
		return nil, false
	}
	return keys, true
}

// set gathers repeated and comma-separated values.
func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		for _, x := range strings.Split(v, ",") {
			m[x] = true
		}
	}
	return m
}

// scopeFilter says whether the caller sees a node's series (a node no
// longer in the inventory: only roles of every scope).
func (s *Server) scopeFilter(c *gin.Context) func(node string) bool {
	p, _ := principal(c)
	cache := map[string]bool{}
	return func(node string) bool {
		if v, ok := cache[node]; ok {
			return v
		}
		n, err := inventory.Get(c.Request.Context(), s.events, node)
		v := p.Covers("")
		if err == nil {
			v = p.Covers(n.Scope)
		}
		cache[node] = v
		return v
	}
}

func (s *Server) listMetricSeries(c *gin.Context) {
	w, ok := s.metricsStore(c)
	if !ok {
		return
	}
	all, err := w.Series(c.Request.Context(), c.Query("monitor"), 10_000)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	seen := s.scopeFilter(c)
	out := MetricSeriesList{Series: []MetricKey{}}
	for _, k := range all {
		if seen(k.Node) {
			out.Series = append(out.Series, MetricKey{Monitor: k.Monitor, Node: k.Node, Item: k.Item})
		}
	}
	c.JSON(http.StatusOK, out)
}

// postMetrics takes values from scripts into the series store of the
// active (a standby answers not_active). Like every result they are
// written with the next flush of the active's series writer.
func (s *Server) postMetrics(c *gin.Context) {
	w, ok := s.metricsStore(c)
	if !ok {
		return
	}
	var in MetricPointsRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, c.Request.Body, 4<<20)).Decode(&in); err != nil {
		fail(c, http.StatusBadRequest, `bad request body: `+err.Error()+`: send {"points": [{"monitor": "...", "node": "...", "value": 1.5}]}`)
		return
	}
	if len(in.Points) == 0 || len(in.Points) > maxMetricPost {
		fail(c, http.StatusBadRequest, "points: send 1 to "+strconv.Itoa(maxMetricPost)+" points")
		return
	}
	// The writer's loop may start a moment after the role changes; points
	// added meanwhile wait in memory for its first flush.
	if !w.Running() && s.cluster.Role() != ha.Active {
		s.notActive(c)
		return
	}
	keys, ats, ok := s.checkMetricPoints(c, in.Points)
	if !ok {
		return
	}
	for i, p := range in.Points {
		w.Add(keys[i], ats[i], p.Value)
	}
	c.Set(ctxDetail, strconv.Itoa(len(in.Points))+" metric points")
	c.JSON(http.StatusAccepted, Accepted{Accepted: len(in.Points)})
}

func (s *Server) checkMetricPoints(c *gin.Context, pts []MetricPoint) ([]metrics.Key, []time.Time, bool) {
	p, _ := principal(c)
	now := time.Now()
	keys, ats := make([]metrics.Key, len(pts)), make([]time.Time, len(pts))
	nodes := map[string]string{} // reference → node id, checked
	for i, pt := range pts {
		field := "points[" + strconv.Itoa(i) + "]."
		msg := ""
		switch {
		case pt.Monitor == "" || len(pt.Monitor) > maxMetricNameBytes:
			msg = "monitor: give a name of 1 to 256 bytes"
		case len(pt.Item) > maxMetricNameBytes:
			msg = "item: at most 256 bytes"
		case math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0):
			msg = "value: give a finite number"
		}
		ats[i] = now
		if pt.At != "" && msg == "" {
			t, err := time.Parse(time.RFC3339Nano, pt.At)
			switch {
			case err != nil:
				msg = "at: give an RFC 3339 time such as 2026-12-01T09:00:00Z, or leave it out for now"
			case t.After(now.Add(metricFuture)):
				msg = "at: " + pt.At + " is in the future: check the sender's clock"
			}
			ats[i] = t
		}
		if msg != "" {
			fail(c, http.StatusBadRequest, field+msg)
			return nil, nil, false
		}
		id, seen := nodes[pt.Node]
		if !seen {
			var ok bool
			if id, ok = s.metricNode(c, p, field+"node", pt.Node); !ok {
				return nil, nil, false
			}
			nodes[pt.Node] = id
		}
		keys[i] = metrics.Key{Monitor: pt.Monitor, Node: id, Item: pt.Item}
	}
	return keys, ats, true
}

// metricNode resolves a point's node (id or address) and applies the
// scope rule: a caller may add values only for nodes it sees.
func (s *Server) metricNode(c *gin.Context, p auth.Principal, field, ref string) (string, bool) {
	if ref == "" {
		fail(c, http.StatusBadRequest, field+": name the node (inventory id or address) the value is about")
		return "", false
	}
	n, found, err := s.nodeByRef(c.Request.Context(), ref)
	if err != nil {
		s.storeFail(c, err)
		return "", false
	}
	obj := auth.Object{Kind: "metric", Scope: n.Scope}
	w := auth.Write{F: auth.MonitorResult, New: &obj, Refs: []auth.Ref{{Object: auth.Object{Kind: "node", ID: ref, Scope: n.Scope}, Found: found, Field: field}}}
	if err := p.MayWrite(w); err != nil {
		refused(c, err)
		return "", false
	}
	return n.ID, true
}

// metricThresholdsFunc gives a read its monitor's thresholds in place of
// the monitor store (Options.MetricThresholds; tests).
type metricThresholdsFunc = func(ctx context.Context, monitor string) json.RawMessage

// metricThresholds is the judgement of the monitor a read names, when
// it is a monitor the caller's scopes see (a script's custom metrics
// have none), so a graph draws its thresholds without reading the
// monitor itself (which needs monitor settings: read).
func (s *Server) metricThresholds(c *gin.Context) json.RawMessage {
	id := c.Query("monitor")
	if s.opts.MetricThresholds != nil {
		return s.opts.MetricThresholds(c.Request.Context(), id)
	}
	m, err := monitor.Get(c.Request.Context(), s.events, id)
	if p, _ := principal(c); err != nil || !p.Covers(m.EffectiveScope) {
		return nil
	}
	if m.Judgement.ChangeAmount {
		return nil // its thresholds apply to the change from one value to the next, not to the values graphed
	}
	b, err := json.Marshal(m.Judgement)
	if err != nil {
		return nil
	}
	return b
}
