package acp

import (
	"errors"
	"fmt"
	"time"
)

// PaymentHandler is a way to pay (2026-04-17 $defs/PaymentHandler).
type PaymentHandler struct {
	ID                      string
	Name                    string // reverse-DNS spec name, e.g. dev.acp.tokenized.card
	DisplayName             string
	Version                 string // YYYY-MM-DD
	Spec                    string // URL
	RequiresDelegatePayment bool
	RequiresPCICompliance   bool
	PSP                     string   // e.g. "stripe"
	ConfigSchema            string   // URL
	InstrumentSchemas       []string // URLs
	Config                  map[string]any
	DisplayOrder            *int
}

// The tokenized-card handler over Stripe shared payment tokens, as the
// official examples declare it.
const (
	StripeSPTHandlerID = "card_tokenized"
	// CredentialTypeSPT is the credential type of a Stripe shared payment token.
	CredentialTypeSPT = "spt"
	// ProviderStripe is the payment provider of 2025-09-29.
	ProviderStripe = "stripe"
)

// StripeSPTHandler returns the handler for cards paid with Stripe shared
// payment tokens (credential type "spt") into the Stripe account
// stripeAccountID ("acct_…"), which agents need to delegate the payment.
func StripeSPTHandler(stripeAccountID string) PaymentHandler {
	return PaymentHandler{
		ID:                      StripeSPTHandlerID,
		Name:                    "dev.acp.tokenized.card",
		DisplayName:             "Card",
		Version:                 "2026-01-22",
		Spec:                    "https://acp.dev/handlers/tokenized.card",
		RequiresDelegatePayment: true,
		RequiresPCICompliance:   false,
		PSP:                     ProviderStripe,
		ConfigSchema:            "https://acp.dev/schemas/handlers/tokenized.card/config.json",
		InstrumentSchemas:       []string{"https://acp.dev/schemas/handlers/tokenized.card/instrument.json"},
		Config: map[string]any{
			"merchant_id": stripeAccountID,
			"psp":         ProviderStripe,
		},
	}
}

func (h PaymentHandler) validate() error {
	switch {
	case h.ID == "" || h.Name == "" || h.PSP == "":
		return errors.New("id, name and psp are required")
	case !isDate(h.Version):
		return fmt.Errorf("version %q is not YYYY-MM-DD", h.Version)
	case !validURL(h.Spec) || !validURL(h.ConfigSchema):
		return errors.New("spec and config_schema must be absolute URLs")
	}
	for _, u := range h.InstrumentSchemas {
		if !validURL(u) {
			return fmt.Errorf("instrument schema %q is not an absolute URL", u)
		}
	}
	return nil
}

func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil && len(s) == 10
}

// Interventions is the negotiated intervention capability: the intersection
// of what the agent supports and the merchant offers, what the merchant
// requires (3ds, biometric) and when (always|conditional|optional).
type Interventions struct {
	Supported   []string
	Required    []string
	Enforcement string
}

// AuthenticationMetadata is what an agent needs to run 3-D Secure.
type AuthenticationMetadata struct {
	AcquirerBIN        string // ≤ 11
	AcquirerCountry    string // ISO 3166-1 alpha-2
	AcquirerMerchantID string // ≤ 35
	MerchantName       string // ≤ 40
	RequestorID        string // ≤ 35, optional
	// DirectoryServer is american_express, mastercard or visa.
	DirectoryServer string
	FlowPreference  *FlowPreference
}

// FlowPreference is the preferred 3DS flow: Type "challenge" (with
// Challenge "mandated"|"preferred") or "frictionless" (Frictionless "low_risk").
type FlowPreference struct {
	Type         string
	Challenge    string
	Frictionless string
}

func (a AuthenticationMetadata) validate() error {
	switch {
	case a.AcquirerBIN == "" || len(a.AcquirerBIN) > 11:
		return errors.New("acquirer BIN must be 1 to 11 characters")
	case !validCountry(a.AcquirerCountry):
		return fmt.Errorf("acquirer country %q is not an ISO 3166-1 alpha-2 code", a.AcquirerCountry)
	case a.AcquirerMerchantID == "" || len(a.AcquirerMerchantID) > 35:
		return errors.New("acquirer merchant id must be 1 to 35 characters")
	case a.MerchantName == "" || len([]rune(a.MerchantName)) > 40:
		return errors.New("merchant name must be 1 to 40 characters")
	case len(a.RequestorID) > 35:
		return errors.New("requestor id must be at most 35 characters")
	}
	switch a.DirectoryServer {
	case "american_express", "mastercard", "visa":
	default:
		return fmt.Errorf("unknown directory server %q", a.DirectoryServer)
	}
	if f := a.FlowPreference; f != nil {
		switch {
		case f.Type != "challenge" && f.Type != "frictionless":
			return fmt.Errorf("unknown flow preference %q", f.Type)
		case f.Challenge != "" && f.Challenge != "mandated" && f.Challenge != "preferred":
			return fmt.Errorf("unknown challenge preference %q", f.Challenge)
		case f.Frictionless != "" && f.Frictionless != "low_risk":
			return fmt.Errorf("unknown frictionless preference %q", f.Frictionless)
		}
	}
	return nil
}
