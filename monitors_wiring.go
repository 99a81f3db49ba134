package main

import (
	"context"

	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/pollers/schedule"
)

// notifyJudged hands the runner's judged results to the notifier (the two
// packages declare the same record: a feature never imports another).
type notifyJudged struct{ n *notify.Notifier }

func (a notifyJudged) Judged(ctx context.Context, j schedule.Judged) { a.n.Judged(ctx, notify.Judged(j)) }
