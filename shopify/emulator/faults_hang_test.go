package emulator_test

import (
	"net/http"
	"testing"
	"time"
)

// TestFaultHang: with SetFaultHang, a random timeout answers 504 once the
// hang ends, so a client that waits longer sees the fault as an answer
// instead of giving up itself.
func TestFaultHang(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.client.Timeout = 5 * time.Second // far longer than the hang
	tok := b.emu.StaffToken(testShop)
	headers := map[string]string{"X-Shopify-Access-Token": tok}
	b.emu.SetFaultHang(30 * time.Millisecond)
	b.emu.SetFailureRate(1, 5)
	timeouts := 0
	for i := range 24 {
		status, body, err := b.tryPostJSON(b.emu.GraphQLURL(testShop), headers, map[string]any{"query": "{ shop { name } }"})
		switch {
		case err != nil:
			t.Errorf("call %d: %v, want an answer (the hang is shorter than the client's timeout)", i, err)
		case status == http.StatusGatewayTimeout:
			timeouts++
		case status >= 500, status == http.StatusOK && errorCode(body) == "THROTTLED":
		default:
			t.Errorf("call %d: status=%d body=%v, want a fault", i, status, body)
		}
	}
	if timeouts == 0 {
		t.Error("no timeout answered 504")
	}
	if got := b.emu.FaultsInjected(); got != 24 {
		t.Errorf("FaultsInjected=%d, want 24", got)
	}
}
