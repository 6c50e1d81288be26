package archtest

import "slices"

// testSupport lists the packages that exist for tests (and, for the
// emulators, the demo and the load driver). Production code never imports
// them (rules no-test-code-in-production and no-emulators-in-production);
// they are exempt from those rules themselves because helping tests is
// their job.
var testSupport = map[string]string{
	"./acp/acptest":               "validates tests' answers against the official ACP JSON Schemas",
	"./app/store/storetest":       "gives each test a real PostgreSQL or SQLite database; takes a testing.TB",
	"./app/delivery/deliverytest": "SFTP and Feed API servers for delivery tests; takes a testing.TB",
	"./shopify/emulator":          "the Shopify dev-store emulator, speaking Shopify's real wire protocols",
	"./app/payment/stripeemu":     "the Stripe emulator, speaking Stripe's real API",
	"./internal/testkit":          "helpers written once for many packages' tests",
	"./internal/archtest":         "this package: the dependency rules themselves",
}

// testSupportPatterns is testSupport's keys, as import patterns.
func testSupportPatterns() []string {
	out := make([]string, 0, len(testSupport))
	for p := range testSupport {
		out = append(out, p, p+"/...")
	}
	return out
}

// exceptTestSupport is testSupport plus more exceptions.
func exceptTestSupport(more map[string]string) map[string]string {
	out := map[string]string{}
	for p, why := range testSupport {
		out[p] = "test support: " + why
	}
	for p, why := range more {
		out[p] = why
	}
	return out
}

// capabilities are the packages of the app's use-cases (README,
// Architecture): each imports app and the libraries, and no other
// capability.
var capabilities = []string{
	"./app/shops", "./app/catalog", "./app/feeds", "./app/checkout", "./app/agents",
	"./app/idempotency", "./app/maintenance", "./app/orderevents",
	"./app/billing",
}

// databaseDrivers are the SQL drivers and their adapters.
var databaseDrivers = []string{
	"gorm.io/driver/...", "github.com/jackc/pgx/...", "github.com/lib/pq/...",
	"github.com/libtnb/sqlite/...", "modernc.org/sqlite/...", "github.com/mattn/go-sqlite3/...",
}

// rules is the architecture the build enforces; README's Architecture
// section says the same in prose. Each row's why is printed with every
// violation, so write it for the person whose build just failed.
func rules() []rule {
	return []rule{
		{
			name: "acp-is-stdlib-only",
			why: "acp is the protocol library (the Agentic Commerce Protocol's types, decoders, encoders, errors); " +
				"it parses strangers' bodies, so it stays small, auditable and free of third-party code, and any transport can use it",
			from:   []string{"./acp/..."},
			except: map[string]string{"./acp/acptest": "test support: uses a JSON Schema library to check tests' answers"},
			allow:  []string{"std", "./acp/..."},
		},
		{
			name: "feed-is-a-format-library",
			why: "app/feed is the feed format (product → items → jsonl/csv/tsv gzip, Parquet): standard library, acp, its " +
				"compression library and its Parquet library only, so it can be fuzzed and benchmarked alone and knows nothing " +
				"of shops, storage or delivery",
			from:  []string{"./app/feed/..."},
			allow: []string{"std", "./acp", "github.com/klauspost/compress/...", "github.com/parquet-go/parquet-go/..."},
		},
		{
			name:   "shopify-knows-nothing-of-the-app",
			why:    "shopify is the Shopify protocol client (OAuth, Admin GraphQL, HMACs, ID tokens); the app depends on it, never the reverse",
			from:   []string{"./shopify"},
			forbid: []string{"./..."},
		},
		{
			name: "emulators-do-not-share-the-apps-code",
			why: "an emulator speaks the real wire protocol from its own code; if it imported the app's code, the app and " +
				"the emulator would agree on the app's bugs and the tests would not see them",
			from:   []string{"./shopify/emulator/...", "./app/payment/stripeemu/..."},
			forbid: []string{"./app/...", "./web/...", "./cmd/..."},
		},
		{
			name: "web-never-reaches-storage",
			why: "web is the HTTP edge (parse → one call to app → render); it reaches data only through app's services, " +
				"which check tenancy, and never links gorm, the store or an emulator, not even through another package",
			from: []string{"./web/..."},
			forbid: []string{"gorm.io/...", "./app/store/...", "./shopify/emulator/...", "./app/payment/stripeemu/...",
				"./app/delivery/deliverytest/..."},
			deps: true,
		},
		{
			name:   "web-never-imports-database-drivers",
			why:    "web is the HTTP edge; database drivers belong to app/store and app/jobs, which app/service wires",
			from:   []string{"./web/..."},
			forbid: databaseDrivers,
		},
		{
			name: "only-the-store-imports-gorm",
			why: "app/store is the one package that speaks gorm: row structs, toApp* converters and TranslateError keep " +
				"gorm's types and errors from leaking into the app",
			from:   []string{"./..."},
			except: map[string]string{"./app/store/...": "the store and its test helpers"},
			forbid: []string{"gorm.io/..."},
		},
		{
			name:   "adapters-do-not-import-each-other",
			why:    "the adapters (app/store, app/jobs, web) import app but not each other; app/service wires them together",
			from:   []string{"./app/store", "./app/jobs", "./web"},
			forbid: []string{"./app/store", "./app/jobs", "./web"},
		},
		{
			name: "capabilities-do-not-import-the-edges",
			why: "dependencies point inward: the capability packages under app/ are used by web and wired by app/service, " +
				"so importing either would be a cycle in the making and would tie a use-case to one transport",
			from: []string{"./app/..."},
			except: map[string]string{
				"./app/service": "the composition root: it builds the web server from the services",
				"./app/demo":    "the demo command runs the whole product, web included, in-process",
			},
			forbid: []string{"./web/...", "./app/service/...", "./cmd/..."},
		},
		{
			name: "capabilities-do-not-import-each-other",
			why: "a capability that needs another declares the small interface it calls (checkout.ItemSource, " +
				"checkout.OrderEvents, shops.CatalogEvents, shops.OrderWebhooks, …) and app/service plugs the other one in, " +
				"so each can be built, tested and changed alone; app/merchant, the admin's read model over all of them, " +
				"is the consumer they never import",
			from:   capabilities,
			except: map[string]string{"./app/orderevents": "builds on checkout's records: rule orderevents-builds-only-on-checkout"},
			forbid: append([]string{"./app/merchant"}, capabilities...),
		},
		{
			name: "orderevents-builds-only-on-checkout",
			why: "the order events work on checkout's records (Session, Payment, the payment providers and their refunds), " +
				"so app/orderevents imports app/checkout, and nothing goes the other way (checkout reaches the events through " +
				"its OrderEvents interface); any other capability it needs goes through an interface, as for every capability",
			from: []string{"./app/orderevents"},
			forbid: append([]string{"./app/merchant"},
				slices.DeleteFunc(slices.Clone(capabilities), func(p string) bool { return p == "./app/checkout" })...),
		},
		{
			name: "acp-pipeline-is-transport-free",
			why: "app/acpapi runs one ACP call for any transport (REST in web/acp.go, MCP in web/mcp.go): its Request and " +
				"Result are plain values, so HTTP's or echo's types in it would make the MCP transport fake an HTTP request",
			from:   []string{"./app/acpapi"},
			forbid: []string{"net/http", "net/http/...", "github.com/labstack/echo/..."},
		},
		{
			name: "capabilities-do-not-import-the-store",
			why: "dependencies point inward: app/store implements interfaces the capabilities declare, and app/service " +
				"passes it in; a capability importing the store would be tied to gorm's adapter",
			from: []string{"./app/..."},
			except: map[string]string{
				"./app/store/...": "the store itself and its test helper",
				"./app/service":   "the composition root opens the store and hands it to the services",
				"./app/demo":      "the demo command runs the whole product in-process",
			},
			forbid: []string{"./app/store/..."},
		},
		{
			name: "payment-providers-are-adapters",
			why: "a payment provider (app/payment is Stripe's) is an adapter: checkout charges through checkout.Payments and " +
				"agents verifies credentials through agents.PaymentConnector, and only the composition root picks the providers, " +
				"so that another provider is added without touching the capabilities",
			from: []string{"./app/...", "./web/..."},
			except: map[string]string{
				"./app/payment/...": "the Stripe adapter itself and its emulator",
				"./app/service":     "the composition root registers the Stripe adapter as provider \"stripe\"",
				"./app/demo":        "the demo connects its shop to the Stripe emulator through that provider",
			},
			forbid: []string{"./app/payment"},
		},
		{
			name: "no-test-code-in-production",
			why: "package testing and the test helpers are for tests; linked into production code they add flags, " +
				"globals and code that was never meant to run outside a test",
			from:   []string{"./..."},
			except: exceptTestSupport(nil),
			forbid: []string{"testing", "./internal/testkit/...", "./acp/acptest/...", "./app/store/storetest/..."},
		},
		{
			name: "no-emulators-in-production",
			why: "the emulators and test servers answer anything; only tests, the demo and the load driver may run them, " +
				"never the product talking to the real Shopify and Stripe",
			from: []string{"./..."},
			except: exceptTestSupport(map[string]string{
				"./app/demo":           "the demo runs the product against in-process Shopify and Stripe emulators, so it needs no accounts",
				"./cmd/acpbench/bench": "the load driver runs the same emulators in-process to drive checkouts at a fixed rate",
			}),
			forbid: []string{"./shopify/emulator/...", "./app/payment/stripeemu/...", "./app/delivery/deliverytest/..."},
		},
		{
			name:  "testkit-is-stdlib-only",
			why:   "internal/testkit is imported by every package's tests, acp's included; it must not drag dependencies into them",
			from:  []string{"./internal/testkit/..."},
			allow: []string{"std"},
		},
		{
			name:  "no-foreign-internals",
			why:   "an internal/ package belongs to the capability above it; other capabilities use that capability's exported API",
			from:  []string{"./..."},
			check: importsForeignInternals,
		},
	}
}
