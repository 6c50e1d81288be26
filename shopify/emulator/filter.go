package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Webhook delivery filters: a subscription in shopify.app.toml may carry a
// `filter`, in Shopify's search syntax, which Shopify evaluates against the
// payload it is about to deliver, dropping the delivery when it is false
// (shopify.dev/docs/apps/build/webhooks/customize/filters). The emulator
// reads the part of that syntax a filter on payload fields needs:
//
//   - terms path:value, path a dotted field path into the JSON payload that
//     fans out through arrays (note_attributes.name holds when any note
//     attribute has that name), value compared without regard to case, or
//     * for "the field is there";
//   - NOT (or a leading -) before a term;
//   - AND and OR between terms, AND binding tighter, no parentheses.
//
// Anything else (quotes, parentheses, ranges, comparisons) is refused when
// the filter is set, so that a filter the emulator would misread fails
// loudly instead of delivering what Shopify would not.

// webhookFilter is a parsed filter: it holds when any of its AND groups
// holds.
type webhookFilter struct {
	any [][]filterTerm
}

type filterTerm struct {
	path  []string
	value string
	not   bool
}

// parseWebhookFilter parses src, or says what the emulator cannot read.
func parseWebhookFilter(src string) (*webhookFilter, error) {
	if strings.ContainsAny(src, `"'()<>=[]{}\`) {
		return nil, fmt.Errorf("emulator: webhook filter %q: only path:value terms with AND, OR and NOT are understood", src)
	}
	f := &webhookFilter{}
	group := []filterTerm{}
	not := false
	expectTerm := true
	for _, tok := range strings.Fields(src) {
		switch {
		case tok == "AND" || tok == "OR":
			if expectTerm {
				return nil, fmt.Errorf("emulator: webhook filter %q: %s without a term before it", src, tok)
			}
			if tok == "OR" {
				f.any = append(f.any, group)
				group = []filterTerm{}
			}
			expectTerm = true
		case tok == "NOT":
			if !expectTerm || not {
				return nil, fmt.Errorf("emulator: webhook filter %q: misplaced NOT", src)
			}
			not = true
		default:
			if !expectTerm {
				// Two terms side by side mean AND in Shopify's syntax; the
				// emulator wants it said.
				return nil, fmt.Errorf("emulator: webhook filter %q: join terms with AND or OR", src)
			}
			t, err := parseFilterTerm(tok)
			if err != nil {
				return nil, fmt.Errorf("emulator: webhook filter %q: %w", src, err)
			}
			t.not = t.not != not
			group = append(group, t)
			not, expectTerm = false, false
		}
	}
	if expectTerm {
		return nil, fmt.Errorf("emulator: webhook filter %q: ends without a term", src)
	}
	f.any = append(f.any, group)
	return f, nil
}

func parseFilterTerm(tok string) (filterTerm, error) {
	var t filterTerm
	if rest, ok := strings.CutPrefix(tok, "-"); ok {
		t.not, tok = true, rest
	}
	path, value, ok := strings.Cut(tok, ":")
	if !ok || path == "" || value == "" {
		return t, fmt.Errorf("term %q is not path:value", tok)
	}
	for p := range strings.SplitSeq(path, ".") {
		if p == "" {
			return t, fmt.Errorf("term %q has an empty path segment", tok)
		}
		t.path = append(t.path, p)
	}
	t.value = value
	return t, nil
}

// matches reports whether the JSON payload passes the filter; a payload
// that is not JSON passes nothing.
func (f *webhookFilter) matches(body []byte) bool {
	var payload any
	if err := json.Unmarshal(body, &payload); err != nil {
		return false
	}
	for _, group := range f.any {
		all := true
		for _, t := range group {
			if t.holds(payload) == t.not {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// holds: some value at the term's path equals its value (or exists, for *).
func (t filterTerm) holds(payload any) bool {
	found := false
	walkPath(payload, t.path, func(v any) {
		if found || v == nil {
			return
		}
		if t.value == "*" {
			found = true
			return
		}
		if s, ok := leafString(v); ok && strings.EqualFold(s, t.value) {
			found = true
		}
	})
	return found
}

// walkPath calls fn with every value at path under v, through arrays.
func walkPath(v any, path []string, fn func(any)) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			walkPath(e, path, fn)
		}
		return
	}
	if len(path) == 0 {
		fn(v)
		return
	}
	if obj, ok := v.(map[string]any); ok {
		if next, ok := obj[path[0]]; ok {
			walkPath(next, path[1:], fn)
		}
	}
}

func leafString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// SetWebhookFilters sets the subscriptions' filters by topic (as
// shopify.app.toml declares them; Config.WebhookFilters), replacing those
// set before; a topic without one is delivered whatever its payload.
func (e *Emulator) SetWebhookFilters(byTopic map[string]string) error {
	parsed, err := parseWebhookFilters(byTopic)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.filters = parsed
	e.mu.Unlock()
	return nil
}

func parseWebhookFilters(byTopic map[string]string) (map[string]*webhookFilter, error) {
	out := make(map[string]*webhookFilter, len(byTopic))
	var errs []error
	for topic, src := range byTopic {
		f, err := parseWebhookFilter(src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[topic] = f
	}
	return out, errors.Join(errs...)
}

// filtered reports whether the topic's filter drops a delivery of body.
func (e *Emulator) filtered(topic string, body []byte) bool {
	e.mu.Lock()
	f := e.filters[topic]
	e.mu.Unlock()
	return f != nil && !f.matches(body)
}
