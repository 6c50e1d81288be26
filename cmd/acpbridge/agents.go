package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/web"
)

const agentsUsage = "agents: expected one of: key create [--label L] | key revoke ID | keys | signing-secret [--require] | webhook --url URL | stripe --key KEY | method [--set shopify_checkout|delegated_payment] | show"

// runAgents is `acpbridge agents ACTION --shop X`: how an operator (until
// the merchant's settings page does it) lets agents in: API keys, the
// request-signing secret, the order-event webhook, the Stripe key and how
// agent checkouts complete (method).
// Secrets are printed once, here, and stored only sealed or hashed.
func runAgents(ctx context.Context, args []string, cfg config.Config, logger *slog.Logger, stdout, stderr io.Writer) error {
	c, err := parseAgents(args, stderr)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Logger: logger})
	if err != nil {
		return err
	}
	defer svc.Shutdown(context.WithoutCancel(ctx))
	sh, err := svc.Store().ShopByDomain(ctx, c.domain)
	if err != nil {
		return err
	}
	return c.run(ctx, svc.Agents(), sh, cfg, stdout)
}

// agentsCommand is an `acpbridge agents` command line: the action, the
// shop and the action's arguments.
type agentsCommand struct {
	action, domain  string
	label, url, key string
	method          string
	require         bool
	keyID           int64
}

// parseAgents reads the command line, refusing an unknown action or one
// without its value.
func parseAgents(args []string, stderr io.Writer) (agentsCommand, error) {
	if len(args) == 0 {
		return agentsCommand{}, usageError{errors.New(agentsUsage)}
	}
	action, args := args[0], args[1:]
	if action == "key" && len(args) > 0 && (args[0] == "create" || args[0] == "revoke") {
		action, args = "key "+args[0], args[1:]
	}
	var c agentsCommand
	if action == "key revoke" {
		if len(args) == 0 {
			return agentsCommand{}, usageError{errors.New("agents key revoke: expected the key's id (see `acpbridge agents keys`)")}
		}
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return agentsCommand{}, usageError{fmt.Errorf("agents key revoke: %q is not a key id", args[0])}
		}
		c.keyID, args = id, args[1:]
	}
	domain, err := shopFlags("agents "+action, args, stderr, func(fs *flag.FlagSet) {
		switch action {
		case "key create":
			fs.StringVar(&c.label, "label", "", "a name for the key, e.g. the agent it is for")
		case "signing-secret":
			fs.BoolVar(&c.require, "require", false, "refuse requests without a valid Signature")
		case "webhook":
			fs.StringVar(&c.url, "url", "", "the agent's https URL for order events")
		case "stripe":
			fs.StringVar(&c.key, "key", "", "the merchant's Stripe secret (sk_) or restricted (rk_) key")
		case "method":
			fs.StringVar(&c.method, "set", "", "switch how agent checkouts complete: shopify_checkout or delegated_payment (custom distribution only)")
		}
	})
	if err != nil {
		return agentsCommand{}, usageError{err}
	}
	c.action, c.domain = action, domain
	switch action {
	case "key create", "key revoke", "keys", "signing-secret", "webhook", "stripe", "method", "show":
	default:
		return agentsCommand{}, usageError{errors.New(agentsUsage)}
	}
	if action == "webhook" && c.url == "" || action == "stripe" && c.key == "" {
		return agentsCommand{}, usageError{fmt.Errorf("agents %s: a value is required (--url or --key)", action)}
	}
	return c, nil
}

// run carries out the command for the shop sh.
func (c agentsCommand) run(ctx context.Context, ag *agents.Access, sh *app.Shop, cfg config.Config, stdout io.Writer) error {
	domain := c.domain
	switch c.action {
	case "key create":
		plain, k, err := ag.CreateAPIKey(ctx, sh.ID, c.label)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %d (%s) for %s — shown once, store it now:\n%s\n", k.ID, k.Fingerprint, domain, plain)
	case "key revoke":
		if err := ag.RevokeAPIKey(ctx, sh.ID, c.keyID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked API key %d of %s\n", c.keyID, domain)
	case "keys":
		keys, err := ag.APIKeys(ctx, sh.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "live"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.Format("2006-01-02")
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\tcreated %s\t%s\n", k.ID, k.Fingerprint, state, k.CreatedAt.Format("2006-01-02"), k.Label)
		}
	case "signing-secret":
		plain, err := ag.RotateSigningSecret(ctx, sh.ID, c.require)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signing secret for %s (signatures %s) — shown once:\n%s\n", domain, map[bool]string{true: "required", false: "optional"}[c.require], plain)
	case "webhook":
		plain, err := ag.RotateWebhookSecret(ctx, sh.ID, c.url)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "order events for %s go to %s, signed with — shown once:\n%s\n", domain, c.url, plain)
	case "stripe":
		account, err := ag.ConnectPayment(ctx, sh.ID, payment.ProviderName, c.key)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Stripe account %s connected to %s\n", account, domain)
	case "method":
		cm, err := ag.CompletionMethod(ctx, sh.ID)
		if c.method != "" {
			cm, err = ag.SetCompletionMethod(ctx, sh.ID, app.CompletionMethod(c.method))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "agent checkouts of %s complete with: %s\n", domain, describeMethod(cm))
	case "show":
		set, err := ag.Settings(ctx, sh.ID)
		if err != nil {
			return err
		}
		cm, err := ag.CompletionMethod(ctx, sh.ID)
		if err != nil {
			return err
		}
		base := "<APP_URL>/acp/" + domain
		if cfg.AppURL != nil {
			base = web.ACPBaseURL(cfg.AppURL.String(), domain)
		}
		fmt.Fprintf(stdout, "base URL:        %s\ndiscovery:       %s/.well-known/acp.json\nsigning secret:  %s\nwebhook URL:     %s\nStripe account:  %s\ncompletion:      %s\n",
			base, base, map[bool]string{true: "set", false: "none"}[set.SigningSecretSealed != ""]+map[bool]string{true: " (required)", false: ""}[set.RequireSignature],
			orNone(set.WebhookURL), orNone(stripeAccount(set)), describeMethod(cm))
	}
	return nil
}

// describeMethod is a shop's completion method for the operator: the
// method in use and, when the distribution fixes it, why.
func describeMethod(cm agents.CompletionChoice) string {
	s := string(cm.Method)
	if !cm.Switchable {
		s += " (fixed: " + cm.Reason + ")"
	}
	return s
}

// stripeAccount is the shop's Stripe account id, "" when its payment
// account is not a Stripe one.
func stripeAccount(set *app.ACPSettings) string {
	if set.Payment == nil || set.Payment.Provider != payment.ProviderName {
		return ""
	}
	return set.Payment.AccountID
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
