package service_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/maintenance"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/secret"
)

// TestResealAfterKeyRotation: after a new key becomes primary, maintenance
// re-seals every stored token under it, so the old key can be dropped.
func TestResealAfterKeyRotation(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t, app.DatabaseSQLite)
	e.installByOAuth(t)
	e.quiesce(t)
	ctx := context.Background()
	sh0 := e.shop(t)
	signing, err := e.svc.Agents().RotateSigningSecret(ctx, sh0.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	webhook, err := e.svc.Agents().RotateWebhookSecret(ctx, sh0.ID, "http://127.0.0.1:9/hook")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Agents().ConnectPayment(ctx, sh0.ID, payment.ProviderName, e.stripe.RestrictedKey(testStripeAccount)); err != nil {
		t.Fatal(err)
	}
	old := e.cfg.EncryptionKey
	newKey, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	both, err := secret.ParseKeyring(newKey + "," + old)
	if err != nil {
		t.Fatal(err)
	}
	r := &maintenance.Resealer{Store: e.svc.Store(), Keys: both}
	n, err := r.Reseal(ctx)
	if err != nil || n != 5 {
		t.Fatalf("Reseal = %d, %v; want the access and refresh tokens, the signing and webhook secrets and the Stripe key re-sealed", n, err)
	}
	if n, err := r.Reseal(ctx); err != nil || n != 0 {
		t.Fatalf("second Reseal = %d, %v; want nothing left to do", n, err)
	}
	onlyNew, _ := secret.ParseKeyring(newKey)
	sh := e.shop(t)
	for name, c := range map[string]struct {
		sealed string
		aad    []byte
	}{
		"access":  {sh.AccessTokenSealed, app.AccessTokenAAD(sh.Domain)},
		"refresh": {sh.RefreshTokenSealed, app.RefreshTokenAAD(sh.Domain)},
	} {
		plain, err := onlyNew.Open(c.sealed, c.aad)
		if err != nil || !strings.HasPrefix(string(plain), "shp") {
			t.Fatalf("%s token does not open with the new key alone: %v", name, err)
		}
	}
	// The agent secrets open with the new key alone, to the same values.
	access := &agents.Access{Store: e.svc.Store(), Keys: onlyNew}
	set, err := access.Settings(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(signing), ts, body))
	if err := access.VerifySignature(&app.Agent{Shop: sh, Settings: set}, ts, sig, body); err != nil {
		t.Errorf("the signing secret no longer verifies after the reseal: %v", err)
	}
	if set.WebhookSecretSealed == "" || webhook == "" {
		t.Fatal("no webhook secret")
	}
	if id, _ := secret.KeyID(set.WebhookSecretSealed); id != onlyNew.PrimaryID() {
		t.Errorf("webhook secret still sealed with key %q", id)
	}
	creds, err := e.svc.Store().PaymentCredentials(ctx, sh.ID, payment.ProviderName)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := secret.KeyID(creds.Sealed); id != onlyNew.PrimaryID() {
		t.Errorf("Stripe key still sealed with key %q", id)
	}
}
