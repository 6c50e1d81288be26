package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// FeedAPIVersion is the ACP Feed API version sent when
// ACPFeedTarget.APIVersion is empty.
const FeedAPIVersion = "2026-04-17"

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// ACPFeedTarget is an ACP Feed API endpoint and the feed to fill. It holds
// a bearer token: String, GoString and LogValue redact it.
type ACPFeedTarget struct {
	// BaseURL is the API root; /feeds is appended. It must be https,
	// except for loopback hosts (tests, local demos), since the token
	// travels in every request.
	BaseURL string
	// Token is the bearer token sent as "Authorization: Bearer …".
	Token string
	// FeedID is the feed to upsert into; empty creates a new feed, whose
	// id the result reports so the caller can keep it for next time.
	FeedID string
	// TargetCountry is the ISO 3166-1 alpha-2 market ("US") used when a
	// feed is created; empty leaves it unset.
	TargetCountry string
	// APIVersion is sent as the API-Version header; empty means
	// FeedAPIVersion.
	APIVersion string

	// RunID scopes the Idempotency-Keys to one push. Empty picks a random
	// one per call, so a later push of identical content is applied again
	// (a product changed and changed back within the server's key
	// retention must not be ignored as a replay). A job that resumes an
	// interrupted push after a crash passes the same RunID both times.
	RunID string
	// Logger receives progress and retry warnings; nil discards them.
	Logger *slog.Logger
	// Sleep waits between attempts; nil uses a timer. Tests inject a fake
	// to check the waits without sleeping. It must return early with an
	// error when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Validate checks the target without connecting. Errors wrap
// ErrInvalidTarget and name the field at fault.
func (t ACPFeedTarget) Validate() error {
	u, err := url.Parse(t.BaseURL)
	switch {
	case t.BaseURL == "":
		return invalidf("BaseURL is required")
	case err != nil:
		return invalidf("BaseURL does not parse: %v", err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return invalidf("BaseURL %q must be an absolute https URL", t.BaseURL)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return invalidf("BaseURL %q must use https: the bearer token would travel in clear text", t.BaseURL)
	case u.User != nil:
		return invalidf("BaseURL must not carry credentials; use Token")
	case u.RawQuery != "" || u.Fragment != "":
		return invalidf("BaseURL %q must not have a query or fragment", t.BaseURL)
	}
	if t.Token == "" {
		return invalidf("Token is required")
	}
	if strings.ContainsFunc(t.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return invalidf("Token must not contain spaces or control characters")
	}
	if len(t.FeedID) > 255 || strings.ContainsFunc(t.FeedID, unicode.IsControl) {
		return invalidf("FeedID must be at most 255 bytes without control characters")
	}
	if t.TargetCountry != "" && !countryRE.MatchString(t.TargetCountry) {
		return invalidf("TargetCountry %q must be an upper-case ISO 3166-1 alpha-2 code such as US", t.TargetCountry)
	}
	if t.APIVersion != "" {
		if _, err := time.Parse(time.DateOnly, t.APIVersion); err != nil {
			return invalidf("APIVersion %q must be a date like %s", t.APIVersion, FeedAPIVersion)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (t ACPFeedTarget) apiVersion() string {
	if t.APIVersion != "" {
		return t.APIVersion
	}
	return FeedAPIVersion
}

// String describes the target without its token.
func (t ACPFeedTarget) String() string {
	feed := t.FeedID
	if feed == "" {
		feed = "(new)"
	}
	return fmt.Sprintf("acp-feed %s feed %s (API-Version %s, token redacted)", t.BaseURL, feed, t.apiVersion())
}

// GoString keeps %#v from printing the token.
func (t ACPFeedTarget) GoString() string { return "delivery.ACPFeedTarget{" + t.String() + "}" }

// LogValue keeps slog from printing the token.
func (t ACPFeedTarget) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", t.BaseURL),
		slog.String("feed_id", t.FeedID),
		slog.String("api_version", t.apiVersion()),
	)
}

func (t ACPFeedTarget) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}
