package emulator

import "testing"

// TestWebhookFilter: the part of Shopify's search syntax the emulator reads
// for subscription filters, against payloads; and what it refuses.
func TestWebhookFilter(t *testing.T) {
	handoff := `{"id":1,"note_attributes":[{"name":"gift","value":"yes"},{"name":"acpbridge_session","value":"cs_1"}],
		"source_name":"shopify_draft_order","total_price":"12.50","test":false,"customer":{"tags":"vip"}}`
	own := `{"id":2,"note_attributes":[],"source_name":"acpbridge","total_price":"9","test":true,"customer":null}`
	for _, tc := range []struct {
		filter        string
		handoff, owns bool
	}{
		{"note_attributes.name:acpbridge_session", true, false},
		{"note_attributes.name:ACPBRIDGE_SESSION", true, false}, // case does not matter
		{"note_attributes.name:acpbridge", false, false},        // whole values only
		{"note_attributes.value:cs_1", true, false},
		{"source_name:acpbridge", false, true},
		{"NOT source_name:acpbridge", true, false},
		{"-source_name:acpbridge", true, false},
		{"total_price:12.50", true, false},
		{"test:true", false, true},
		{"customer.tags:vip", true, false},
		{"customer:*", true, false}, // null is not there
		{"id:*", true, true},
		{"missing.field:x", false, false},
		{"source_name:acpbridge OR note_attributes.name:gift", true, true},
		{"id:* AND test:false", true, false},
		{"test:true OR id:1 AND source_name:nope", false, true}, // AND binds tighter
		{"NOT id:* OR test:true", false, true},
	} {
		f, err := parseWebhookFilter(tc.filter)
		if err != nil {
			t.Errorf("%q: %v", tc.filter, err)
			continue
		}
		if got := f.matches([]byte(handoff)); got != tc.handoff {
			t.Errorf("%q on the handoff's order: %v, want %v", tc.filter, got, tc.handoff)
		}
		if got := f.matches([]byte(own)); got != tc.owns {
			t.Errorf("%q on the app's own order: %v, want %v", tc.filter, got, tc.owns)
		}
	}
	f, _ := parseWebhookFilter("id:*")
	if f.matches([]byte("not json")) {
		t.Error("a payload that is not JSON passed")
	}
	for _, bad := range []string{"", "id", ":x", "id:", "a..b:x", `title:"two words"`, "(a:b)", "price:>=10", "AND a:b",
		"a:b AND", "a:b c:d", "NOT NOT a:b", "a:b NOT", "a:b OR OR c:d"} {
		if _, err := parseWebhookFilter(bad); err == nil {
			t.Errorf("%q parsed, want refused", bad)
		}
	}
}
