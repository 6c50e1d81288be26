package stripeemu

import (
	"net/url"
	"strings"
)

// boolParam parses a boolean parameter ("true"/"false").
func boolParam(p url.Values, name string) (bool, *apiError) {
	switch v := p.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, invalid(name, "parameter_invalid_boolean", "Invalid boolean: %s", v)
	}
}

// metadataParam merges metadata[…] parameters into base (a copy), with
// Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; an
// empty value removes the key.
func metadataParam(p url.Values, base map[string]string) (map[string]string, *apiError) {
	md := map[string]string{}
	for k, v := range base {
		md[k] = v
	}
	for k, vs := range p {
		if !strings.HasPrefix(k, "metadata[") || !strings.HasSuffix(k, "]") {
			if strings.HasPrefix(k, "metadata") {
				return nil, invalid(k, "parameter_unknown", "Received unknown parameter: %s", k)
			}
			continue
		}
		key := k[len("metadata[") : len(k)-1]
		if key == "" || len(key) > 40 || strings.ContainsAny(key, "[]") {
			return nil, invalid(k, "", "Metadata keys must be 1 to 40 characters without square brackets.")
		}
		v := vs[0]
		if len(v) > 500 {
			return nil, invalid(k, "", "Metadata values can have up to 500 characters, but you passed in a value that is %d characters.", len(v))
		}
		if v == "" {
			delete(md, key)
		} else {
			md[key] = v
		}
	}
	if len(md) > 50 {
		return nil, invalid("metadata", "", "You can have up to 50 metadata keys.")
	}
	return md, nil
}

// expandParam accepts the expansions the emulator performs.
func expandParam(p url.Values) *apiError {
	for k, vs := range p {
		if !strings.HasPrefix(k, "expand[") {
			continue
		}
		for _, v := range vs {
			switch v {
			case "latest_charge", "payment_method", "data.latest_charge", "data.payment_method":
			default:
				return invalid(k, "", "This property cannot be expanded (%s).", v)
			}
		}
	}
	return nil
}

// expanded reports whether the request asks to expand field (prefix is
// "data." for list items).
func expanded(p url.Values, field string) bool {
	for k, vs := range p {
		if strings.HasPrefix(k, "expand[") {
			for _, v := range vs {
				if v == field || v == "data."+field {
					return true
				}
			}
		}
	}
	return false
}

// descriptorParam checks a statement descriptor's length.
func descriptorParam(p url.Values, name string, max int) *apiError {
	if v := p.Get(name); len(v) > max {
		return invalid(name, "", "%s must be at most %d characters.", name, max)
	}
	return nil
}
