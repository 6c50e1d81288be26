package app

import (
	"strconv"
	"strings"
	"time"
)

// Buyers' personal data (Shopify's protected customer data, Level 2: name,
// email, phone, address) is sealed at rest by the store with the keyring,
// each value bound to its row, and found again by a blind index of the
// buyer's email (secret.Keyring.BlindIndex), never by its text.

// BuyerAAD binds a row's sealed personal data to the row: a sealed buyer
// copied into another session, cart or table does not open.
func BuyerAAD(table, id string) []byte { return []byte("buyer:" + table + ":" + id) }

// IdempotencyResultAAD binds an idempotency record's stored answer (the
// session as the agent was shown it, buyer included) to the record.
func IdempotencyResultAAD(recordID int64) []byte {
	return []byte("idempotency_result:" + strconv.FormatInt(recordID, 10))
}

// ComplianceExportAAD binds a data request's sealed export to the privacy
// webhook that asked for it.
func ComplianceExportAAD(webhookID string) []byte { return []byte("compliance_export:" + webhookID) }

// EmailIndexPurpose is the blind index purpose of buyers' emails.
const EmailIndexPurpose = "buyer_email"

// NormalizeEmail is the form of an email that its blind index is made of:
// trimmed, lower-case (Shopify and agents may differ in case).
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CustomerExport is what a customers/data_request exports: everything we
// hold on the customer, as the merchant downloads it to hand it over.
// Completed orders live on in Shopify, which exports them itself; here
// are the agent checkouts and carts that named the customer.
type CustomerExport struct {
	Shop             string             `json:"shop"`
	Customer         ExportedCustomer   `json:"customer"`
	GeneratedAt      time.Time          `json:"generated_at"`
	CheckoutSessions []ExportedCheckout `json:"checkout_sessions"`
	Carts            []ExportedCart     `json:"carts"`
}

// ExportedCustomer is the customer the request names.
type ExportedCustomer struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
}

// ExportedCheckout is one agent checkout session of the customer.
type ExportedCheckout struct {
	ID          string               `json:"id"`
	Status      string               `json:"status"`
	Currency    string               `json:"currency"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
	Buyer       *ExportedBuyer       `json:"buyer,omitempty"`
	Fulfillment *ExportedFulfillment `json:"fulfillment,omitempty"`
	// BillingAddress is the one the complete request gave.
	BillingAddress *ExportedAddress `json:"billing_address,omitempty"`
	OrderNotes     string           `json:"order_notes,omitempty"`
	Lines          []ExportedLine   `json:"lines"`
	Order          *ExportedOrder   `json:"order,omitempty"`
}

// ExportedCart is one agent cart of the customer.
type ExportedCart struct {
	ID        string         `json:"id"`
	Currency  string         `json:"currency"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Buyer     *ExportedBuyer `json:"buyer,omitempty"`
	Lines     []ExportedLine `json:"lines"`
}

// ExportedBuyer is the buyer an agent gave.
type ExportedBuyer struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	FullName  string `json:"full_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone_number,omitempty"`
}

// ExportedFulfillment is the recipient and address an agent gave.
type ExportedFulfillment struct {
	Name    string           `json:"name,omitempty"`
	Phone   string           `json:"phone_number,omitempty"`
	Email   string           `json:"email,omitempty"`
	Address *ExportedAddress `json:"address,omitempty"`
}

// ExportedAddress is a postal address.
type ExportedAddress struct {
	Name       string `json:"name,omitempty"`
	Company    string `json:"company,omitempty"`
	LineOne    string `json:"line_one,omitempty"`
	LineTwo    string `json:"line_two,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
}

// ExportedLine is a priced line (amounts in minor units).
type ExportedLine struct {
	ItemID     string `json:"item_id"`
	Title      string `json:"title,omitempty"`
	Variant    string `json:"variant_title,omitempty"`
	Quantity   int    `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
}

// ExportedOrder is the Shopify order a checkout became.
type ExportedOrder struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}
