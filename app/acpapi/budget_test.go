package acpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/checkout"
)

type budgetKey struct{}

// budgetCheckout records, per operation, what Budget put in its context.
type budgetCheckout struct{ seen map[string]any }

func (b *budgetCheckout) answer(ctx context.Context, op string) (*checkout.Session, error) {
	b.seen[op] = ctx.Value(budgetKey{})
	return &checkout.Session{ID: "cs_1", Version: acp.V20260417, Status: acp.StatusNotReadyForPayment, Currency: "USD",
		State: checkout.State{Quote: checkout.Quote{Lines: []checkout.QuotedLine{{ItemID: "42", VariantID: 42, ProductID: 4,
			Quantity: 1, UnitAmount: 1000, Title: "Mug"}}}}}, nil
}

func (b *budgetCheckout) Create(ctx context.Context, _ *app.Agent, _ acp.Version, _ *acp.CreateSessionInput) (*checkout.Session, error) {
	return b.answer(ctx, "create")
}
func (b *budgetCheckout) Get(ctx context.Context, _ *app.Agent, _ string) (*checkout.Session, error) {
	return b.answer(ctx, "get")
}
func (b *budgetCheckout) Update(ctx context.Context, _ *app.Agent, _ acp.Version, _ string, _ *acp.UpdateSessionInput) (*checkout.Session, error) {
	return b.answer(ctx, "update")
}
func (b *budgetCheckout) Cancel(ctx context.Context, _ *app.Agent, _ string, _ *acp.CancelSessionInput) (*checkout.Session, error) {
	return b.answer(ctx, "cancel")
}
func (b *budgetCheckout) Complete(ctx context.Context, _ *app.Agent, _ acp.Version, _ string, _ *acp.CompleteSessionInput) (*checkout.Session, error) {
	return b.answer(ctx, "complete")
}

// TestPipelineBudget: the one checkout call of every operation runs under
// the context Budget prepares, and complete's alone is the money path.
func TestPipelineBudget(t *testing.T) {
	t.Parallel()
	co := &budgetCheckout{seen: map[string]any{}}
	p := &acpapi.Pipeline{Agents: fakeAgents{}, Checkout: co, Budget: func(ctx context.Context, money bool) context.Context {
		return context.WithValue(ctx, budgetKey{}, fmt.Sprintf("money=%v", money))
	}}
	for _, tc := range []struct {
		op      acpapi.Operation
		id      string
		body    string
		name    string
		wantCtx string
	}{
		{acpapi.OpCreate, "", `{"line_items":[{"id":"42","quantity":1}],"currency":"usd","capabilities":{}}`, "create", "money=false"},
		{acpapi.OpGet, "cs_1", ``, "get", "money=false"},
		{acpapi.OpUpdate, "cs_1", `{"line_items":[{"id":"42","quantity":2}]}`, "update", "money=false"},
		{acpapi.OpComplete, "cs_1", `{"payment_data":{"handler_id":"card_tokenized","instrument":{"type":"card","credential":{"type":"spt","token":"spt_1"}}}}`, "complete", "money=true"},
		{acpapi.OpCancel, "cs_1", `{}`, "cancel", "money=false"},
	} {
		res := p.Run(context.Background(), acpapi.Request{Shop: testShop, Operation: tc.op, SessionID: tc.id, APIVersion: string(acp.V20260417),
			Authorization: "Bearer k", Body: []byte(tc.body)})
		if res.Err != nil {
			t.Errorf("%s: %v", tc.op, res.Err)
			continue
		}
		if got := co.seen[tc.name]; got != tc.wantCtx {
			t.Errorf("%s ran with budget %v, want %s", tc.op, got, tc.wantCtx)
		}
	}
}
