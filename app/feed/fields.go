package feed

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field is one named value of an Item, as a delimited file holds it.
type Field struct {
	Name  string
	Value string // "" when the item has no value for the field
}

// col identifies a feed column independently of its naming.
type col uint8

const (
	cItemID col = iota
	cTitle
	cDescription
	cURL
	cBrand
	cGTIN
	cMPN
	cProductCategory
	cCondition
	cImageURL
	cAdditionalImageURLs
	cPrice
	cSalePrice
	cAvailability
	cInventoryQuantity
	cGroupID
	cListingHasVariations
	cColor
	cSize
	cVariantDict
	cCustom1Category
	cCustom1Option
	cCustom2Category
	cCustom2Option
	cCustom3Category
	cCustom3Option
	cWeight
	cItemWeightUnit
	cIsDigital
	cSellerName
	cSellerURL
	cSellerPrivacyPolicy
	cSellerTOS
	cReturnPolicy
	cAcceptsReturns
	cReturnDeadline
	cTargetCountries
	cStoreCountry
	cIsEligibleSearch
	cIsEligibleCheckout
	numCols
)

// colNames holds each column's name in the current spec and in the 2025
// spec; "" means the column does not exist in that naming.
var colNames = [numCols][2]string{
	cItemID:               {"item_id", "id"},
	cTitle:                {"title", "title"},
	cDescription:          {"description", "description"},
	cURL:                  {"url", "link"},
	cBrand:                {"brand", "brand"},
	cGTIN:                 {"gtin", "gtin"},
	cMPN:                  {"mpn", "mpn"},
	cProductCategory:      {"product_category", "product_category"},
	cCondition:            {"condition", "condition"},
	cImageURL:             {"image_url", "image_link"},
	cAdditionalImageURLs:  {"additional_image_urls", "additional_image_link"},
	cPrice:                {"price", "price"},
	cSalePrice:            {"sale_price", "sale_price"},
	cAvailability:         {"availability", "availability"},
	cInventoryQuantity:    {"", "inventory_quantity"},
	cGroupID:              {"group_id", "item_group_id"},
	cListingHasVariations: {"listing_has_variations", ""},
	cColor:                {"color", "color"},
	cSize:                 {"size", "size"},
	cVariantDict:          {"variant_dict", ""},
	cCustom1Category:      {"", "custom_variant1_category"},
	cCustom1Option:        {"", "custom_variant1_option"},
	cCustom2Category:      {"", "custom_variant2_category"},
	cCustom2Option:        {"", "custom_variant2_option"},
	cCustom3Category:      {"", "custom_variant3_category"},
	cCustom3Option:        {"", "custom_variant3_option"},
	cWeight:               {"weight", "weight"},
	cItemWeightUnit:       {"item_weight_unit", ""},
	cIsDigital:            {"is_digital", ""},
	cSellerName:           {"seller_name", "seller_name"},
	cSellerURL:            {"seller_url", "seller_url"},
	cSellerPrivacyPolicy:  {"seller_privacy_policy", "seller_privacy_policy"},
	cSellerTOS:            {"seller_tos", "seller_tos"},
	cReturnPolicy:         {"return_policy", "return_policy"},
	cAcceptsReturns:       {"accepts_returns", ""},
	cReturnDeadline:       {"return_deadline_in_days", "return_window"},
	cTargetCountries:      {"target_countries", ""},
	cStoreCountry:         {"store_country", ""},
	cIsEligibleSearch:     {"is_eligible_search", "enable_search"},
	cIsEligibleCheckout:   {"is_eligible_checkout", "enable_checkout"},
}

// layouts holds the columns of each naming, in file order.
var layouts = func() (l [2][]col) {
	for c := range numCols {
		for k := range 2 {
			if colNames[c][k] != "" {
				l[k] = append(l[k], c)
			}
		}
	}
	return l
}()

func idx(names FieldNames) int {
	if names.legacy() {
		return 1
	}
	return 0
}

func (c col) name(names FieldNames) string { return colNames[c][idx(names)] }

// Columns lists the feed's column names in file order for the given naming:
// the header of a CSV or TSV feed.
func Columns(names FieldNames) []string {
	cols := layouts[idx(names)]
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name(names)
	}
	return out
}

// Fields returns the item's values under the given naming, one per column
// of Columns(names) and in that order, each as a delimited file holds it:
// booleans "true"/"false", lists comma-joined (a comma inside a URL is
// escaped as %2C), variant_dict as a JSON object, prices "12.34 USD", and
// in the 2025 naming weight as "1.5 lb". Value is "" where the item has none.
//
// Field values that differ between the namings: the 2025 spec knows no
// backorder, so it becomes in_stock (the variant can be bought now), and
// pre_order is written preorder; options other than color and size go to
// custom_variantN_category/_option.
func (it Item) Fields(names FieldNames) []Field {
	cols := layouts[idx(names)]
	out := make([]Field, len(cols))
	var buf []byte
	legacy := names.legacy()
	for i, c := range cols {
		var ok bool
		buf, ok = it.appendValue(buf[:0], c, legacy, false)
		out[i].Name = c.name(names)
		if ok {
			out[i].Value = string(buf)
		}
	}
	return out
}

// appendValue appends the value of column c, as JSON or as delimited text,
// and reports false (leaving dst as it was) when the item has no value.
func (it *Item) appendValue(dst []byte, c col, legacy, js bool) ([]byte, bool) {
	switch c {
	case cItemID:
		return appendStr(dst, it.ItemID, js)
	case cTitle:
		return appendStr(dst, it.Title, js)
	case cDescription:
		return appendStr(dst, it.Description, js)
	case cURL:
		return appendStr(dst, it.URL, js)
	case cBrand:
		return appendStr(dst, it.Brand, js)
	case cGTIN:
		return appendStr(dst, it.GTIN, js)
	case cMPN:
		return appendStr(dst, it.MPN, js)
	case cProductCategory:
		return appendStr(dst, it.ProductCategory, js)
	case cCondition:
		return appendStr(dst, it.Condition, js)
	case cImageURL:
		return appendStr(dst, it.ImageURL, js)
	case cAdditionalImageURLs:
		return appendList(dst, it.AdditionalImageURLs, js)
	case cPrice:
		return appendMoney(dst, it.Price, js)
	case cSalePrice:
		return appendMoney(dst, it.SalePrice, js)
	case cAvailability:
		a := it.Availability
		if legacy {
			a = legacyAvailability(a)
		}
		return appendStr(dst, string(a), js)
	case cInventoryQuantity:
		if it.InventoryQuantity < 0 {
			return dst, false
		}
		return strconv.AppendInt(dst, int64(it.InventoryQuantity), 10), true
	case cGroupID:
		return appendStr(dst, it.GroupID, js)
	case cListingHasVariations:
		return strconv.AppendBool(dst, it.ListingHasVariations), true
	case cColor:
		return appendStr(dst, it.Color, js)
	case cSize:
		return appendStr(dst, it.Size, js)
	case cVariantDict:
		return appendDict(dst, it.VariantDict, js)
	case cCustom1Category, cCustom2Category, cCustom3Category:
		if o, ok := it.customOption(int(c-cCustom1Category) / 2); ok {
			return appendStr(dst, o.Name, js)
		}
		return dst, false
	case cCustom1Option, cCustom2Option, cCustom3Option:
		if o, ok := it.customOption(int(c-cCustom1Option) / 2); ok {
			return appendStr(dst, o.Value, js)
		}
		return dst, false
	case cWeight:
		if !hasWeight(it) {
			return dst, false
		}
		return it.appendWeight(dst, legacy, js), true
	case cItemWeightUnit:
		if !hasWeight(it) {
			return dst, false
		}
		return appendStr(dst, it.WeightUnit, js)
	case cIsDigital:
		return strconv.AppendBool(dst, it.IsDigital), true
	case cSellerName:
		return appendStr(dst, it.SellerName, js)
	case cSellerURL:
		return appendStr(dst, it.SellerURL, js)
	case cSellerPrivacyPolicy:
		return appendStr(dst, it.SellerPrivacyPolicy, js)
	case cSellerTOS:
		return appendStr(dst, it.SellerTOS, js)
	case cReturnPolicy:
		return appendStr(dst, it.ReturnPolicy, js)
	case cAcceptsReturns:
		if !it.AcceptsReturns {
			return dst, false
		}
		return append(dst, "true"...), true
	case cReturnDeadline:
		if it.ReturnDeadlineInDays <= 0 {
			return dst, false
		}
		return strconv.AppendInt(dst, int64(it.ReturnDeadlineInDays), 10), true
	case cTargetCountries:
		return appendList(dst, it.TargetCountries, js)
	case cStoreCountry:
		return appendStr(dst, it.StoreCountry, js)
	case cIsEligibleSearch:
		return strconv.AppendBool(dst, it.IsEligibleSearch), true
	case cIsEligibleCheckout:
		return strconv.AppendBool(dst, it.IsEligibleCheckout), true
	}
	return dst, false
}

// legacyAvailability is a as the 2025 naming spells it: it has no
// backorder, and writes preorder in one word.
func legacyAvailability(a Availability) Availability {
	switch a {
	case Backorder:
		return InStock
	case PreOrder:
		return "preorder"
	}
	return a
}

// appendWeight appends the item's weight: a number, or in the 2025 naming
// a string with the unit ("1.5 lb").
func (it *Item) appendWeight(dst []byte, legacy, js bool) []byte {
	if !legacy {
		return strconv.AppendFloat(dst, it.Weight, 'f', -1, 64)
	}
	if js {
		dst = append(dst, '"')
	}
	dst = strconv.AppendFloat(dst, it.Weight, 'f', -1, 64)
	dst = append(dst, ' ')
	dst = append(dst, it.WeightUnit...)
	if js {
		dst = append(dst, '"')
	}
	return dst
}

// hasWeight reports whether the item carries a usable weight: a positive,
// finite number with a unit.
func hasWeight(it *Item) bool {
	return it.Weight > 0 && it.Weight <= math.MaxFloat64 && it.WeightUnit != ""
}

// customOption returns the k-th option that is neither the color nor the
// size (the 2025 spec's custom_variant1..3).
func (it *Item) customOption(k int) (Option, bool) {
	colorSeen, sizeSeen := false, false
	for _, o := range it.VariantDict {
		switch {
		case !colorSeen && it.Color != "" && isColorOption(o.Name):
			colorSeen = true
			continue
		case !sizeSeen && it.Size != "" && isSizeOption(o.Name):
			sizeSeen = true
			continue
		}
		if k == 0 {
			return o, true
		}
		k--
	}
	return Option{}, false
}

func appendStr(dst []byte, s string, js bool) ([]byte, bool) {
	if s == "" {
		return dst, false
	}
	if js {
		return appendJSONString(dst, s), true
	}
	return append(dst, s...), true
}

func appendMoney(dst []byte, m Money, js bool) ([]byte, bool) {
	if m.IsZero() {
		return dst, false
	}
	if js {
		dst = append(dst, '"')
	}
	dst = appendPrice(dst, m.Minor, m.Currency)
	if js {
		dst = append(dst, '"')
	}
	return dst, true
}

func appendList(dst []byte, list []string, js bool) ([]byte, bool) {
	if len(list) == 0 {
		return dst, false
	}
	if js {
		dst = append(dst, '[')
	}
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		if js {
			dst = appendJSONString(dst, s)
			continue
		}
		for len(s) > 0 {
			k := strings.IndexByte(s, ',')
			if k < 0 {
				dst = append(dst, s...)
				break
			}
			dst = append(dst, s[:k]...)
			dst = append(dst, "%2C"...)
			s = s[k+1:]
		}
	}
	if js {
		dst = append(dst, ']')
	}
	return dst, true
}

// appendDict writes options as a JSON object (in delimited files too: the
// value of the cell is that JSON text). A repeated name keeps its first value.
func appendDict(dst []byte, opts []Option, _ bool) ([]byte, bool) {
	if len(opts) == 0 {
		return dst, false
	}
	dst = append(dst, '{')
	for i, o := range opts {
		if slices.ContainsFunc(opts[:i], func(p Option) bool { return p.Name == o.Name }) {
			continue
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, o.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, o.Value)
	}
	return append(dst, '}'), true
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes that appear unescaped in a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Unlike strconv.AppendQuote
// it produces valid JSON: control characters become \u00XX, invalid UTF-8
// becomes \ufffd, and U+2028/U+2029 are escaped so the line stays a line
// for JavaScript readers too. HTML characters are left alone.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
