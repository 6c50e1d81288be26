package emulator

import "github.com/vektah/gqlparser/v2/ast"

// registerShopResolvers adds the shop and the app installation.
func registerShopResolvers(r *registry) {
	r.addQuery("shop", "", resolveShop)
	r.addQuery("currentAppInstallation", "", resolveAppInstallation)
}

// resolveShop is shop: a plausible US development store.
func resolveShop(x *execution, _ *ast.Field, _ map[string]any) (any, error) {
	s := x.shop
	front := s.storefront()
	// The store's address: shopAddress in 2026-10, billingAddress as the
	// deprecated name of the same.
	address := map[string]any{
		"id": gid("ShopAddress", s.id), "address1": "100 Main Street", "city": "Portland", "province": "Oregon",
		"provinceCode": "OR", "zip": "97204", "country": "United States", "countryCodeV2": "US", "countryCode": "US",
	}
	return map[string]any{
		"__typename":           "Shop",
		"id":                   gid("Shop", s.id),
		"name":                 s.displayName(),
		"email":                s.email(),
		"contactEmail":         s.email(),
		"shopOwnerName":        "Demo Owner",
		"myshopifyDomain":      s.domain,
		"url":                  front,
		"currencyCode":         "USD",
		"ianaTimezone":         "America/New_York",
		"timezoneAbbreviation": "EST",
		"weightUnit":           "GRAMS",
		"taxesIncluded":        false,
		"primaryDomain":        map[string]any{"id": gid("Domain", s.id), "url": front, "host": s.handle + ".example", "sslEnabled": true},
		"billingAddress":       address,
		"shopAddress":          address,
		// The store's published policies, as Settings › Policies shows them.
		"shopPolicies": []any{
			shopPolicy(s.id, 1, "REFUND_POLICY", "Refund policy", front+"/policies/refund-policy"),
			shopPolicy(s.id, 2, "PRIVACY_POLICY", "Privacy policy", front+"/policies/privacy-policy"),
			shopPolicy(s.id, 3, "TERMS_OF_SERVICE", "Terms of service", front+"/policies/terms-of-service"),
			shopPolicy(s.id, 4, "SHIPPING_POLICY", "Shipping policy", front+"/policies/shipping-policy"),
			shopPolicy(s.id, 5, "CONTACT_INFORMATION", "Contact information", front+"/policies/contact-information"),
		},
		"plan": map[string]any{"displayName": "Development", "publicDisplayName": "Development", "partnerDevelopment": true, "shopifyPlus": false},
	}, nil
}

// resolveAppInstallation is currentAppInstallation: the scopes the calling
// token holds.
func resolveAppInstallation(x *execution, _ *ast.Field, _ map[string]any) (any, error) {
	scopes := x.token.scopes
	if x.token.staff {
		scopes = x.shop.scopes
	}
	list := make([]any, len(scopes))
	for i, sc := range scopes {
		list[i] = map[string]any{"handle": sc, "description": sc}
	}
	return map[string]any{
		"__typename":          "AppInstallation",
		"id":                  gid("AppInstallation", x.shop.id),
		"accessScopes":        list,
		"activeSubscriptions": x.activeSubscriptionNodes(),
	}, nil
}

// shopPolicy is a ShopPolicy object.
func shopPolicy(shopID int64, n int64, kind, title, url string) map[string]any {
	return map[string]any{
		"__typename": "ShopPolicy", "id": gid("ShopPolicy", shopID*10+n), "type": kind, "title": title,
		"url": url, "body": "<p>" + title + " of the demo store.</p>",
	}
}
