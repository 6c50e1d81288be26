package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// AgentEventDeliverer is the use-case the order-event worker calls.
type AgentEventDeliverer interface {
	Deliver(ctx context.Context, eventID int64) error
	GiveUp(ctx context.Context, eventID int64, cause error) error
}

// DeliverAgentEventWorker sends one order event to the shop's agent.
// River retries a failed delivery with backoff; after the last attempt the
// event is marked failed.
type DeliverAgentEventWorker struct {
	river.WorkerDefaults[orderevents.DeliverArgs]
	App AgentEventDeliverer
}

// Work implements river.Worker.
func (w *DeliverAgentEventWorker) Work(ctx context.Context, job *river.Job[orderevents.DeliverArgs]) error {
	err := w.App.Deliver(ctx, job.Args.EventID)
	var claimed *app.Claimed
	if errors.As(err, &claimed) {
		return snoozeClaimed(err)
	}
	if err != nil && job.Attempt >= job.MaxAttempts {
		if gerr := w.App.GiveUp(context.WithoutCancel(ctx), job.Args.EventID, err); gerr != nil {
			return gerr
		}
	}
	return err
}
