package shops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// Shopify's HMAC covers the body and nothing else: X-Shopify-Topic and
// X-Shopify-Shop-Domain are not signed, so a captured body of any topic,
// for any shop, can be re-sent under another topic and another shop. The
// topics that act on a whole shop or on a buyer (the privacy topics and
// app/uninstalled) are therefore bound to what their signed body says:
// the body must have the documented shape of its topic (so a
// products/update body cannot pass as shop/redact, nor a customers/redact
// as shop/redact) and must name the shop of the header.

// boundTopics are the topics whose body must name the header's shop.
var boundTopics = []string{TopicAppUninstalled, TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact}

// IsBoundTopic reports whether a topic's body must name the delivery's
// shop (see checkBoundPayload).
func IsBoundTopic(topic string) bool { return slices.Contains(boundTopics, topic) }

// boundPayload is every member the bound topics' shapes are checked on,
// read as encoding/json reads them for handleCompliance.
type boundPayload struct {
	ShopID          json.RawMessage `json:"shop_id"`
	ShopDomain      json.RawMessage `json:"shop_domain"`
	ID              json.RawMessage `json:"id"`               // app/uninstalled: the Shop object
	MyshopifyDomain json.RawMessage `json:"myshopify_domain"` // app/uninstalled
	Customer        json.RawMessage `json:"customer"`
	OrdersRequested json.RawMessage `json:"orders_requested"`
	OrdersToRedact  json.RawMessage `json:"orders_to_redact"`
	DataRequest     json.RawMessage `json:"data_request"`
}

// payloadShapeError says which member of a bound topic's body is missing or
// of the wrong type.
func payloadShapeError(topic, member, want string) error {
	return &app.Error{Code: app.CodeInvalid, Field: "body", Message: fmt.Sprintf("the %s body must have %q: %s", topic, member, want)}
}

// errShopMismatch refuses a body that names another shop than the header.
func errShopMismatch(topic string) error {
	return &app.Error{Code: app.CodeForbidden, Field: "X-Shopify-Shop-Domain",
		Message: fmt.Sprintf("the %s body is for another shop than X-Shopify-Shop-Domain", topic)}
}

// checkBoundPayload checks a bound topic's body against its documented
// shape (Shopify's privacy-law compliance page; app/uninstalled carries the
// REST Shop object) and that the shop it names is shop (normalised). It
// returns the Shopify shop id the body names, to compare with the one we
// hold. Members Shopify may add are ignored, but the members that tell the
// privacy topics apart must be there (and, for shop/redact, absent).
func checkBoundPayload(topic, shop string, body []byte) (shopID int64, err error) {
	var p boundPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return 0, &app.Error{Code: app.CodeInvalid, Field: "body", Message: fmt.Sprintf("the %s body must be a JSON object of its documented shape", topic)}
	}
	idMember, domainMember := "shop_id", "shop_domain"
	idRaw, domainRaw := p.ShopID, p.ShopDomain
	if topic == TopicAppUninstalled {
		idMember, domainMember = "id", "myshopify_domain"
		idRaw, domainRaw = p.ID, p.MyshopifyDomain
	}
	shopID, ok := positiveInt(idRaw)
	if !ok {
		return 0, payloadShapeError(topic, idMember, "the shop's id, a positive integer")
	}
	domain, ok := jsonString(domainRaw)
	if !ok {
		return 0, payloadShapeError(topic, domainMember, "the shop's myshopify.com domain")
	}
	switch topic {
	case TopicShopRedact:
		// A customer request of the same shop must not pass as the
		// deletion of the whole shop.
		for member, raw := range map[string]json.RawMessage{"customer": p.Customer, "orders_to_redact": p.OrdersToRedact,
			"orders_requested": p.OrdersRequested, "data_request": p.DataRequest} {
			if raw != nil {
				return 0, &app.Error{Code: app.CodeInvalid, Field: "body", Message: fmt.Sprintf("a shop/redact body has no %q: this is a customer request", member)}
			}
		}
	case TopicCustomersRedact, TopicCustomersDataRequest:
		if !customerShape(p.Customer) {
			return 0, payloadShapeError(topic, "customer", "an object whose id is an integer and email a string")
		}
		orders, member := p.OrdersToRedact, "orders_to_redact"
		if topic == TopicCustomersDataRequest {
			orders, member = p.OrdersRequested, "orders_requested"
			if !objectWithOptionalID(p.DataRequest) {
				return 0, payloadShapeError(topic, "data_request", "an object with the request's integer id")
			}
		}
		if !intArray(orders) {
			return 0, payloadShapeError(topic, member, "an array of order ids")
		}
	}
	if named, err := shopify.NormalizeShop(domain); err != nil || named != shop {
		return 0, errShopMismatch(topic)
	}
	return shopID, nil
}

// shopIDMatches reports whether the Shopify shop id a body names is the
// shop's, when we know the shop's (its GID is fetched after install).
func shopIDMatches(sh *app.Shop, id int64) bool {
	num, ok := strings.CutPrefix(sh.ShopifyGID, "gid://shopify/Shop/")
	if !ok {
		return true // not known yet: the domain binding stands alone
	}
	return num == strconv.FormatInt(id, 10)
}

func positiveInt(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil && v > 0
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// nullable: an absent member or null passes; otherwise check must.
func nullable(raw json.RawMessage, check func(json.RawMessage) bool) bool {
	return len(raw) == 0 || string(raw) == "null" || check(raw)
}

// customerShape: an object whose id, when given, is a positive integer and
// whose email and phone, when given, are strings.
func customerShape(raw json.RawMessage) bool {
	var c struct {
		ID    json.RawMessage `json:"id"`
		Email json.RawMessage `json:"email"`
		Phone json.RawMessage `json:"phone"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &c) != nil {
		return false
	}
	isInt := func(r json.RawMessage) bool { _, ok := positiveInt(r); return ok }
	isString := func(r json.RawMessage) bool { _, ok := jsonString(r); return ok }
	return nullable(c.ID, isInt) && nullable(c.Email, isString) && nullable(c.Phone, isString)
}

func objectWithOptionalID(raw json.RawMessage) bool {
	var o struct {
		ID json.RawMessage `json:"id"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &o) != nil {
		return false
	}
	return nullable(o.ID, func(r json.RawMessage) bool { _, ok := positiveInt(r); return ok })
}

func intArray(raw json.RawMessage) bool {
	var ids []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &ids) != nil {
		return false
	}
	for _, id := range ids {
		if _, ok := positiveInt(id); !ok {
			return false
		}
	}
	return true
}
