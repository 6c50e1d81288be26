package emulator_test

import (
	"net/http"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		token  bool // hit the token endpoint instead of GraphQL
	}{
		{"GraphQL500", http.StatusInternalServerError, false},
		{"GraphQL503", http.StatusServiceUnavailable, false},
		{"GraphQL429", http.StatusTooManyRequests, false},
		{"GraphQL401", http.StatusUnauthorized, false},
		{"Token502", http.StatusBadGateway, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			tok := b.install(t, testShop, true)
			call := func() int {
				if tt.token {
					s, _ := b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
					return s
				}
				s, _ := b.gql(t, testShop, tok["access_token"].(string), `{ shop { name } }`, nil)
				return s
			}
			b.emu.FailNext(2, tt.status)
			for i := range 2 {
				if got := call(); got != tt.status {
					t.Errorf("call %d: status=%d, want %d", i, got, tt.status)
				}
			}
			if got := call(); got != http.StatusOK {
				t.Errorf("after the faults: status=%d, want 200", got)
			}
		})
	}
}

func TestFailureRate(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.client.Timeout = 300 * time.Millisecond // a simulated timeout hangs until the client gives up
	tok := b.emu.StaffToken(testShop)
	headers := map[string]string{"X-Shopify-Access-Token": tok}
	b.emu.SetFailureRate(1, 3)
	kinds := map[string]int{}
	for i := range 12 {
		status, body, err := b.tryPostJSON(b.emu.GraphQLURL(testShop), headers, map[string]any{"query": "{ shop { name } }"})
		switch {
		case err != nil:
			kinds["timeout"]++
		case status >= 500:
			kinds["5xx"]++
		case status == http.StatusOK && errorCode(body) == "THROTTLED":
			kinds["throttled"]++
		default:
			t.Errorf("call %d: status=%d body=%v, want a fault", i, status, body)
		}
	}
	if len(kinds) < 2 {
		t.Errorf("fault kinds=%v, want a mix", kinds)
	}
	b.emu.SetFailureRate(0, 0)
	b.client.Timeout = 10 * time.Second
	b.mustData(t, testShop, tok, `{ shop { name } }`, nil)
}

func TestLatency(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.emu.SetLatency(80 * time.Millisecond)
	start := time.Now()
	b.mustData(t, testShop, b.emu.StaffToken(testShop), `{ shop { name } }`, nil)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("call took %v, want at least 80ms", d)
	}
}
