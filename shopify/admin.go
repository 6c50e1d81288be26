package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
)

// Admin API errors. Match them with errors.Is; *StatusError carries the
// HTTP status.
var (
	// ErrUnauthorized is a 401: the access token expired or was revoked.
	// The caller refreshes the token and retries once, then marks the shop
	// for re-authorisation.
	ErrUnauthorized = errors.New("access token was refused")
	// ErrShopUnavailable is a 402 (shop frozen for non-payment) or a 423
	// (shop locked): nothing works until the merchant sorts it out.
	ErrShopUnavailable = errors.New("shop is frozen or locked")
	// ErrForbidden is a 403: the app lacks a scope or the shop is closed.
	ErrForbidden = errors.New("request is forbidden for this app")
	// ErrNotFound is a 404: the shop does not exist (any more).
	ErrNotFound = errors.New("shop or endpoint not found")
	// ErrUnavailable is a network failure, a timeout, a 429 or a 5xx:
	// worth retrying later.
	ErrUnavailable = errors.New("shopify is unavailable")
)

// adminTimeout bounds a Query whose context has no deadline.
const adminTimeout = 30 * time.Second

// maxAdminBody bounds what is read of one GraphQL response; go-shopify
// reads without a limit.
const maxAdminBody = 32 << 20

// errBodyTooLarge is returned, wrapped, for a response over maxAdminBody.
var errBodyTooLarge = errors.New("response body is too large")

// StatusError is a non-2xx answer from Shopify. Err is the sentinel it
// maps to, if any, so errors.Is works through it.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the OAuth "error" field, when it is a plain identifier.
	Code string
	// Message is Shopify's own short explanation (Admin API only; OAuth
	// descriptions are left out in case they echo what was sent).
	Message string
	// Err is ErrUnauthorized, ErrForbidden, … or nil.
	Err error
}

// Error implements error.
func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel the status maps to.
func (e *StatusError) Unwrap() error { return e.Err }

// GraphQLError is a response with top-level GraphQL "errors": the document
// was refused or failed as a whole. Codes parallels Messages
// (extensions.code, "" when absent). Only THROTTLED and
// INTERNAL_SERVER_ERROR are worth retrying; IsRetryable knows.
type GraphQLError struct {
	// Messages are the errors' messages, in order.
	Messages []string
	// Codes are their extensions.code values, e.g. ACCESS_DENIED.
	Codes []string
}

// Error implements error.
func (e *GraphQLError) Error() string {
	parts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		parts[i] = m
		if i < len(e.Codes) && e.Codes[i] != "" {
			parts[i] += " [" + e.Codes[i] + "]"
		}
	}
	return "graphql errors: " + strings.Join(parts, "; ")
}

// Is lets errors.Is(err, ErrUnavailable) and errors.Is(err, ErrThrottled)
// see the retryable codes.
func (e *GraphQLError) Is(target error) bool {
	for _, c := range e.Codes {
		if (c == "INTERNAL_SERVER_ERROR" && target == ErrUnavailable) || (c == "THROTTLED" && target == ErrThrottled) {
			return true
		}
	}
	return false
}

// IsRetryable reports whether err is worth retrying later as it is:
// network and server failures and rate limiting. A 401 is not: the token
// needs refreshing first.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrThrottled)
}

// UserError is one entry of a mutation's userErrors: callers put
// `UserErrors []shopify.UserError` in their response structs.
type UserError struct {
	// Field is the path to the input at fault, e.g. ["order", "email"];
	// empty when the error is about the whole input.
	Field   []string `json:"field"`
	Message string   `json:"message"`
	// Code is the typed error code, when the mutation's error type has one.
	Code string `json:"code"`
}

// UserErrorsError is a mutation that Shopify ran but refused, with its
// userErrors.
type UserErrorsError struct {
	// Op names the mutation, e.g. "orderCreate".
	Op string
	// Errors are the userErrors as Shopify sent them.
	Errors []UserError
}

// Error lists each user error as field path and message.
func (e *UserErrorsError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, u := range e.Errors {
		s := u.Message
		if len(u.Field) > 0 {
			s = strings.Join(u.Field, ".") + ": " + s
		}
		if u.Code != "" {
			s += " (" + u.Code + ")"
		}
		parts[i] = s
	}
	return fmt.Sprintf("shopify %s: user errors: %s", e.Op, strings.Join(parts, "; "))
}

// UserErrorsErr returns nil when errs is empty, else a *UserErrorsError for
// the operation op.
func UserErrorsErr(op string, errs []UserError) error {
	if len(errs) == 0 {
		return nil
	}
	return &UserErrorsError{Op: op, Errors: errs}
}

// Admin is the GraphQL Admin API client. Safe for concurrent use
// (go-shopify's Client is not: it keeps RateLimits unlocked, so one is
// built per call; it is cheap).
type Admin struct {
	// HTTPClient carries the requests; nil means a plain client.
	HTTPClient *http.Client
	// Logger gets one debug line per call; nil discards.
	Logger *slog.Logger
	// Limiter is shared per process; nil means a package-wide default one.
	Limiter *Limiter
	// Deprecations sees every response's X-Shopify-API-Deprecated-Reason;
	// nil ignores the header.
	Deprecations *Deprecations
}

// Query runs one GraphQL document for the shop with the access token and
// decodes `data` into out. With a *GraphQLError, out may hold partial
// data. Mutations must still check their userErrors (UserErrorsErr).
// THROTTLED answers are waited out and retried here; nothing else is,
// since a retried mutation could run twice.
func (a *Admin) Query(ctx context.Context, shop, accessToken, query string, vars map[string]any, out any) error {
	op := operationName(query)
	shop, err := NormalizeShop(shop)
	if err != nil {
		return fmt.Errorf("shopify admin %s: %w", op, err)
	}
	if accessToken == "" {
		return fmt.Errorf("shopify admin %s on %s: no access token: %w", op, shop, ErrUnauthorized)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, adminTimeout)
		defer cancel()
	}

	lim := a.Limiter
	if lim == nil {
		lim = defaultLimiter
	}
	start := time.Now()
	var cost *goshopify.GraphQLCost
	attempts := 0
	for {
		attempts++
		r, rerr := lim.reserve(ctx, shop, query)
		if rerr != nil {
			err = notSent("waiting for rate-limit points", rerr)
			break
		}
		cost, err = a.call(ctx, shop, accessToken, op, query, vars, out)
		lim.observe(r, cost)
		if rq := requestOf(ctx); rq != nil {
			rq.started.Store(true)
		}
		var th *throttledError
		if !errors.As(err, &th) {
			break
		}
		if attempts > maxThrottleRetries {
			err = &ThrottledError{RetryAfter: th.after, Reason: fmt.Sprintf("still THROTTLED after %d attempts", attempts)}
			break
		}
		if perr := lim.pause(ctx, th.after); perr != nil {
			err = notSent("waiting out THROTTLED", perr)
			break
		}
	}
	a.log(ctx, shop, op, cost, attempts, time.Since(start), err)
	if err != nil {
		return fmt.Errorf("shopify admin %s on %s: %w", op, shop, err)
	}
	return nil
}

// notSent is the error of a call given up while waiting for points: the
// Limiter's *ThrottledError as it is, or ctx's end (the caller went away
// or ran out of time), marked ErrThrottled since nothing was run.
func notSent(while string, err error) error {
	var te *ThrottledError
	if errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("%s: %w: %w", while, ErrThrottled, err)
}

// throttledError is a THROTTLED answer (or a 429) and how long to wait.
type throttledError struct{ after time.Duration }

func (e *throttledError) Error() string { return "throttled" }

// call is one HTTP attempt through go-shopify. It returns the cost Shopify
// reported, if any, and the classified error.
func (a *Admin) call(ctx context.Context, shop, token, op, query string, vars map[string]any, out any) (*goshopify.GraphQLCost, error) {
	tap := &bodyTap{}
	client, err := goshopify.NewClient(goshopify.App{}, shop, token,
		goshopify.WithVersion(APIVersion),
		goshopify.WithHTTPClient(a.httpClient(tap)),
		// No retries inside go-shopify: its THROTTLED and 503 retries
		// time.Sleep without regard to ctx. We retry ourselves.
		goshopify.WithRetry(0),
	)
	if err != nil {
		return nil, err
	}
	err = client.GraphQL.Query(ctx, query, vars, out)
	a.Deprecations.Observe(ctx, shop, op, tap.deprecated)
	// go-shopify fills GraphQLCost from any 2xx body with extensions,
	// THROTTLED ones included, but not from a non-2xx answer (a 429): the
	// tapped body may still have it.
	cost := client.RateLimits.GraphQLCost
	if err == nil {
		return cost, nil
	}
	env := tap.envelope()
	if cost == nil && env.Extensions != nil {
		cost = &env.Extensions.Cost
	}
	return cost, classify(err, env, cost)
}

// classify maps what go-shopify returned onto this package's errors.
func classify(err error, env gqlEnvelope, cost *goshopify.GraphQLCost) error {
	var (
		rl goshopify.RateLimitError
		re goshopify.ResponseError
		de goshopify.ResponseDecodingError
		ue *url.Error
	)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return err
	case errors.As(err, &rl):
		// THROTTLED at 200 (go-shopify rounds the wait up to whole
		// seconds; the cost gives it exactly) or a 429 with Retry-After.
		after := time.Duration(rl.RetryAfter) * time.Second
		if cost != nil {
			after = seconds(cost.RetryAfterSeconds())
		}
		if after <= 0 {
			after = time.Second
		}
		return &throttledError{after: after}
	case errors.As(err, &re) && re.Status == http.StatusOK:
		return graphQLError(env, re)
	case errors.As(err, &re):
		return adminStatusError(re.Status, re.Error())
	case errors.As(err, &de):
		// A non-JSON error page: its parse error says nothing useful.
		return adminStatusError(de.Status, "")
	case errors.As(err, &ue):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("decoding response: %w", err)
}

// graphQLError builds the error for top-level GraphQL errors, taking the
// codes from the tapped body because go-shopify keeps only the messages.
func graphQLError(env gqlEnvelope, re goshopify.ResponseError) *GraphQLError {
	ge := &GraphQLError{}
	if len(env.Errors) > 0 {
		for _, e := range env.Errors {
			ge.Messages = append(ge.Messages, e.Message)
			ge.Codes = append(ge.Codes, e.Extensions.Code)
		}
		return ge
	}
	ge.Messages = append(ge.Messages, re.Errors...)
	ge.Codes = make([]string, len(ge.Messages))
	return ge
}

// adminStatusError classifies a non-2xx Admin API answer.
func adminStatusError(status int, msg string) error {
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	se := &StatusError{Status: status, Message: strings.Join(strings.Fields(msg), " ")}
	switch {
	case status == http.StatusUnauthorized:
		se.Err = ErrUnauthorized
	case status == http.StatusPaymentRequired || status == http.StatusLocked:
		se.Err = ErrShopUnavailable
	case status == http.StatusForbidden:
		se.Err = ErrForbidden
	case status == http.StatusNotFound:
		se.Err = ErrNotFound
	case status == http.StatusTooManyRequests:
		// A 429 without Retry-After (one with it is a RateLimitError):
		// rate limited, so not run.
		se.Err = ErrThrottled
	case status >= 500:
		se.Err = ErrUnavailable
	}
	return se
}

// gqlEnvelope is the part of a response go-shopify does not hand back.
type gqlEnvelope struct {
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions *struct {
		Cost goshopify.GraphQLCost `json:"cost"`
	} `json:"extensions"`
}

// bodyTap keeps a bounded copy of the response body for the error path.
// One tap serves one go-shopify client, which makes one request at a time.
type bodyTap struct {
	next http.RoundTripper
	body []byte
	// deprecated is the response's DeprecatedReasonHeader, if any.
	deprecated string
}

// RoundTrip implements http.RoundTripper.
func (t *bodyTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	t.deprecated = resp.Header.Get(DeprecatedReasonHeader)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAdminBody {
		return nil, fmt.Errorf("over %d bytes: %w", maxAdminBody, errBodyTooLarge)
	}
	t.body = b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// envelope decodes what it can of the tapped body; an error page just
// yields nothing.
func (t *bodyTap) envelope() gqlEnvelope {
	var env gqlEnvelope
	_ = json.Unmarshal(t.body, &env)
	return env
}

// httpClient is a per-call copy of the injected client with the tap in
// front of its transport. It does not follow redirects: go-shopify's
// X-Shopify-Access-Token is not a header net/http strips when a redirect
// leaves the host.
func (a *Admin) httpClient(tap *bodyTap) *http.Client {
	c := &http.Client{}
	if a.HTTPClient != nil {
		cp := *a.HTTPClient
		c = &cp
	}
	tap.next = c.Transport
	if tap.next == nil {
		tap.next = http.DefaultTransport
	}
	c.Transport = tap
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// log writes the call's debug line: never the token, variables or Shopify's
// messages (which can quote variables), only an error's class.
func (a *Admin) log(ctx context.Context, shop, op string, cost *goshopify.GraphQLCost, attempts int, d time.Duration, err error) {
	l := a.Logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("shop", shop),
		slog.String("operation", op),
		slog.Int("attempts", attempts),
		slog.Duration("duration", d),
	}
	if cost != nil {
		attrs = append(attrs, slog.Int("requested_cost", cost.RequestedQueryCost))
		if cost.ActualQueryCost != nil {
			attrs = append(attrs, slog.Int("actual_cost", *cost.ActualQueryCost))
		}
		attrs = append(attrs, slog.Float64("available", cost.ThrottleStatus.CurrentlyAvailable))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errorClass(err)))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "shopify admin call", attrs...)
}

// errorClass names an error without its text.
func errorClass(err error) string {
	var (
		ge *GraphQLError
		se *StatusError
	)
	switch {
	case errors.As(err, &ge):
		return "graphql " + strings.Join(ge.Codes, ",")
	case errors.As(err, &se):
		return fmt.Sprintf("http %d", se.Status)
	case errors.Is(err, ErrThrottled):
		return "throttled"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "other"
}

// opName finds the first named operation of a document.
var opName = regexp.MustCompile(`(?:^|[^_0-9A-Za-z])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)`)

// operationName is the document's first `query|mutation NAME`, or
// "anonymous".
func operationName(query string) string {
	if m := opName.FindStringSubmatch(query); m != nil {
		return m[1]
	}
	return "anonymous"
}
