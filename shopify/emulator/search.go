package emulator

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// searchTerm is one term of Shopify's search syntax: field:value,
// field:>value, -field:value, or free text.
type searchTerm struct {
	field  string // "" for free text
	op     string // "", ">", ">=", "<", "<="
	value  string
	negate bool
}

// parseSearch splits a query such as `status:active updated_at:>'2024-01-01'`
// into terms. Terms are ANDed; OR is not supported.
func parseSearch(q string) []searchTerm {
	var terms []searchTerm
	for _, tok := range splitSearch(q) {
		if tok == "AND" {
			continue
		}
		t := searchTerm{}
		if strings.HasPrefix(tok, "-") {
			t.negate, tok = true, tok[1:]
		} else if rest, ok := strings.CutPrefix(tok, "NOT "); ok {
			t.negate, tok = true, rest
		}
		field, value, ok := strings.Cut(tok, ":")
		if !ok {
			t.value = unquote(tok)
			terms = append(terms, t)
			continue
		}
		t.field = strings.ToLower(field)
		for _, op := range []string{">=", "<=", ">", "<"} {
			if rest, ok := strings.CutPrefix(value, op); ok {
				t.op, value = op, rest
				break
			}
		}
		t.value = unquote(value)
		terms = append(terms, t)
	}
	return terms
}

// splitSearch splits on spaces outside quotes.
func splitSearch(q string) []string {
	var toks []string
	var cur strings.Builder
	var quote rune
	for _, r := range q {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
			cur.WriteRune(r)
		case r == ' ' || r == '\t':
			if cur.Len() > 0 {
				toks = append(toks, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		toks = append(toks, cur.String())
	}
	return toks
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// matchProduct applies product search terms: status, id, updated_at,
// created_at, title, handle, vendor, product_type, tag, sku and free text
// (title). Unknown fields match everything, as Shopify ignores them.
func matchProduct(p *Product, terms []searchTerm) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "":
			ok = containsFold(p.Title, t.value)
		case "status":
			ok = slices.ContainsFunc(strings.Split(t.value, ","), func(s string) bool { return strings.EqualFold(s, p.Status) })
		case "id":
			ok = compareInt(p.ID, t)
		case "updated_at":
			ok = compareTime(p.UpdatedAt, t)
		case "created_at":
			ok = compareTime(p.CreatedAt, t)
		case "title":
			ok = matchText(p.Title, t.value)
		case "handle":
			ok = p.Handle == t.value
		case "vendor":
			ok = matchText(p.Vendor, t.value)
		case "product_type":
			ok = matchText(p.ProductType, t.value)
		case "tag":
			ok = slices.ContainsFunc(p.Tags, func(s string) bool { return strings.EqualFold(s, t.value) })
		case "sku":
			ok = slices.ContainsFunc(p.Variants, func(v Variant) bool { return strings.EqualFold(v.SKU, t.value) })
		}
		if ok == t.negate {
			return false
		}
	}
	return true
}

// matchVariant applies productVariants search terms: id, product_id, sku,
// updated_at, inventory_quantity and free text (title or SKU).
func matchVariant(p *Product, v *Variant, terms []searchTerm) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "":
			ok = containsFold(v.Title, t.value) || containsFold(v.SKU, t.value)
		case "id":
			ok = compareInt(v.ID, t)
		case "product_id":
			ok = compareInt(p.ID, t)
		case "sku":
			ok = strings.EqualFold(v.SKU, t.value)
		case "updated_at":
			ok = compareTime(v.UpdatedAt, t)
		case "inventory_quantity":
			ok = compareInt(int64(v.InventoryQuantity), t)
		}
		if ok == t.negate {
			return false
		}
	}
	return true
}

// matchText is Shopify's field match: exact (case-insensitive), or a prefix
// with a trailing *.
func matchText(s, value string) bool {
	if prefix, ok := strings.CutSuffix(value, "*"); ok {
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
	}
	return strings.EqualFold(s, value)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(strings.TrimSuffix(sub, "*")))
}

func compareInt(n int64, t searchTerm) bool {
	s := t.value
	if kind := gidKind(s); kind != "" {
		s = strings.TrimPrefix(s, "gid://shopify/"+kind+"/")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return false
	}
	return compare(n-v, t.op)
}

func compareTime(at time.Time, t searchTerm) bool {
	v, err := time.Parse(time.RFC3339, t.value)
	if err != nil {
		if v, err = time.Parse("2006-01-02", t.value); err != nil {
			return false
		}
	}
	d := at.Sub(v)
	return compare(int64(d), t.op)
}

// compare turns a difference into the operator's verdict.
func compare(diff int64, op string) bool {
	switch op {
	case ">":
		return diff > 0
	case ">=":
		return diff >= 0
	case "<":
		return diff < 0
	case "<=":
		return diff <= 0
	}
	return diff == 0
}
