package acpapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// fakeAgents lets every call in as one agent.
type fakeAgents struct{}

func (fakeAgents) Authenticate(context.Context, string, string) (*app.Agent, error) {
	return &app.Agent{Shop: &app.Shop{ID: 1, Domain: testShop, CurrencyCode: "USD"}, Key: &app.APIKey{ID: 2}}, nil
}
func (fakeAgents) VerifySignature(*app.Agent, string, string, []byte) error { return nil }
func (fakeAgents) ConsumeSignature(context.Context, *app.Agent, string, string, agents.SignedRequest) error {
	return nil
}

// fakeCarts answers one fixed cart and records the calls.
type fakeCarts struct {
	calls []string
	off   bool
}

func (f *fakeCarts) CartsEnabled(context.Context, *app.Agent) (bool, error) { return !f.off, nil }

func (f *fakeCarts) cart(id string, qty int) *checkout.Cart {
	return &checkout.Cart{ID: id, Currency: "USD", ExpiresAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		State: checkout.CartState{Quote: checkout.Quote{Lines: []checkout.QuotedLine{{ItemID: "42", VariantID: 42, ProductID: 4,
			Quantity: qty, UnitAmount: 1000, Title: "Mug"}}}}}
}
func (f *fakeCarts) Create(_ context.Context, _ *app.Agent, in *acp.CreateCartInput) (*checkout.Cart, error) {
	f.calls = append(f.calls, "create")
	return f.cart("cart_new", in.Items[0].Quantity), nil
}
func (f *fakeCarts) Get(_ context.Context, _ *app.Agent, id string) (*checkout.Cart, error) {
	f.calls = append(f.calls, "get "+id)
	return f.cart(id, 1), nil
}
func (f *fakeCarts) Update(_ context.Context, _ *app.Agent, id string, in *acp.UpdateCartInput) (*checkout.Cart, error) {
	f.calls = append(f.calls, "update "+id)
	return f.cart(id, in.Items[0].Quantity), nil
}
func (f *fakeCarts) Cancel(_ context.Context, _ *app.Agent, id string) (*checkout.Cart, error) {
	f.calls = append(f.calls, "cancel "+id)
	return f.cart(id, 1), nil
}

// TestPipelineCarts: the cart operations run through the same steps as the
// sessions' and answer schema-valid carts; a create is "created"; without
// a Carts they are unknown operations; a 2025-09-29 agent is told carts do
// not exist in its version, in its version's shape; unknown body fields
// are ignored and named.
func TestPipelineCarts(t *testing.T) {
	t.Parallel()
	carts := &fakeCarts{}
	p := &acpapi.Pipeline{Agents: fakeAgents{}, Carts: carts}
	run := func(op acpapi.Operation, v acp.Version, id, body string) acpapi.Result {
		return p.Run(context.Background(), acpapi.Request{Shop: testShop, Operation: op, SessionID: id, APIVersion: string(v),
			Authorization: "Bearer k", Body: []byte(body)})
	}
	for _, tc := range []struct {
		op   acpapi.Operation
		id   string
		body string
		want idempotency.Outcome
	}{
		{acpapi.OpCreateCart, "", `{"line_items":[{"id":"42","quantity":2}]}`, idempotency.OutcomeCreated},
		{acpapi.OpGetCart, "cart_a", `not even JSON: a GET's body is ignored`, idempotency.OutcomeReturned},
		{acpapi.OpUpdateCart, "cart_a", `{"line_items":[{"id":"42","quantity":3}]}`, idempotency.OutcomeReturned},
		{acpapi.OpCancelCart, "cart_a", ``, idempotency.OutcomeReturned},
		{acpapi.OpCancelCart, "cart_a", `{}`, idempotency.OutcomeReturned},
	} {
		res := run(tc.op, acp.V20260417, tc.id, tc.body)
		if res.Err != nil || res.Outcome != tc.want {
			t.Fatalf("%s: %s, %v; want %s", tc.op, res.Outcome, res.Err, tc.want)
		}
		if err := acptest.ValidateCart("Cart", res.Session); err != nil {
			t.Errorf("%s: %v\n%s", tc.op, err, res.Session)
		}
	}
	want := []string{"create", "get cart_a", "update cart_a", "cancel cart_a", "cancel cart_a"}
	if len(carts.calls) != len(want) {
		t.Fatalf("calls %v; want %v", carts.calls, want)
	}

	// A field the cart schema does not define: ignored, and named in one
	// info message of this answer.
	res := run(acpapi.OpUpdateCart, acp.V20260417, "cart_a", `{"line_items":[{"id":"42"}],"currency":"usd"}`)
	if res.Err != nil {
		t.Fatalf("update with an unknown field: %v", res.Err)
	}
	if err := acptest.ValidateCart("Cart", res.Session); err != nil {
		t.Errorf("update with an unknown field: %v\n%s", err, res.Session)
	}
	if !strings.Contains(string(res.Session), `"type":"info"`) || !strings.Contains(string(res.Session), `"param":"$.currency"`) {
		t.Errorf("the unknown field is not named: %s", res.Session)
	}
	want = append(want, "update cart_a")

	res = run(acpapi.OpCreateCart, acp.V20250929, "", `{"line_items":[{"id":"42"}]}`)
	var appErr *app.Error
	if res.Version != acp.V20250929 || !errors.As(res.Err, &appErr) || appErr.Code != app.CodeNotFound || appErr.Reason != "not_found" {
		t.Errorf("2025-09-29 cart: version %s, %v", res.Version, res.Err)
	}
	if len(carts.calls) != len(want) {
		t.Errorf("refused calls reached the carts: %v", carts.calls)
	}

	// A shop without carts: not found, even for a body that is wrong.
	carts.off = true
	res = run(acpapi.OpUpdateCart, acp.V20260417, "cart_a", `{"nonsense":1}`)
	if !errors.As(res.Err, &appErr) || appErr.Code != app.CodeNotFound {
		t.Errorf("cart of a shop without carts: %v", res.Err)
	}
	if len(carts.calls) != len(want) {
		t.Errorf("a shop without carts reached them: %v", carts.calls)
	}

	none := &acpapi.Pipeline{Agents: fakeAgents{}}
	res = none.Run(context.Background(), acpapi.Request{Shop: testShop, Operation: acpapi.OpGetCart, SessionID: "cart_a",
		APIVersion: string(acp.V20260417), Authorization: "Bearer k"})
	if !errors.Is(res.Err, acpapi.ErrUnknownOperation) {
		t.Errorf("no carts: %v; want ErrUnknownOperation", res.Err)
	}
}
