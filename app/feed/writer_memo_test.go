package feed_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/acpbridge/acpbridge/app/feed"
)

// TestWriterMemoMatchesFreshWriters: a Writer reuses the JSON of columns
// whose value repeats from item to item; a stream of items whose values
// repeat, change and vanish in any order must read exactly as each item
// written by a Writer of its own.
func TestWriterMemoMatchesFreshWriters(t *testing.T) {
	t.Parallel()
	base := sampleItems()
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "Acme", "Acme", "Ünïcode \"q\"", "https://x.example/p"}
	lists := [][]string{nil, {"US"}, {"US", "CA"}, {"https://a/1.jpg", "https://a/2.jpg"}}
	var items []feed.Item
	for i := range 300 {
		it := base[i%len(base)]
		pick := func() string { return strs[rng.IntN(len(strs))] }
		it.Brand, it.ProductCategory, it.GroupID, it.SellerName, it.SellerURL = pick(), pick(), pick(), pick(), pick()
		it.SellerPrivacyPolicy, it.SellerTOS, it.ReturnPolicy, it.StoreCountry, it.Condition = pick(), pick(), pick(), pick(), pick()
		it.Description = pick()
		if rng.IntN(3) > 0 { // a fresh slice with the same strings, or another list
			l := lists[rng.IntN(len(lists))]
			it.TargetCountries = append([]string(nil), l...)
			it.AdditionalImageURLs = l
		}
		items = append(items, it)
	}
	for _, names := range []feed.FieldNames{feed.NamesCurrent, feed.Names2025} {
		var all bytes.Buffer
		w, err := feed.NewWriter(&all, feed.FormatJSONL, names)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for _, it := range items {
			if err := w.Write(it); err != nil {
				t.Fatal(err)
			}
			var one bytes.Buffer
			w1, _ := feed.NewWriter(&one, feed.FormatJSONL, names)
			if err := w1.Write(it); err != nil {
				t.Fatal(err)
			}
			if err := w1.Close(); err != nil {
				t.Fatal(err)
			}
			want = append(want, gunzip(t, one.Bytes())...)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := gunzip(t, all.Bytes()); !bytes.Equal(got, want) {
			t.Fatalf("%s: a stream differs from its items written one by one", names)
		}
	}
}
