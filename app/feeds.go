package app

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/acpbridge/acpbridge/app/feed"
)

// Sync statuses.
const (
	SyncPending   = "pending"   // waiting for its job
	SyncRunning   = "running"   // the bulk operation runs at Shopify
	SyncIngesting = "ingesting" // the JSONL is being read into our tables
	SyncCompleted = "completed"
	SyncFailed    = "failed"
)

// CatalogSync is a full catalog sync and its progress.
type CatalogSync struct {
	ID              int64
	ShopID          int64
	Reason          string // install, manual, reconcile
	Status          string
	BulkOperationID string
	Generation      int64
	RowsExpected    int64 // the bulk operation's object count, once known
	RowsDone        int64
	Products        int64
	Variants        int64
	Error           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
}

// Done reports whether the sync has ended.
func (s *CatalogSync) Done() bool { return s.Status == SyncCompleted || s.Status == SyncFailed }

// FeedSettings are a shop's feed-wide settings, kept in our database.
type FeedSettings struct {
	ShopID           int64
	SellerName       string
	SellerURL        string
	StoreCountry     string
	TargetCountries  []string
	ReturnPolicyURL  string
	ReturnWindowDays int
	PrivacyPolicyURL string
	TermsURL         string
	BrandFallback    string
	EligibleSearch   bool
	EligibleCheckout bool
	// FieldNames is "current" (OpenAI's 2026 names) or "2025" (launch names).
	FieldNames    string
	FeedTokenHash string
	UpdatedAt     time.Time
}

// MissingForCheckout lists the settings agents' checkout needs that are
// not set: the shop's policies and return window (OpenAI requires them for
// checkout-eligible items).
func (fs *FeedSettings) MissingForCheckout() []string {
	var missing []string
	if fs.PrivacyPolicyURL == "" {
		missing = append(missing, "privacy_policy_url")
	}
	if fs.TermsURL == "" {
		missing = append(missing, "terms_url")
	}
	if fs.ReturnPolicyURL == "" {
		missing = append(missing, "return_policy_url")
	}
	if fs.ReturnWindowDays <= 0 {
		missing = append(missing, "return_window_days")
	}
	return missing
}

// CheckoutReady reports whether the settings allow checkout.
func (fs *FeedSettings) CheckoutReady() bool { return len(fs.MissingForCheckout()) == 0 }

// Rule scopes.
const (
	RuleProduct    = "product"
	RuleCollection = "collection"
)

// FeedRule is a merchant's decision about one product or one collection:
// nil fields leave the default (or a broader rule) in force. A product rule
// wins over its collections' rules.
type FeedRule struct {
	ShopID           int64
	Scope            string
	TargetID         int64
	Exclude          *bool
	CheckoutEligible *bool
	Title            *string
	Description      *string
	Category         *string
	GTIN             *string
	MPN              *string
	UpdatedAt        time.Time
}

// Feed build statuses.
const (
	BuildRunning   = "building"
	BuildPublished = "published"
	BuildFailed    = "failed"
)

// FeedBuild is one build of a shop's feed files.
type FeedBuild struct {
	ID             int64
	ShopID         int64
	Status         string
	FieldNames     string
	Products       int64
	ItemsTotal     int64
	ItemsPublished int64
	ItemsInvalid   int64
	ItemsExcluded  int64
	Warnings       int64
	// Summary is JSON: problems grouped by field and severity, with hints.
	Summary    []byte
	Error      string
	StartedAt  time.Time
	FinishedAt *time.Time
}

// FieldProblems is a build's problems with one field, for feed health.
type FieldProblems struct {
	Field    string `json:"field"`
	Severity string `json:"severity"`
	Count    int64  `json:"count"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Example  string `json:"example_item_id"`
}

// ProblemsByField decodes the build's summary (most frequent first, as
// the build wrote it).
func (b *FeedBuild) ProblemsByField() []FieldProblems {
	var out []FieldProblems
	if len(b.Summary) > 0 {
		_ = json.Unmarshal(b.Summary, &out) // written by build(); an old or empty summary shows nothing
	}
	return out
}

// FeedFile is one format of a build.
type FeedFile struct {
	BuildID int64
	Format  string
	Bytes   int64
	SHA256  string
}

// FeedProblem is one validation problem of one item in a build.
type FeedProblem struct {
	ItemID   string
	Field    string
	Severity string
	Message  string
	Hint     string
}

// CheckoutItem is a feed item an agent may buy: what the shop's feed
// publishes for the variant right now, from our synced catalog.
type CheckoutItem struct {
	Item    feed.Item
	Variant CatalogVariant
	// Sellable: the item is in the published feed (eligible, valid) and
	// eligible for checkout. Reason says why not.
	Sellable bool
	Reason   string
}

// Feed target kinds.
const (
	TargetSFTP = "sftp"
	TargetACP  = "acp"
)

// FeedTarget is where a shop's feed is pushed, with its last result.
type FeedTarget struct {
	ID      int64
	ShopID  int64
	Kind    string
	Config  []byte // JSON: SFTPTargetConfig or ACPTargetConfig
	Secret  string // sealed password, private key or bearer token
	Enabled bool

	LastStatus    string // "", "succeeded", "failed", "retrying"
	LastDetail    string
	LastBuildID   int64
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// FeedTargetAAD binds a target's sealed secret to its shop and kind (the
// deliveries seal it, maintenance re-seals it under a new key).
func FeedTargetAAD(shopID int64, kind string) []byte {
	return []byte("feed_target:" + strconv.FormatInt(shopID, 10) + ":" + kind)
}

// SFTPTargetConfig is the non-secret part of an SFTP target.
type SFTPTargetConfig struct {
	Addr    string `json:"addr"`
	User    string `json:"user"`
	HostKey string `json:"host_key"`
	Dir     string `json:"dir"`
	// Format is what is pushed (jsonl.gz by default): products.FORMAT,
	// overwritten in place each time, or for parquet the shard set
	// (products-00001-of-0000N.parquet, …) and products-manifest.json,
	// the manifest renamed into place last.
	Format string `json:"format"`
}

// ACPTargetConfig is the non-secret part of an ACP Feed API target.
type ACPTargetConfig struct {
	BaseURL       string `json:"base_url"`
	FeedID        string `json:"feed_id"`
	TargetCountry string `json:"target_country"`
}

// FeedDelivery is one push of a build to a target.
type FeedDelivery struct {
	ID         int64
	TargetID   int64
	BuildID    int64
	Status     string
	Detail     string
	Bytes      int64
	StartedAt  time.Time
	FinishedAt *time.Time
}

// FeedItemRow is one item a feed build publishes, as stored for search:
// the columns a query filters and sorts on, and the item itself (Data, the
// feed.Item as JSON) for the answer.
type FeedItemRow struct {
	ShopID       int64
	BuildID      int64
	ItemID       string
	GroupID      string
	TitleText    string // lower-cased title, for relevance
	SearchText   string // lower-cased text a query matches
	Category     string // lower-cased, for the prefix filter
	PriceMinor   int64  // what the buyer pays: the sale price when there is one
	Currency     string
	Availability string
	Data         []byte
}

// FeedItemQuery is a search of one build's items. Terms are lower-cased
// and all must be contained in SearchText; empty filters are off.
type FeedItemQuery struct {
	ShopID, BuildID int64
	Terms           []string
	MinPrice        *int64
	MaxPrice        *int64
	Currency        string
	Availability    string
	CategoryPrefix  string // lower-cased
	// The page starts after (AfterRank, AfterSeq) in the order (rank, seq):
	// rank is how many terms the title lacks, seq the row's insertion order.
	AfterRank, AfterSeq int64
	Limit               int
}

// FeedItemHit is a search result: the row, its rank and its position for
// the next page's cursor.
type FeedItemHit struct {
	FeedItemRow
	Rank, Seq int64
}
