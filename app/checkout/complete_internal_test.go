package checkout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// paymentRecords is a PaymentStore that keeps what was saved.
type paymentRecords struct {
	PaymentStore
	saved []Payment
}

func (s *paymentRecords) UpdatePayment(_ context.Context, p *Payment) error {
	s.saved = append(s.saved, *p)
	return nil
}

// orderLog is Shopify's orders as placeOrder sees them.
type orderLog struct {
	found     *ShopOrder
	createErr error
	// saves is how many records were saved when Create was called.
	finds, creates, savesAtCreate int
	store                         *paymentRecords
}

func (o *orderLog) FindBySource(context.Context, string, string) (*ShopOrder, error) {
	o.finds++
	return o.found, nil
}

func (o *orderLog) Create(context.Context, string, OrderRequest) (*ShopOrder, error) {
	o.creates++
	o.savesAtCreate = len(o.store.saved)
	if o.createErr != nil {
		return nil, o.createErr
	}
	return &ShopOrder{ID: "gid://shopify/Order/1", Name: "#1001"}, nil
}

// TestPlaceOrderLooksUpOnlyAfterAnOrderCreate: the order is looked up by
// its source only when an orderCreate may have been sent for the session
// before (by this attempt or an earlier one); the attempt is recorded
// before orderCreate is sent; an orderCreate Shopify throttled (ran none
// of) leaves no such mark of its own.
func TestPlaceOrderLooksUpOnlyAfterAnOrderCreate(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	longAgo := now.Add(-time.Hour)
	tests := []struct {
		name      string
		details   PaymentDetails
		found     *ShopOrder
		createErr error
		finds     int
		creates   int
		state     string
		sent      bool // OrderSent afterwards
	}{
		{"first orderCreate", PaymentDetails{}, nil, nil, 0, 1, PaymentOrdered, true},
		{"after an unanswered orderCreate, found", PaymentDetails{OrderAttemptAt: &longAgo, OrderSent: true},
			&ShopOrder{ID: "gid://shopify/Order/1"}, nil, 1, 0, PaymentOrdered, true},
		{"after an unanswered orderCreate, not found", PaymentDetails{OrderAttemptAt: &longAgo, OrderSent: true}, nil, nil, 1, 1, PaymentOrdered, true},
		{"record from before OrderSent", PaymentDetails{OrderAttemptAt: &longAgo}, nil, nil, 1, 1, PaymentOrdered, true},
		{"an earlier attempt's orderCreate", PaymentDetails{OrderSent: true}, nil, nil, 1, 1, PaymentOrdered, true},
		{"first orderCreate throttled", PaymentDetails{}, nil, shopify.ErrThrottled, 0, 1, PaymentAuthorized, false},
		{"orderCreate throttled after an earlier one", PaymentDetails{OrderSent: true}, nil, shopify.ErrThrottled, 1, 1, PaymentAuthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &paymentRecords{}
			orders := &orderLog{found: tt.found, createErr: tt.createErr, store: st}
			c := &Completer{Store: st, Orders: orders, Now: func() time.Time { return now }}
			p := &Payment{SessionID: "cs_1", State: PaymentAuthorized, Attempt: 1, PaymentIntentID: "pi_1", Details: tt.details}
			err := c.placeOrder(t.Context(), &app.Shop{Domain: "a.myshopify.com"}, &Session{ID: "cs_1"}, p, nil)
			if tt.createErr == nil && err != nil || tt.createErr != nil && !errors.Is(err, errInProgress) {
				t.Fatalf("placeOrder: %v", err)
			}
			if orders.finds != tt.finds || orders.creates != tt.creates {
				t.Errorf("%d lookups, %d orderCreates; want %d, %d", orders.finds, orders.creates, tt.finds, tt.creates)
			}
			if p.State != tt.state || p.Details.OrderSent != tt.sent {
				t.Errorf("state %s, OrderSent %v; want %s, %v", p.State, p.Details.OrderSent, tt.state, tt.sent)
			}
			if tt.creates == 0 {
				return
			}
			if orders.savesAtCreate != 1 {
				t.Fatalf("%d records saved before orderCreate, want 1", orders.savesAtCreate)
			}
			if r := st.saved[0]; r.State != PaymentAuthorized || r.PaymentIntentID != "pi_1" || !r.Details.OrderSent ||
				r.Details.OrderAttemptAt == nil || !r.Details.OrderAttemptAt.Equal(now) || r.LeaseUntil == nil {
				t.Errorf("record before orderCreate: %+v", r)
			}
			if tt.createErr != nil && p.Details.OrderAttemptAt != nil {
				t.Errorf("a throttled orderCreate left its time: %v", p.Details.OrderAttemptAt)
			}
		})
	}
}

// TestNewPaymentCarriesOrderSent: a session's first attempt is leased to
// its request and sends orderCreate without a lookup; a later one looks
// the order up first when an earlier attempt may have sent an orderCreate
// (voided after Shopify refused it, or one answered too late), and not
// after a decline.
func TestNewPaymentCarriesOrderSent(t *testing.T) {
	key, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	for _, tt := range []struct {
		name    string
		prev    *Payment
		attempt int
		want    bool
	}{
		{"first attempt", nil, 1, false},
		{"after a decline", &Payment{State: PaymentDeclined, Attempt: 1}, 2, false},
		{"after a void", &Payment{State: PaymentVoided, Attempt: 1, Details: PaymentDetails{OrderAttemptAt: &at, OrderSent: true}}, 2, true},
		{"after a void recorded before OrderSent", &Payment{State: PaymentVoided, Attempt: 1, Details: PaymentDetails{OrderAttemptAt: &at}}, 2, true},
		{"after attempts with a throttled orderCreate last", &Payment{State: PaymentDeclined, Attempt: 2, Details: PaymentDetails{OrderSent: true}}, 3, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Sessions{Completer: &Completer{Keys: keys}}
			cs := &Session{ID: "cs_1", Currency: "USD"}
			in := &acp.CompleteSessionInput{Payment: acp.PaymentInput{Token: "spt_1"}}
			p, err := c.newPayment(cs, in, 100)
			if err != nil {
				t.Fatal(err)
			}
			if tt.prev != nil {
				p.follow(tt.prev)
			}
			if p.Attempt != tt.attempt || p.Details.OrderSent != tt.want || p.LeaseUntil == nil || p.State != PaymentAuthorizing || p.Amount != 100 {
				t.Errorf("new attempt %d (want %d): OrderSent %v (want %v), lease %v, state %s, amount %d",
					p.Attempt, tt.attempt, p.Details.OrderSent, tt.want, p.LeaseUntil, p.State, p.Amount)
			}
		})
	}
}

// TestSendUnrecorded: only the driver that began the attempt, with at
// least half its lease left, sends orderCreate before writing the record;
// a driver that took a record over presumes an unrecorded orderCreate.
func TestSendUnrecorded(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &Completer{Lease: time.Minute, Now: func() time.Time { return now }}
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	cases := []struct {
		name       string
		unrecorded bool
		lease      *time.Time
		want       bool
	}{
		{"began it, whole lease left", true, at(time.Minute), true},
		{"began it, half the lease left", true, at(30 * time.Second), true},
		{"began it, under half left: record and renew", true, at(29 * time.Second), false},
		{"began it, lease lapsed", true, at(-time.Second), false},
		{"no lease", true, nil, false},
		{"took it over", false, at(time.Minute), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Payment{LeaseUntil: tc.lease, Details: PaymentDetails{Unrecorded: tc.unrecorded}}
			if got := c.sendUnrecorded(p, now); got != tc.want {
				t.Errorf("sendUnrecorded = %v, want %v", got, tc.want)
			}
		})
	}

	p := &Payment{Details: PaymentDetails{Unrecorded: true, OrderAttemptAt: at(-time.Hour)}}
	c.presumeOrderSent(p)
	if d := p.Details; !d.OrderSent || d.Unrecorded || d.OrderAttemptAt == nil || !d.OrderAttemptAt.Equal(now) {
		t.Errorf("presumed: %+v; want sent, no longer unrecorded, attempt at now", d)
	}
	later := at(time.Minute) // an attempt time already after now stays
	p = &Payment{Details: PaymentDetails{Unrecorded: true, OrderAttemptAt: later}}
	c.presumeOrderSent(p)
	if !p.Details.OrderAttemptAt.Equal(*later) {
		t.Errorf("attempt at %v, want %v kept", p.Details.OrderAttemptAt, later)
	}
}
