package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// recorder keeps the body of every successful PaymentIntent answer.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][]byte // "METHOD path #n" → body
	n      int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || res.StatusCode >= 300 || !strings.HasPrefix(req.URL.Path, "/v1/payment_intents") {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.n++
	r.bodies[req.Method+" "+req.URL.Path+" #"+strconv.Itoa(r.n)] = b
	r.mu.Unlock()
	return res, nil
}

// emulatorBodies drives the emulator through every state the adapter
// sees and returns the PaymentIntent answers it sent.
func emulatorBodies(t testing.TB) map[string][]byte {
	t.Helper()
	now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	emu, err := stripeemu.New(stripeemu.Config{Accounts: []string{"acct_1Shop"}, Now: func() time.Time { return now }, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	rec := &recorder{bodies: map[string][]byte{}}
	s := &Stripe{BaseURL: srv.URL, HTTPClient: &http.Client{Transport: rec}, Retries: -1}
	key, ctx := emu.SecretKey("acct_1Shop"), context.Background()
	auth := func(kind, idem string) *Intent {
		in, err := s.Authorize(ctx, key, AuthorizeInput{
			Token:  emu.GrantToken("acct_1Shop", kind, "usd", 10_000, now.Add(time.Hour)),
			Amount: 2599, Currency: "usd", IdempotencyKey: idem, Description: "Order for checkout cs_1",
			Metadata: map[string]string{MetadataCheckoutSession: "cs_1", "shop": "demo-shop.myshopify.com"},
		})
		var d *DeclineError
		if err != nil && !(kind == stripeemu.KindDecline && errors.As(err, &d)) {
			t.Fatalf("authorize %s: %v", kind, err)
		}
		if d != nil {
			return d.Intent
		}
		return in
	}
	must := func(_ *Intent, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	in := auth(stripeemu.KindApprove, "k1")
	must(s.Get(ctx, key, in.ID))
	must(s.Capture(ctx, key, in.ID, "k1c"))
	must(s.Get(ctx, key, in.ID))
	in = auth(stripeemu.KindApprove, "k2")
	must(s.Cancel(ctx, key, in.ID, "abandoned", "k2x"))
	in = auth(stripeemu.KindRequires3DS, "k3")
	must(s.ConfirmAuthenticated(ctx, key, in.ID, ThreeDS{Cryptogram: "AAABBBCCCDDDEEEFFFGGGHHHIII=", ECI: "05",
		TransactionID: "f25084f0-5b16-4c0a-ae5d-b24808a95e4b", Version: "2.2.0", TransStatus: "Y"}, "k3c"))
	in = auth(stripeemu.KindDecline, "k4")
	if in == nil {
		t.Fatal("the decline carries no intent")
	}
	must(s.Get(ctx, key, in.ID))
	if len(rec.bodies) < 8 {
		t.Fatalf("recorded %d answers, want 8", len(rec.bodies))
	}
	return rec.bodies
}

// handBodies are shapes the emulator does not send: an expanded
// latest_charge, a redirect, an unexpanded or absent payment method, null
// metadata.
var handBodies = map[string]string{
	"redirect": `{"id":"pi_1","object":"payment_intent","status":"requires_action","amount":5,"currency":"eur",
		"metadata":null,"payment_method":"pm_1","latest_charge":null,"created":0,
		"next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"https://x/3ds","return_url":"https://y/back"}}}`,
	"expanded charge": `{"id":"pi_2","status":"succeeded","amount":7,"amount_received":7,"livemode":true,
		"latest_charge":{"id":"ch_9","object":"charge","amount":7},"payment_method":null,"metadata":{},
		"cancellation_reason":null,"next_action":null,"last_payment_error":null}`,
	"card without last4": `{"id":"pi_3","status":"requires_capture","payment_method":{"id":"pm_3","card":{"brand":"amex"}},
		"last_payment_error":{"type":"card_error","code":"card_declined","message":"no","decline_code":"lost_card"}}`,
}

// TestIntentWireMatchesStripeGo decodes each answer both ways: into
// stripe-go's PaymentIntent (what the adapter used to do) and into
// intentWire; the Intents must be equal.
func TestIntentWireMatchesStripeGo(t *testing.T) {
	bodies := emulatorBodies(t)
	for name, b := range handBodies {
		bodies[name] = []byte(b)
	}
	sawCard, sawAction, sawError, sawCharge := false, false, false, false
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			var pi stripe.PaymentIntent
			if err := json.Unmarshal(body, &pi); err != nil {
				t.Fatal(err)
			}
			var w intentWire
			if err := json.Unmarshal(body, &w); err != nil {
				t.Fatal(err)
			}
			want, got := toIntent(&pi), w.intent()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("intentWire:\n got %+v\nwant %+v", got, want)
			}
			sawCard = sawCard || got.Card != nil
			sawAction = sawAction || got.NextAction != nil
			sawError = sawError || got.LastError != nil
			sawCharge = sawCharge || got.LatestCharge != ""
		})
	}
	if !sawCard || !sawAction || !sawError || !sawCharge {
		t.Errorf("card %v, next action %v, last error %v, latest charge %v: every one must be compared",
			sawCard, sawAction, sawError, sawCharge)
	}
}

// BenchmarkIntentDecode decodes the authorization answer (requires_capture,
// payment_method expanded) as stripe-go's PaymentIntent and as intentWire.
func BenchmarkIntentDecode(b *testing.B) {
	var body []byte
	for name, v := range emulatorBodies(b) {
		if strings.HasPrefix(name, "POST /v1/payment_intents #") && bytes.Contains(v, []byte(`"requires_capture"`)) {
			body = v
		}
	}
	if body == nil {
		b.Fatal("no authorization answer")
	}
	b.Run("stripe-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var pi stripe.PaymentIntent
			if err := json.Unmarshal(body, &pi); err != nil {
				b.Fatal(err)
			}
			_ = toIntent(&pi)
		}
	})
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var w intentWire
			if err := json.Unmarshal(body, &w); err != nil {
				b.Fatal(err)
			}
			_ = w.intent()
		}
	})
}

// canned answers every request with one body, as the emulator would.
type canned []byte

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Request-Id": {"req_1"}},
		Body: io.NopCloser(bytes.NewReader(c)), Request: req}, nil
}

// BenchmarkCaptureCall is one capture through stripe-go's backend, the
// answer decoded by stripe-go's paymentintent client (as the adapter did
// before intentWire) and by callIntent, over a transport that answers at
// once with the emulator's capture answer (payment_method expanded).
func BenchmarkCaptureCall(b *testing.B) {
	var body []byte
	for name, v := range emulatorBodies(b) {
		if strings.HasPrefix(name, "POST /v1/payment_intents #") && bytes.Contains(v, []byte(`"requires_capture"`)) {
			body = v
		}
	}
	s := &Stripe{BaseURL: "http://stripe.invalid", HTTPClient: &http.Client{Transport: canned(body)}, Retries: -1}
	key, ctx := "sk_test_bench", context.Background()
	b.Logf("answer: %d bytes", len(body))
	b.Run("stripe-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			api, err := s.api(key)
			if err != nil {
				b.Fatal(err)
			}
			pi, err := api.PaymentIntents.Capture("pi_1", &stripe.PaymentIntentCaptureParams{Params: params(ctx, "idem")})
			if err != nil || toIntent(pi).Card == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("callIntent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in, err := s.Capture(ctx, key, "pi_1", "idem")
			if err != nil || in.Card == nil {
				b.Fatal(err)
			}
		}
	})
}
