package checkout

import (
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestCompleteDetails: where complete finds the email, in order, and
// when it refuses: no email anywhere (400 missing at $.buyer.email), or an
// address sent with complete other than the session's (409).
func TestCompleteDetails(t *testing.T) {
	t.Parallel()
	addr := &acp.Address{Name: "Ada", LineOne: "1 Market St", City: "San Francisco", State: "CA", Country: "US", PostalCode: "94105"}
	moved := *addr
	moved.LineOne = "2 Market St"
	shouting := *addr
	shouting.City = " SAN FRANCISCO "
	buyer := &acp.Buyer{Email: "buyer@example.com"}
	ship := &acp.FulfillmentDetails{Email: "ship@example.com", Address: addr}
	for _, tc := range []struct {
		name      string
		st        State
		in        acp.CompleteSessionInput
		wantEmail string // the session's contact email before complete
		wantCode  app.Code
		wantField string
	}{
		{"nothing anywhere", State{}, acp.CompleteSessionInput{}, "", app.CodeInvalid, "$.buyer.email"},
		{"buyer on the session", State{Buyer: buyer, Fulfillment: ship}, acp.CompleteSessionInput{}, "buyer@example.com", "", ""},
		{"fulfillment contact", State{Fulfillment: ship}, acp.CompleteSessionInput{}, "ship@example.com", "", ""},
		{"buyer with complete", State{}, acp.CompleteSessionInput{Buyer: buyer}, "", "", ""},
		{"fulfillment_details with complete", State{}, acp.CompleteSessionInput{FulfillmentDetails: &acp.FulfillmentDetails{Email: "late@example.com"}}, "", "", ""},
		{"another address", State{Buyer: buyer, Fulfillment: ship, Quote: Quote{NeedsShipping: true}},
			acp.CompleteSessionInput{FulfillmentDetails: &acp.FulfillmentDetails{Address: &moved}}, "buyer@example.com", app.CodeConflict, "$.fulfillment_details.address"},
		{"the same address, spelt otherwise", State{Buyer: buyer, Fulfillment: ship, Quote: Quote{NeedsShipping: true}},
			acp.CompleteSessionInput{FulfillmentDetails: &acp.FulfillmentDetails{Address: &shouting}}, "buyer@example.com", "", ""},
		{"an address for what does not ship", State{Buyer: buyer},
			acp.CompleteSessionInput{FulfillmentDetails: &acp.FulfillmentDetails{Address: &moved}}, "buyer@example.com", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.ContactEmail(); got != tc.wantEmail {
				t.Errorf("ContactEmail = %q, want %q", got, tc.wantEmail)
			}
			err := checkCompleteDetails(&tc.st, &tc.in)
			if code, field := app.ErrorCode(err), fieldOf(err); code != tc.wantCode || field != tc.wantField {
				t.Errorf("checkCompleteDetails = %v; want %q at %q", err, tc.wantCode, tc.wantField)
			}
		})
	}
}

func fieldOf(err error) string {
	if ae, ok := err.(*app.Error); ok {
		return ae.Field
	}
	return ""
}

// TestNoEmailIsNoBlocker: a session without an email is payable; the
// note that complete will need it is an info message.
func TestNoEmailIsNoBlocker(t *testing.T) {
	t.Parallel()
	c := &Sessions{}
	cs := &Session{State: State{SelectedOptionID: "ship", Quote: Quote{Complete: true}}}
	if got := c.status(cs); got != acp.StatusReadyForPayment {
		t.Fatalf("status %s", got)
	}
	for _, v := range acp.SupportedVersions {
		if m := emailLater(v); m.Type != acp.MessageInfo || m.Param != "$.buyer.email" || m.Validate() != nil {
			t.Errorf("%s: %+v (%v)", v, m, m.Validate())
		}
	}
}
