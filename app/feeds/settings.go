package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/secret"
)

// Settings returns the shop's feed settings; a shop that has none yet gets
// defaults derived from the shop.
func (f *Service) Settings(ctx context.Context, shopID int64) (*app.FeedSettings, error) {
	fs, err := f.Store.FeedSettings(ctx, shopID)
	if errors.Is(err, app.ErrNotFound) {
		sh, err := f.Store.ShopByID(ctx, shopID)
		if err != nil {
			return nil, err
		}
		return defaultSettings(sh, app.ShopProfile{}), nil
	}
	return fs, err
}

func defaultSettings(sh *app.Shop, p app.ShopProfile) *app.FeedSettings {
	country := sh.CountryCode
	fs := &app.FeedSettings{
		ShopID: sh.ID, SellerName: sh.Name, SellerURL: p.StorefrontURL, StoreCountry: country,
		ReturnPolicyURL: p.RefundPolicyURL, PrivacyPolicyURL: p.PrivacyPolicyURL, TermsURL: p.TermsURL,
		EligibleSearch: true, EligibleCheckout: true, FieldNames: string(feed.NamesCurrent),
	}
	if fs.SellerURL == "" {
		fs.SellerURL = "https://" + sh.Domain
	}
	if country != "" {
		fs.TargetCountries = []string{country}
	}
	return fs
}

// EnsureDefaults saves settings derived from what Shopify says of the shop,
// unless the merchant already has settings (theirs are never overwritten).
func (f *Service) EnsureDefaults(ctx context.Context, sh *app.Shop, p app.ShopProfile) error {
	if _, err := f.Store.FeedSettings(ctx, sh.ID); !errors.Is(err, app.ErrNotFound) {
		return err
	}
	sh.Name, sh.CountryCode, sh.CurrencyCode = p.Name, p.CountryCode, p.CurrencyCode
	return f.Store.SaveFeedSettings(ctx, *defaultSettings(sh, p))
}

// SaveSettings validates and stores the merchant's settings; each problem
// names its field. The feed token is kept (RotateToken changes it).
func (f *Service) SaveSettings(ctx context.Context, fs app.FeedSettings) error {
	if err := ValidateFeedSettings(&fs); err != nil {
		return err
	}
	cur, err := f.Settings(ctx, fs.ShopID)
	if err != nil {
		return err
	}
	fs.FeedTokenHash = cur.FeedTokenHash
	return f.Store.SaveFeedSettings(ctx, fs)
}

// ValidateFeedSettings checks and normalises settings (country codes upper
// case, URLs absolute https).
func ValidateFeedSettings(fs *app.FeedSettings) error {
	bad := func(field, msg string) error { return &app.Error{Code: app.CodeInvalid, Field: field, Message: msg} }
	fs.SellerName = strings.TrimSpace(fs.SellerName)
	if fs.SellerName == "" || len([]rune(fs.SellerName)) > 70 {
		return bad("seller_name", "seller name is required, at most 70 characters")
	}
	for field, u := range map[string]*string{
		"seller_url": &fs.SellerURL, "return_policy_url": &fs.ReturnPolicyURL,
		"privacy_policy_url": &fs.PrivacyPolicyURL, "terms_url": &fs.TermsURL,
	} {
		*u = strings.TrimSpace(*u)
		if *u == "" {
			continue
		}
		pu, err := url.Parse(*u)
		if err != nil || pu.Scheme != "https" || pu.Host == "" || len(*u) > 2000 {
			return bad(field, "must be an absolute https URL, such as https://example.com/policies/refund-policy")
		}
	}
	if fs.SellerURL == "" {
		return bad("seller_url", "seller URL is required")
	}
	fs.StoreCountry = strings.ToUpper(strings.TrimSpace(fs.StoreCountry))
	if !isCountry(fs.StoreCountry) {
		return bad("store_country", "store country must be a two-letter ISO 3166-1 code such as US")
	}
	var targets []string
	for _, c := range fs.TargetCountries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if !isCountry(c) {
			return bad("target_countries", fmt.Sprintf("%q is not a two-letter ISO 3166-1 country code", c))
		}
		if !slices.Contains(targets, c) {
			targets = append(targets, c)
		}
	}
	if len(targets) == 0 {
		return bad("target_countries", "at least one target country is required")
	}
	fs.TargetCountries = targets
	if fs.ReturnWindowDays < 0 || fs.ReturnWindowDays > 365 {
		return bad("return_window_days", "return window must be 0 to 365 days")
	}
	if len([]rune(fs.BrandFallback)) > 70 {
		return bad("brand_fallback", "brand fallback must be at most 70 characters")
	}
	if fs.FieldNames == "" {
		fs.FieldNames = string(feed.NamesCurrent)
	}
	if !feed.FieldNames(fs.FieldNames).Valid() {
		return bad("field_names", `field names must be "current" or "2025"`)
	}
	if fs.EligibleCheckout && !fs.EligibleSearch {
		return bad("eligible_checkout", "checkout needs search: an item agents cannot find cannot be bought")
	}
	return nil
}

func isCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// RotateToken makes a new bearer token for the shop's feed pull URL and
// returns it; only its hash is kept, and the old token stops working.
func (f *Service) RotateToken(ctx context.Context, shopID int64) (string, error) {
	tok, err := secret.NewAPIKey("acpf")
	if err != nil {
		return "", err
	}
	fs, err := f.Settings(ctx, shopID)
	if err != nil {
		return "", err
	}
	fs.FeedTokenHash = secret.HashAPIKey(tok)
	if err := f.Store.SaveFeedSettings(ctx, *fs); err != nil {
		return "", err
	}
	return tok, nil
}
