package bench

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// EventReceiver is the agent's order-event webhook on 127.0.0.1: it
// answers 200 and counts order_create events per checkout session.
type EventReceiver struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	per map[string]int
}

// NewEventReceiver listens on a free loopback port.
func NewEventReceiver() (*EventReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &EventReceiver{url: "http://" + ln.Addr().String() + "/acp/events", per: map[string]int{}}
	e.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				CheckoutSessionID string `json:"checkout_session_id"`
			} `json:"data"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev)
		if ev.Type == "order_create" {
			e.mu.Lock()
			e.per[ev.Data.CheckoutSessionID]++
			e.mu.Unlock()
		}
		_, _ = w.Write([]byte(`{"received":true}`))
	})}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// URL is where order events go.
func (e *EventReceiver) URL() string { return e.url }

// OrderCreates counts order_create events per checkout session.
func (e *EventReceiver) OrderCreates() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.per))
	for k, v := range e.per {
		out[k] = v
	}
	return out
}

// Close stops the receiver.
func (e *EventReceiver) Close() { _ = e.srv.Close() }
