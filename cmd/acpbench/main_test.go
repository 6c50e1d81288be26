package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
