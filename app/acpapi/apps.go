package acpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/agents"
)

// ChatGPT's checkout app (the OpenAI Apps SDK "product checkout
// conversion" contract): when a buyer opens a seller's app from a product,
// ChatGPT calls the tool checkout_session with the feed's item ids, and
// renders the widget the tool's descriptor names with the tool's answer.
// This file owns the contract's names and the translation of its input
// into the ACP create every transport runs through Pipeline.Run; the
// transport (web/mcp_apps.go) owns the descriptor's _meta, the widget
// resource and JSON-RPC.

// The contract's fixed names.
const (
	// CheckoutAppTool is the tool ChatGPT calls to open a checkout.
	CheckoutAppTool = "checkout_session"
	// CheckoutWidgetURI is the widget the tool's answer is rendered in.
	CheckoutWidgetURI = "ui://widget/checkout-session.html"
)

// CheckoutAppVersion is the ACP version the checkout app speaks: the tool
// takes no api_version, and the widget calls the ACP tools with this one.
const CheckoutAppVersion = acp.V20260417

// WidgetTools are the ACP tools the widget calls itself (the Apps SDK
// lets a widget call only tools marked widget-accessible): read the
// session, choose shipping or give the address, and complete (ChatGPT's
// payment sheet calls it on the widget's behalf). Cancel and create are
// the agent's, not the widget's.
var WidgetTools = []string{"get_checkout_session", "update_checkout_session", "complete_checkout_session"}

// CheckoutAppDescription is the tool's description, for the model.
const CheckoutAppDescription = "Open this store's checkout for the given items and show it to the buyer. " +
	"items[].id is the item id of the store's product feed (a product variant; the same id create_checkout_session takes), " +
	"quantity a whole number from 1 (1 when absent). offerId is accepted and ignored: the store has one offer per item, " +
	"priced by the store. Answers the ACP checkout session (API version 2026-04-17)."

// CheckoutAppInputSchema is the tool's input: the contract's shape, open to
// fields it does not name (they are ignored).
func CheckoutAppInputSchema() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "type": "object",
  "properties": {
    "checkout_session": {
      "type": "object",
      "properties": {
        "items": {
          "type": "array", "minItems": 1, "maxItems": %d,
          "items": {
            "type": "object",
            "properties": {
              "id": {"type": "string", "minLength": 1, "description": "The item id of the store's product feed (a product variant)"},
              "quantity": {"type": "integer", "minimum": 1, "maximum": %d, "description": "How many; 1 when absent"},
              "offerId": {"type": "string", "description": "Accepted and ignored: the store has one offer per item"}
            },
            "required": ["id"]
          }
        }
      },
      "required": ["items"]
    }
  },
  "required": ["checkout_session"]
}`, acp.MaxLineItems, acp.MaxQuantity))
}

// CheckoutAppRequest turns one call of the checkout_session tool into the
// pipeline's create (OpCreate, CheckoutAppVersion): shop and authorization
// come from the transport, currency is the shop's (the contract sends
// none and the 2026-04-17 create requires one). The tool's caller sends no
// idempotency key, so each call gets a fresh one unless the arguments
// carry meta.idempotency_key (a host that retries may). Input that is not
// the contract's is an *acp.Error (invalid_request) whose param points
// into the arguments ($.checkout_session.items[0].quantity).
func CheckoutAppRequest(shop, currency string, args json.RawMessage, authorization string) (Request, error) {
	items, key, err := checkoutAppItems(args)
	if err != nil {
		return Request{}, err
	}
	if key == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Request{}, err
		}
		key = "checkout_app_" + hex.EncodeToString(b[:])
	}
	body, err := json.Marshal(map[string]any{
		"line_items": items, "currency": strings.ToLower(currency), "capabilities": map[string]any{},
	})
	if err != nil {
		return Request{}, err
	}
	return Request{
		Shop: shop, Operation: OpCreate, APIVersion: string(CheckoutAppVersion), Authorization: authorization,
		Body: body, IdempotencyKeys: []string{key},
		Binding: agents.SignedRequest{Method: string(OpCreate), IdempotencyKey: key},
	}, nil
}

// appItem is one line of the create built for the tool.
type appItem struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
}

// checkoutAppItems reads the tool's arguments: the items, and the
// optional idempotency key.
func checkoutAppItems(args json.RawMessage) ([]appItem, string, error) {
	// The decoders' codes: missing, invalid_type (not the shape the
	// contract gives), invalid (the right type, a bad value).
	fail := func(code, param, format string, a ...any) error {
		return &acp.Error{Type: acp.ErrInvalidRequest, Code: code, Message: fmt.Sprintf(format, a...), Param: param}
	}
	bad := func(param, format string, a ...any) error { return fail(acp.CodeInvalidType, param, format, a...) }
	missing := func(param string) error {
		return fail(acp.CodeMissing, param, "Missing required field: %s", strings.TrimPrefix(param, "$."))
	}
	if len(bytes.TrimSpace(args)) == 0 {
		return nil, "", missing("$.checkout_session")
	}
	var a struct {
		Session json.RawMessage `json:"checkout_session"`
		Meta    json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, "", bad("$", "the arguments must be an object {\"checkout_session\": {\"items\": [...]}}")
	}
	if isNull(a.Session) {
		return nil, "", missing("$.checkout_session")
	}
	var cs struct {
		Items json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(a.Session, &cs); err != nil {
		return nil, "", bad("$.checkout_session", "checkout_session must be an object {\"items\": [...]}")
	}
	if isNull(cs.Items) {
		return nil, "", missing("$.checkout_session.items")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(cs.Items, &list); err != nil {
		return nil, "", bad("$.checkout_session.items", "checkout_session.items must be an array of {id, quantity}")
	}
	if len(list) == 0 {
		return nil, "", fail(acp.CodeInvalid, "$.checkout_session.items", "checkout_session.items must contain at least one item")
	}
	if len(list) > acp.MaxLineItems {
		return nil, "", fail(acp.CodeInvalid, "$.checkout_session.items", "checkout_session.items may hold at most %d items", acp.MaxLineItems)
	}
	items := make([]appItem, 0, len(list))
	for i, raw := range list {
		p := fmt.Sprintf("$.checkout_session.items[%d]", i)
		var it struct {
			ID       json.RawMessage `json:"id"`
			Quantity json.RawMessage `json:"quantity"`
		}
		if err := json.Unmarshal(raw, &it); err != nil || isNull(raw) {
			return nil, "", bad(p, "%s must be an object {id, quantity}", strings.TrimPrefix(p, "$."))
		}
		if isNull(it.ID) {
			return nil, "", missing(p + ".id")
		}
		var id string
		if err := json.Unmarshal(it.ID, &id); err != nil {
			return nil, "", bad(p+".id", "%s.id must be a string: an item id of the store's feed", strings.TrimPrefix(p, "$."))
		}
		if strings.TrimSpace(id) == "" {
			return nil, "", fail(acp.CodeInvalid, p+".id", "%s.id must not be empty", strings.TrimPrefix(p, "$."))
		}
		q := 1
		if !isNull(it.Quantity) {
			var f float64
			if err := json.Unmarshal(it.Quantity, &f); err != nil {
				return nil, "", bad(p+".quantity", "%s.quantity must be a number", strings.TrimPrefix(p, "$."))
			}
			if f < 1 || f > acp.MaxQuantity || f != float64(int(f)) {
				return nil, "", fail(acp.CodeInvalid, p+".quantity", "%s.quantity must be a whole number from 1 to %d, got %v", strings.TrimPrefix(p, "$."), acp.MaxQuantity, f)
			}
			q = int(f)
		}
		items = append(items, appItem{ID: id, Quantity: q})
	}
	var meta struct {
		IdempotencyKey string `json:"idempotency_key"`
	}
	if !isNull(a.Meta) {
		if err := json.Unmarshal(a.Meta, &meta); err != nil {
			return nil, "", bad("$.meta", "meta must be an object; its idempotency_key a string")
		}
	}
	return items, meta.IdempotencyKey, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// CheckoutAppParam is the param of a refused create as the tool reports
// it: the items of the body built for it ($.line_items[1].id) are the
// arguments' ($.checkout_session.items[1].id); the rest of the body was
// not the caller's, so its faults point at $.checkout_session.
func CheckoutAppParam(param string) string {
	if rest, ok := strings.CutPrefix(param, "$.line_items"); ok {
		return "$.checkout_session.items" + rest
	}
	if param == "" {
		return ""
	}
	return "$.checkout_session"
}
