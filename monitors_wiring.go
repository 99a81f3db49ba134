package main

import (
	"context"
	"time"

	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/pollers/metrics"
	"github.com/mamori-ops/mamori/pollers/schedule"
)

// notifyJudged hands the runner's judged results to the notifier (the two
// packages declare the same record: a feature never imports another).
type notifyJudged struct{ n *notify.Notifier }

func (a notifyJudged) Judged(ctx context.Context, j schedule.Judged) {
	a.n.Judged(ctx, notify.Judged(j))
}

// seriesAdd hands the runner's numbers to the series writer (issue 12,
// metrics; same key, declared by each part).
type seriesAdd struct{ w *metrics.Writer }

func (a seriesAdd) Add(k schedule.MetricKey, at time.Time, v float64) { a.w.Add(metrics.Key(k), at, v) }
