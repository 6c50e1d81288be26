package shops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// UninstallConfirmPatience is how long an app/uninstalled delivery waits
// for Shopify to answer whether the app is still installed. Past it, the
// uninstall is done unconfirmed: a real uninstall must not be lost (the
// shop/redact that follows 48 h later deletes only an uninstalled shop),
// and a forger would have to keep us from reaching Shopify for a whole
// day. The webhook job's retries (River's default 25, backing off as
// attempt⁴ seconds) pass a day around the 14th attempt, well before they
// run out.
const UninstallConfirmPatience = 24 * time.Hour

// Outcomes of an app/uninstalled delivery.
const (
	outcomeStillInstalled = "ignored: the app is still installed (Shopify accepted the shop's token)"
	outcomeUninstalled    = "shop deactivated; its tokens and API keys deleted"
)

// confirmInstalledQuery is the cheapest Admin API call there is: it needs
// no access scope, so only a revoked or unknown token fails it.
const confirmInstalledQuery = `query ConfirmInstalled { shop { id } }`

// uninstallCheck is what Shopify said of an app/uninstalled delivery.
type uninstallCheck struct {
	// installed: Shopify accepted the shop's token, so the app is still
	// installed and the delivery is a replay, a forgery or stale.
	installed bool
	// why says on what the uninstall is done (for the outcome).
	why string
	// sealed is the access token held when Shopify was asked: one held
	// later came from a reinstall that Shopify was not asked about.
	sealed string
}

// errTokenChanged: the shop got a new token while Shopify was being asked
// about the old one (a reinstall); the job asks again.
var errTokenChanged = errors.New("the shop's token changed while Shopify was asked; asking again")

// processUninstall acts on app/uninstalled only once Shopify confirms it.
// Shopify's HMAC covers the body alone, so a genuine app/uninstalled body
// captured at an earlier uninstall, sent again with fresh headers after
// the shop reinstalled, would verify and deactivate a live shop, deleting
// its tokens and its agents' API keys. So the shop's offline token is
// tried on the Admin API first, outside any transaction: if Shopify
// accepts it, the app is installed and nothing is done. Shopify revokes
// every app token at uninstall, so a refused token (after the usual
// refresh, which Shopify refuses too) confirms it. When Shopify cannot be
// reached, the job fails and is retried, for UninstallConfirmPatience.
func (s *Shopify) processUninstall(ctx context.Context, ev *app.WebhookEvent) error {
	check, err := s.checkUninstall(ctx, ev.Shop)
	if err != nil {
		if waited := s.Now().Sub(ev.ReceivedAt); waited < UninstallConfirmPatience {
			return fmt.Errorf("process webhook %d (%s): confirming the uninstall with Shopify: %w", ev.ID, ev.Topic, err)
		}
		s.Logger.WarnContext(ctx, "app/uninstalled acted on unconfirmed: Shopify could not be asked for a day",
			"shop", ev.Shop, "webhook_id", ev.WebhookID, "err", err)
		check.why = "unconfirmed: Shopify could not be asked for " + UninstallConfirmPatience.String()
	}
	if check.installed {
		s.Logger.WarnContext(ctx, "app/uninstalled ignored: Shopify accepted the shop's token, the app is still installed (a replayed or stale delivery)",
			"shop", ev.Shop, "webhook_id", ev.WebhookID, "event_id", ev.EventID)
		return s.Store.FinishWebhookEvent(ctx, ev.ID, outcomeStillInstalled)
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		sh, err := s.Store.ShopByDomain(ctx, ev.Shop)
		if err != nil {
			return err
		}
		if sh.Status == app.ShopActive && sh.AccessTokenSealed != "" && sh.AccessTokenSealed != check.sealed {
			return errTokenChanged
		}
		if err := s.Store.UninstallShop(ctx, ev.Shop); err != nil {
			return err
		}
		return s.Store.FinishWebhookEvent(ctx, ev.ID, outcomeUninstalled+" ("+check.why+")")
	})
	if err != nil {
		return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
	}
	s.Logger.InfoContext(ctx, "shop uninstalled", "shop", ev.Shop, "webhook_id", ev.WebhookID, "confirmation", check.why)
	return nil
}

// checkUninstall asks Shopify whether the app is still installed on the
// shop, with the shop's own token through Query: an expiring token is
// refreshed first, and a 401 leads to one refresh and a retry, so a token
// that merely expired is not taken for an uninstall. After an uninstall
// Shopify refuses the refresh too, and Query marks the shop for
// re-authorisation (dropping its tokens) before the uninstall that follows
// replaces that. A shop with no token to ask with (uninstalled already,
// or awaiting re-authorisation) cannot be confirmed and is uninstalled as
// before. The error is for answers that say nothing either way: Shopify
// unreachable, throttled, failing, or 402/403/423.
func (s *Shopify) checkUninstall(ctx context.Context, shop string) (uninstallCheck, error) {
	sh, err := s.Store.ShopByDomain(ctx, shop)
	if err != nil {
		return uninstallCheck{}, err
	}
	check := uninstallCheck{sealed: sh.AccessTokenSealed}
	if sh.Status != app.ShopActive || sh.AccessTokenSealed == "" {
		check.why = "no token held to ask Shopify with"
		return check, nil
	}
	var out struct {
		Shop struct {
			ID string `json:"id"`
		} `json:"shop"`
	}
	err = s.Query(ctx, shop, confirmInstalledQuery, nil, &out)
	switch {
	case err == nil:
		check.installed = true
		return check, nil
	case errors.Is(err, app.ErrReauthRequired), errors.Is(err, shopify.ErrUnauthorized):
		check.why = "Shopify refused the shop's tokens"
		return check, nil
	case errors.Is(err, app.ErrShopInactive):
		check.why = "uninstalled meanwhile"
		return check, nil
	case errors.Is(err, shopify.ErrNotFound):
		check.why = "Shopify no longer knows the shop"
		return check, nil
	}
	return check, err
}
