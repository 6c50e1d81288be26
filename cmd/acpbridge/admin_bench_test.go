package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/demo"
)

// BenchmarkAdminPages times each admin page, as a merchant's browser loads
// it (with its ID token, over loopback), on a demo of 10,000 products
// (ACPBRIDGE_BENCH_PRODUCTS changes the size). The target is ≤ 100 ms per
// page; docs/benchmarks.md has the figures and the command.
//
//	go test ./cmd/acpbridge -run '^$' -bench AdminPages -benchtime 50x
func BenchmarkAdminPages(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("ACPBRIDGE_BENCH_PRODUCTS")); err == nil && v > 0 {
		n = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, _ := startDemo(b, ctx, "--products", strconv.Itoa(n))
	token := func() string {
		body := `{"shop":"` + m.Shop + `","api_key":"` + demo.DemoClientID + `"}`
		resp, err := http.Post(m.Shopify.EmulatorURL+"/emulator/app-bridge/id-token", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			IDToken string `json:"id_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.IDToken == "" {
			b.Fatalf("id token: %v %d", err, resp.StatusCode)
		}
		return out.IDToken
	}
	pages := []struct{ name, path, query string }{
		{"overview", "/admin", ""},
		{"products", "/admin/products", ""},
		{"products_page_200", "/admin/products", "page=200"},
		{"products_search", "/admin/products", "q=candle"},
		{"products_excluded", "/admin/products", "status=excluded"},
		{"products_published_collection", "/admin/products", "status=published&collection=1"},
		{"product", "/admin/products/FIRST", ""},
		{"feed", "/admin/feed", ""},
		{"orders", "/admin/orders", ""},
		{"settings", "/admin/settings", ""},
	}
	// A product id for the product page.
	first := firstProductID(b, m, token())
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			tok := token() // valid for a minute: a page run stays well within it
			q, _ := url.ParseQuery(p.query)
			q.Set("embedded", "1")
			q.Set("shop", m.Shop)
			q.Set("id_token", tok)
			target := m.AppURL + strings.Replace(p.path, "FIRST", first, 1) + "?" + q.Encode()
			for b.Loop() {
				resp, err := http.Get(target)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", p.name, resp.StatusCode)
				}
			}
		})
	}
}

// firstProductID reads a product id off the products page.
func firstProductID(b *testing.B, m demoManifest, tok string) string {
	q := url.Values{"embedded": {"1"}, "shop": {m.Shop}, "id_token": {tok}}
	resp, err := http.Get(m.AppURL + "/admin/products?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	_, rest, ok := strings.Cut(string(body), `data-product-id="`)
	id, _, _ := strings.Cut(rest, `"`)
	if !ok || id == "" {
		b.Fatal("no product on the products page")
	}
	return id
}
