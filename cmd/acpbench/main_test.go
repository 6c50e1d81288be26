package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/cmd/acpbench/bench"
)

// TestRunShopifyCheckoutOnSQLite drives the real binary (built by run) on
// SQLite for two seconds with conversations completed through Shopify's
// checkout, and reads the report as a person would: every conversation
// completed, the pay, get and completed_after_pay rows, an audit without
// problems or Stripe requests, and the Shopify API cost per conversation.
func TestRunShopifyCheckoutOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	var out, errOut bytes.Buffer
	db := "sqlite:" + filepath.Join(t.TempDir(), "bench.db")
	code, err := run(context.Background(), []string{"--db", db, "--completion", "shopify_checkout", "--rate", "5", "--duration", "2s"}, &out, &errOut)
	report := out.String()
	if err != nil || code != 0 {
		t.Fatalf("run: code %d, err %v\n%s\n%s", code, err, report, errOut.String())
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`conversations: (\d+) started, (\d+) completed, 0 failed`),
		regexp.MustCompile(`(?m)^\s+pay\s+\d+\s+0\s`),
		regexp.MustCompile(`(?m)^\s+get\s+\d+\s+0\s`),
		regexp.MustCompile(`(?m)^\s+completed_after_pay\s+\d+\s+0\s`),
		regexp.MustCompile(`audit \(Shopify checkout\): (\d+) sessions, (\d+) completed, (\d+) with a Shopify order \((\d+) of the session's total\), (\d+) order_create events delivered \(0 twice\), 0 with a captured charge, 0 Stripe requests, 0 problems`),
		regexp.MustCompile(`Shopify API during the run: [1-9]\d* GraphQL requests \(\S+ per conversation\), [1-9]\d* cost points`),
		regexp.MustCompile(`app context switches per conversation started: [1-9]\d*\n`),
	} {
		m := want.FindStringSubmatch(report)
		if m == nil {
			t.Errorf("the report lacks %s:\n%s", want, report)
			continue
		}
		for _, n := range m[1:] { // every count is the same, and not zero
			if n != m[1] || n == "0" {
				t.Errorf("counts %v differ or are zero:\n%s", m[1:], report)
				break
			}
		}
	}
	if strings.Contains(report, "  complete ") {
		t.Errorf("a Shopify-checkout run called complete:\n%s", report)
	}
}

// TestSwitchesOf: both kinds of context switch are counted, nothing else.
func TestSwitchesOf(t *testing.T) {
	status := "Name:\tacpbridge\nThreads:\t9\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\nVmRSS:\t  81376 kB\n"
	if got := switchesOf(status); got != 127 {
		t.Errorf("switchesOf = %d, want 127", got)
	}
	if got := switchesOf("Name:\tx\n"); got != 0 {
		t.Errorf("switchesOf without the fields = %d, want 0", got)
	}
	if got := procSwitches(strconv.Itoa(os.Getpid())); got <= 0 {
		t.Errorf("procSwitches of this test = %d, want some", got)
	}
}

func TestParseCompletion(t *testing.T) {
	var errOut bytes.Buffer
	if _, err := parse([]string{"--db", "sqlite:x", "--completion", "stripe"}, &errOut); err == nil {
		t.Error("--completion stripe was accepted")
	}
	if _, err := parse([]string{"--demo", "demo.json", "--completion", "shopify_checkout"}, &errOut); err == nil {
		t.Error("--completion shopify_checkout with --demo was accepted")
	}
	o, err := parse([]string{"--db", "sqlite:x"}, &errOut)
	if err != nil || o.completion != "delegated" {
		t.Errorf("default: %q, %v; want delegated", o.completion, err)
	}
}

// TestRunBothTransportsOnSQLite drives the real binary on SQLite for two
// seconds with every other conversation over MCP, and reads the report and
// its JSON: every conversation completed, each step's row per transport
// with requests and no errors (MCP's initialize too), conversations of
// both transports in the JSON, and an audit without problems.
func TestRunBothTransportsOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	code, err := run(context.Background(), []string{"--db", "sqlite:" + filepath.Join(dir, "bench.db"), "--transport", "both",
		"--rate", "5", "--duration", "2s", "--json", jsonPath}, &out, &errOut)
	report := out.String()
	if err != nil || code != 0 {
		t.Fatalf("run: code %d, err %v\n%s\n%s", code, err, report, errOut.String())
	}
	rows := []string{"initialize", "create", "update_address", "select_shipping", "complete"}
	for _, tr := range []string{"rest", "mcp"} {
		for _, ep := range rows {
			if tr == "rest" && ep == "initialize" {
				continue
			}
			row := regexp.MustCompile(`(?m)^\s*` + tr + `\s+` + ep + `\s+([1-9]\d*)\s+0\s`)
			if !row.MatchString(report) {
				t.Errorf("no %s %s row with requests and no errors:\n%s", tr, ep, report)
			}
		}
	}
	audit := regexp.MustCompile(`audit: (\d+) sessions, (\d+) completed, (\d+) with a captured charge, (\d+) with a Shopify order, (\d+) order_create events delivered \(0 twice\), 0 problems`)
	if m := audit.FindStringSubmatch(report); m == nil {
		t.Errorf("the report lacks %s:\n%s", audit, report)
	} else if slices.ContainsFunc(m[2:], func(n string) bool { return n != m[1] || n == "0" }) {
		t.Errorf("audit counts %v differ or are zero:\n%s", m[1:], report)
	}

	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(raw, &struct{ Report *bench.Report }{&rep}); err != nil {
		t.Fatal(err)
	}
	convs := map[string]int{}
	for _, c := range rep.Conversations {
		convs[c.Transport]++
	}
	for _, tr := range []string{"rest", "mcp"} {
		st := rep.Transports[tr][bench.EndpointComplete]
		if convs[tr] == 0 || st == nil || st.Requests != convs[tr] || st.P50 <= 0 {
			t.Errorf("JSON: %d %s conversations, complete %+v", convs[tr], tr, st)
		}
	}
}

func TestParseTransport(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--db", "sqlite:x"}, "rest", ""},
		{[]string{"--db", "sqlite:x", "--transport", "mcp"}, "mcp", ""},
		{[]string{"--demo", "demo.json", "--transport", "both"}, "both", ""},
		{[]string{"--db", "sqlite:x", "--transport", "grpc"}, "", `--transport: want rest, mcp or both, got "grpc"`},
		{[]string{"--db", "sqlite:x", "--transport", "MCP"}, "", `got "MCP"`},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		o, err := parse(tt.args, &errOut)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: err %v, want %q", tt.args, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || o.transport != tt.want):
			t.Errorf("%v: %q, %v; want %q", tt.args, o.transport, err, tt.want)
		}
	}
}

func TestParseShopifyPlan(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--db", "sqlite:x"}, "unlimited", ""},
		{[]string{"--db", "sqlite:x", "--shopify-plan", "standard"}, "standard", ""},
		{[]string{"--db", "sqlite:x", "--shopify-plan", "advanced"}, "advanced", ""},
		{[]string{"--db", "sqlite:x", "--shopify-plan", "plus"}, "plus", ""},
		{[]string{"--db", "sqlite:x", "--shopify-plan", "enterprise"}, "", `want one of standard, advanced, plus, unlimited`},
		{[]string{"--db", "sqlite:x", "--shopify-plan", "Plus"}, "", `shopify plan "Plus"`},
		{[]string{"--demo", "demo.json", "--shopify-plan", "standard"}, "", "--shopify-plan needs --db"},
		{[]string{"--demo", "demo.json"}, "unlimited", ""},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		o, err := parse(tt.args, &errOut)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: err %v, want %q", tt.args, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || o.shopifyPlan != tt.want):
			t.Errorf("%v: %q, %v; want %q", tt.args, o.shopifyPlan, err, tt.want)
		}
	}
}

// TestRunStandardPlanOnSQLite drives the real binary on SQLite for two
// seconds against a shop on the standard plan, with the replicas' debug
// log: the app's Shopify calls see the plan's bucket (2,000 points at most,
// as Shopify's throttleStatus tells them, where the unlimited default shows
// a billion), and the report prints the graceful line, the points per
// operation and the budget line.
func TestRunStandardPlanOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	logs := filepath.Join(dir, "app.log")
	code, err := run(context.Background(), []string{"--db", "sqlite:" + filepath.Join(dir, "bench.db"), "--shopify-plan", "standard",
		"--rate", "5", "--duration", "2s", "--log-level", "debug", "--logs", logs, "--burst-check", "--points-per-conversation", "1000"}, &out, &errOut)
	report := out.String()
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, report, errOut.String())
	}
	// Five conversations a second cannot reach 100 points/s ÷ 1,000
	// points... but 0.1 purchases/s they can: the check passes.
	if code != 0 {
		t.Fatalf("run: code %d\n%s\n%s", code, report, errOut.String())
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Shopify plan: standard \(bucket 2000 points, 100 points/s back\)`),
		regexp.MustCompile(`graceful: 0 answers 5xx, 0 without an answer, max latency [\d.]+ ms \(0 over 3s\), non-2xx by status: none`),
		regexp.MustCompile(`Shopify API by operation: .*CreateOrder [1-9]\d* calls [1-9]\d* points`),
		regexp.MustCompile(`budget \(standard plan, 100 points/s back\): [1-9]\d* points spent, [\d.]+ per completed conversation; completed [\d.]+ purchases/s, goal 100 ÷ 1000.0 \(--points-per-conversation\) = 0.10/s`),
	} {
		if !want.MatchString(report + errOut.String()) {
			t.Errorf("the output lacks %s:\n%s\n%s", want, report, errOut.String())
		}
	}
	raw, err := os.ReadFile(logs)
	if err != nil {
		t.Fatal(err)
	}
	// Each Shopify call logs what the bucket had left. The install and
	// first sync run unlimited (a billion points); the run's calls see the
	// plan's bucket, 2,000 points at most.
	avail := regexp.MustCompile(`"msg":"shopify admin call".*?"available":([\d.e+]+)`)
	calls, inPlan := 0, 0
	for _, m := range avail.FindAllStringSubmatch(string(raw), -1) {
		calls++
		if f, err := strconv.ParseFloat(m[1], 64); err == nil && f <= 2000 {
			inPlan++
		}
	}
	if inPlan < 10 {
		t.Errorf("%d Shopify calls logged, %d of them within the plan's 2,000 points; want at least 10 (2 s of 5 conversations/s)", calls, inPlan)
	}
}

// TestStartStackFailureCleansUp: a stack that cannot start (its binary is
// missing) returns the error after undoing what was set up (the log file
// is closed, so it can be removed and written again) instead of calling a
// nil stop.
func TestStartStackFailureCleansUp(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "replicas.log")
	o := options{db: "sqlite:" + filepath.Join(dir, "bench.db"), bin: filepath.Join(dir, "no-such-acpbridge"), logs: logs,
		replicas: 1, products: 1, completion: "delegated", shopifyPlan: "unlimited", logLevel: "warn"}
	stack, stop, err := startStack(context.Background(), o, func(string, ...any) {})
	if err == nil || stack != nil || stop != nil {
		t.Fatalf("startStack = %v, stop set %v, %v; want an error and nothing to stop", stack, stop != nil, err)
	}
	if _, serr := os.Stat(logs); serr != nil {
		t.Fatalf("the log file was not created before the failure: %v", serr)
	}
}
