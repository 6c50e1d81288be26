package stripeemu

import (
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	in := &intent{amount: 2599, currency: "usd", status: "requires_capture", created: time.Unix(1000, 0),
		metadata: map[string]string{"checkout_session_id": "cs_1", "quote": "it's"}}
	tests := []struct {
		query   string
		wantErr bool
		match   bool
	}{
		{query: `metadata['checkout_session_id']:'cs_1'`, match: true},
		{query: `metadata["checkout_session_id"]:"cs_1"`, match: true},
		{query: `metadata['checkout_session_id']:'cs_2'`, match: false},
		{query: `metadata['quote']:'it\'s'`, match: true},
		{query: `metadata['missing']:null`, match: true},
		{query: `-metadata['checkout_session_id']:'cs_1'`, match: false},
		{query: `status:'requires_capture' AND currency:'USD'`, match: true},
		{query: `status:'succeeded' OR amount>=2599`, match: true},
		{query: `status:'succeeded' OR amount>2599`, match: false},
		{query: `amount<3000 AND created:1000`, match: true},
		{query: `amount:2599`, match: true},
		{query: `status:'a' AND status:'b' OR status:'c'`, wantErr: true},
		{query: `status>'a'`, wantErr: true},
		{query: `colour:'red'`, wantErr: true},
		{query: `metadata:'x'`, wantErr: true},
		{query: `metadata['k']:'unterminated`, wantErr: true},
		{query: `status:'a' AND`, wantErr: true},
		{query: `amount:abc`, wantErr: true},
		{query: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			clauses, join, err := parseQuery(tt.query)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err=%v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := join != "OR"
			for _, c := range clauses {
				m := c.match(in)
				if join == "OR" {
					got = got || m
				} else {
					got = got && m
				}
			}
			if got != tt.match {
				t.Errorf("match=%v, want %v (clauses %+v)", got, tt.match, clauses)
			}
		})
	}
}

func TestRedactKey(t *testing.T) {
	t.Parallel()
	if got, want := redactKey("sk_test_abcdefghijklmnop1234"), "sk_test_****************1234"; got != want {
		t.Errorf("redactKey=%q, want %q", got, want)
	}
}
