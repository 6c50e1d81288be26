package shops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

func (s *Shopify) seal(shop string, tok *shopify.Token) (app.SealedTokens, error) {
	access, err := s.Keys.Seal([]byte(tok.AccessToken), app.AccessTokenAAD(shop))
	if err != nil {
		return app.SealedTokens{}, fmt.Errorf("seal access token: %w", err)
	}
	out := app.SealedTokens{Access: access, AccessExpiresAt: tok.ExpiresAt, RefreshExpiresAt: tok.RefreshExpiresAt}
	if tok.RefreshToken != "" {
		if out.Refresh, err = s.Keys.Seal([]byte(tok.RefreshToken), app.RefreshTokenAAD(shop)); err != nil {
			return app.SealedTokens{}, fmt.Errorf("seal refresh token: %w", err)
		}
	}
	return out, nil
}

// tokenError turns a token endpoint failure into what the caller should see.
func (s *Shopify) tokenError(op string, err error) error {
	switch {
	case errors.Is(err, shopify.ErrInvalidGrant):
		return &app.Error{Code: app.CodeUnauthorized, Message: "Shopify refused the grant (" + op + "); start again from the Shopify admin"}
	case errors.Is(err, shopify.ErrInvalidClient):
		// Our client id or secret is wrong: an operator problem, not the merchant's.
		return fmt.Errorf("%s: Shopify rejected the app's client credentials: %w", op, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// exchangeError turns a failed token exchange into a 401 (App Bridge
// then fetches a fresh ID token and retries) or, when Shopify did not
// answer, a 503: never a 500. Shopify refuses an exchange for a shop it
// does not know (404), a token it does not accept (400) or our client
// credentials (401); the caller can do nothing about the last, so it is
// logged as an error for the operator.
func (s *Shopify) exchangeError(ctx context.Context, shop string, err error) error {
	switch {
	case errors.Is(err, shopify.ErrUnavailable):
		s.Logger.WarnContext(ctx, "token exchange: Shopify unavailable", "shop", shop, "err", err)
		return &app.Error{Code: app.CodeUnavailable, RetryAfter: time.Second, Message: "Shopify did not answer the token exchange; retry"}
	case errors.Is(err, shopify.ErrInvalidClient):
		s.Logger.ErrorContext(ctx, "token exchange: Shopify refused the app's client credentials (check SHOPIFY_API_KEY and SHOPIFY_API_SECRET)", "shop", shop, "err", err)
	default:
		s.Logger.WarnContext(ctx, "token exchange refused", "shop", shop, "err", err)
	}
	return &app.Error{Code: app.CodeUnauthorized, Message: "Shopify refused the token exchange; open the app from the Shopify admin again"}
}

// expiring reports whether a token expiring at t is within window of it.
func (s *Shopify) expiring(t *time.Time, window time.Duration) bool {
	return t != nil && !s.Now().Add(window).Before(*t)
}

// AccessToken returns a usable access token for the shop, refreshing it
// first when it is within RefreshWindow of expiry.
func (s *Shopify) AccessToken(ctx context.Context, shop string) (string, error) {
	token, _, err := s.accessToken(ctx, shop)
	return token, err
}

// accessToken is AccessToken that also returns the sealed form of the token
// it returns, so a caller whose token Shopify then refuses can say exactly
// which one was refused.
func (s *Shopify) accessToken(ctx context.Context, shop string) (token, sealed string, err error) {
	sh := app.ShopFromContext(ctx, shop)
	if sh == nil {
		// A row up to a few seconds old: a token it holds that Shopify
		// no longer accepts makes Query read the row again.
		if sh, err = s.Store.CachedShopByDomain(ctx, shop); err != nil {
			return "", "", err
		}
	}
	if sh.Status != app.ShopActive {
		if sh.Status == app.ShopReauthRequired {
			return "", "", app.ErrReauthRequired
		}
		return "", "", app.ErrShopInactive
	}
	if s.expiring(sh.AccessTokenExpiresAt, RefreshWindow) {
		if sh, err = s.refresh(ctx, sh, ""); err != nil {
			return "", "", err
		}
	}
	token, err = s.openAccess(sh)
	return token, sh.AccessTokenSealed, err
}

func (s *Shopify) openAccess(sh *app.Shop) (string, error) {
	b, err := s.Keys.Open(sh.AccessTokenSealed, app.AccessTokenAAD(sh.Domain))
	if err != nil {
		return "", fmt.Errorf("open access token of %s: %w", sh.Domain, err)
	}
	return string(b), nil
}

// refresh refreshes the shop's token pair under the shop lock, which every
// replica respects: a refresh token is single-use, so two workers must
// never both spend it. Under the lock it re-reads the shop: when another
// worker refreshed meanwhile (the token is no longer expiring, or differs
// from rejectedSealed, the one Shopify just refused), it uses that result.
func (s *Shopify) refresh(ctx context.Context, sh *app.Shop, rejectedSealed string) (*app.Shop, error) {
	var out *app.Shop
	var result error
	err := s.Store.WithShopLock(ctx, sh.ID, func(ctx context.Context) error {
		cur, err := s.Store.ShopByDomain(ctx, sh.Domain)
		if err != nil {
			return err
		}
		if cur.Status != app.ShopActive {
			result = app.ErrShopInactive
			if cur.Status == app.ShopReauthRequired {
				result = app.ErrReauthRequired
			}
			return nil
		}
		forced := rejectedSealed != ""
		if (forced && cur.AccessTokenSealed != rejectedSealed) || (!forced && !s.expiring(cur.AccessTokenExpiresAt, RefreshWindow)) {
			out = cur // refreshed by someone else while we waited
			return nil
		}
		if cur.RefreshTokenSealed == "" || s.expiring(cur.RefreshTokenExpiresAt, 0) {
			result = s.markReauth(ctx, cur, "no usable refresh token")
			return nil
		}
		rt, err := s.Keys.Open(cur.RefreshTokenSealed, app.RefreshTokenAAD(cur.Domain))
		if err != nil {
			return fmt.Errorf("open refresh token of %s: %w", cur.Domain, err)
		}
		tok, err := s.OAuth.Refresh(ctx, cur.Domain, string(rt))
		if errors.Is(err, shopify.ErrInvalidGrant) {
			result = s.markReauth(ctx, cur, "Shopify refused the refresh token")
			return nil
		}
		if err != nil {
			return fmt.Errorf("refresh token: %w", err)
		}
		sealed, err := s.seal(cur.Domain, tok)
		if err != nil {
			return err
		}
		if err := s.Store.UpdateShopTokens(ctx, cur.ID, sealed); err != nil {
			return err
		}
		cur.AccessTokenSealed, cur.AccessTokenExpiresAt = sealed.Access, sealed.AccessExpiresAt
		cur.RefreshTokenSealed, cur.RefreshTokenExpiresAt = sealed.Refresh, sealed.RefreshExpiresAt
		out = cur
		s.Logger.InfoContext(ctx, "shop token refreshed", "shop", cur.Domain)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refresh %s: %w", sh.Domain, err)
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

func (s *Shopify) markReauth(ctx context.Context, sh *app.Shop, reason string) error {
	if err := s.Store.MarkShopReauth(ctx, sh.ID, reason); err != nil {
		return err
	}
	s.Logger.WarnContext(ctx, "shop needs re-authorisation", "shop", sh.Domain, "reason", reason)
	return app.ErrReauthRequired
}
