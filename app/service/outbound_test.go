package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"golang.org/x/crypto/ssh"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// metadataBody is what a cloud metadata service answers: credentials that
// must never reach the merchant.
const metadataBody = `{"AccessKeyId":"ASIAOUTBOUNDTEST","SecretAccessKey":"wJalrXUtnFEMIK7MDENG","Token":"IQoJb3JpZ2luX2VjE"}`

// internalServer stands in for an internal service (the metadata
// endpoint) and counts what reaches it.
func internalServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, metadataBody)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// redirector is an allowed ("public") host that answers every request
// with a 307 to to.
func redirector(t *testing.T, to string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestOutboundPolicy runs the SSRF attacks of issue 13 against a server
// configured as production is (OUTBOUND_ALLOW_LOOPBACK unset), on both
// databases: refused addresses are refused when saved (400 naming the
// field, nothing saved) and when dialled; a redirect to an internal
// address is not followed, by feed pushes or by the webhook test event;
// what the merchant sees carries neither the internal answer nor the
// internal address.
func TestOutboundPolicy(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := newSecApp(t, kind, func(cfg *config.Config) { cfg.OutboundAllowLoopback = false })
			s := e.installShop(t, secShopA)
			ctx := context.Background()
			token := func() string { return e.emu.IDToken(secShopA, "1") }

			t.Run("refused when saved", func(t *testing.T) {
				for _, u := range []string{"https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://[::ffff:10.0.0.1]/",
					"https://[::1]/", "https://2130706433/", "https://0177.0.0.1/", "http://127.0.0.1:9/hook"} {
					status, out := e.adminAPI(t, "POST", "/api/agents/webhook", token(), `{"url":"`+u+`"}`)
					if status != http.StatusBadRequest || out["param"] != "webhook_url" {
						t.Errorf("webhook %s: %d %v, want 400 naming webhook_url", u, status, out)
					}
					status, out = e.adminAPI(t, "POST", "/api/feed/targets", token(),
						`{"kind":"acp","base_url":"`+u+`","target_country":"US","token":"feed-token-0123456789","enabled":true}`)
					if status != http.StatusBadRequest || out["param"] != "base_url" {
						t.Errorf("ACP target %s: %d %v, want 400 naming base_url", u, status, out)
					}
				}
				sftpHostKey := wellFormedHostKey(t)
				for _, addr := range []string{"127.0.0.1:22", "10.0.0.1:22", "[fe80::1]:22", "169.254.169.254:22"} {
					status, out := e.adminAPI(t, "POST", "/api/feed/targets", token(),
						`{"kind":"sftp","addr":"`+addr+`","user":"u","password":"p","host_key":"`+sftpHostKey+`"}`)
					if status != http.StatusBadRequest || out["param"] != "addr" {
						t.Errorf("SFTP target %s: %d %v, want 400 naming addr", addr, status, out)
					}
				}
				set, err := e.svc.Agents().Settings(ctx, s.sh.ID)
				if err != nil || set.WebhookURL != "" {
					t.Errorf("webhook URL saved: %q (%v)", set.WebhookURL, err)
				}
				if ts, err := e.svc.Store().FeedTargets(ctx, s.sh.ID); err != nil || len(ts) != 0 {
					t.Errorf("%d targets saved (%v)", len(ts), err)
				}
			})

			t.Run("feed push redirected to an internal address", func(t *testing.T) {
				internal, internalHits := internalServer(t)
				target, targetHits := redirector(t, internal.URL+"/latest/meta-data/iam/security-credentials/role")
				// The target passes as a public host: its exact address is
				// allowed, nothing else on loopback is.
				asPublic := &netguard.Policy{Allow: []netip.AddrPort{netip.MustParseAddrPort(target.Listener.Addr().String())}}
				d := *e.svc.Deliveries()
				d.Outbound, d.HTTP = asPublic, asPublic.Client(time.Minute, nil)
				tg, err := d.SaveACPTarget(ctx, s.sh.ID, 0, app.ACPTargetConfig{BaseURL: target.URL, TargetCountry: "US"}, "feed-token-0123456789", false)
				if err != nil {
					t.Fatal(err)
				}
				b, err := e.svc.Store().LatestBuild(ctx, s.sh.ID, app.BuildPublished)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Push(ctx, tg.ID, b.ID); err == nil {
					t.Fatal("the push through a redirect succeeded")
				}
				if targetHits.Load() == 0 || internalHits.Load() != 0 {
					t.Fatalf("target hits %d, internal hits %d: want the target asked and the internal server never", targetHits.Load(), internalHits.Load())
				}
				assertShownClean(t, e, tg.ID, internal.URL, internal.URL, "HTTP 307")

				// The same target pushed by the app's own wiring (strict:
				// loopback is not allowed): refused at dial time, before any
				// connection, as a name rebound to an internal address is.
				before := targetHits.Load()
				if err := e.svc.Deliveries().Push(ctx, tg.ID, b.ID); err == nil {
					t.Fatal("the app's own push reached a loopback target")
				}
				if targetHits.Load() != before || internalHits.Load() != 0 {
					t.Fatal("the app's own push connected to a refused address")
				}
				assertShownClean(t, e, tg.ID, internal.URL, target.URL, "address not allowed")
			})

			t.Run("webhook test event redirected elsewhere", func(t *testing.T) {
				other, otherHits := internalServer(t)
				hook, hookHits := redirector(t, other.URL+"/steal")
				asPublic := &netguard.Policy{Allow: []netip.AddrPort{netip.MustParseAddrPort(hook.Listener.Addr().String())}}
				ag := *e.svc.Agents()
				ag.Outbound = asPublic
				if _, err := ag.RotateWebhookSecret(ctx, s.sh.ID, hook.URL+"/events"); err != nil {
					t.Fatal(err)
				}
				set, err := e.svc.Agents().Settings(ctx, s.sh.ID)
				if err != nil {
					t.Fatal(err)
				}
				// The events client as the service builds it, with the
				// hook passing as public.
				ev := *e.svc.OrderEvents()
				ev.HTTP = asPublic.Client(30*time.Second, nil)
				status, err := ev.SendTest(ctx, set)
				if status != http.StatusTemporaryRedirect || err == nil || !strings.Contains(err.Error(), "307") {
					t.Fatalf("SendTest = %d, %v; want the 307 reported", status, err)
				}
				if hookHits.Load() != 1 || otherHits.Load() != 0 {
					t.Fatalf("hook hits %d, other host hits %d: the signed event was re-posted", hookHits.Load(), otherHits.Load())
				}
				// The app's own test event (strict policy): refused before
				// connecting, and the answer names no address.
				code, out := e.adminAPI(t, "POST", "/api/agents/webhook/test", token(), "{}")
				msg, _ := out["message"].(string)
				if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "address not allowed") || strings.Contains(msg, hook.Listener.Addr().String()) {
					t.Errorf("test event to a loopback hook: %d %q", code, msg)
				}
				if hookHits.Load() != 1 || otherHits.Load() != 0 {
					t.Fatal("the app's own test event connected to a refused address")
				}
			})
		})
	}
}

// assertShownClean checks what the merchant sees of a target's last push
// (the stored result and the feed page): it says want, and carries
// neither the internal answer nor the internal address; the stored
// result does not name dialled's address either (the feed page shows the
// target's URL as the merchant set it).
func assertShownClean(t *testing.T, e *secEnv, targetID int64, internalURL, dialled, want string) {
	t.Helper()
	ctx := context.Background()
	u, _ := url.Parse(internalURL)
	d, _ := url.Parse(dialled)
	leaks := []string{"AccessKeyId", "ASIAOUTBOUNDTEST", "wJalrXUtnFEMIK7MDENG", u.Host}
	tg, err := e.svc.Store().FeedTarget(ctx, targetID)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.svc.Store().FeedDeliveries(ctx, targetID, 10)
	if err != nil || len(ds) == 0 {
		t.Fatalf("no delivery recorded (%v)", err)
	}
	shown := []string{tg.LastDetail, ds[0].Detail}
	for _, text := range shown {
		if strings.Contains(text, ":"+u.Port()) || strings.Contains(text, ":"+d.Port()) || strings.Contains(text, "127.0.0.1") {
			t.Errorf("the stored result %q names an address", text)
		}
	}
	if !strings.Contains(tg.LastDetail, want) {
		t.Errorf("stored result %q, want it to say %q", tg.LastDetail, want)
	}
	q := url.Values{"embedded": {"1"}, "shop": {secShopA}, "id_token": {e.emu.IDToken(secShopA, "1")}}
	resp, err := e.client.Get(e.svc.URL() + "/admin/feed?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed page: %d", resp.StatusCode)
	}
	shown = append(shown, string(page))
	for _, text := range shown {
		for _, leak := range leaks {
			if strings.Contains(text, leak) {
				t.Errorf("the merchant sees %q in %q", leak, truncateForLog(text))
			}
		}
	}
}

func truncateForLog(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// wellFormedHostKey is a valid host key line, so that only the address
// decides.
func wellFormedHostKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}
