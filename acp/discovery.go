package acp

import (
	"encoding/json"
	"errors"
	"net/url"
)

// Discovery is the seller's public discovery document,
// GET /.well-known/acp.json (2026-04-17 DiscoveryResponse): stable facts
// that do not vary per session.
type Discovery struct {
	// APIBaseURL is where agents append /checkout_sessions.
	APIBaseURL       string
	DocumentationURL string
	// Services: checkout, orders, delegate_payment, carts.
	Services []string
	// Extensions are the extension names the seller supports (e.g.
	// "discount").
	Extensions []string
	// InterventionTypes: 3ds, biometric, address_verification.
	InterventionTypes []string
	// Currencies are ISO 4217 codes (sent lower-case).
	Currencies []string
	Locales    []string
	// MCP says the seller also serves the checkout over the MCP binding
	// (transports ["rest", "mcp"]). The document has no field for the
	// MCP server's URL: the binding leaves it to be told out of band.
	MCP bool
}

type wireDiscovery struct {
	Protocol struct {
		Name              string    `json:"name"`
		Version           Version   `json:"version"`
		SupportedVersions []Version `json:"supported_versions"`
		DocumentationURL  string    `json:"documentation_url,omitempty"`
	} `json:"protocol"`
	APIBaseURL   string   `json:"api_base_url"`
	Transports   []string `json:"transports"`
	Capabilities struct {
		Services          []string             `json:"services,omitempty"`
		Extensions        []wireDiscoveryExtra `json:"extensions,omitempty"`
		InterventionTypes []string             `json:"intervention_types,omitempty"`
		Currencies        []string             `json:"supported_currencies,omitempty"`
		Locales           []string             `json:"supported_locales,omitempty"`
	} `json:"capabilities"`
}

type wireDiscoveryExtra struct {
	Name string `json:"name"`
}

// EncodeDiscovery returns the discovery document: the protocol's latest
// version and every supported one (oldest first), over the REST transport
// and, when d.MCP is set, the MCP one.
func EncodeDiscovery(d Discovery) ([]byte, error) {
	if !validURL(d.APIBaseURL) {
		return nil, errors.New("acp: EncodeDiscovery: api base URL must be an absolute http(s) URL")
	}
	if d.DocumentationURL != "" {
		if _, err := url.Parse(d.DocumentationURL); err != nil || !validURL(d.DocumentationURL) {
			return nil, errors.New("acp: EncodeDiscovery: documentation URL must be an absolute http(s) URL")
		}
	}
	var w wireDiscovery
	w.Protocol.Name = "acp"
	w.Protocol.SupportedVersions = SupportedVersions
	w.Protocol.Version = SupportedVersions[len(SupportedVersions)-1]
	w.Protocol.DocumentationURL = d.DocumentationURL
	w.APIBaseURL = d.APIBaseURL
	w.Transports = []string{"rest"}
	if d.MCP {
		w.Transports = append(w.Transports, "mcp")
	}
	w.Capabilities.Services = d.Services
	for _, e := range d.Extensions {
		w.Capabilities.Extensions = append(w.Capabilities.Extensions, wireDiscoveryExtra{Name: e})
	}
	w.Capabilities.InterventionTypes = d.InterventionTypes
	for _, c := range d.Currencies {
		lc, ok := NormalizeCurrency(c)
		if !ok {
			return nil, errors.New("acp: EncodeDiscovery: bad currency " + c)
		}
		w.Capabilities.Currencies = append(w.Capabilities.Currencies, lc) // already lower-case
	}
	w.Capabilities.Locales = d.Locales
	return json.Marshal(w)
}
