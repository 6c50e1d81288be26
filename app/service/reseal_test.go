package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
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
	old := e.cfg.EncryptionKey
	newKey, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	both, err := secret.ParseKeyring(newKey + "," + old)
	if err != nil {
		t.Fatal(err)
	}
	r := &app.Resealer{Store: e.svc.Store(), Keys: both}
	n, err := r.Reseal(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Reseal = %d, %v; want the access and refresh tokens re-sealed", n, err)
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
}
