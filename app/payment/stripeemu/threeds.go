package stripeemu

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// threeDS is an imported 3-D Secure result
// (payment_method_options[card][three_d_secure]).
type threeDS struct {
	aresTransStatus, cryptogram, eci, transactionID, version string
}

// authenticated reports whether an imported 3-D Secure result lets the
// charge go ahead: transStatus Y or A, or, without one, any ECI but 07.
func (t *threeDS) authenticated() bool {
	if t.aresTransStatus != "" {
		return t.aresTransStatus == "Y" || t.aresTransStatus == "A"
	}
	return t.eci != "07"
}

// threeDSParam reads payment_method_options[card][three_d_secure][…]: nil
// when absent.
func threeDSParam(p url.Values) (*threeDS, *apiError) {
	var found bool
	for k := range p {
		if strings.HasPrefix(k, threeDSPrefix) {
			found = true
			field := strings.TrimSuffix(strings.TrimPrefix(k, threeDSPrefix), "]")
			switch {
			case field == "ares_trans_status", field == "cryptogram", field == "electronic_commerce_indicator",
				field == "exemption_indicator", field == "requestor_challenge_indicator", field == "transaction_id",
				field == "version", strings.HasPrefix(field, "network_options]"):
			default:
				return nil, invalid(k, "parameter_unknown", "Received unknown parameter: %s", k)
			}
		}
	}
	if !found {
		return nil, nil
	}
	get := func(f string) string { return p.Get(threeDSPrefix + f + "]") }
	t := &threeDS{aresTransStatus: get("ares_trans_status"), cryptogram: get("cryptogram"),
		eci: get("electronic_commerce_indicator"), transactionID: get("transaction_id"), version: get("version")}
	for _, f := range []string{"cryptogram", "transaction_id", "version"} {
		if get(f) == "" {
			return nil, invalid(threeDSPrefix+f+"]", "parameter_missing", "Missing required param: %s%s].", threeDSPrefix, f)
		}
	}
	if raw, err := base64.StdEncoding.DecodeString(t.cryptogram); err != nil || len(raw) != 20 {
		return nil, invalid(threeDSPrefix+"cryptogram]", "", "Invalid cryptogram: it must be 20 bytes, base64-encoded into 28 characters.")
	}
	if !tdsVersion.MatchString(t.version) {
		return nil, invalid(threeDSPrefix+"version]", "", "Invalid 3D Secure version: %s", t.version)
	}
	if t.eci != "" && !validECI[t.eci] {
		return nil, invalid(threeDSPrefix+"electronic_commerce_indicator]", "", "Invalid electronic_commerce_indicator: must be one of 01, 02, 05, 06, or 07")
	}
	if t.aresTransStatus != "" && !validStatus[t.aresTransStatus] {
		return nil, invalid(threeDSPrefix+"ares_trans_status]", "", "Invalid ares_trans_status: must be one of A, C, I, N, R, U, or Y")
	}
	return t, nil
}
