// Package bench is the load driver behind cmd/acpbench: it plays many
// agents against a running acpbridge, each holding one whole ACP checkout
// conversation (create → update the address → select a shipping option →
// complete with a Shared Payment Token; or, for a shop that sells through
// Shopify's checkout, follow the session's continue_url as the buyer, pay
// at the invoice it leads to and read the session until it is completed), at a chosen rate and
// concurrency, over REST or the ACP MCP binding's tools (or both, a
// conversation each in turn), and reports requests/s, latency percentiles
// per endpoint (and per transport) and every error answer. Tests import it to put load on the real binary (Run) and to start
// that binary on PostgreSQL or SQLite with the emulators (StartStack).
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Endpoints of a conversation, in order, as the report names them.
const (
	EndpointCreate   = "create"
	EndpointAddress  = "update_address"
	EndpointShipping = "select_shipping"
	EndpointComplete = "complete"
	// EndpointContinue is the buyer's GET of the session's continue_url
	// (the app's link), which writes the session's draft order and
	// answers 303 to its invoice, the Shopify emulator's checkout page.
	EndpointContinue = "continue"
	// EndpointPay is the buyer's POST to that invoice, which answers
	// once Shopify has made the order and delivered its webhooks to the
	// app.
	EndpointPay = "pay"
	// EndpointGet is the agent's GET of the session after the payment,
	// repeated until it reads completed.
	EndpointGet = "get"
	// EndpointCompletedAfterPay is no request: the time from the pay
	// answer to the first GET answer that reads completed (one per
	// conversation), what the agent waits for the order.
	EndpointCompletedAfterPay = "completed_after_pay"
)

// Endpoints lists the conversation's endpoints in order (delegated
// payment).
var Endpoints = []string{EndpointCreate, EndpointAddress, EndpointShipping, EndpointComplete}

// HandoffEndpoints lists the rows of a conversation completed through
// Shopify's checkout, in order.
var HandoffEndpoints = []string{EndpointCreate, EndpointAddress, EndpointShipping, EndpointContinue, EndpointPay, EndpointGet, EndpointCompletedAfterPay}

// Transports a run speaks (Config.Transport): TransportREST, the checkout
// API; TransportMCP, the ACP MCP binding's tools; TransportBoth, each
// conversation one of them in turn (even ones REST, odd ones MCP), so that
// both are measured under the same load on the same app.
const (
	TransportREST = "rest"
	TransportMCP  = "mcp"
	TransportBoth = "both"
)

// Completion methods a run drives (Config.Completion).
const (
	CompletionDelegated       = "delegated"
	CompletionShopifyCheckout = "shopify_checkout"
)

// Target is the app under load.
type Target struct {
	// BaseURLs are the shop's ACP base URLs (…/acp/<shop>), one per replica
	// or load balancer; requests are spread over them round-robin.
	BaseURLs []string
	// MCPURLs are the shop's MCP server URLs (…/mcp/<shop>, MCPURL), one
	// per replica or load balancer, spread over as BaseURLs; needed when
	// the run speaks MCP.
	MCPURLs []string
	// APIKey is the agent's Bearer key.
	APIKey string
	// Items are feed item ids to buy (one per conversation, at random);
	// they must be in stock and need shipping.
	Items []string
	// Tokens gives a fresh Shared Payment Token for each complete (not
	// used when the conversations complete through Shopify's checkout).
	Tokens TokenSource
}

// TokenSource gives Shared Payment Tokens, one per purchase.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Config is how hard and how long to drive.
type Config struct {
	// Rate is conversations started per second, on a fixed schedule (an
	// open load: a slow app does not slow the arrivals). 0 runs
	// Concurrency conversations back to back as fast as they go.
	Rate float64
	// Concurrency is the most conversations in flight at once (default 64).
	// When all are busy, a scheduled start waits; the report gives that
	// lag, which is queueing the app caused.
	Concurrency int
	// Duration is how long new conversations start (default 10 s); the
	// run then waits for those in flight.
	Duration time.Duration
	// MaxStartLag, when positive, drops a conversation that could not
	// start within that long of its scheduled time (all workers busy):
	// the app is not keeping up with Rate, and the report counts the
	// dropped ones instead of queueing without end.
	MaxStartLag time.Duration
	// Timeout bounds one HTTP request (default 30 s).
	Timeout time.Duration
	// SlowAfter is the latency over which a request counts as slow in
	// the report (EndpointStats.Slow; default 3 s, the agents' patience
	// that the burst goal holds the app to).
	SlowAfter time.Duration
	// Retry makes the agents retry as the protocol allows, for runs with
	// faults: a transport error, 409, 429 or 5xx is resent with the same
	// Idempotency-Key after a backoff (Retry-After when given), and a
	// complete answered complete_in_progress is sent again with a new key,
	// until RetryFor has passed. Without Retry the first answer counts.
	Retry bool
	// RetryFor bounds the retries of one request (default 2 minutes).
	RetryFor time.Duration
	// APIVersion is the ACP version spoken (default 2026-04-17; 2025-09-29
	// is also understood).
	APIVersion string
	// Transport is how the agents talk to the app: TransportREST (the
	// default), TransportMCP or TransportBoth.
	Transport string
	// Completion is how the conversations end: CompletionDelegated (the
	// default) completes with a Shared Payment Token;
	// CompletionShopifyCheckout expects the session to answer
	// requires_escalation with a continue_url, follows it and pays at
	// the invoice it leads to as the buyer
	// (POST, the emulator's checkout page) and GETs the session every
	// PollEvery until it reads completed (within RetryFor).
	Completion string
	// PollEvery is the pause between GETs after the payment (default
	// 50 ms).
	PollEvery time.Duration
	// Seed makes the item choice repeatable.
	Seed uint64
	// Progress, when set, is called about every second with the running
	// totals (for a live line on a terminal).
	Progress func(p Progress)
}

// Progress is a snapshot of a running load.
type Progress struct {
	Elapsed                       time.Duration
	Started, Completed, Failed    int64
	Requests, ErrorAnswers, InFly int64
}

const (
	defaultVersion = "2026-04-17"
	v20250929      = "2025-09-29"
)

// Run drives the target until cfg.Duration has passed and every started
// conversation has ended, or ctx ends. It returns the report; an error
// only for a setup problem (no items, no base URL).
func Run(ctx context.Context, tg Target, cfg Config) (*Report, error) {
	switch cfg.Completion {
	case "":
		cfg.Completion = CompletionDelegated
	case CompletionDelegated, CompletionShopifyCheckout:
	default:
		return nil, fmt.Errorf("bench: completion %q: want %s or %s", cfg.Completion, CompletionDelegated, CompletionShopifyCheckout)
	}
	switch cfg.Transport {
	case "":
		cfg.Transport = TransportREST
	case TransportREST, TransportMCP, TransportBoth:
	default:
		return nil, fmt.Errorf("bench: transport %q: want %s, %s or %s", cfg.Transport, TransportREST, TransportMCP, TransportBoth)
	}
	if cfg.Transport != TransportREST && len(tg.MCPURLs) == 0 {
		return nil, errors.New("bench: an MCP run needs the shop's MCP URLs")
	}
	if len(tg.BaseURLs) == 0 || len(tg.Items) == 0 || tg.Tokens == nil && cfg.Completion == CompletionDelegated || tg.APIKey == "" {
		return nil, errors.New("bench: the target needs base URLs, an API key, items and a token source")
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 50 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 2 * time.Minute
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = 3 * time.Second
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = defaultVersion
	}
	// A REST-only run reports as it always has; one speaking MCP also
	// splits every figure by transport.
	d := &driver{tg: tg, cfg: cfg, rec: newRecorder(cfg.Transport != TransportREST),
		client: &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
			MaxIdleConns: 4 * cfg.Concurrency, MaxIdleConnsPerHost: 2 * cfg.Concurrency, IdleConnTimeout: time.Minute,
		}}}
	// The buyer's browser, on the same connections, reads the continue
	// link's redirect itself (it is a row of its own).
	d.buyer = &http.Client{Timeout: cfg.Timeout, Transport: d.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer d.client.CloseIdleConnections()
	if cfg.Transport != TransportREST {
		if err := d.newMCP(); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xbe7c4))

	type job struct {
		n    int
		item string
		due  time.Time
	}
	// Open load: a deep queue, so the schedule never waits for the app.
	// Closed loop: a start waits for a free worker.
	buffer := 1 << 16
	if cfg.Rate <= 0 {
		buffer = 0
	}
	jobs := make(chan job, buffer)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				lag := time.Since(j.due)
				if cfg.MaxStartLag > 0 && lag > cfg.MaxStartLag {
					d.rec.drop()
					continue
				}
				d.rec.lag(lag)
				d.conversation(ctx, j.n, j.item)
			}
		}()
	}
	start := time.Now()
	d.rec.start = start
	stopProgress := d.progress(start)
	end := start.Add(cfg.Duration)
	// The schedule: conversation n is due at start + n/Rate.
	for n := 0; ; n++ {
		due := start
		if cfg.Rate > 0 {
			due = start.Add(time.Duration(float64(n) / cfg.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		} else {
			due = time.Now()
		}
		if ctx.Err() != nil || !due.Before(end) {
			break
		}
		j := job{n: n, item: tg.Items[rng.IntN(len(tg.Items))], due: due}
		if cfg.Rate > 0 {
			jobs <- j
			continue
		}
		t := time.NewTimer(time.Until(end))
		select {
		case jobs <- j:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	d.rec.issueEnd = time.Now()
	close(jobs)
	wg.Wait()
	stopProgress()
	return d.rec.report(time.Since(start), cfg), nil
}

// driver is one run.
type driver struct {
	tg     Target
	cfg    Config
	rec    *recorder
	client *http.Client
	buyer  *http.Client  // no redirects followed
	rr     atomic.Uint64 // round-robin over BaseURLs (and MCPURLs)
	// mcpClient and mcpHTTP serve every MCP conversation (driver_mcp.go).
	mcpClient *mcp.Client
	mcpHTTP   *http.Client
	// started, completed and failed count conversations; inFlight is
	// requests being sent.
	started, completed, failed, inFlight atomic.Int64
}

func (d *driver) progress(start time.Time) func() {
	if d.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				reqs, errs := d.rec.totals()
				d.cfg.Progress(Progress{Elapsed: time.Since(start), Started: d.started.Load(), Completed: d.completed.Load(),
					Failed: d.failed.Load(), Requests: reqs, ErrorAnswers: errs, InFly: d.inFlight.Load()})
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// conversation plays one agent's purchase and records how it ended.
func (d *driver) conversation(ctx context.Context, n int, item string) {
	d.started.Add(1)
	var a agent = restAgent{d}
	if d.cfg.Transport == TransportMCP || d.cfg.Transport == TransportBoth && n%2 == 1 {
		a = &mcpAgent{d: d}
	}
	defer a.close()
	c := Conversation{N: n, Item: item, Transport: a.transport()}
	// One replica per conversation would hide cross-replica bugs: each
	// request takes the next base URL.
	err := d.converse(ctx, a, &c)
	if err != nil {
		c.Err = err.Error()
		d.failed.Add(1)
	} else {
		d.completed.Add(1)
	}
	d.rec.conversation(c)
}

func (d *driver) converse(ctx context.Context, a agent, c *Conversation) error {
	email := fmt.Sprintf("agent%d@example.com", c.N)
	if err := d.create(ctx, a, c, email); err != nil {
		return err
	}
	option, s, err := d.setAddress(ctx, a, c, email)
	if err != nil {
		return err
	}
	if s, err = d.selectShipping(ctx, a, c, option, s); err != nil {
		return err
	}
	c.Total = total(s)
	if d.handoff() {
		return d.payAtShopify(ctx, a, c, s)
	}
	return d.complete(ctx, a, c)
}

// agent is how one conversation talks to the app: restAgent
// (driver_http.go) or mcpAgent (driver_mcp.go). The steps, their retries
// and the report are the same for both (call).
type agent interface {
	transport() string
	// send makes one attempt of op with its JSON payload (nil for a get)
	// under an idempotency key ("" for a get). It answers as REST does:
	// the status (for MCP, that of the ACP error a tool error carries),
	// whether it is the success, the session or the ACP error object.
	// err is for no answer at all.
	send(ctx context.Context, op operation, body []byte, key string) (answer, error)
	close()
}

// opKind is an ACP checkout operation a conversation makes.
type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opComplete
	opGet
)

// operation is an ACP checkout operation on a session (id; none for
// create).
type operation struct {
	kind opKind
	id   string
}

// answer is one attempt's answer.
type answer struct {
	status int
	ok     bool
	// retryAfter is the Retry-After header, if any (REST only).
	retryAfter string
	body       []byte
	dur        time.Duration
}

// call makes op with body, retrying per Config.Retry, and decodes the
// session of a successful answer.
func (d *driver) call(ctx context.Context, a agent, endpoint string, op operation, body any) (map[string]any, error) {
	tr := a.transport()
	var raw []byte
	key := ""
	if op.kind != opGet {
		raw, _ = json.Marshal(body)
		key = fmt.Sprintf("bench-%x", rand.Uint64())
	}
	deadline := time.Now().Add(d.cfg.RetryFor)
	for attempt := 1; ; attempt++ {
		ans, err := a.send(ctx, op, raw, key)
		ok := err == nil && ans.ok
		d.rec.request(tr, endpoint, ans.status, ans.dur, ok)
		if ok {
			var m map[string]any
			if err := json.Unmarshal(ans.body, &m); err != nil {
				d.rec.errorAnswer(tr, endpoint, ans.status, "not JSON", ans.body)
				return nil, fmt.Errorf("%s: answer is not JSON: %s", endpoint, sample(ans.body))
			}
			return m, nil
		}
		if err != nil {
			d.rec.errorAnswer(tr, endpoint, 0, "transport: "+transportKind(err), []byte(err.Error()))
		} else {
			d.rec.errorAnswer(tr, endpoint, ans.status, "", ans.body)
			if ans.status == http.StatusTooManyRequests && tr == TransportREST && ans.retryAfter == "" {
				d.rec.missingRetryAfter(tr, endpoint)
			}
		}
		retryable := err != nil || ans.status == http.StatusConflict || ans.status == http.StatusTooManyRequests || ans.status >= 500
		if !d.cfg.Retry || !retryable || time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", endpoint, err)
			}
			return nil, fmt.Errorf("%s: %d %s", endpoint, ans.status, sample(ans.body))
		}
		wait := time.Duration(min(attempt, 10)) * 100 * time.Millisecond
		if ra, err := strconv.ParseFloat(ans.retryAfter, 64); err == nil && ra >= 0 {
			wait = min(time.Duration(ra*float64(time.Second)), 5*time.Second)
		}
		sleep(ctx, wait)
	}
}

// create is step 1: the cart and the buyer, no address yet.
func (d *driver) create(ctx context.Context, a agent, c *Conversation, email string) error {
	var create map[string]any
	if d.cfg.APIVersion == v20250929 {
		create = map[string]any{"items": []map[string]any{{"id": c.Item, "quantity": 1}},
			"buyer": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email}}
	} else {
		create = map[string]any{"line_items": []map[string]any{{"id": c.Item, "quantity": 1}}, "currency": "usd",
			"capabilities": map[string]any{}, "buyer": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email}}
	}
	s, err := d.call(ctx, a, EndpointCreate, operation{kind: opCreate}, create)
	if err != nil {
		return err
	}
	c.SessionID, _ = s["id"].(string)
	if c.SessionID == "" {
		return d.unexpected(a.transport(), EndpointCreate, "no session id", s)
	}
	return nil
}

// setAddress is step 2, the address: Shopify quotes tax and shipping
// rates. It returns the last shipping option and the session.
func (d *driver) setAddress(ctx context.Context, a agent, c *Conversation, email string) (string, map[string]any, error) {
	address := map[string]any{"name": "Ada Lovelace", "line_one": strconv.Itoa(1+c.N%999) + " Market St",
		"city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}
	var upd map[string]any
	if d.cfg.APIVersion == v20250929 {
		upd = map[string]any{"fulfillment_address": address}
	} else {
		upd = map[string]any{"fulfillment_details": map[string]any{"name": "Ada Lovelace", "email": email, "address": address}}
	}
	for deadline := time.Now().Add(d.cfg.RetryFor); ; {
		s, err := d.call(ctx, a, EndpointAddress, operation{opUpdate, c.SessionID}, upd)
		if err != nil {
			return "", nil, err
		}
		option := lastOption(s)
		if d.payable(s) && option != "" {
			return option, s, nil
		}
		// Shopify could not quote (a recoverable message): an agent asks
		// again.
		if !d.cfg.Retry || time.Now().After(deadline) {
			return "", nil, d.unexpected(a.transport(), EndpointAddress, "not payable with shipping options", s)
		}
		d.retried(a.transport(), EndpointAddress, s)
		sleep(ctx, 200*time.Millisecond)
	}
}

// selectShipping is step 3: choose the shipping option (the last, usually
// not the default) for the line items of session s. It returns the
// session.
func (d *driver) selectShipping(ctx context.Context, a agent, c *Conversation, option string, s map[string]any) (map[string]any, error) {
	var sel map[string]any
	if d.cfg.APIVersion == v20250929 {
		sel = map[string]any{"fulfillment_option_id": option}
	} else {
		sel = map[string]any{"selected_fulfillment_options": []map[string]any{{"type": "shipping", "option_id": option, "item_ids": lineItemIDs(s)}}}
	}
	for deadline := time.Now().Add(d.cfg.RetryFor); ; {
		s, err := d.call(ctx, a, EndpointShipping, operation{opUpdate, c.SessionID}, sel)
		if err != nil {
			return nil, err
		}
		if d.payable(s) {
			return s, nil
		}
		if !d.cfg.Retry || time.Now().After(deadline) {
			return nil, d.unexpected(a.transport(), EndpointShipping, "not payable", s)
		}
		d.retried(a.transport(), EndpointShipping, s)
		sleep(ctx, 200*time.Millisecond)
	}
}

// complete is step 4: complete with a fresh token.
func (d *driver) complete(ctx context.Context, a agent, c *Conversation) error {
	tok, err := d.tg.Tokens.Token(ctx)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	var pay map[string]any
	if d.cfg.APIVersion == v20250929 {
		pay = map[string]any{"payment_data": map[string]any{"token": tok, "provider": "stripe"}}
	} else {
		pay = map[string]any{"payment_data": map[string]any{"handler_id": "card_tokenized",
			"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": tok}}}}
	}
	deadline := time.Now().Add(d.cfg.RetryFor)
	for {
		s, err := d.call(ctx, a, EndpointComplete, operation{opComplete, c.SessionID}, pay)
		if err != nil {
			return err
		}
		st, _ := s["status"].(string)
		c.Status = st
		if st == "completed" {
			if o, ok := s["order"].(map[string]any); ok {
				c.OrderID, _ = o["id"].(string)
			}
			return nil
		}
		// In progress (another request or the resume job holds the
		// completion), or not ready because Shopify could not re-quote
		// (a recoverable message): ask again, with a new key.
		if d.cfg.Retry && (st == "complete_in_progress" || st == "in_progress" || st == "not_ready_for_payment" && recoverable(s)) &&
			time.Now().Before(deadline) {
			if st == "not_ready_for_payment" {
				d.retried(a.transport(), EndpointComplete, s)
			}
			c.InProgress++
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		return d.unexpected(a.transport(), EndpointComplete, "not completed", s)
	}
}

// retried records a 2xx answer the agent asks again after (not ready for
// payment, with the session's message codes as the kind).
func (d *driver) retried(tr, endpoint string, s map[string]any) {
	b, _ := json.Marshal(s)
	d.rec.retried(tr, endpoint, "not ready: "+messageCodes(s), b)
}
