package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/delivery/deliverytest"
)

// TestFeedDelivery publishes a build and checks both targets received it:
// the SFTP file byte for byte, the ACP Feed API every eligible product.
func TestFeedDelivery(t *testing.T) {
	t.Parallel()
	e, sh, _ := syncedEnv(t, app.DatabaseSQLite)
	ctx := context.Background()

	sftpSrv := deliverytest.StartSFTP(t, deliverytest.SFTPConfig{Password: "sftp-pass-123"})
	sftpTarget := sftpSrv.Target("/")
	if _, err := e.svc.Deliveries().SaveSFTPTarget(ctx, sh.ID, 0, app.SFTPTargetConfig{
		Addr: sftpTarget.Addr, User: sftpTarget.User, HostKey: sftpSrv.HostKey(), Dir: "/",
	}, sftpTarget.Password, "", true); err != nil {
		t.Fatalf("save SFTP target: %v", err)
	}
	api := deliverytest.StartFeedAPI(t, deliverytest.FeedAPIConfig{Token: "feed-api-token"})
	acpTarget, err := e.svc.Deliveries().SaveACPTarget(ctx, sh.ID, 0, app.ACPTargetConfig{BaseURL: api.URL(), TargetCountry: "US"}, "feed-api-token", true)
	if err != nil {
		t.Fatalf("save ACP target: %v", err)
	}
	// A target whose host key is not the server's is refused, not trusted.
	if _, err := e.svc.Deliveries().SaveSFTPTarget(ctx, sh.ID, 0, app.SFTPTargetConfig{Addr: sftpTarget.Addr, User: "u", HostKey: "not a key", Dir: "/"}, "p", "", true); app.ErrorCode(err) != app.CodeInvalid {
		t.Fatalf("bad host key accepted: %v", err)
	}

	b := rebuild(t, e, sh)
	var want bytes.Buffer
	if _, err := e.svc.Store().CopyFeedFile(ctx, b.ID, "jsonl.gz", &want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sftpSrv.Root(), "products.jsonl.gz")
	waitFor(t, "SFTP upload", func() bool {
		got, err := os.ReadFile(path)
		return err == nil && bytes.Equal(got, want.Bytes())
	})
	waitFor(t, "ACP feed push", func() bool {
		feeds := api.Feeds()
		return len(feeds) == 1 && len(api.Products(feeds[0])) > 0
	})
	products := e.emu.Products(testShop)
	eligible := 0
	for _, p := range products {
		if p.Status == "ACTIVE" && p.Published {
			eligible++
		}
	}
	if got := len(api.Products(api.Feeds()[0])); got != eligible {
		t.Fatalf("ACP feed holds %d products, want the %d eligible ones", got, eligible)
	}
	waitFor(t, "delivery results recorded", func() bool {
		ts, _ := e.svc.Store().FeedTargets(ctx, sh.ID)
		for _, tg := range ts {
			if tg.LastStatus != "succeeded" || tg.LastBuildID != b.ID {
				return false
			}
		}
		return len(ts) == 2
	})
	// The ACP target keeps the feed it created, so the next push updates it.
	got, err := e.svc.Store().FeedTarget(ctx, acpTarget.ID)
	if err != nil || !bytes.Contains(got.Config, []byte(api.Feeds()[0])) {
		t.Fatalf("ACP target config %s does not keep feed id %s (%v)", got.Config, api.Feeds()[0], err)
	}
	// Credentials are sealed at rest.
	for _, tg := range []string{"sftp-pass-123", "feed-api-token"} {
		var n int
		if err := e.db.QueryRow("SELECT count(*) FROM feed_targets WHERE secret_sealed LIKE '%' || ? || '%' OR config LIKE '%' || ? || '%'", tg, tg).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("credential %q stored in plaintext", tg)
		}
	}
}
