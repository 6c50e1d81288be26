package acpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// Operation is one ACP checkout operation.
type Operation string

// The ACP checkout operations. Those that change state carry the names
// their idempotency keys are scoped by (idempotency.Operation).
const (
	OpCreate             = Operation(idempotency.OpCreateSession)
	OpGet      Operation = "get_checkout_session"
	OpUpdate             = Operation(idempotency.OpUpdateSession)
	OpComplete           = Operation(idempotency.OpCompleteSession)
	OpCancel             = Operation(idempotency.OpCancelSession)

	// The cart operations (2026-04-17 cart capability).
	OpCreateCart           = Operation(idempotency.OpCreateCart)
	OpGetCart    Operation = "get_cart"
	OpUpdateCart           = Operation(idempotency.OpUpdateCart)
	OpCancelCart           = Operation(idempotency.OpCancelCart)
)

// idempotent reports whether op takes an Idempotency-Key: the operations
// that change state.
func (op Operation) idempotent() bool {
	switch op {
	case OpCreate, OpUpdate, OpComplete, OpCancel, OpCreateCart, OpUpdateCart, OpCancelCart:
		return true
	}
	return false
}

// read reports whether op only reads (it has no body).
func (op Operation) read() bool { return op == OpGet || op == OpGetCart }

// cart reports whether op is a cart operation.
func (op Operation) cart() bool {
	return op == OpCreateCart || op == OpGetCart || op == OpUpdateCart || op == OpCancelCart
}

// ErrUnknownOperation is the answer to a call of an operation the pipeline
// does not know, given once the caller is authenticated (REST: a path under
// /checkout_sessions that has no route, answered 404 as before the
// pipeline existed; JSON-RPC: method not found).
var ErrUnknownOperation = errors.New("acpapi: unknown operation")

// Panic is what a panic during a call is re-raised as: the value, and what
// the transport needs to answer it as it answers any error of the call
// (its recovery then takes over, with the original frames still on the
// stack). A claimed Idempotency-Key has been released.
type Panic struct {
	Value any
	// Version is the negotiated version ("" if negotiation had not run).
	Version acp.Version
	// IdempotencyKey is the valid key of the call, once idempotency had
	// accepted it ("" before).
	IdempotencyKey string
}

// Checkout is the checkout use-case (checkout.Sessions): every operation
// takes the authenticated agent as its caller.
type Checkout interface {
	Create(ctx context.Context, ag *app.Agent, v acp.Version, in *acp.CreateSessionInput) (*checkout.Session, error)
	Get(ctx context.Context, ag *app.Agent, id string) (*checkout.Session, error)
	Update(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.UpdateSessionInput) (*checkout.Session, error)
	Cancel(ctx context.Context, ag *app.Agent, id string, in *acp.CancelSessionInput) (*checkout.Session, error)
	Complete(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput) (*checkout.Session, error)
}

// Carts is the cart use-case (checkout.Carts): every operation takes the
// authenticated agent as its caller.
type Carts interface {
	// CartsEnabled reports whether the agent's shop has carts; for one
	// that has none, every cart call is not found, whatever its body.
	CartsEnabled(ctx context.Context, ag *app.Agent) (bool, error)
	Create(ctx context.Context, ag *app.Agent, in *acp.CreateCartInput) (*checkout.Cart, error)
	Get(ctx context.Context, ag *app.Agent, id string) (*checkout.Cart, error)
	Update(ctx context.Context, ag *app.Agent, id string, in *acp.UpdateCartInput) (*checkout.Cart, error)
	Cancel(ctx context.Context, ag *app.Agent, id string) (*checkout.Cart, error)
}

// Agents authenticates agents (agents.Access).
type Agents interface {
	Authenticate(ctx context.Context, shopDomain, authorization string) (*app.Agent, error)
	VerifySignature(ag *app.Agent, timestamp, signature string, body []byte) error
	// ConsumeSignature refuses a verified signature already used on
	// another request (replay protection, across replicas).
	ConsumeSignature(ctx context.Context, ag *app.Agent, timestamp, signature string, req agents.SignedRequest) error
}

// RateLimiter refuses an API key's request over its rate: an *app.Error
// with CodeRateLimited and RetryAfter. The buckets are the transport's
// (web keeps them per replica); nil means no limit.
type RateLimiter interface {
	AllowKey(apiKeyID int64) error
}

// Pipeline runs ACP calls. Idempotency nil leaves idempotency out (no key
// is read, checked or echoed).
type Pipeline struct {
	Checkout Checkout
	// Carts serves the cart operations; nil: there are none (their
	// routes answer as unknown ones).
	Carts Carts
	// Catalog serves acpbridge's catalog tools (catalog.go); nil: there
	// are none.
	Catalog     Catalog
	Agents      Agents
	Limiter     RateLimiter
	Idempotency *idempotency.Keys
	// Logger reports idempotency records that could not be settled.
	Logger *slog.Logger
	// Budget, when set, prepares the context of the one checkout or cart
	// call for the shop's Shopify API budget: how long its Shopify calls
	// may wait for rate-limit points before answering "retry later"
	// while the agent still waits, and whether it is on the money path
	// (complete: charging and writing the order), whose calls go ahead
	// of the others when the budget runs low. The transport supplies it
	// (web: shopify.WithPatience and shopify.WithPriority).
	Budget func(ctx context.Context, moneyPath bool) context.Context
}

// Request is one ACP call, in the transport's raw values.
type Request struct {
	// Shop is the shop domain the call is addressed to.
	Shop      string
	Operation Operation
	// SessionID is the target session, or cart for the cart operations
	// (all but OpCreate and OpCreateCart).
	SessionID string
	// APIVersion, Authorization, Timestamp and Signature are the values
	// of the headers (REST) or fields (JSON-RPC) of those names.
	APIVersion    string
	Authorization string
	Timestamp     string
	Signature     string
	// IdempotencyKeys are all the Idempotency-Key values sent: none, one,
	// or (refused) several.
	IdempotencyKeys []string
	// Body is the request body as received, read up to at most
	// acp.MaxBodyBytes+1 bytes; BodyTooLarge says the transport knew it
	// to be over the limit without reading it (a declared length), and
	// BodyErr that reading it failed. Ignored for OpGet and OpGetCart.
	Body         []byte
	BodyTooLarge bool
	BodyErr      error
	// CheckBody, when set, is the transport's own check of the body's
	// framing (REST: its Content-Type), run once the body is known to be
	// within the limit, before authentication.
	CheckBody func(body []byte) error
	// Binding is what a signature's use is bound to (REST: method, path
	// and Idempotency-Key), so that only a retry of this same call may
	// carry the signature again.
	Binding agents.SignedRequest
}

// Outcome is how a call ended (idempotency.Outcome).
type Outcome = idempotency.Outcome

// Result is a call's answer, for the transport to render.
type Result struct {
	// Version is the negotiated ACP version; "" when negotiation failed,
	// and then Err is the *acp.Error for acp.EncodeVersionError.
	Version acp.Version
	// Outcome is idempotency.OutcomeCreated or OutcomeReturned with
	// Session set, or OutcomeRefused with Err set (which may also be a
	// server failure: idempotency.RefusalOf tells them apart).
	Outcome Outcome
	// Session is the session's ACP JSON for Version (the cart's, for
	// the cart operations).
	Session []byte
	// Err is the error to answer (an *app.Error, an *acp.Error, or any
	// other error: a server failure). Its RetryAfter, when set, is the
	// transport's Retry-After.
	Err error
	// Replayed: the answer is the stored result of an earlier call with
	// the same Idempotency-Key; nothing ran.
	Replayed bool
	// IdempotencyKey is the valid key sent, to echo ("" if none).
	IdempotencyKey string
}

func refused(v acp.Version, err error) Result {
	return Result{Version: v, Outcome: idempotency.OutcomeRefused, Err: err}
}

// tooLarge is the decoders' own answer to an oversized body: code
// request_too_large.
func tooLarge() error {
	return &acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeTooLarge,
		Message: fmt.Sprintf("the request body is larger than %d bytes", acp.MaxBodyBytes)}
}

// Run runs one call: the steps in the package doc's order, each refusing
// before the next spends anything on the request. A panic of any step is
// re-raised as a *Panic.
func (p *Pipeline) Run(ctx context.Context, req Request) Result {
	var prog progress
	defer func() {
		if r := recover(); r != nil {
			panic(&Panic{Value: r, Version: prog.version, IdempotencyKey: prog.key})
		}
	}()
	return p.run(ctx, req, &prog)
}

// progress is what a call has established so far, for Panic.
type progress struct {
	version acp.Version
	key     string
}

func (p *Pipeline) run(ctx context.Context, req Request, prog *progress) Result {
	v, err := acp.NegotiateVersion(req.APIVersion)
	if err != nil {
		return refused("", err)
	}
	prog.version = v
	body := req.Body
	if req.Operation.read() {
		body = nil // a GET has no body; the signature covers none
	} else {
		if req.BodyErr != nil {
			return refused(v, req.BodyErr)
		}
		if req.BodyTooLarge || len(body) > acp.MaxBodyBytes {
			return refused(v, tooLarge())
		}
		if req.CheckBody != nil {
			if err := req.CheckBody(body); err != nil {
				return refused(v, err)
			}
		}
	}
	ag, err := p.authenticate(ctx, req, body)
	if err != nil {
		return refused(v, err)
	}
	// The call's Shopify requests take the shop's token from the row
	// authentication read, not from a read of their own each.
	ctx = app.WithShop(ctx, ag.Shop)
	if !req.Operation.read() && !req.Operation.idempotent() || req.Operation.cart() && p.Carts == nil {
		return refused(v, ErrUnknownOperation)
	}
	if req.Operation.cart() && v == acp.V20250929 {
		// Carts came with 2026-04-17: to a 2025-09-29 agent the
		// resource does not exist, said in its version's error shape.
		return refused(v, &app.Error{Code: app.CodeNotFound, Reason: "not_found",
			Message: fmt.Sprintf("carts are not part of ACP %s; send API-Version %s", v, acp.V20260417)})
	}
	ctx = withNotes(ctx)
	if !req.Operation.idempotent() || p.Idempotency == nil {
		return p.call(ctx, ag, v, req, body)
	}
	return p.runIdempotent(ctx, ag, v, req, body, prog)
}

// notes are what the request's own answer says besides the session: the
// fields its body had that the version does not define (acp.Ignored),
// named in one message of this answer only. They are not the session's
// (not stored with it, not shown by the next call), but they are part of
// the answer, so an idempotent replay, which answers the stored bytes,
// shows them again.
type notes struct {
	ignored acp.Ignored
}

type notesKey struct{}

func withNotes(ctx context.Context) context.Context {
	return context.WithValue(ctx, notesKey{}, &notes{})
}

func notesFrom(ctx context.Context) *notes {
	if n, ok := ctx.Value(notesKey{}).(*notes); ok {
		return n
	}
	return &notes{}
}

// messages are the notes' messages, to add to the answer's.
func (n *notes) messages() []acp.Message {
	if m, ok := n.ignored.Message(); ok {
		return []acp.Message{m}
	}
	return nil
}

// mention adds the ignored fields to the message of a refusal of the
// body's content (invalid or unprocessable: the decoder's own refusals
// name them already), as an agent whose request failed may well have
// meant a field this version does not have. Other errors are as they were.
func (n *notes) mention(err error) error {
	var ae *app.Error
	if n.ignored.Count == 0 || !errors.As(err, &ae) || ae.Code != app.CodeInvalid && ae.Code != app.CodeUnprocessable {
		return err
	}
	m, _ := n.ignored.Message()
	e := *ae
	e.Message += " (" + m.Content + ")"
	return &e
}

// encodeSession is the session's answer: its view, plus the request's
// notes.
func encodeSession(v acp.Version, cs *checkout.Session, n *notes) ([]byte, error) {
	view := cs.View()
	if extra := n.messages(); extra != nil {
		view.Messages = append(slices.Clip(view.Messages), extra...)
	}
	return acp.EncodeSession(v, view)
}

// authenticate checks the API key, its rate, and the signature (when sent
// or required), then records the signature's use: after verifying, so
// that only genuine signatures are recorded; before idempotency, which
// lets a retry of the same call (same Idempotency-Key) through to its
// stored answer.
func (p *Pipeline) authenticate(ctx context.Context, req Request, body []byte) (*app.Agent, error) {
	ag, err := p.Agents.Authenticate(ctx, req.Shop, req.Authorization)
	if err != nil {
		return nil, err
	}
	if p.Limiter != nil {
		if err := p.Limiter.AllowKey(ag.Key.ID); err != nil {
			return nil, err
		}
	}
	if err := p.Agents.VerifySignature(ag, req.Timestamp, req.Signature, body); err != nil {
		return nil, err
	}
	if err := p.Agents.ConsumeSignature(ctx, ag, req.Timestamp, req.Signature, req.Binding); err != nil {
		return nil, err
	}
	return ag, nil
}

// call decodes the body for the version, makes the one checkout call and
// encodes the session it answers.
func (p *Pipeline) call(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte) Result {
	if p.Budget != nil {
		ctx = p.Budget(ctx, req.Operation == OpComplete)
	}
	var b []byte
	if req.Operation.cart() {
		c, err := p.operateCart(ctx, ag, v, req, body)
		if err != nil {
			return refused(v, notesFrom(ctx).mention(err))
		}
		view := c.View()
		if extra := notesFrom(ctx).messages(); extra != nil {
			view.Messages = append(slices.Clip(view.Messages), extra...)
		}
		if b, err = acp.EncodeCart(v, view); err != nil {
			return refused(v, err) // a cart we cannot encode is our bug: a server failure
		}
	} else {
		cs, err := p.operate(ctx, ag, v, req, body)
		if err != nil {
			return refused(v, notesFrom(ctx).mention(err))
		}
		// Encoded already when stored with the session (answer.go).
		if b = writtenAnswer(ctx); b == nil {
			if b, err = encodeSession(v, cs, notesFrom(ctx)); err != nil {
				return refused(v, err) // a session we cannot encode is our bug: a server failure
			}
		}
	}
	outcome := idempotency.OutcomeReturned
	if req.Operation == OpCreate || req.Operation == OpCreateCart {
		outcome = idempotency.OutcomeCreated
	}
	return Result{Version: v, Outcome: outcome, Session: b}
}

func (p *Pipeline) operateCart(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte) (*checkout.Cart, error) {
	if ok, err := p.Carts.CartsEnabled(ctx, ag); err != nil || !ok {
		if err == nil {
			err = &app.Error{Code: app.CodeNotFound, Reason: "not_found",
				Message: "this store does not offer carts; create a checkout session instead"}
		}
		return nil, err
	}
	switch req.Operation {
	case OpCreateCart:
		in, err := acp.DecodeCreateCart(v, body)
		if err != nil {
			return nil, err
		}
		notesFrom(ctx).ignored = in.Ignored
		return p.Carts.Create(ctx, ag, in)
	case OpGetCart:
		return p.Carts.Get(ctx, ag, req.SessionID)
	case OpUpdateCart:
		in, err := acp.DecodeUpdateCart(v, body)
		if err != nil {
			return nil, err
		}
		notesFrom(ctx).ignored = in.Ignored
		return p.Carts.Update(ctx, ag, req.SessionID, in)
	case OpCancelCart:
		if err := acp.DecodeCancelCart(v, body); err != nil {
			return nil, err
		}
		return p.Carts.Cancel(ctx, ag, req.SessionID)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownOperation, req.Operation)
}

func (p *Pipeline) operate(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte) (*checkout.Session, error) {
	switch req.Operation {
	case OpCreate:
		in, err := acp.DecodeCreateSession(v, body)
		if err != nil {
			return nil, err
		}
		notesFrom(ctx).ignored = in.Ignored
		return p.Checkout.Create(ctx, ag, v, in)
	case OpGet:
		return p.Checkout.Get(ctx, ag, req.SessionID)
	case OpUpdate:
		in, err := acp.DecodeUpdateSession(v, body)
		if err != nil {
			return nil, err
		}
		notesFrom(ctx).ignored = in.Ignored
		return p.Checkout.Update(ctx, ag, v, req.SessionID, in)
	case OpComplete:
		in, err := acp.DecodeCompleteSession(v, body)
		if err != nil {
			return nil, err
		}
		notesFrom(ctx).ignored = in.Ignored
		return p.Checkout.Complete(ctx, ag, v, req.SessionID, in)
	case OpCancel:
		in := &acp.CancelSessionInput{}
		if len(bytes.TrimSpace(body)) > 0 {
			var err error
			if in, err = acp.DecodeCancelSession(v, body); err != nil {
				return nil, err
			}
			notesFrom(ctx).ignored = in.Ignored
		}
		return p.Checkout.Cancel(ctx, ag, req.SessionID, in)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownOperation, req.Operation)
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
