package shopify

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DeprecatedReasonHeader is the response header Shopify sets when a request
// used something deprecated in the requested API version (a field, an
// argument, the version itself). Its value is a short reason or a link to
// the changelog entry.
const DeprecatedReasonHeader = "X-Shopify-API-Deprecated-Reason"

// maxDeprecations bounds the distinct (operation, reason) pairs kept: the
// reasons come from Shopify, and a misbehaving upstream must not grow the
// process's memory or the metrics' cardinality without end. Pairs past the
// bound are counted under the operation with the reason "other".
const maxDeprecations = 64

// maxReasonLen bounds a kept reason (they are changelog URLs in practice).
const maxReasonLen = 200

// Deprecation is one (operation, reason) pair Shopify flagged, with how
// often this process has seen it.
type Deprecation struct {
	// Operation is the GraphQL operation name, e.g. "CreateOrder".
	Operation string
	// Reason is the header's value, cleaned and bounded.
	Reason string
	// Calls counts the responses that carried it.
	Calls int64
	// First and Last are when this process first and last saw it.
	First, Last time.Time
	// Shop is the shop of the first call that carried it (not a secret,
	// and it tells the operator where to reproduce it).
	Shop string
}

// Deprecations watches the Admin API's deprecation header: it logs each
// (operation, reason) once per process, at warning level, and counts every
// call, for /metrics and the operator. Calls on deprecated parts of the API
// keep working until the version is retired (each stable version is
// supported for at least 12 months), so this is the notice to act before
// that. The zero value is ready to use; safe for concurrent use.
type Deprecations struct {
	// Logger gets the once-per-pair warning; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	pairs map[deprecationKey]*Deprecation
}

type deprecationKey struct{ op, reason string }

// Observe records that a response to op for shop carried the deprecation
// header with the given value. An empty value is ignored.
func (d *Deprecations) Observe(ctx context.Context, shop, op, header string) {
	reason := cleanReason(header)
	if d == nil || reason == "" {
		return
	}
	if op == "" {
		op = "unnamed"
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	t := now()
	d.mu.Lock()
	if d.pairs == nil {
		d.pairs = make(map[deprecationKey]*Deprecation)
	}
	k := deprecationKey{op, reason}
	p, ok := d.pairs[k]
	if !ok && len(d.pairs) >= maxDeprecations {
		k.reason = "other"
		p, ok = d.pairs[k]
	}
	if !ok {
		p = &Deprecation{Operation: k.op, Reason: k.reason, First: t, Shop: shop}
		d.pairs[k] = p
	}
	p.Calls++
	p.Last = t
	d.mu.Unlock()
	if !ok && d.Logger != nil {
		d.Logger.LogAttrs(ctx, slog.LevelWarn, "shopify flagged a deprecated API use; it keeps working until the API version is retired",
			slog.String("operation", k.op), slog.String("reason", k.reason), slog.String("api_version", APIVersion),
			slog.String("shop", shop))
	}
}

// Snapshot returns the pairs seen so far, by operation then reason.
func (d *Deprecations) Snapshot() []Deprecation {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	out := make([]Deprecation, 0, len(d.pairs))
	for _, p := range d.pairs {
		out = append(out, *p)
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operation != out[j].Operation {
			return out[i].Operation < out[j].Operation
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// cleanReason keeps a header value fit for a log line and a metric label:
// printable characters only, spaces collapsed, at most maxReasonLen bytes
// (cut on a rune boundary).
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxReasonLen {
		cut := maxReasonLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
