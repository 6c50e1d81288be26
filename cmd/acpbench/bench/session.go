package bench

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Reading the sessions the app answers.

// recoverable reports whether every error message of the session is
// recoverable (retrying may work).
func recoverable(s map[string]any) bool {
	msgs, _ := s["messages"].([]any)
	found := false
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		if mm["type"] != "error" {
			continue
		}
		if mm["resolution"] != "recoverable" {
			return false
		}
		found = true
	}
	return found
}

// messageCodes lists a session's message codes.
func messageCodes(s map[string]any) string {
	var codes []string
	msgs, _ := s["messages"].([]any)
	for _, m := range msgs {
		if mm, ok := m.(map[string]any); ok {
			c, _ := mm["code"].(string)
			codes = append(codes, c)
		}
	}
	return strings.Join(codes, ",")
}

// unexpected records a 2xx answer that is not what the conversation needs.
func (d *driver) unexpected(tr, endpoint, what string, s map[string]any) error {
	b, _ := json.Marshal(s)
	st, _ := s["status"].(string)
	d.rec.errorAnswer(tr, endpoint, 200, "unexpected: "+what+" (status "+st+", messages "+messageCodes(s)+")", b)
	return fmt.Errorf("%s: %s: %s", endpoint, what, sample(b))
}

// lastOption is the id of the session's last fulfillment option.
func lastOption(s map[string]any) string {
	opts, _ := s["fulfillment_options"].([]any)
	if len(opts) == 0 {
		return ""
	}
	o, _ := opts[len(opts)-1].(map[string]any)
	id, _ := o["id"].(string)
	return id
}

// lineItemIDs are the ids of the session's line items.
func lineItemIDs(s map[string]any) []string {
	ids := []string{}
	items, _ := s["line_items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// total is the session's total in minor units, or -1.
func total(s map[string]any) int64 {
	ts, _ := s["totals"].([]any)
	for _, x := range ts {
		if m, ok := x.(map[string]any); ok && m["type"] == "total" {
			if f, ok := m["amount"].(float64); ok {
				return int64(f)
			}
		}
	}
	return -1
}
