package maintenance

import (
	"context"
	"errors"
	"fmt"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
)

// ResealStore is what re-sealing after a key rotation needs.
type ResealStore interface {
	ActiveShops(ctx context.Context) ([]*app.Shop, error)
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	WithShopLock(ctx context.Context, shopID int64, fn func(ctx context.Context) error) error
	UpdateShopTokens(ctx context.Context, shopID int64, t app.SealedTokens) error
	FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error)
	SaveFeedTarget(ctx context.Context, t app.FeedTarget) (*app.FeedTarget, error)
	ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
	SaveACPSettings(ctx context.Context, s app.ACPSettings) error
	ShopPaymentCredentials(ctx context.Context, shopID int64) ([]*app.PaymentCredentials, error)
	UpdatePaymentCredentialsSealed(ctx context.Context, shopID int64, provider, sealed string) error
	// ResealPersonalData re-seals, with the keyring the store was opened
	// with, buyers' personal data and data-request exports sealed under a
	// key other than the primary one, and seals what rows from before
	// migration 00022 still hold in plaintext: at most limit rows of each
	// table per call; it returns how many it rewrote.
	ResealPersonalData(ctx context.Context, limit int) (int, error)
}

// Resealer finishes a key rotation: every secret still sealed under a key
// that is no longer primary is opened and sealed again under the primary
// one, so the old key can then be dropped from ENCRYPTION_KEY. It runs with
// the periodic maintenance.
type Resealer struct {
	Store ResealStore
	Keys  *secret.Keyring
}

// NewResealer builds the resealer over the store holding the secrets and
// the keyring whose primary key they are sealed again under.
func NewResealer(store ResealStore, keys *secret.Keyring) *Resealer {
	return &Resealer{Store: store, Keys: keys}
}

// Reseal re-seals what needs it and reports how many secrets it re-sealed.
func (r *Resealer) Reseal(ctx context.Context) (int, error) {
	shops, err := r.Store.ActiveShops(ctx)
	if err != nil {
		return 0, err
	}
	n, err := r.resealPersonalData(ctx)
	if err != nil {
		return n, err
	}
	for _, sh := range shops {
		k, err := r.resealShop(ctx, sh)
		if err != nil {
			return n, fmt.Errorf("reseal %s: %w", sh.Domain, err)
		}
		n += k
		k, err = r.resealAgentSecrets(ctx, sh)
		if err != nil {
			return n, fmt.Errorf("reseal %s: %w", sh.Domain, err)
		}
		n += k
		targets, err := r.Store.FeedTargets(ctx, sh.ID)
		if err != nil {
			return n, err
		}
		for _, t := range targets {
			if !r.stale(t.Secret) {
				continue
			}
			aad := app.FeedTargetAAD(t.ShopID, t.Kind)
			plain, err := r.Keys.Open(t.Secret, aad)
			if err != nil {
				return n, fmt.Errorf("reseal feed target %d: %w", t.ID, err)
			}
			if t.Secret, err = r.Keys.Seal(plain, aad); err != nil {
				return n, err
			}
			if _, err := r.Store.SaveFeedTarget(ctx, *t); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// personalBatch is how many rows of each table one call of
// ResealPersonalData rewrites.
const personalBatch = 500

// resealPersonalData re-seals buyers' personal data (checkout sessions,
// carts, idempotency records' stored answers) and data-request exports
// left under a retired key, batch by batch until none is left.
func (r *Resealer) resealPersonalData(ctx context.Context) (int, error) {
	n := 0
	for {
		k, err := r.Store.ResealPersonalData(ctx, personalBatch)
		n += k
		if err != nil {
			return n, fmt.Errorf("reseal personal data: %w", err)
		}
		if k == 0 {
			return n, nil
		}
	}
}

// stale reports whether a sealed value names a key other than the primary.
func (r *Resealer) stale(sealed string) bool {
	if sealed == "" {
		return false
	}
	id, err := secret.KeyID(sealed)
	return err == nil && id != r.Keys.PrimaryID()
}

// resealShop re-seals the shop's token pair under the shop lock, so it
// cannot interleave with a refresh that replaces the same pair.
func (r *Resealer) resealShop(ctx context.Context, sh *app.Shop) (int, error) {
	if !r.stale(sh.AccessTokenSealed) && !r.stale(sh.RefreshTokenSealed) {
		return 0, nil
	}
	n := 0
	err := r.Store.WithShopLock(ctx, sh.ID, func(ctx context.Context) error {
		cur, err := r.Store.ShopByDomain(ctx, sh.Domain)
		if err != nil || cur.Status != app.ShopActive {
			return err
		}
		t := app.SealedTokens{
			Access: cur.AccessTokenSealed, AccessExpiresAt: cur.AccessTokenExpiresAt,
			Refresh: cur.RefreshTokenSealed, RefreshExpiresAt: cur.RefreshTokenExpiresAt,
		}
		for _, f := range []struct {
			v   *string
			aad []byte
		}{{&t.Access, app.AccessTokenAAD(cur.Domain)}, {&t.Refresh, app.RefreshTokenAAD(cur.Domain)}} {
			if !r.stale(*f.v) {
				continue
			}
			plain, err := r.Keys.Open(*f.v, f.aad)
			if err != nil {
				return err
			}
			if *f.v, err = r.Keys.Seal(plain, f.aad); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return nil
		}
		return r.Store.UpdateShopTokens(ctx, cur.ID, t)
	})
	if errors.Is(err, app.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// resealAgentSecrets re-seals the shop's request-signing and webhook
// secrets and its payment credentials, every provider's.
func (r *Resealer) resealAgentSecrets(ctx context.Context, sh *app.Shop) (int, error) {
	n := 0
	set, err := r.Store.ACPSettings(ctx, sh.ID)
	if err != nil && !errors.Is(err, app.ErrNotFound) {
		return 0, err
	}
	if set == nil {
		return 0, nil
	}
	changed := false
	for _, f := range []struct {
		v   *string
		aad []byte
	}{{&set.SigningSecretSealed, app.SigningSecretAAD(sh.ID)}, {&set.WebhookSecretSealed, app.WebhookSecretAAD(sh.ID)}} {
		if !r.stale(*f.v) {
			continue
		}
		plain, err := r.Keys.Open(*f.v, f.aad)
		if err != nil {
			return n, err
		}
		if *f.v, err = r.Keys.Seal(plain, f.aad); err != nil {
			return n, err
		}
		changed = true
		n++
	}
	if changed {
		if err := r.Store.SaveACPSettings(ctx, *set); err != nil {
			return n, err
		}
	}
	creds, err := r.Store.ShopPaymentCredentials(ctx, sh.ID)
	if err != nil {
		return n, err
	}
	for _, c := range creds {
		if !r.stale(c.Sealed) {
			continue
		}
		aad := app.PaymentCredentialsAAD(sh.ID, c.Provider)
		plain, err := r.Keys.Open(c.Sealed, aad)
		if err != nil {
			return n, err
		}
		sealed, err := r.Keys.Seal(plain, aad)
		if err != nil {
			return n, err
		}
		if err := r.Store.UpdatePaymentCredentialsSealed(ctx, sh.ID, c.Provider, sealed); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
