package payment_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// token makes the token to charge; nil grants an approve token.
		token func(b *bundle) string
		edit  func(in *payment.AuthorizeInput)
		check func(t *testing.T, b *bundle, in *payment.Intent, err error)
	}{
		{
			name: "Approved",
			check: func(t *testing.T, b *bundle, in *payment.Intent, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if in.Status != payment.StatusRequiresCapture || in.AmountCapturable != 2599 || in.AmountReceived != 0 {
					t.Errorf("intent=%+v, want requires_capture holding 2599", in)
				}
				if in.Currency != "usd" || in.CaptureMethod != "manual" || in.LatestCharge == "" {
					t.Errorf("currency=%q capture=%q charge=%q", in.Currency, in.CaptureMethod, in.LatestCharge)
				}
				if in.Card == nil || in.Card.Brand != "visa" || in.Card.Last4 != "4242" {
					t.Errorf("card=%+v, want visa 4242", in.Card)
				}
				if got := in.Metadata[payment.MetadataCheckoutSession]; got != "cs_1" {
					t.Errorf("metadata=%v", in.Metadata)
				}
				if got := b.authorizations(shopAcct); got != 1 {
					t.Errorf("authorizations=%d, want 1", got)
				}
			},
		},
		{
			name:  "UpperCaseCurrency",
			edit:  func(in *payment.AuthorizeInput) { in.Currency = "USD" },
			check: wantStatus(payment.StatusRequiresCapture),
		},
		{
			name:  "Declined",
			token: func(b *bundle) string { return b.grant(stripeemu.KindDecline) },
			check: wantDecline("card_declined", "generic_decline"),
		},
		{
			name:  "InsufficientFunds",
			token: func(b *bundle) string { return b.grant(stripeemu.KindInsufficientFunds) },
			check: wantDecline("card_declined", "insufficient_funds"),
		},
		{
			name:  "ExpiredCard",
			token: func(b *bundle) string { return b.grant("pm_card_chargeDeclinedExpiredCard") },
			check: wantDecline("expired_card", "expired_card"),
		},
		{
			name:  "Requires3DS",
			token: func(b *bundle) string { return b.grant(stripeemu.KindRequires3DS) },
			check: func(t *testing.T, b *bundle, in *payment.Intent, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if in.Status != payment.StatusRequiresAction || in.NextAction == nil || in.NextAction.Type != "use_stripe_sdk" {
					t.Errorf("intent=%+v next=%+v, want requires_action use_stripe_sdk", in, in.NextAction)
				}
				if in.AmountCapturable != 0 || b.authorizations(shopAcct) != 0 {
					t.Errorf("capturable=%d authorizations=%d, want nothing held", in.AmountCapturable, b.authorizations(shopAcct))
				}
			},
		},
		{
			name:  "Requires3DSWithResultUpfront",
			token: func(b *bundle) string { return b.grant(stripeemu.KindRequires3DS) },
			edit:  func(in *payment.AuthorizeInput) { in.ThreeDS = &validThreeDS },
			check: wantStatus(payment.StatusRequiresCapture),
		},
		{
			name: "FrictionlessWithResult",
			edit: func(in *payment.AuthorizeInput) {
				tds := validThreeDS
				tds.TransStatus = "A"
				tds.ECI = "06"
				in.ThreeDS = &tds
			},
			check: wantStatus(payment.StatusRequiresCapture),
		},
		{
			name: "TokenUsed",
			token: func(b *bundle) string {
				tok := b.grant(stripeemu.KindApprove)
				if _, err := b.stripe.Authorize(context.Background(), b.key, input(tok, "first")); err != nil {
					panic(err)
				}
				return tok
			},
			check: wantToken(payment.TokenUsed, 1),
		},
		{
			name: "TokenForeign",
			token: func(b *bundle) string {
				return b.emu.GrantToken(otherAcct, stripeemu.KindApprove, "usd", 10_000, time.Time{})
			},
			check: wantToken(payment.TokenInvalid, 0),
		},
		{
			name:  "TokenUnknown",
			token: func(*bundle) string { return "spt_doesnotexist" },
			check: wantToken(payment.TokenInvalid, 0),
		},
		{
			name: "TokenExpired",
			token: func(b *bundle) string {
				tok := b.grant(stripeemu.KindApprove)
				b.clock.Advance(2 * time.Hour)
				return tok
			},
			check: wantToken(payment.TokenExpired, 0),
		},
		{
			name: "TokenRevoked",
			token: func(b *bundle) string {
				tok := b.grant(stripeemu.KindApprove)
				if err := b.emu.RevokeToken(tok); err != nil {
					panic(err)
				}
				return tok
			},
			check: wantToken(payment.TokenRevoked, 0),
		},
		{
			name:  "AmountAboveLimit",
			edit:  func(in *payment.AuthorizeInput) { in.Amount = 10_001 },
			check: wantToken(payment.TokenLimitExceeded, 0),
		},
		{
			name:  "AmountAtLimit",
			edit:  func(in *payment.AuthorizeInput) { in.Amount = 10_000 },
			check: wantStatus(payment.StatusRequiresCapture),
		},
		{
			name:  "CurrencyMismatch",
			edit:  func(in *payment.AuthorizeInput) { in.Currency = "eur" },
			check: wantToken(payment.TokenLimitExceeded, 0),
		},
		{
			name:  "NoIdempotencyKey",
			edit:  func(in *payment.AuthorizeInput) { in.IdempotencyKey = "" },
			check: wantInvalidInput,
		},
		{
			name:  "ZeroAmount",
			edit:  func(in *payment.AuthorizeInput) { in.Amount = 0 },
			check: wantInvalidInput,
		},
		{
			name:  "NoToken",
			token: func(*bundle) string { return "" },
			check: wantInvalidInput,
		},
		{
			name:  "BadCurrency",
			edit:  func(in *payment.AuthorizeInput) { in.Currency = "dollars" },
			check: wantInvalidInput,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			tok := ""
			if tt.token != nil {
				tok = tt.token(b)
			} else {
				tok = b.grant(stripeemu.KindApprove)
			}
			in := input(tok, "idem-"+tt.name)
			if tt.edit != nil {
				tt.edit(&in)
			}
			got, err := b.stripe.Authorize(context.Background(), b.key, in)
			tt.check(t, b, got, err)
		})
	}
}

func wantStatus(want payment.Status) func(*testing.T, *bundle, *payment.Intent, error) {
	return func(t *testing.T, _ *bundle, in *payment.Intent, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != want {
			t.Errorf("status=%s, want %s", in.Status, want)
		}
	}
}

func wantDecline(code, declineCode string) func(*testing.T, *bundle, *payment.Intent, error) {
	return func(t *testing.T, b *bundle, in *payment.Intent, err error) {
		t.Helper()
		var d *payment.DeclineError
		if !errors.As(err, &d) {
			t.Fatalf("err=%v (%T), want *DeclineError", err, err)
		}
		if d.Code != code || d.DeclineCode != declineCode || d.Message == "" {
			t.Errorf("decline=%+v, want %s/%s", d, code, declineCode)
		}
		if d.IntentID == "" || d.Intent == nil || d.Intent.Status != payment.StatusRequiresPaymentMethod {
			t.Errorf("decline intent=%q %+v, want requires_payment_method", d.IntentID, d.Intent)
		}
		if d.Intent != nil && (d.Intent.LastError == nil || d.Intent.LastError.Code != code) {
			t.Errorf("last error=%+v", d.Intent.LastError)
		}
		if in != nil || payment.IsUnknownOutcome(err) || payment.IsTokenError(err) || !payment.IsDecline(err) {
			t.Errorf("in=%v unknown=%v token=%v", in, payment.IsUnknownOutcome(err), payment.IsTokenError(err))
		}
		if n := b.authorizations(shopAcct); n != 0 {
			t.Errorf("authorizations=%d, want 0", n)
		}
	}
}

func wantToken(reason payment.TokenReason, authorizations int) func(*testing.T, *bundle, *payment.Intent, error) {
	return func(t *testing.T, b *bundle, in *payment.Intent, err error) {
		t.Helper()
		var te *payment.TokenError
		if !errors.As(err, &te) {
			t.Fatalf("err=%v (%T), want *TokenError", err, err)
		}
		if te.Reason != reason {
			t.Errorf("reason=%s (code %s), want %s", te.Reason, te.Code, reason)
		}
		if in != nil || payment.IsDecline(err) || payment.IsUnknownOutcome(err) {
			t.Errorf("in=%v decline=%v unknown=%v", in, payment.IsDecline(err), payment.IsUnknownOutcome(err))
		}
		if n := b.authorizations(shopAcct); n != authorizations {
			t.Errorf("authorizations=%d, want %d", n, authorizations)
		}
	}
}

func wantInvalidInput(t *testing.T, b *bundle, _ *payment.Intent, err error) {
	t.Helper()
	if !errors.Is(err, payment.ErrInvalidInput) {
		t.Fatalf("err=%v, want ErrInvalidInput", err)
	}
	if n := b.emu.Stats().Requests; n != 0 {
		t.Errorf("requests=%d, want none sent", n)
	}
}

func TestAuthorizeIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ReplaySameIntent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := input(b.grant(stripeemu.KindApprove), "idem-1")
		first, err := b.stripe.Authorize(ctx, b.key, in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.stripe.Authorize(ctx, b.key, in)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if again.ID != first.ID || again.Status != first.Status {
			t.Errorf("replay=%s %s, want %s %s", again.ID, again.Status, first.ID, first.Status)
		}
		if n, st := b.authorizations(shopAcct), b.emu.Stats(); n != 1 || st.Replays != 1 || len(b.emu.Intents(shopAcct)) != 1 {
			t.Errorf("authorizations=%d replays=%d intents=%d, want 1, 1, 1", n, st.Replays, len(b.emu.Intents(shopAcct)))
		}
	})

	t.Run("ReplayDecline", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := input(b.grant(stripeemu.KindDecline), "idem-d")
		_, err1 := b.stripe.Authorize(ctx, b.key, in)
		_, err2 := b.stripe.Authorize(ctx, b.key, in)
		var d1, d2 *payment.DeclineError
		if !errors.As(err1, &d1) || !errors.As(err2, &d2) {
			t.Fatalf("errs=%v, %v, want two declines", err1, err2)
		}
		if d1.IntentID != d2.IntentID {
			t.Errorf("intents %s and %s, want the replay of one", d1.IntentID, d2.IntentID)
		}
		if st := b.emu.Stats(); st.Declines != 1 {
			t.Errorf("declines=%d, want 1", st.Declines)
		}
	})

	t.Run("SameKeyOtherParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := input(b.grant(stripeemu.KindApprove), "idem-x")
		if _, err := b.stripe.Authorize(ctx, b.key, in); err != nil {
			t.Fatal(err)
		}
		in.Amount++
		_, err := b.stripe.Authorize(ctx, b.key, in)
		var e *payment.Error
		if !errors.As(err, &e) || e.Type != "idempotency_error" || e.Status != http.StatusBadRequest {
			t.Fatalf("err=%v, want 400 idempotency_error", err)
		}
		if payment.IsUnknownOutcome(err) {
			t.Error("a reused key is a bug, not an unknown outcome")
		}
	})

	t.Run("KeysArePerAccount", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		a, err := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindApprove), "shared-key"))
		if err != nil {
			t.Fatal(err)
		}
		tok := b.emu.GrantToken(otherAcct, stripeemu.KindApprove, "usd", 10_000, time.Time{})
		o, err := b.stripe.Authorize(ctx, b.otherKey, input(tok, "shared-key"))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == o.ID {
			t.Error("two accounts share an idempotent result")
		}
	})

	t.Run("ConcurrentSameKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := input(b.grant(stripeemu.KindApprove), "idem-c")
		b.emu.SlowNext(1, 300*time.Millisecond)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 1 {
					time.Sleep(100 * time.Millisecond) // the first claims the key
				}
				_, errs[i] = b.stripe.Authorize(ctx, b.key, in)
			}()
		}
		wg.Wait()
		// One claims the key and succeeds; the other meets it in flight
		// (409 idempotency_key_in_use), an unknown outcome.
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("errs=%v, want exactly one failure", errs)
		}
		for _, err := range errs {
			if err != nil && !payment.IsUnknownOutcome(err) {
				t.Errorf("err=%v, want an unknown outcome", err)
			}
		}
		if _, err := b.stripe.Authorize(ctx, b.key, in); err != nil {
			t.Errorf("retry: %v", err)
		}
		if n := b.authorizations(shopAcct); n != 1 {
			t.Errorf("authorizations=%d, want 1", n)
		}
	})
}

// TestUnknownOutcome checks that each way a call can end without an answer
// is reported as unknown, and that repeating the call with the same
// idempotency key yields exactly one charge.
func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fault arms the emulator; it returns the context to call with.
		fault func(b *bundle) (context.Context, context.CancelFunc)
		// charged says whether the failed call charged.
		charged bool
		noKeep  bool // the client must not reuse connections (see DropAfterProcessing)
	}{
		{name: "500Before", fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.FailNext(1, http.StatusInternalServerError)
			return context.WithCancel(context.Background())
		}},
		{name: "503Before", fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.FailNext(1, http.StatusServiceUnavailable)
			return context.WithCancel(context.Background())
		}},
		{name: "TimeoutBefore", fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.HangNext(1)
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
		{name: "500After", charged: true, fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.FailAfterProcessing(1)
			return context.WithCancel(context.Background())
		}},
		{name: "DroppedAfter", charged: true, noKeep: true, fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.DropAfterProcessing(1)
			return context.WithCancel(context.Background())
		}},
		{name: "TimeoutAfter", charged: true, fault: func(b *bundle) (context.Context, context.CancelFunc) {
			b.emu.SlowAfterProcessing(1, 5*time.Second)
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(_ *stripeemu.Config, s *payment.Stripe) {
				if tt.noKeep {
					s.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				}
			})
			in := input(b.grant(stripeemu.KindApprove), "idem-u")
			ctx, cancel := tt.fault(b)
			_, err := b.stripe.Authorize(ctx, b.key, in)
			cancel()
			if !payment.IsUnknownOutcome(err) {
				t.Fatalf("err=%v (%T), want an unknown outcome", err, err)
			}
			var u *payment.UnknownOutcomeError
			if errors.As(err, &u) && u.IdempotencyKey != "idem-u" {
				t.Errorf("idempotency key=%q", u.IdempotencyKey)
			}
			want := 0
			if tt.charged {
				want = 1
			}
			if n := b.authorizations(shopAcct); n != want {
				t.Errorf("after the failed call: authorizations=%d, want %d", n, want)
			}
			// The session's intent is found by search when it exists.
			found, err := b.stripe.FindBySession(context.Background(), b.key, "cs_1")
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != want {
				t.Errorf("found %d intents, want %d", len(found), want)
			}
			// Repeating with the same key never charges twice. A request
			// that hung holds its key at Stripe until Stripe notices that
			// its client left, and a retry meanwhile is answered 409
			// idempotency_key_in_use, an unknown outcome that says "retry
			// later": so this retries as the app's resume does.
			got, err := b.stripe.Authorize(context.Background(), b.key, in)
			for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
				var inUse *payment.UnknownOutcomeError
				if !errors.As(err, &inUse) || inUse.Status != http.StatusConflict {
					break
				}
				time.Sleep(20 * time.Millisecond)
				got, err = b.stripe.Authorize(context.Background(), b.key, in)
			}
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got.Status != payment.StatusRequiresCapture {
				t.Errorf("retry status=%s", got.Status)
			}
			if len(found) == 1 && found[0].ID != got.ID {
				t.Errorf("retry gave %s, search %s", got.ID, found[0].ID)
			}
			if n := b.authorizations(shopAcct); n != 1 {
				t.Errorf("authorizations=%d, want exactly 1", n)
			}
		})
	}
}

func TestRetriesResendWithSameKey(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *stripeemu.Config, s *payment.Stripe) { s.Retries = 2 })
	b.emu.FailAfterProcessing(1)
	in, err := b.stripe.Authorize(context.Background(), b.key, input(b.grant(stripeemu.KindApprove), "idem-r"))
	if err != nil {
		t.Fatalf("authorize: %v (stripe-go should have resent and got the replay)", err)
	}
	st := b.emu.Stats()
	if st.Authorizations != 1 || st.Replays != 1 {
		t.Errorf("authorizations=%d replays=%d, want 1 and 1", st.Authorizations, st.Replays)
	}
	if in.Status != payment.StatusRequiresCapture {
		t.Errorf("status=%s", in.Status)
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.emu.FailNext(1, http.StatusTooManyRequests)
	_, err := b.stripe.Authorize(context.Background(), b.key, input(b.grant(stripeemu.KindApprove), "idem-429"))
	if !payment.IsRateLimited(err) || payment.IsUnknownOutcome(err) {
		t.Fatalf("err=%v, want rate limited (and known: nothing happened)", err)
	}
	if n := b.authorizations(shopAcct); n != 0 {
		t.Errorf("authorizations=%d", n)
	}
}

func TestThreeDS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		auth  func(payment.ThreeDS) payment.ThreeDS
		check func(t *testing.T, in *payment.Intent, err error)
	}{
		{
			name: "Authenticated",
			auth: func(a payment.ThreeDS) payment.ThreeDS { return a },
			check: func(t *testing.T, in *payment.Intent, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if in.Status != payment.StatusRequiresCapture || in.AmountCapturable != 2599 || in.NextAction != nil {
					t.Errorf("intent=%+v", in)
				}
			},
		},
		{
			name: "Attempted",
			auth: func(a payment.ThreeDS) payment.ThreeDS { a.TransStatus, a.ECI = "A", "06"; return a },
			check: func(t *testing.T, in *payment.Intent, err error) {
				if err != nil || in.Status != payment.StatusRequiresCapture {
					t.Fatalf("in=%+v err=%v", in, err)
				}
			},
		},
		{
			name: "Failed",
			auth: func(a payment.ThreeDS) payment.ThreeDS { a.TransStatus, a.ECI = "N", "07"; return a },
			check: func(t *testing.T, in *payment.Intent, err error) {
				var d *payment.DeclineError
				if !errors.As(err, &d) || d.Code != "payment_intent_authentication_failure" {
					t.Fatalf("err=%v, want an authentication failure decline", err)
				}
				if d.Intent == nil || d.Intent.Status != payment.StatusRequiresPaymentMethod {
					t.Errorf("intent=%+v", d.Intent)
				}
			},
		},
		{
			name: "BadCryptogram",
			auth: func(a payment.ThreeDS) payment.ThreeDS { a.Cryptogram = "not-base64"; return a },
			check: func(t *testing.T, in *payment.Intent, err error) {
				var e *payment.Error
				if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Param, "cryptogram") {
					t.Fatalf("err=%v, want 400 on the cryptogram", err)
				}
			},
		},
		{
			name: "Incomplete",
			auth: func(a payment.ThreeDS) payment.ThreeDS { a.TransactionID = ""; return a },
			check: func(t *testing.T, in *payment.Intent, err error) {
				if !errors.Is(err, payment.ErrInvalidInput) {
					t.Fatalf("err=%v, want ErrInvalidInput", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			pending, err := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindRequires3DS), "idem-3ds"))
			if err != nil || pending.Status != payment.StatusRequiresAction {
				t.Fatalf("authorize: %+v %v", pending, err)
			}
			in, err := b.stripe.ConfirmAuthenticated(ctx, b.key, pending.ID, tt.auth(validThreeDS), "idem-3ds-confirm")
			tt.check(t, in, err)
		})
	}

	t.Run("ReplayedConfirm", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		pending, err := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindRequires3DS), "idem-3ds"))
		if err != nil {
			t.Fatal(err)
		}
		b.emu.FailAfterProcessing(1)
		if _, err := b.stripe.ConfirmAuthenticated(ctx, b.key, pending.ID, validThreeDS, "c1"); !payment.IsUnknownOutcome(err) {
			t.Fatalf("err=%v, want unknown outcome", err)
		}
		in, err := b.stripe.ConfirmAuthenticated(ctx, b.key, pending.ID, validThreeDS, "c1")
		if err != nil || in.Status != payment.StatusRequiresCapture {
			t.Fatalf("retry: %+v %v", in, err)
		}
		if n := b.authorizations(shopAcct); n != 1 {
			t.Errorf("authorizations=%d", n)
		}
	})
}

func TestCaptureCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Capture", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		in, err := b.stripe.Capture(ctx, b.key, auth.ID, "cap-1")
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != payment.StatusSucceeded || in.AmountReceived != 2599 || in.AmountCapturable != 0 {
			t.Errorf("intent=%+v", in)
		}
		// Capturing again, even with another key, is not an error.
		again, err := b.stripe.Capture(ctx, b.key, auth.ID, "cap-2")
		if err != nil || again.Status != payment.StatusSucceeded {
			t.Errorf("second capture: %+v %v", again, err)
		}
		if st := b.emu.Stats(); st.Captures != 1 {
			t.Errorf("captures=%d", st.Captures)
		}
		v, _ := b.emu.Intent(auth.ID)
		if !v.Captured || v.AmountCaptured != 2599 {
			t.Errorf("emulator view=%+v", v)
		}
	})

	t.Run("CaptureUnknownOutcome", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		b.emu.DropAfterProcessing(1)
		b.stripe.HTTPClient.CloseIdleConnections()
		_, err := b.stripe.Capture(ctx, b.key, auth.ID, "cap")
		if !payment.IsUnknownOutcome(err) {
			t.Fatalf("err=%v", err)
		}
		in, err := b.stripe.Get(ctx, b.key, auth.ID)
		if err != nil || in.Status != payment.StatusSucceeded {
			t.Fatalf("get: %+v %v", in, err)
		}
	})

	t.Run("CancelAuthorized", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		in, err := b.stripe.Cancel(ctx, b.key, auth.ID, "abandoned", "cancel-1")
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != payment.StatusCanceled || in.AmountCapturable != 0 || in.CancellationReason != "abandoned" {
			t.Errorf("intent=%+v", in)
		}
		if again, err := b.stripe.Cancel(ctx, b.key, auth.ID, "", "cancel-2"); err != nil || again.Status != payment.StatusCanceled {
			t.Errorf("second cancel: %+v %v", again, err)
		}
		_, err = b.stripe.Capture(ctx, b.key, auth.ID, "cap")
		if !payment.IsUnexpectedState(err) {
			t.Errorf("capture of a canceled intent: err=%v, want unexpected state", err)
		}
	})

	t.Run("CancelCaptured", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		if _, err := b.stripe.Capture(ctx, b.key, auth.ID, "cap"); err != nil {
			t.Fatal(err)
		}
		_, err := b.stripe.Cancel(ctx, b.key, auth.ID, "", "cancel")
		var e *payment.Error
		if !errors.As(err, &e) || !payment.IsUnexpectedState(err) || e.Intent == nil || e.Intent.Status != payment.StatusSucceeded {
			t.Fatalf("err=%v, want unexpected state with the succeeded intent", err)
		}
	})

	t.Run("CancelRequiresAction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		pending, err := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindRequires3DS), "a"))
		if err != nil {
			t.Fatal(err)
		}
		in, err := b.stripe.Cancel(ctx, b.key, pending.ID, "", "cancel")
		if err != nil || in.Status != payment.StatusCanceled {
			t.Fatalf("cancel: %+v %v", in, err)
		}
	})

	t.Run("BadReason", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		if _, err := b.stripe.Cancel(ctx, b.key, "pi_1", "bored", "k"); !errors.Is(err, payment.ErrInvalidInput) {
			t.Errorf("err=%v", err)
		}
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	captured := func(t *testing.T, b *bundle) *payment.Intent {
		t.Helper()
		auth := b.authorized(t, "a")
		in, err := b.stripe.Capture(ctx, b.key, auth.ID, "cap")
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	t.Run("PartialThenRest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := captured(t, b)
		r1, err := b.stripe.Refund(ctx, b.key, in.ID, 599, "requested_by_customer", "ref-1")
		if err != nil {
			t.Fatal(err)
		}
		if r1.Amount != 599 || r1.IntentID != in.ID || r1.Status != "succeeded" || r1.Reason != "requested_by_customer" || r1.ChargeID == "" {
			t.Errorf("refund=%+v", r1)
		}
		r2, err := b.stripe.Refund(ctx, b.key, in.ID, 0, "", "ref-2")
		if err != nil {
			t.Fatal(err)
		}
		if r2.Amount != 2000 {
			t.Errorf("rest=%d, want 2000", r2.Amount)
		}
		got, err := b.stripe.GetRefund(ctx, b.key, r1.ID)
		if err != nil || got.Amount != 599 {
			t.Errorf("get refund: %+v %v", got, err)
		}
		v, _ := b.emu.Intent(in.ID)
		if v.AmountRefunded != 2599 || len(v.Refunds) != 2 {
			t.Errorf("emulator view=%+v", v)
		}
		_, err = b.stripe.Refund(ctx, b.key, in.ID, 0, "", "ref-3")
		var e *payment.Error
		if !errors.As(err, &e) || e.Code != "charge_already_refunded" {
			t.Errorf("refund of a refunded intent: err=%v", err)
		}
	})

	t.Run("ReplayedRefund", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := captured(t, b)
		r1, err := b.stripe.Refund(ctx, b.key, in.ID, 100, "", "ref")
		if err != nil {
			t.Fatal(err)
		}
		r2, err := b.stripe.Refund(ctx, b.key, in.ID, 100, "", "ref")
		if err != nil || r2.ID != r1.ID {
			t.Fatalf("replay: %+v %v", r2, err)
		}
		if st := b.emu.Stats(); st.Refunds != 1 {
			t.Errorf("refunds=%d", st.Refunds)
		}
	})

	t.Run("MoreThanCaptured", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := captured(t, b)
		_, err := b.stripe.Refund(ctx, b.key, in.ID, 2600, "", "ref")
		var e *payment.Error
		if !errors.As(err, &e) || e.Code != "amount_too_large" {
			t.Fatalf("err=%v, want amount_too_large", err)
		}
	})

	t.Run("NotCaptured", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		_, err := b.stripe.Refund(ctx, b.key, auth.ID, 0, "", "ref")
		if !payment.IsUnexpectedState(err) {
			t.Fatalf("err=%v, want unexpected state", err)
		}
	})

	t.Run("ForeignIntent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		in := captured(t, b)
		_, err := b.stripe.Refund(ctx, b.otherKey, in.ID, 0, "", "ref")
		if !payment.IsNotFound(err) {
			t.Fatalf("err=%v, want not found", err)
		}
	})
}

func TestGetAndFind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		auth := b.authorized(t, "a")
		in, err := b.stripe.Get(ctx, b.key, auth.ID)
		if err != nil {
			t.Fatal(err)
		}
		if in.ID != auth.ID || in.Status != payment.StatusRequiresCapture || in.Card == nil || in.Created.IsZero() {
			t.Errorf("intent=%+v", in)
		}
		if _, err := b.stripe.Get(ctx, b.otherKey, auth.ID); !payment.IsNotFound(err) {
			t.Errorf("foreign get: err=%v, want not found", err)
		}
		if _, err := b.stripe.Get(ctx, b.key, "pi_missing"); !payment.IsNotFound(err) {
			t.Errorf("missing: err=%v, want not found", err)
		}
	})

	t.Run("FindBySession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		// A declined attempt, then an approved one, for cs_1; one for cs_2.
		if _, err := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindDecline), "d")); !payment.IsDecline(err) {
			t.Fatal(err)
		}
		b.clock.Advance(time.Second)
		ok := b.authorized(t, "a")
		other := input(b.grant(stripeemu.KindApprove), "b")
		other.Metadata = map[string]string{payment.MetadataCheckoutSession: "cs_2"}
		if _, err := b.stripe.Authorize(ctx, b.key, other); err != nil {
			t.Fatal(err)
		}
		found, err := b.stripe.FindBySession(ctx, b.key, "cs_1")
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 2 || found[0].ID != ok.ID || found[1].Status != payment.StatusRequiresPaymentMethod {
			t.Errorf("found=%v, want the approved then the declined intent", ids(found))
		}
		if got, err := b.stripe.FindBySession(ctx, b.otherKey, "cs_1"); err != nil || len(got) != 0 {
			t.Errorf("other account: %v %v", ids(got), err)
		}
		if got, err := b.stripe.FindBySession(ctx, b.key, "cs_'quoted"); err != nil || len(got) != 0 {
			t.Errorf("quoted id: %v %v", ids(got), err)
		}
	})

	t.Run("SearchLags", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *stripeemu.Config, _ *payment.Stripe) { c.SearchDelay = time.Minute })
		b.authorized(t, "a")
		found, err := b.stripe.FindBySession(ctx, b.key, "cs_1")
		if err != nil || len(found) != 0 {
			t.Fatalf("before the delay: %v %v, want nothing yet", ids(found), err)
		}
		b.clock.Advance(time.Minute)
		if found, err = b.stripe.FindBySession(ctx, b.key, "cs_1"); err != nil || len(found) != 1 {
			t.Fatalf("after the delay: %v %v", ids(found), err)
		}
	})
}

func ids(ins []*payment.Intent) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.ID+":"+string(in.Status))
	}
	return out
}

func TestAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	tests := []struct {
		name    string
		key     string
		wantID  string
		wantErr func(error) bool
	}{
		{"SecretKey", b.key, shopAcct, nil},
		{"RestrictedKey", b.emu.RestrictedKey(otherAcct), otherAcct, nil},
		{"UnknownKey", "sk_test_nope", "", payment.IsAuthError},
		{"PublishableKey", "pk_test_123", "", func(err error) bool { return errors.Is(err, payment.ErrInvalidInput) }},
		{"Empty", "", "", func(err error) bool { return errors.Is(err, payment.ErrInvalidInput) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, live, err := b.stripe.Account(ctx, tt.key)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("err=%v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID || live {
				t.Errorf("account=%s live=%v, want %s test", id, live, tt.wantID)
			}
		})
	}
}

func TestAuthErrorOnCharge(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.stripe.Authorize(context.Background(), "sk_test_revoked", input(b.grant(stripeemu.KindApprove), "k"))
	if !payment.IsAuthError(err) || payment.IsUnknownOutcome(err) {
		t.Fatalf("err=%v, want an auth error", err)
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	_, decline := b.stripe.Authorize(ctx, b.key, input(b.grant(stripeemu.KindInsufficientFunds), "a"))
	_, token := b.stripe.Authorize(ctx, b.key, input("spt_unknown", "b"))
	b.emu.FailNext(1, http.StatusBadGateway)
	_, unknown := b.stripe.Get(ctx, b.key, "pi_1")
	_, notFound := b.stripe.Get(ctx, b.key, "pi_1")
	for _, tt := range []struct {
		err  error
		want []string
	}{
		{decline, []string{"authorize", "declined", "card_declined/insufficient_funds"}},
		{token, []string{"authorize", "shared payment token invalid"}},
		{unknown, []string{"get", "outcome unknown", "502"}},
		{notFound, []string{"get", "404", "resource_missing"}},
	} {
		if tt.err == nil {
			t.Errorf("want an error with %v", tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(tt.err.Error(), w) {
				t.Errorf("%q lacks %q", tt.err, w)
			}
		}
		if strings.Contains(tt.err.Error(), b.key) {
			t.Errorf("%q shows the key", tt.err)
		}
	}
}
