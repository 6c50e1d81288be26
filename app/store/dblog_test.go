package store_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// TestFailedSQLIsLoggedWithoutValues: a statement that fails is logged
// (with its SQL, so the operator can see what failed) but never with its
// bound values, which may be sealed secrets or buyers' emails.
func TestFailedSQLIsLoggedWithoutValues(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			var logs testkit.LogBuffer
			st, err := store.Open(context.Background(), storetest.Config(t, kind, true), slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			const value = "zz-bound-value-that-must-not-be-logged"
			// No shop 424242: the foreign key refuses the row.
			if _, err := st.CreateAPIKey(context.Background(), app.APIKey{ShopID: 424242, Hash: value, Fingerprint: value}); err == nil {
				t.Fatal("an API key of a shop that does not exist was stored")
			}
			out := logs.String()
			if !strings.Contains(out, "api_keys") {
				t.Fatalf("the failed statement was not logged:\n%s", out)
			}
			if strings.Contains(out, value) {
				t.Errorf("the log shows a bound value:\n%s", out)
			}
		})
	}
}
