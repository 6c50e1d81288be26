package archtest

import (
	"slices"
	"strings"
	"testing"
)

// TestDependencyRules fails the build when a package of the module
// imports what a rule in rules_test.go refuses. Its message names the
// importer, the import and the reason.
func TestDependencyRules(t *testing.T) {
	t.Parallel()
	g, err := loadModule()
	if err != nil {
		t.Fatalf("load the import graph: %v", err)
	}
	if !g.local(g.module+"/acp") || g.pkgs[g.module+"/web"] == nil {
		t.Fatalf("go list did not list the module's packages (module %q, %d packages)", g.module, len(g.pkgs))
	}
	violations, mistakes := checkRules(g, rules())
	for _, m := range mistakes {
		t.Errorf("rules table: %s", m)
	}
	for _, v := range violations {
		t.Errorf("%s", v)
	}
	if len(violations) > 0 {
		t.Logf("%d imports break the dependency rules; the rules and their reasons are in internal/archtest/rules_test.go", len(violations))
	}
}

// fake builds a graph of module m from "importer: import import …" lines,
// with std packages marked so. Deps are computed from Imports.
func fake(t *testing.T, lines ...string) *graph {
	t.Helper()
	g := &graph{module: "m", pkgs: map[string]*pkg{}}
	add := func(path string) *pkg {
		if p, ok := g.pkgs[path]; ok {
			return p
		}
		first, _, _ := strings.Cut(path, "/")
		p := &pkg{ImportPath: path, Standard: first != "m" && !strings.Contains(first, ".")}
		g.pkgs[path] = p
		return p
	}
	for _, line := range lines {
		from, imports, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		p := add(strings.TrimSpace(from))
		for _, imp := range strings.Fields(imports) {
			add(imp)
			p.Imports = append(p.Imports, imp)
		}
	}
	for _, p := range g.pkgs {
		p.Deps = g.deps(p.ImportPath)
	}
	return g
}

// deps is every package path reaches, as go list's Deps.
func (g *graph) deps(path string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, imp := range g.pkgs[p].Imports {
			if !seen[imp] {
				seen[imp] = true
				walk(imp)
			}
		}
	}
	walk(path)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	return out
}

// TestRuleChecker shows, on made-up import graphs, that each kind of rule
// reports what it must and nothing else — and that the real table catches
// the breaks it exists for.
func TestRuleChecker(t *testing.T) {
	t.Parallel()
	stdOnly := rule{name: "r", why: "because", from: []string{"./lib/..."},
		except: map[string]string{"./lib/libtest": "test helper"}, allow: []string{"std", "./lib/..."}}
	forbidDB := rule{name: "r", why: "because", from: []string{"./web"}, forbid: []string{"db.io/..."}}
	forbidDBDeps := forbidDB
	forbidDBDeps.deps = true
	hook := rule{name: "r", why: "because", from: []string{"./..."}, check: importsForeignInternals}

	for _, tc := range []struct {
		name     string
		rule     rule
		graph    []string
		want     []string // "importer imports import", module prefix and all
		mistakes int
	}{
		{name: "allow: stdlib and itself pass", rule: stdOnly,
			graph: []string{"m/lib: fmt m/lib/sub", "m/lib/sub: strings", "m/lib/libtest: x.io/schema"}},
		{name: "allow: a third-party import is refused", rule: stdOnly,
			graph: []string{"m/lib: fmt x.io/json", "m/lib/libtest: fmt"},
			want:  []string{"m/lib imports x.io/json"}},
		{name: "allow: another module package is refused, in a subpackage too", rule: stdOnly,
			graph: []string{"m/lib: fmt", "m/lib/sub: m/app", "m/lib/libtest: fmt"},
			want:  []string{"m/lib/sub imports m/app"}},
		{name: "allow: an exception that names no package is a mistake",
			rule:  rule{name: "r", from: []string{"./lib"}, except: map[string]string{"./lib/gone": "stale"}, allow: []string{"std"}},
			graph: []string{"m/lib: fmt"}, mistakes: 1},
		{name: "forbid: a direct import is refused", rule: forbidDB,
			graph: []string{"m/web: m/app db.io/orm/clause", "m/app: fmt"},
			want:  []string{"m/web imports db.io/orm/clause"}},
		{name: "forbid: direct rules ignore what dependencies import", rule: forbidDB,
			graph: []string{"m/web: m/app", "m/app: db.io/orm"}},
		{name: "forbid: a prefix pattern does not match a longer name", rule: forbidDB,
			graph: []string{"m/web: db.iox/orm"}},
		{name: "forbid with deps: reached through another package", rule: forbidDBDeps,
			graph: []string{"m/web: m/app", "m/app: m/store", "m/store: db.io/orm"},
			want:  []string{"m/web depends on db.io/orm (m/web → m/app → m/store → db.io/orm)"}},
		{name: "forbid with deps: only the first refused package of a chain is reported", rule: forbidDBDeps,
			graph: []string{"m/web: m/app", "m/app: db.io/orm", "db.io/orm: db.io/orm/schema"},
			want:  []string{"m/web depends on db.io/orm (m/web → m/app → db.io/orm)"}},
		{name: "ungoverned packages may import anything", rule: forbidDB,
			graph: []string{"m/store: db.io/orm", "m/webx: db.io/orm"}},
		{name: "hook: another tree's internals are refused, one's own and the root's are not", rule: hook,
			graph: []string{
				"m/app/checkout: m/app/checkout/internal/pricing m/internal/testkit",
				"m/app/checkout/internal/pricing: fmt",
				"m/app/feeds: m/app/checkout/internal/pricing",
			},
			want: []string{"m/app/feeds imports m/app/checkout/internal/pricing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs, mistakes := checkRules(fake(t, tc.graph...), []rule{tc.rule})
			var got []string
			for _, v := range vs {
				line, _, _ := strings.Cut(v.String(), "\n")
				got = append(got, line)
				if !strings.Contains(v.String(), "rule r: because") {
					t.Errorf("violation %q does not give the rule and its reason", v)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(mistakes) != tc.mistakes {
				t.Errorf("mistakes %q, want %d", mistakes, tc.mistakes)
			}
		})
	}
}

// TestRulesCatchTheBreaks runs the real table on a small copy of the
// module's shape with one forbidden import per row, so that every rule is
// shown to fire (the real graph, being clean, shows none of them firing).
func TestRulesCatchTheBreaks(t *testing.T) {
	t.Parallel()
	clean := []string{
		"m/acp: fmt m/acp/spec", "m/acp/spec: embed", "m/acp/acptest: m/acp x.io/jsonschema",
		"m/app: m/acp m/shopify m/app/feed", "m/app/feed: m/acp github.com/klauspost/compress/flate",
		"m/app/store: m/app gorm.io/gorm github.com/jackc/pgx/v5", "m/app/store/storetest: m/app/store testing",
		"m/app/jobs: m/app github.com/lib/pq", "m/web: m/app m/acp", "m/shopify: net/http",
		"m/app/checkout: m/app m/acp", "m/app/orderevents: m/app m/app/checkout",
		"m/app/merchant: m/app m/app/checkout m/app/orderevents m/app/feeds",
		"m/shopify/emulator: m/shopify", "m/app/payment/stripeemu: net/http",
		"m/app/delivery/deliverytest: testing", "m/internal/testkit: sync", "m/internal/archtest: fmt",
		"m/app/service: m/app m/app/store m/app/jobs m/web",
		"m/app/demo: m/app/service m/web m/shopify/emulator m/app/payment/stripeemu",
		"m/cmd/acpbench/bench: m/app/store m/shopify/emulator m/app/payment/stripeemu",
		"m/cmd/acpbridge: m/app/service m/app/demo",
	}
	if vs, mistakes := checkRules(fake(t, clean...), rules()); len(vs) > 0 || len(mistakes) > 0 {
		t.Fatalf("the clean shape breaks rules: %v %v", vs, mistakes)
	}
	for _, tc := range []struct{ add, rule string }{
		{"m/acp: x.io/yaml", "acp-is-stdlib-only"},
		{"m/acp/spec: m/app", "acp-is-stdlib-only"},
		{"m/app/feed: m/shopify", "feed-is-a-format-library"},
		{"m/shopify: m/app", "shopify-knows-nothing-of-the-app"},
		{"m/shopify/emulator: m/app", "emulators-do-not-share-the-apps-code"},
		{"m/app: m/app/store", "web-never-reaches-storage"}, // web imports app
		{"m/web: github.com/jackc/pgx/v5/stdlib", "web-never-imports-database-drivers"},
		{"m/app/jobs: gorm.io/gorm", "only-the-store-imports-gorm"},
		{"m/app/store: m/app/jobs", "adapters-do-not-import-each-other"},
		{"m/app/checkout: m/web", "capabilities-do-not-import-the-edges"},
		{"m/app/catalog: m/app/service", "capabilities-do-not-import-the-edges"},
		{"m/app/feeds: m/app/store", "capabilities-do-not-import-the-store"},
		{"m/app/checkout: m/app/payment", "payment-providers-are-adapters"},
		{"m/web: m/app/payment", "payment-providers-are-adapters"},
		{"m/cmd/acpbridge: testing", "no-test-code-in-production"},
		{"m/app: m/internal/testkit", "no-test-code-in-production"},
		{"m/app/service: m/app/delivery/deliverytest", "no-emulators-in-production"},
		{"m/internal/testkit: x.io/assert", "testkit-is-stdlib-only"},
		{"m/app/feeds: m/app/checkout/internal/pricing", "no-foreign-internals"},
		{"m/app/checkout: m/app/orderevents", "capabilities-do-not-import-each-other"},
		{"m/app/feeds: m/app/catalog", "capabilities-do-not-import-each-other"},
		{"m/app/shops: m/app/merchant", "capabilities-do-not-import-each-other"},
		{"m/app/orderevents: m/app/feeds", "orderevents-builds-only-on-checkout"},
		{"m/app/orderevents: m/app/merchant", "orderevents-builds-only-on-checkout"},
	} {
		t.Run(tc.add, func(t *testing.T) {
			t.Parallel()
			vs, _ := checkRules(fake(t, append(slices.Clone(clean), tc.add)...), rules())
			found := false
			for _, v := range vs {
				found = found || v.rule == tc.rule
			}
			if !found {
				t.Errorf("adding %q broke %v, want rule %s", tc.add, vs, tc.rule)
			}
		})
	}
}
