package agents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// fakeConnector accepts one credential and refuses the rest as a provider
// adapter does.
type fakeConnector struct{ got []string }

func (f *fakeConnector) VerifyCredentials(_ context.Context, c string) (string, error) {
	f.got = append(f.got, c)
	if c != "good" {
		return "", &app.Error{Code: app.CodeInvalid, Field: "fake_key", Message: "refused"}
	}
	return "acct_fake", nil
}

// TestConnectPayment: the provider's adapter checks the credentials
// (trimmed); accepted ones are sealed for the shop and provider and become
// the shop's payment account; refused ones, and unknown providers, change
// nothing.
func TestConnectPayment(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		fc := &fakeConnector{}
		kr := fuzzKeyring(t)
		a := &agents.Access{Store: st, Keys: kr, Now: func() time.Time { return now },
			Payments: map[string]agents.PaymentConnector{"fake": fc}}

		if _, err := a.ConnectPayment(ctx, sh.ID, "nope", "good"); err == nil || app.ErrorCode(err) != "" {
			t.Errorf("unknown provider: %v, want an internal error", err)
		}
		var ae *app.Error
		if _, err := a.ConnectPayment(ctx, sh.ID, "fake", "bad"); !errors.As(err, &ae) || ae.Field != "fake_key" {
			t.Errorf("refused credentials: %v, want the adapter's error", err)
		}
		if set, err := a.Settings(ctx, sh.ID); err != nil || set.Payment != nil {
			t.Fatalf("settings after a refusal = %+v, %v", set, err)
		}

		account, err := a.ConnectPayment(ctx, sh.ID, "fake", "  good\n")
		if err != nil || account != "acct_fake" {
			t.Fatalf("ConnectPayment = %q, %v", account, err)
		}
		if fc.got[len(fc.got)-1] != "good" {
			t.Errorf("the adapter saw %q, want the trimmed credentials", fc.got[len(fc.got)-1])
		}
		set, err := a.Settings(ctx, sh.ID)
		if err != nil || set.Payment == nil || set.Payment.Provider != "fake" || set.Payment.AccountID != "acct_fake" ||
			set.Payment.VerifiedAt == nil || !set.Payment.VerifiedAt.Equal(now) {
			t.Fatalf("settings after connecting = %+v, %v", set, err)
		}
		c, err := st.PaymentCredentials(ctx, sh.ID, "fake")
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := kr.Open(c.Sealed, app.PaymentCredentialsAAD(sh.ID, "fake")); err != nil || string(plain) != "good" {
			t.Errorf("stored credentials open to %q, %v", plain, err)
		}
	})
}
