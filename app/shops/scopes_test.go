package shops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// scopesFake is uninstallFake recording the scopes stored.
type scopesFake struct {
	*uninstallFake
	stored []string
}

func (f *scopesFake) UpdateShopScopes(_ context.Context, _ int64, scopes string) error {
	f.stored = append(f.stored, scopes)
	return nil
}

// scopesAdmin answers currentAppInstallation with handles, or fails.
type scopesAdmin struct {
	handles []string
	err     error
}

func (a *scopesAdmin) Query(_ context.Context, _, _, _ string, _ map[string]any, out any) error {
	if a.err != nil {
		return a.err
	}
	list := make([]map[string]string, len(a.handles))
	for i, h := range a.handles {
		list[i] = map[string]string{"handle": h}
	}
	b, _ := json.Marshal(map[string]any{"currentAppInstallation": map[string]any{"accessScopes": list}})
	return json.Unmarshal(b, out)
}

// TestScopesUpdateStoresGrant: app/scopes_update stores what Shopify says
// is granted now (a late or reordered delivery cannot bring back an old
// grant), the payload's current list when Shopify cannot be asked, and
// nothing for a payload without one; the outcome names the features off.
func TestScopesUpdateStoresGrant(t *testing.T) {
	t.Parallel()
	const shop = "a-shop.myshopify.com"
	keys, err := secret.ParseKeyring("t:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal([]byte("shpat_fake"), app.AccessTokenAAD(shop))
	if err != nil {
		t.Fatal(err)
	}
	narrowed := `{"id":1,"previous":["read_products","read_publications","write_customers"],"current":["read_products","read_publications"]}`
	for _, c := range []struct {
		name, payload string
		admin         *scopesAdmin
		stored        string // "" for nothing stored
		outcome       string
	}{
		{"Shopify's grant wins", narrowed, &scopesAdmin{handles: []string{"write_customers", "read_products"}},
			"read_products,write_customers", "scopes from Shopify: read_products,write_customers; features off: channel_check"},
		{"Shopify unavailable: the payload", narrowed, &scopesAdmin{err: &shopify.StatusError{Status: http.StatusServiceUnavailable, Err: shopify.ErrUnavailable}},
			"read_products,read_publications", "scopes from payload: read_products,read_publications; features off: customer_records"},
		{"Shopify answers a bad handle: the payload", narrowed, &scopesAdmin{handles: []string{"Read Products"}},
			"read_products,read_publications", "scopes from payload: read_products,read_publications; features off: customer_records"},
		{"no current list", `{"id":1,"previous":["read_products"]}`, &scopesAdmin{handles: []string{"read_products"}},
			"", "ignored: the payload has no list of current scopes"},
		{"not a scope", `{"current":["read_products","<script>"]}`, &scopesAdmin{handles: []string{"read_products"}},
			"", "ignored: the payload has no list of current scopes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &scopesFake{uninstallFake: &uninstallFake{sealed: sealed, webhookFake: &webhookFake{
				ev:    app.WebhookEvent{Shop: shop, Topic: shops.TopicAppScopesUpdate, WebhookID: "w1", Payload: []byte(c.payload), ReceivedAt: receiveNow},
				known: map[string]app.ShopStatus{shop: app.ShopActive}}}}
			s := &shops.Shopify{Store: fake, Queue: fake, Admin: c.admin, Keys: keys,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receiveNow }}
			if err := s.ProcessWebhook(context.Background(), 7); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(fake.stored); (c.stored == "" && len(fake.stored) != 0) || (c.stored != "" && got != "["+c.stored+"]") {
				t.Errorf("stored %s, want %q", got, c.stored)
			}
			if len(fake.finished) != 1 || fake.finished[0] != c.outcome {
				t.Errorf("outcome %q, want %q", fake.finished, c.outcome)
			}
		})
	}
}
