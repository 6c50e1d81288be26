package feed

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Severity grades a Problem.
type Severity string

const (
	// SeverityError keeps the item out of the published feed.
	SeverityError Severity = "error"
	// SeverityWarning is reported to the merchant; the item is published.
	SeverityWarning Severity = "warning"
)

// Problem is one finding of Validate. Field is the column name in the
// naming that was validated; Hint tells the merchant where to fix it.
type Problem struct {
	ItemID   string
	Field    string
	Severity Severity
	Message  string
	Hint     string
}

// HasErrors reports whether any problem is an error, i.e. whether the item
// must be left out of the feed.
func HasErrors(probs []Problem) bool {
	for _, p := range probs {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Hints, written for the merchant.
const (
	hintSync          = "Run a full catalog sync from the app's Dashboard; if it persists, contact support."
	hintTitle         = "Edit the title in Shopify admin › Products, or set a title override for the product in the app."
	hintDescription   = "Add a description in Shopify admin › Products, or set a description override for the product in the app."
	hintURL           = "Publish the product to the Online Store sales channel (Shopify admin › Products › Publishing) and make sure the store's primary domain uses HTTPS (Shopify admin › Settings › Domains)."
	hintBrand         = "Fill in Vendor in Shopify admin › Products, or set a fallback brand in the app's Settings › Feed."
	hintBarcode       = "Check the variant's barcode in Shopify admin › Products › (variant) › Barcode, or set a GTIN override in the app."
	hintIdentifiers   = "Add a barcode (GTIN, UPC, EAN) or a SKU to the variant in Shopify admin › Products › (variant) › Inventory."
	hintMPN           = "Shorten the variant's SKU in Shopify admin › Products › (variant) › Inventory, or set an MPN override in the app."
	hintCategory      = "Choose a product category in Shopify admin › Products › Category, or set a category override in the app."
	hintImage         = "Add a product image in Shopify admin › Products › Media."
	hintPrice         = "Set a price above 0 in Shopify admin › Products › (variant) › Pricing."
	hintSalePrice     = "Check the price and compare-at price in Shopify admin › Products › (variant) › Pricing."
	hintCurrency      = "Check the store currency in Shopify admin › Settings › Store details."
	hintOption        = "Shorten the option value in Shopify admin › Products › Variants."
	hintWeight        = "Add the variant's weight in Shopify admin › Products › (variant) › Shipping."
	hintSeller        = "Set the seller name in the app's Settings › Feed."
	hintSellerURL     = "Set the seller URL (your storefront, https://…) in the app's Settings › Feed."
	hintPrivacy       = "Add your privacy policy URL in the app's Settings › Policies (Shopify admin › Settings › Policies can generate one), or turn off ChatGPT checkout."
	hintTOS           = "Add your terms of service URL in the app's Settings › Policies (Shopify admin › Settings › Policies can generate one), or turn off ChatGPT checkout."
	hintReturnPolicy  = "Add your return policy URL in the app's Settings › Policies (Shopify admin › Settings › Policies can generate one)."
	hintReturnWindow  = "Set the return window in days in the app's Settings › Policies, or turn off ChatGPT checkout."
	hintTargets       = "Choose the countries you sell to in the app's Settings › Feed."
	hintStoreCountry  = "Set the store country in the app's Settings › Feed (it defaults to Shopify admin › Settings › Store details)."
	hintEligibility   = "Enable ChatGPT search in the app's Settings › Feed before enabling checkout."
	hintAvailability  = hintSync
	hintCapsTitle     = "Write the title in normal case in Shopify admin › Products, or set a title override in the app."
	hintGroupID       = hintSync
	hintCondition     = hintSync
	hintImageFormat   = "Use images hosted on HTTPS (images uploaded to Shopify are)."
	hintCountryFormat = "Use two-letter ISO 3166-1 country codes (US, GB, DE, …) in the app's Settings › Feed."
)

// Validate checks an item against the OpenAI feed spec of the given naming:
// required fields (item_id, title, description, url, brand, seller_name,
// image_url, availability, price and, in the current naming,
// target_countries and store_country; for checkout-eligible items also
// seller_privacy_policy, seller_tos, return_policy and the return window),
// formats (HTTPS URLs, prices, ISO country codes, GTIN digits and check
// digit) and lengths. It returns nil when all is well. Items with any error
// are left out of the published feed; warnings are kept.
func Validate(it Item, names FieldNames) []Problem {
	v := validator{it: it, names: names}
	v.run()
	return v.probs
}

type validator struct {
	it    Item
	names FieldNames
	probs []Problem
}

func (v *validator) add(c col, sev Severity, msg, hint string) {
	name := c.name(v.names)
	if name == "" {
		return // not a field of this naming
	}
	v.probs = append(v.probs, Problem{ItemID: v.it.ItemID, Field: name, Severity: sev, Message: name + " " + msg, Hint: hint})
}

func (v *validator) required(c col, value, hint string) bool {
	if value == "" {
		v.add(c, SeverityError, "is missing", hint)
		return false
	}
	return true
}

func (v *validator) maxLen(c col, value string, limit int, sev Severity, hint string) {
	if len(value) > limit { // fast path: bytes ≥ runes
		if n := utf8.RuneCountInString(value); n > limit {
			v.add(c, sev, "is "+strconv.Itoa(n)+" characters long; the limit is "+strconv.Itoa(limit), hint)
		}
	}
}

// httpsURL checks an optional URL field; sev applies when it is malformed.
func (v *validator) httpsURL(c col, value string, sev Severity, hint string) {
	if value != "" && !isHTTPSURL(value) {
		v.add(c, sev, "must be an absolute https:// URL, got "+strconv.Quote(clip(value, 80)), hint)
	}
}

// run checks the item, a group of fields at a time, in the order its
// problems are listed.
func (v *validator) run() {
	v.basics()
	v.identifiers()
	v.media()
	v.price()
	v.availability()
	v.variants()
	v.merchant()
	v.geo()
	if v.it.IsEligibleCheckout && !v.it.IsEligibleSearch {
		v.add(cIsEligibleCheckout, SeverityError, "requires "+cIsEligibleSearch.name(v.names)+" to be true", hintEligibility)
	}
}

// basics checks the required descriptive fields: id, title, description,
// URL and brand.
func (v *validator) basics() {
	it := &v.it
	if v.required(cItemID, it.ItemID, hintSync) {
		v.maxLen(cItemID, it.ItemID, MaxItemID, SeverityError, hintSync)
	}
	if v.required(cTitle, it.Title, hintTitle) {
		v.maxLen(cTitle, it.Title, MaxTitle, SeverityError, hintTitle)
		if isAllCaps(it.Title) {
			v.add(cTitle, SeverityWarning, "is in capital letters", hintCapsTitle)
		}
	}
	if v.required(cDescription, it.Description, hintDescription) {
		v.maxLen(cDescription, it.Description, MaxDescription, SeverityError, hintDescription)
	}
	if v.required(cURL, it.URL, hintURL) {
		v.httpsURL(cURL, it.URL, SeverityError, hintURL)
	}
	if v.required(cBrand, it.Brand, hintBrand) {
		v.maxLen(cBrand, it.Brand, MaxBrand, SeverityError, hintBrand)
	}
}

// identifiers checks the GTIN and MPN (agents match products by them), the
// category and the condition.
func (v *validator) identifiers() {
	it := &v.it
	if it.GTIN != "" {
		switch {
		case !allDigits(it.GTIN) || len(it.GTIN) < 8 || len(it.GTIN) > 14:
			v.add(cGTIN, SeverityError, "must be 8 to 14 digits without spaces or dashes, got "+strconv.Quote(clip(it.GTIN, 40)), hintBarcode)
		case len(it.GTIN) != 8 && len(it.GTIN) != 12 && len(it.GTIN) != 13 && len(it.GTIN) != 14:
			v.add(cGTIN, SeverityWarning, "has "+strconv.Itoa(len(it.GTIN))+" digits; GTINs have 8, 12, 13 or 14", hintBarcode)
		case !ValidGTIN(it.GTIN):
			v.add(cGTIN, SeverityWarning, "has a wrong check digit", hintBarcode)
		}
	}
	v.maxLen(cMPN, it.MPN, MaxMPN, SeverityError, hintMPN)
	if it.GTIN == "" && it.MPN == "" {
		v.add(cGTIN, SeverityWarning, "and mpn are both missing; agents match products by them", hintIdentifiers)
	}

	if it.ProductCategory == "" {
		v.add(cProductCategory, SeverityWarning, "is missing", hintCategory)
	}
	switch it.Condition {
	case "", "new", "refurbished", "used":
	default:
		v.add(cCondition, SeverityError, "must be new, refurbished or used, got "+strconv.Quote(clip(it.Condition, 40)), hintCondition)
	}
}

// media checks the image URLs.
func (v *validator) media() {
	it := &v.it
	if v.required(cImageURL, it.ImageURL, hintImage) {
		v.httpsURL(cImageURL, it.ImageURL, SeverityError, hintImageFormat)
	}
	for _, u := range it.AdditionalImageURLs {
		v.httpsURL(cAdditionalImageURLs, u, SeverityWarning, hintImageFormat)
	}
}

// availability checks the availability is one the spec knows.
func (v *validator) availability() {
	it := &v.it
	switch it.Availability {
	case InStock, OutOfStock, Backorder, PreOrder, Unknown:
	case "":
		v.add(cAvailability, SeverityError, "is missing", hintAvailability)
	default:
		v.add(cAvailability, SeverityError, "has the unknown value "+strconv.Quote(clip(string(it.Availability), 40)), hintAvailability)
	}
}

// variants checks the group id of a product with variants, the option
// values, and (2025 naming) the weight of a shipped product.
func (v *validator) variants() {
	it := &v.it
	if it.ListingHasVariations && it.GroupID == "" {
		v.add(cGroupID, SeverityError, "is missing for a product with variants", hintGroupID)
	}
	v.maxLen(cGroupID, it.GroupID, MaxGroupID, SeverityError, hintGroupID)
	v.maxLen(cColor, it.Color, MaxColor, SeverityWarning, hintOption)
	v.maxLen(cSize, it.Size, MaxSize, SeverityWarning, hintOption)
	if v.names.legacy() && !it.IsDigital && !hasWeight(it) {
		v.add(cWeight, SeverityWarning, "is missing for a shipped product", hintWeight)
	}
}

// merchant checks the seller and the policies, which an item eligible for
// checkout must have (errors, not warnings), and the return window.
func (v *validator) merchant() {
	it := &v.it
	if v.required(cSellerName, it.SellerName, hintSeller) {
		v.maxLen(cSellerName, it.SellerName, MaxSellerName, SeverityError, hintSeller)
	}
	if it.SellerURL == "" {
		v.add(cSellerURL, SeverityWarning, "is missing", hintSellerURL)
	}
	v.httpsURL(cSellerURL, it.SellerURL, SeverityError, hintSellerURL)

	policySev := SeverityWarning
	if it.IsEligibleCheckout {
		policySev = SeverityError
		v.required(cSellerPrivacyPolicy, it.SellerPrivacyPolicy, hintPrivacy)
		v.required(cSellerTOS, it.SellerTOS, hintTOS)
		v.required(cReturnPolicy, it.ReturnPolicy, hintReturnPolicy)
		if it.ReturnDeadlineInDays <= 0 {
			v.add(cReturnDeadline, SeverityError, "is missing", hintReturnWindow)
		}
	} else if it.ReturnPolicy == "" {
		v.add(cReturnPolicy, SeverityWarning, "is missing", hintReturnPolicy)
	}
	v.httpsURL(cSellerPrivacyPolicy, it.SellerPrivacyPolicy, policySev, hintPrivacy)
	v.httpsURL(cSellerTOS, it.SellerTOS, policySev, hintTOS)
	v.httpsURL(cReturnPolicy, it.ReturnPolicy, policySev, hintReturnPolicy)
	if it.ReturnDeadlineInDays < 0 {
		v.add(cReturnDeadline, SeverityError, "must not be negative", hintReturnWindow)
	}
}

// geo checks the target and store countries (current naming only; add
// drops them for 2025).
func (v *validator) geo() {
	it := &v.it
	if v.names.legacy() {
		return
	}
	if len(it.TargetCountries) == 0 {
		v.add(cTargetCountries, SeverityError, "is missing", hintTargets)
	}
	for _, c := range it.TargetCountries {
		if !ValidCountry(c) {
			v.add(cTargetCountries, SeverityError, "contains "+strconv.Quote(clip(c, 10))+", which is not an ISO 3166-1 alpha-2 code", hintCountryFormat)
		}
	}
	if v.required(cStoreCountry, it.StoreCountry, hintStoreCountry) && !ValidCountry(it.StoreCountry) {
		v.add(cStoreCountry, SeverityError, "is "+strconv.Quote(clip(it.StoreCountry, 10))+", which is not an ISO 3166-1 alpha-2 code", hintCountryFormat)
	}
}

func (v *validator) price() {
	it := &v.it
	p, s := it.Price, it.SalePrice
	switch {
	case p.IsZero():
		v.add(cPrice, SeverityError, "is missing", hintPrice)
		return
	case p.Minor <= 0:
		v.add(cPrice, SeverityError, "must be greater than 0", hintPrice)
	}
	if !validCurrency(p.Currency) {
		v.add(cPrice, SeverityError, "has no valid ISO 4217 currency code (got "+strconv.Quote(clip(p.Currency, 10))+")", hintCurrency)
	}
	if s.IsZero() {
		return
	}
	switch {
	case s.Currency != p.Currency:
		v.add(cSalePrice, SeverityError, "is in "+strconv.Quote(clip(s.Currency, 10))+" but price is in "+strconv.Quote(clip(p.Currency, 10)), hintCurrency)
	case s.Minor <= 0:
		v.add(cSalePrice, SeverityError, "must be greater than 0", hintSalePrice)
	case s.Minor > p.Minor:
		v.add(cSalePrice, SeverityError, "("+s.String()+") is higher than price ("+p.String()+")", hintSalePrice)
	}
}

// ValidGTIN reports whether s is 8 to 14 digits with a correct GS1 check
// digit (the mod-10 check of GTIN-8, UPC-A, EAN-13 and GTIN-14).
func ValidGTIN(s string) bool {
	if len(s) < 8 || len(s) > 14 || !allDigits(s) {
		return false
	}
	sum := 0
	for i, w := len(s)-2, 3; i >= 0; i, w = i-1, 4-w {
		sum += int(s[i]-'0') * w
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func validCurrency(c string) bool {
	return len(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z'
}

// isHTTPSURL is a cheap check for an absolute https URL with a host and no
// white space or control characters.
func isHTTPSURL(s string) bool {
	if len(s) < len("https://x") || !strings.EqualFold(s[:8], "https://") {
		return false
	}
	if c := s[8]; c == '/' || c == '?' || c == '#' || c == '.' || c == ':' {
		return false // no host
	}
	for i := 8; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// isAllCaps reports whether a title shouts: at least 8 letters, none lower case.
func isAllCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			letters++
		}
	}
	return letters >= 8
}

func clip(s string, n int) string { return truncate(s, n) }

// iso3166 lists the 249 officially assigned ISO 3166-1 alpha-2 codes, plus
// XK (Kosovo, user-assigned but used by Shopify, Google and the EU).
const iso3166 = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK"

var countries = func() (t [26 * 26]bool) {
	for _, c := range strings.Fields(iso3166) {
		t[int(c[0]-'A')*26+int(c[1]-'A')] = true
	}
	return t
}()

// ValidCountry reports whether c is an ISO 3166-1 alpha-2 code (upper case).
func ValidCountry(c string) bool {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return false
	}
	return countries[int(c[0]-'A')*26+int(c[1]-'A')]
}
