package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/acpbridge/acpbridge/shopify"
)

// Delivery is one webhook delivery as the app received it.
type Delivery struct {
	ID          string // X-Shopify-Webhook-Id, the same on redelivery
	EventID     string // X-Shopify-Event-Id
	Topic       string
	Shop        string
	Body        []byte
	TriggeredAt time.Time
	Status      int // the app's HTTP status, 0 when no response arrived
}

// SendWebhook POSTs payload as JSON to AppURL+WebhookPath with Shopify's
// headers, signed with the app's secret. It returns the delivery whatever
// status the app answered; the error is for deliveries that got no answer.
// When the topic's filter rejects the payload (Config.WebhookFilters),
// nothing is sent, as by Shopify, and the delivery is nil.
func (e *Emulator) SendWebhook(ctx context.Context, shop, topic string, payload any) (*Delivery, error) {
	body, err := marshalRaw(payload)
	if err != nil {
		return nil, fmt.Errorf("emulator: encode %s payload: %w", topic, err)
	}
	if e.filtered(topic, body) {
		e.log.DebugContext(ctx, "webhook not sent: the subscription's filter rejects it", "shop", shop, "topic", topic)
		return nil, nil
	}
	d := &Delivery{
		ID:          uuid.NewString(),
		EventID:     uuid.NewString(),
		Topic:       topic,
		Shop:        shop,
		Body:        body,
		TriggeredAt: e.now(),
	}
	e.mu.Lock()
	e.sent = append(e.sent, d)
	if len(e.sent) > maxSentLog {
		e.sent = slices.Delete(e.sent, 0, len(e.sent)-maxSentLog)
	}
	e.mu.Unlock()
	return d, e.deliver(ctx, d, "")
}

// maxSentLog bounds the deliveries Deliveries remembers.
const maxSentLog = 1000

// Deliveries returns copies of the webhooks sent to the shop (the last
// 1000 of all shops), oldest first, those of topic only unless topic is
// "". Redeliver or RedeliverTo sends one again.
func (e *Emulator) Deliveries(shop, topic string) []*Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Delivery
	for _, d := range e.sent {
		if strings.EqualFold(d.Shop, shop) && (topic == "" || d.Topic == topic) {
			c := *d
			c.Body = slices.Clone(d.Body)
			out = append(out, &c)
		}
	}
	return out
}

// Redeliver sends a delivery again, same body and same webhook id, as
// Shopify's retries do.
func (e *Emulator) Redeliver(ctx context.Context, d *Delivery) error {
	return e.deliver(ctx, d, "")
}

// RedeliverTo sends a delivery again to another app base URL (e.g. a
// second replica of the app), to AppURL's webhook path there.
func (e *Emulator) RedeliverTo(ctx context.Context, appURL string, d *Delivery) error {
	if appURL == "" {
		return errors.New("emulator: RedeliverTo needs an app URL")
	}
	return e.deliver(ctx, d, strings.TrimRight(appURL, "/"))
}

// deliver POSTs a delivery to target (AppURL when "") and records the
// app's status on it.
func (e *Emulator) deliver(ctx context.Context, d *Delivery, target string) error {
	e.mu.Lock()
	if target == "" {
		target = e.appURL
	}
	e.mu.Unlock()
	if target == "" {
		return errors.New("emulator: no AppURL to deliver webhooks to")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+e.cfg.WebhookPath, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("emulator: webhook request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", d.Topic)
	h.Set("X-Shopify-Hmac-Sha256", shopify.SignWebhook(d.Body, e.cfg.APISecret))
	h.Set("X-Shopify-Shop-Domain", d.Shop)
	h.Set("X-Shopify-API-Version", shopify.APIVersion)
	h.Set("X-Shopify-Webhook-Id", d.ID)
	h.Set("X-Shopify-Event-Id", d.EventID)
	h.Set("X-Shopify-Triggered-At", d.TriggeredAt.UTC().Format(time.RFC3339Nano))
	resp, err := e.client.Do(req)
	if err != nil {
		e.setStatus(d, 0)
		return fmt.Errorf("emulator: deliver %s: %w", d.Topic, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	e.setStatus(d, resp.StatusCode)
	e.log.InfoContext(ctx, "webhook delivered", "shop", d.Shop, "topic", d.Topic, "webhook_id", d.ID, "status", resp.StatusCode)
	return nil
}

// setStatus records the app's answer under e.mu, as Deliveries reads the
// deliveries it logged.
func (e *Emulator) setStatus(d *Delivery, status int) {
	e.mu.Lock()
	d.Status = status
	e.mu.Unlock()
}

// Uninstall uninstalls the app from the shop: it revokes every app token,
// marks the app uninstalled and sends app/uninstalled with the shop payload.
func (e *Emulator) Uninstall(ctx context.Context, shop string) (*Delivery, error) {
	e.mu.Lock()
	s := e.shop(shop)
	if s == nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("emulator: unknown shop %q", shop)
	}
	e.revokeLocked(s.domain)
	s.installed, s.scopes = false, nil
	payload := shopPayload(s, e.now())
	e.mu.Unlock()
	e.log.InfoContext(ctx, "app uninstalled", "shop", shop)
	return e.SendWebhook(ctx, s.domain, "app/uninstalled", payload)
}

// notify sends a store-change webhook if the app is installed (Shopify sends
// nothing to uninstalled apps); failures are logged, as Shopify would retry.
func (e *Emulator) notify(shop, topic string, payload any) {
	e.mu.Lock()
	s := e.shop(shop)
	installed := s != nil && s.installed
	e.mu.Unlock()
	if !installed {
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if d, err := e.SendWebhook(ctx, shop, topic, payload); err != nil {
		e.log.Warn("webhook not delivered", "shop", shop, "topic", topic, "err", err)
	} else if d != nil && d.Status >= 300 {
		e.log.Warn("webhook refused", "shop", shop, "topic", topic, "status", d.Status)
	}
}
