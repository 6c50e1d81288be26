package merchant

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
)

// ChecklistStep is one step of onboarding with its live status.
type ChecklistStep struct {
	Key    string
	Title  string
	Done   bool
	Detail string
}

// Overview is the main page: the checklist and what agents see.
type Overview struct {
	Shop         *app.Shop
	Steps        []ChecklistStep
	StepsDone    int
	Settings     *app.FeedSettings
	ACP          *app.ACPSettings
	Completion   agents.CompletionChoice
	Keys         []*app.APIKey
	LiveKeys     int
	Build        *app.FeedBuild
	Targets      []*app.FeedTarget
	ChannelWarns []string
	ChannelError string
	// FeaturesOff are the optional features whose scope the shop has not
	// granted: the page says so and offers the grant (App Bridge).
	FeaturesOff []app.Feature
}

// agentChannelWords name Shopify's own agentic channels (ChatGPT through
// Shopify Catalog / Agentic Storefronts) in a publication's title.
var agentChannelWords = []string{"chatgpt", "openai", "agentic", "shopify catalog", "ai agent"}

// Overview reads every checklist step's live status.
func (a *Admin) Overview(ctx context.Context, sh *app.Shop) (*Overview, error) {
	ov := &Overview{Shop: sh}
	var err error
	if ov.Settings, err = a.Feeds.Settings(ctx, sh.ID); err != nil {
		return nil, err
	}
	if ov.ACP, err = a.Agents.Settings(ctx, sh.ID); err != nil {
		return nil, err
	}
	if ov.Completion, err = a.Agents.CompletionMethod(ctx, sh.ID); err != nil {
		return nil, err
	}
	if ov.Keys, err = a.Store.APIKeys(ctx, sh.ID); err != nil {
		return nil, err
	}
	for _, k := range ov.Keys {
		if k.RevokedAt == nil {
			ov.LiveKeys++
		}
	}
	if ov.Build, err = a.Store.LatestBuild(ctx, sh.ID, app.BuildPublished); errors.Is(err, app.ErrNotFound) {
		ov.Build, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ov.Targets, err = a.Store.FeedTargets(ctx, sh.ID); err != nil {
		return nil, err
	}

	stripe := paymentStep(ov.ACP, ov.Completion)
	policies := ChecklistStep{Key: "policies", Title: "Set your store policies"}
	if missing := ov.Settings.MissingForCheckout(); len(missing) == 0 {
		policies.Done = true
		policies.Detail = fmt.Sprintf("Return, privacy and terms pages set; returns within %d days.", ov.Settings.ReturnWindowDays)
	} else {
		policies.Detail = "Missing: " + strings.ReplaceAll(strings.Join(missing, ", "), "_", " ") + "."
	}
	delivery := ChecklistStep{Key: "feed", Title: "Deliver your product feed"}
	delivery.Done, delivery.Detail = feedDeliveryStatus(ov.Settings, ov.Build, ov.Targets)
	access := ChecklistStep{Key: "keys", Title: "Give your agent access"}
	if ov.LiveKeys > 0 {
		access.Done = true
		access.Detail = fmt.Sprintf("%d live API key(s).", ov.LiveKeys)
	} else {
		access.Detail = "Create an API key for the agent's checkout calls."
	}
	hook := ChecklistStep{Key: "webhook", Title: "Tell the agent about orders"}
	switch {
	case ov.ACP.WebhookURL == "":
		hook.Detail = "Set the agent's order-event webhook URL."
	case ov.ACP.WebhookTestedAt == nil:
		hook.Detail = "Send a test event to " + ov.ACP.WebhookURL + "."
	case ov.ACP.WebhookTestStatus >= 200 && ov.ACP.WebhookTestStatus < 300:
		hook.Done = true
		hook.Detail = fmt.Sprintf("Test event delivered (HTTP %d) %s.", ov.ACP.WebhookTestStatus, ov.ACP.WebhookTestedAt.Format("2006-01-02 15:04 MST"))
	default:
		hook.Detail = "The last test event failed: " + ov.ACP.WebhookTestError
	}
	ov.Steps = []ChecklistStep{stripe, policies, delivery, access, hook}
	for _, s := range ov.Steps {
		if s.Done {
			ov.StepsDone++
		}
	}
	ov.FeaturesOff = sh.FeaturesOff()
	// Without read_publications Shopify refuses the list: not asked.
	if a.Channels != nil && sh.FeatureOn(app.FeatureChannelCheck) {
		names, err := a.Channels.SalesChannels(ctx, sh)
		if err != nil {
			// The checklist still renders; the warning says it could not look.
			ov.ChannelError = err.Error()
		}
		for _, n := range names {
			l := strings.ToLower(n)
			for _, w := range agentChannelWords {
				if strings.Contains(l, w) {
					ov.ChannelWarns = append(ov.ChannelWarns, n)
					break
				}
			}
		}
	}
	return ov, nil
}

// paymentStep is the checklist's payment step for the shop's completion
// method: with Shopify's checkout there is nothing to connect (buyers pay
// there); delegated payment needs the merchant's verified Stripe account.
func paymentStep(set *app.ACPSettings, cm agents.CompletionChoice) ChecklistStep {
	if cm.Method == app.CompletionShopifyCheckout {
		st := ChecklistStep{Key: "payment", Title: "Buyers pay in Shopify's checkout", Done: true,
			Detail: "Agents hand the buyer to your Shopify checkout; no payment keys are needed."}
		if !cm.Switchable {
			st.Detail += " " + cm.Reason
		}
		return st
	}
	st := ChecklistStep{Key: "stripe", Title: "Connect your Stripe account"}
	if pa := set.Payment; pa != nil && pa.AccountID != "" && pa.VerifiedAt != nil {
		st.Done = true
		st.Detail = "Stripe account " + pa.AccountID + " verified " + pa.VerifiedAt.Format("2006-01-02 15:04 MST")
	} else {
		st.Detail = "Agents' payments are charged through your own Stripe account."
	}
	return st
}

// feedDeliveryStatus is done when a build is published and every push
// target's last delivery succeeded (or, with no push target, the pull URL
// has a token).
func feedDeliveryStatus(fs *app.FeedSettings, b *app.FeedBuild, targets []*app.FeedTarget) (bool, string) {
	if b == nil {
		return false, "No feed published yet: sync the catalog and build the feed."
	}
	enabled := 0
	for _, t := range targets {
		if !t.Enabled {
			continue
		}
		enabled++
		if t.LastStatus != "succeeded" {
			d := t.LastDetail
			if d == "" {
				d = "not delivered yet"
			}
			return false, "Push to " + t.Kind + " target: " + d
		}
	}
	if enabled > 0 {
		return true, fmt.Sprintf("%d items published; pushed to %d target(s).", b.ItemsPublished, enabled)
	}
	if fs.FeedTokenHash != "" {
		return true, fmt.Sprintf("%d items published at the pull URL.", b.ItemsPublished)
	}
	return false, "Create a pull URL token or add a push target."
}
