package orderevents

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// Options are the order events' settings; zero values mean the default.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// HTTP carries the events to agents (default: a client through the
	// strictest outbound policy, public addresses only).
	HTTP *http.Client
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
}

// New builds the order events sent to agents over their store, the keyring
// that opens the agents' webhook secrets, the job queue, the shops' Admin
// API (orders are read from Shopify) and the payment providers (Shopify's
// refunds and cancellations are passed on to the order's). What it cannot
// work without is an argument, so that forgetting one is a compile error.
func New(store Store, keys *secret.Keyring, queue app.Enqueuer, api shopify.Querier, payments checkout.PaymentProviders, opts Options) *Service {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{
		Store: store, Keys: keys, Queue: queue, Shopify: api, Payments: payments,
		HTTP: opts.HTTP, Logger: logger, Now: now, Timeout: opts.Timeout,
		slots: make(chan struct{}, maxInline),
	}
}
