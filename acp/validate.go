package acp

import (
	"net/mail"
	"net/url"
	"strings"
)

// Format checks shared by the request decoders and by Session.Validate.

// NormalizeCountry returns the ISO 3166-1 alpha-2 code for s (either case),
// upper-cased, or false when s is not an assigned code. XK (Kosovo, user
// assigned but used by Shopify and the card networks) is accepted too.
func NormalizeCountry(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	u := strings.ToUpper(s)
	if u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
		return "", false
	}
	if !strings.Contains(countryCodes, " "+u+" ") {
		return "", false
	}
	return u, true
}

// NormalizeCurrency returns the lower-case ISO 4217 code for s (either
// case), the form the checkout API uses, or false when s is not a code.
func NormalizeCurrency(s string) (string, bool) {
	if len(s) != 3 {
		return "", false
	}
	u := strings.ToUpper(s)
	for i := 0; i < 3; i++ {
		if u[i] < 'A' || u[i] > 'Z' {
			return "", false
		}
	}
	if !strings.Contains(currencyCodes, " "+u+" ") {
		return "", false
	}
	return strings.ToLower(u), true
}

// ValidEmail reports whether s is a plain addr-spec (no display name, no
// comments) of at most 254 characters whose domain has at least two labels.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 {
		return false
	}
	domain := s[at+1:]
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// NormalizePhone returns s without the usual separators (spaces, dashes,
// dots, parentheses): an optional "+" and 7 to 15 digits (the E.164 bound).
// The spec only recommends E.164 and its own examples omit the "+", so a
// number without one is accepted as it is.
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && b.Len() == 0:
			b.WriteByte(c)
		case '0' <= c && c <= '9':
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	out := b.String()
	digits := strings.TrimPrefix(out, "+")
	if len(digits) < 7 || len(digits) > 15 {
		return "", false
	}
	return out, true
}

// validURL reports whether s is an absolute http(s) URL with a host, as the
// schemas' format "uri" fields need.
func validURL(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n")
}

// validJSONPath is a light check of a message param: an RFC 9535 path
// starting at the root.
func validJSONPath(s string) bool {
	return s == "$" || strings.HasPrefix(s, "$.") || strings.HasPrefix(s, "$[")
}

// hasRawHTML reports whether markdown content contains CommonMark raw HTML
// (an open or closing tag, a comment, a processing instruction, a
// declaration or CDATA), which the RFC (§5.1) forbids. Autolinks such as
// <https://example.com> are allowed. It errs on the side of refusal: a tag
// inside a code span is refused too.
func hasRawHTML(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' || i+1 >= len(s) {
			continue
		}
		c := s[i+1]
		switch {
		case c == '!' || c == '?':
			return true
		case c == '/':
			if i+2 < len(s) && isASCIILetter(s[i+2]) {
				return true
			}
		case isASCIILetter(c):
			j := i + 1
			for j < len(s) && (isASCIILetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
				j++
			}
			if j == len(s) {
				continue
			}
			switch s[j] {
			case ' ', '\t', '\n', '\r', '/', '>':
				return true
			}
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes, plus XK.
const countryCodes = " " +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"XK " +
	"YE YT " +
	"ZA ZM ZW "

// currencyCodes are the ISO 4217 codes in use, plus a few recently withdrawn
// ones that stores may still report (ANG, BGN, CUC, HRK, SLL, VEF, ZWL).
// XTS (testing) and XXX (no currency) are left out.
const currencyCodes = " " +
	"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN " +
	"BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD " +
	"CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK " +
	"DJF DKK DOP DZD " +
	"EGP ERN ETB EUR " +
	"FJD FKP " +
	"GBP GEL GHS GIP GMD GNF GTQ GYD " +
	"HKD HNL HRK HTG HUF " +
	"IDR ILS INR IQD IRR ISK " +
	"JMD JOD JPY " +
	"KES KGS KHR KMF KPW KRW KWD KYD KZT " +
	"LAK LBP LKR LRD LSL LYD " +
	"MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN " +
	"NAD NGN NIO NOK NPR NZD " +
	"OMR " +
	"PAB PEN PGK PHP PKR PLN PYG " +
	"QAR " +
	"RON RSD RUB RWF " +
	"SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL " +
	"THB TJS TMT TND TOP TRY TTD TWD TZS " +
	"UAH UGX USD USN UYI UYU UYW UZS " +
	"VED VEF VES VND VUV " +
	"WST " +
	"XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA " +
	"YER " +
	"ZAR ZMW ZWG ZWL "
