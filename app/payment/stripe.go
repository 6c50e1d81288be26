// Package payment charges buyers through the merchant's own Stripe account
// with Stripe Shared Payment Tokens (SPT), over stripe-go v79.
//
// Every call takes the merchant's secret (sk_…) or restricted (rk_…) key:
// one Stripe value serves every shop of the process, and each call goes
// with its key through one stripe-go backend whose base URL is
// configurable (the emulator in tests and the demo). stripe-go's
// package-level defaults are never touched. The PaymentIntent calls decode
// Stripe's answer into just the fields Intent has (intent_wire.go) rather
// than stripe-go's PaymentIntent, whose decoding cost more than the rest
// of the call; the others use stripe-go's client.API.
//
// What goes on the wire (docs/stripe.md):
//   - the token as payment_method_data[shared_payment_granted_token], added
//     with AddExtra since stripe-go v79 predates it;
//   - Stripe-Version: 2026-04-22.preview on every request (the version that
//     knows that parameter);
//   - an Idempotency-Key on every write, always the caller's: a retry of
//     the same operation must reuse it, so Stripe replays the first answer
//     instead of charging twice. Use one key per operation (e.g.
//     "<session>:authorize:<attempt>", "<session>:capture"): Stripe refuses
//     a key reused on another endpoint or with other parameters
//     (idempotency_error), and keeps keys for 24 hours.
//
// Errors are typed: *DeclineError (the card was declined, HTTP 402),
// *TokenError (the token cannot pay: unknown, granted to another account,
// used, expired, revoked, or outside its usage limits), *UnknownOutcomeError
// (network failure, timeout, 5xx, or a request still in flight: the
// operation may or may not have happened; see IsUnknownOutcome) and *Error
// for every other answer from Stripe.
//
// Provider (provider.go) is the Stripe adapter of the app: it implements
// checkout.Payments (and the key check agents.PaymentConnector) over
// Stripe, and app/service registers it as provider "stripe" (ProviderName).
// So this package imports package app, app/checkout and acp, and nothing
// else of the app; no other package names Stripe.
package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/client"
)

// APIVersion is the Stripe-Version sent with every request: the first that
// accepts payment_method_data[shared_payment_granted_token]. Stripe marks
// it a preview; re-check docs/stripe.md before moving it.
const APIVersion = "2026-04-22.preview"

// TokenParam is the PaymentIntent parameter that carries the SPT.
const TokenParam = "payment_method_data[shared_payment_granted_token]"

// MetadataCheckoutSession is the metadata key FindBySession searches: put
// the ACP checkout session id under it in AuthorizeInput.Metadata.
const MetadataCheckoutSession = "checkout_session_id"

// defaultTimeout bounds one HTTP exchange when HTTPClient is nil, as
// stripe-go's own default client does.
const defaultTimeout = 80 * time.Second

// Stripe is the Stripe client. Fill the fields before the first call and
// do not change them afterwards; it is safe for concurrent use.
type Stripe struct {
	// BaseURL is Stripe's API root; "" means https://api.stripe.com.
	BaseURL string
	// HTTPClient defaults to a client with an 80 s timeout. Calls also
	// end with their context.
	HTTPClient *http.Client
	// Logger defaults to discarding. It never sees keys or tokens.
	Logger *slog.Logger
	// Retries is how many times stripe-go resends a request that failed on
	// the network, with a 409 or with a 5xx, always with the same
	// Idempotency-Key, so a resend never charges twice. 0 means stripe-go's
	// default (2); a negative value disables resending.
	Retries int

	once     sync.Once
	backends *stripe.Backends
	log      *slog.Logger
}

// init builds the backend once, from the fields.
func (s *Stripe) init() {
	s.once.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		hc := s.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: defaultTimeout}
		}
		cfg := &stripe.BackendConfig{
			HTTPClient:      hc,
			LeveledLogger:   leveledLogger{s.log},
			EnableTelemetry: stripe.Bool(false),
		}
		if s.BaseURL != "" {
			cfg.URL = stripe.String(strings.TrimRight(s.BaseURL, "/"))
		}
		switch {
		case s.Retries < 0:
			cfg.MaxNetworkRetries = stripe.Int64(0)
		case s.Retries > 0:
			cfg.MaxNetworkRetries = stripe.Int64(int64(s.Retries))
		}
		b := stripe.GetBackendWithConfig(stripe.APIBackend, cfg)
		// Only the API backend is used; the others point at it so that
		// client.New never falls back to stripe's package-level backends.
		s.backends = &stripe.Backends{API: b, Connect: b, Uploads: b}
	})
}

// api returns a client for one merchant's key.
func (s *Stripe) api(key string) (*client.API, error) {
	if err := s.ready(key); err != nil {
		return nil, err
	}
	return client.New(key, s.backends), nil
}

// ready builds the backend and checks the key, for a call straight
// through the backend (callIntent).
func (s *Stripe) ready(key string) error {
	s.init()
	return checkKey(key)
}

// ErrInvalidInput wraps every refusal to send a request: a missing
// idempotency key, a non-positive amount, a publishable key…
var ErrInvalidInput = errors.New("payment: invalid input")

func invalidInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// checkKey accepts secret and restricted keys, live or test.
func checkKey(key string) error {
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_"} {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return nil
		}
	}
	return invalidInput("the key must be a Stripe secret (sk_…) or restricted (rk_…) key")
}

// livemode reports whether a key is a live one.
func livemode(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
}

// params are the common parameters: context, version header and, for a
// write, the caller's idempotency key.
func params(ctx context.Context, idemKey string) stripe.Params {
	p := stripe.Params{Context: ctx, Headers: http.Header{"Stripe-Version": {APIVersion}}}
	if idemKey != "" {
		p.SetIdempotencyKey(idemKey)
	}
	return p
}

// checkIdem refuses a write without an idempotency key: stripe-go would
// make up a random one, and a retry could then charge twice.
func checkIdem(idemKey string) error {
	switch {
	case strings.TrimSpace(idemKey) == "":
		return invalidInput("an idempotency key is required")
	case len(idemKey) > 255:
		return invalidInput("the idempotency key is longer than 255 characters")
	}
	return nil
}

// leveledLogger adapts slog to stripe-go's logger. stripe-go logs every
// request at info and every error it returns at error; both go to debug,
// since the caller handles the error. Its retry warnings stay warnings.
type leveledLogger struct{ l *slog.Logger }

func (l leveledLogger) logf(level slog.Level, format string, v ...any) {
	if l.l.Enabled(context.Background(), level) {
		l.l.Log(context.Background(), level, Redact(fmt.Sprintf(format, v...)), "component", "stripe-go")
	}
}

// secretRE matches Stripe credentials: payment tokens and API keys.
var secretRE = regexp.MustCompile(`\b(spt|sk|rk|pk)_(test_|live_)?[A-Za-z0-9]{6,}`)

// Redact hides payment tokens and API keys in text bound for logs and
// stored errors: Stripe's error messages quote the token they refuse, and
// a token refused for its amount or currency is still usable.
func Redact(s string) string {
	return secretRE.ReplaceAllString(s, "${1}_${2}[redacted]")
}

func (l leveledLogger) Debugf(format string, v ...any) { l.logf(slog.LevelDebug, format, v...) }
func (l leveledLogger) Infof(format string, v ...any)  { l.logf(slog.LevelDebug, format, v...) }
func (l leveledLogger) Warnf(format string, v ...any)  { l.logf(slog.LevelWarn, format, v...) }
func (l leveledLogger) Errorf(format string, v ...any) { l.logf(slog.LevelDebug, format, v...) }
