package app_test

import (
	"testing"

	"github.com/acpbridge/acpbridge/app"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"19.99", "USD", 1999, true},
		{"19.9", "USD", 1990, true},
		{"19", "USD", 1900, true},
		{"0.00", "USD", 0, true},
		{"19.990", "USD", 1999, true}, // trailing zeros are not precision
		{"1500", "JPY", 1500, true},
		{"1500.5", "JPY", 0, false},
		{"1.234", "KWD", 1234, true},
		{"1.2345", "KWD", 0, false},
		{"19.999", "USD", 0, false},
		{"-1.00", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"", "USD", 0, false},
		{"12,50", "EUR", 0, false},
		{"99999999999999999.00", "USD", 0, false},
	}
	for _, tt := range tests {
		got, err := app.ParseMoney(tt.in, tt.cur)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q, %s) = %d, %v; want %d ok=%v", tt.in, tt.cur, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseGID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		kind string
		id   int64
		ok   bool
	}{
		{"gid://shopify/Product/123", "Product", 123, true},
		{"gid://shopify/ProductVariant/9?x=1", "ProductVariant", 9, true},
		{"gid://shopify/Product/", "", 0, false},
		{"gid://shopify/Product/-4", "", 0, false},
		{"gid://other/Product/1", "", 0, false},
		{"123", "", 0, false},
	}
	for _, tt := range tests {
		kind, id, err := app.ParseGID(tt.in)
		if (err == nil) != tt.ok || kind != tt.kind || id != tt.id {
			t.Errorf("ParseGID(%q) = %q, %d, %v", tt.in, kind, id, err)
		}
	}
}
