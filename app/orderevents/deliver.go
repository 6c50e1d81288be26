package orderevents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/netguard"
)

// Deliver is a delivery job's attempt: it claims the event (so no one
// else attempts it meanwhile), POSTs it signed to the shop's webhook URL
// and records the attempt: a 2xx answer delivers it; anything else is an
// error (the job retries with backoff). A shop without a webhook URL or
// secret fails the event at once, without retries. An event claimed
// elsewhere is looked at again when that claim ends (app.Claimed).
func (s *Service) Deliver(ctx context.Context, eventID int64) error {
	now := s.now()
	ev, claimed, err := s.Store.ClaimAgentEvent(ctx, eventID, now, now.Add(jobClaim))
	if errors.Is(err, app.ErrNotFound) {
		return nil // the shop was deleted
	}
	if err != nil || ev.Status != Pending {
		return err
	}
	if !claimed {
		return &app.Claimed{Until: *ev.ClaimedUntil}
	}
	// The job keeps the event whatever the answer: no claim, no sweep.
	return s.attempt(ctx, ev, nil, nil)
}

// attempt sends a claimed event once and records the attempt with the
// claim it leaves (nil: none, the job owns the event). set is the shop's
// ACP settings when the caller has them (the completion that stored the
// event read them); nil: they are read.
func (s *Service) attempt(ctx context.Context, ev *Event, claimAfter *time.Time, set *app.ACPSettings) error {
	if set == nil {
		var err error
		if set, err = s.Store.ACPSettings(ctx, ev.ShopID); err != nil && !errors.Is(err, app.ErrNotFound) {
			return err
		}
	}
	if set == nil || set.WebhookURL == "" || set.WebhookSecretSealed == "" {
		msg := "no order-event webhook URL and secret are configured for the shop's agent"
		s.log(ctx, slog.LevelWarn, "agent event not sent", ev, "reason", msg)
		return s.Store.FailAgentEvent(ctx, ev.ID, msg)
	}
	secretBytes, err := s.Keys.Open(set.WebhookSecretSealed, app.WebhookSecretAAD(ev.ShopID))
	if err != nil {
		return fmt.Errorf("agent event %d: open the webhook secret: %w", ev.ID, err)
	}

	rctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	start := time.Now()
	now := s.now()
	status, derr := s.post(rctx, set.WebhookURL, secretBytes, ev, now)
	att := Attempt{EventID: ev.ID, AttemptedAt: now, StatusCode: status, Duration: time.Since(start)}
	switch {
	case derr == nil && claimAfter != nil && ev.ClaimedUntil != nil:
		// A first attempt that delivered: recorded with others
		// (outcomes.go) while its claim holds the event.
		if err := s.recordDelivered(context.WithoutCancel(ctx), att, *ev.ClaimedUntil); err != nil {
			return err
		}
	case derr == nil:
		if err := s.Store.RecordAgentEventAttempt(context.WithoutCancel(ctx), att, Delivered, nil); err != nil {
			return err
		}
	default:
		att.Error = app.Truncate(derr.Error(), 500)
		if err := s.Store.RecordAgentEventAttempt(context.WithoutCancel(ctx), att, Pending, claimAfter); err != nil {
			return err
		}
	}
	if derr != nil {
		s.log(ctx, slog.LevelWarn, "agent event delivery failed", ev, "attempt", ev.Attempts+1, "status", status, "err", att.Error,
			"cause", sendCause(derr))
		return fmt.Errorf("agent event %d: %w", ev.ID, derr)
	}
	s.log(ctx, slog.LevelInfo, "agent event delivered", ev, "attempt", ev.Attempts+1, "status", status,
		"duration_ms", att.Duration.Milliseconds())
	return nil
}

// post sends one attempt and returns the receiver's status.
func (s *Service) post(ctx context.Context, target string, secret []byte, ev *Event, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev.Body))
	if err != nil {
		return 0, errors.New("the webhook URL is not a valid URL")
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Merchant-Signature", Sign(secret, now, ev.Body))
	h.Set("Request-Id", "acpb_evt_"+strconv.FormatInt(ev.ID, 10)+"_"+strconv.Itoa(ev.Attempts+1))
	h.Set("Timestamp", now.Format(time.RFC3339))
	h.Set("API-Version", string(ev.APIVersion))
	h.Set("User-Agent", "acpbridge/"+app.Version)
	client := s.HTTP
	if client == nil {
		client = (*netguard.Policy)(nil).Client(0, nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not the url.Error itself: it would repeat the URL, which may
		// carry a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, &sendError{shown: "no answer: " + delivery.Describe(err), cause: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A 3xx is not followed: the signed event goes to the configured
		// URL only, never to wherever it points.
		return resp.StatusCode, &sendError{shown: "the agent answered " + delivery.DescribeStatus(resp.StatusCode)}
	}
	return resp.StatusCode, nil
}

// sendError is a failed event delivery: shown is the class of failure
// (stored, and shown to the merchant), cause the full error for the
// server log.
type sendError struct {
	shown string
	cause error
}

func (e *sendError) Error() string { return e.shown }
func (e *sendError) Unwrap() error { return e.cause }

// sendCause is what the server log gets about a failed delivery.
func sendCause(err error) string {
	var se *sendError
	if errors.As(err, &se) && se.cause != nil {
		return se.cause.Error()
	}
	return ""
}

// GiveUp marks an event failed after its last attempt (the worker calls
// it when River will not retry again).
func (s *Service) GiveUp(ctx context.Context, eventID int64, cause error) error {
	ev, err := s.Store.AgentEvent(ctx, eventID)
	if errors.Is(err, app.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ev.Status != Pending {
		return nil
	}
	msg := ev.LastError
	if msg == "" && cause != nil {
		msg = app.Truncate(cause.Error(), 500)
	}
	s.log(ctx, slog.LevelError, "agent event failed for good", ev, "attempts", ev.Attempts)
	return s.Store.FailAgentEvent(ctx, eventID, "gave up after "+strconv.Itoa(ev.Attempts)+" attempts: "+msg)
}

// Events lists a session's order events, oldest first.
func (s *Service) Events(ctx context.Context, shopID int64, sessionID string) ([]*Event, error) {
	return s.Store.AgentEvents(ctx, shopID, sessionID)
}

func (s *Service) log(ctx context.Context, level slog.Level, msg string, ev *Event, attrs ...any) {
	if s.Logger == nil {
		return
	}
	s.Logger.Log(ctx, level, msg, append([]any{"event", ev.ID, "shop_id", ev.ShopID, "session", ev.SessionID, "type", ev.Type}, attrs...)...)
}
