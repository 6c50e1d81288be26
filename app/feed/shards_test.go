package feed_test

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/acpbridge/acpbridge/app/feed"
)

func TestShardCount(t *testing.T) {
	t.Parallel()
	const k = feed.ShardItems
	for _, c := range []struct {
		name        string
		items, prev int
		want        int
	}{
		{"empty catalog, first build", 0, 0, 1},
		{"small catalog", 10, 0, 1},
		{"exactly one shard", k, 0, 1},
		{"one more item", k + 1, 0, 2},
		{"1.2M items", 1_200_000, 0, 3},
		{"1.2M items again", 1_200_000, 3, 3},
		{"grows past a shard", 1_500_001, 3, 4},
		{"shrinks a little: kept", 999_999, 3, 3},
		{"shrinks to half a shard spare: kept", 2*k - k/2 + 1, 3, 3},
		{"shrinks past half a shard: fewer", 2*k - k/2, 3, 2},
		{"catalog emptied", 0, 3, 1},
		{"a previous larger count never forces too few", 2*k + 1, 2, 3},
	} {
		if got := feed.ShardCount(c.items, c.prev); got != c.want {
			t.Errorf("%s: ShardCount(%d, %d) = %d, want %d", c.name, c.items, c.prev, got, c.want)
		}
	}
}

func TestShardNames(t *testing.T) {
	t.Parallel()
	if got := feed.ShardName(feed.FormatParquet, 1, 3); got != "products-00001-of-00003.parquet" {
		t.Fatalf("ShardName = %q", got)
	}
	for _, f := range feed.Formats {
		for _, in := range [][2]int{{1, 1}, {2, 3}, {99999, 99999}} {
			name := feed.ShardName(f, in[0], in[1])
			gf, i, n, ok := feed.ParseShardName(name)
			if !ok || gf != f || i != in[0] || n != in[1] {
				t.Errorf("ParseShardName(%q) = %q %d %d %v", name, gf, i, n, ok)
			}
		}
	}
	for _, bad := range []string{"products.parquet", "products-00004-of-00003.parquet", "products-00000-of-00003.parquet",
		"products-00001-of-00003.xlsx", "products-0001-of-00003.parquet", "products-+0001-of-00003.parquet",
		"products-00001-of-00003.parquet/x", "../products-00001-of-00003.parquet", feed.ManifestName} {
		if _, _, _, ok := feed.ParseShardName(bad); ok {
			t.Errorf("ParseShardName(%q) accepted", bad)
		}
	}
}

// memFiles collects a ShardWriter's files by index.
type memFiles map[int]*bytes.Buffer

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (m memFiles) open(i int) (io.WriteCloser, error) {
	m[i] = &bytes.Buffer{}
	return nopCloser{m[i]}, nil
}

// countingFiles only counts each shard's bytes.
type countingFiles map[int]*countingWriter

func (m countingFiles) open(i int) (io.WriteCloser, error) {
	m[i] = &countingWriter{}
	return nopCloser{m[i]}, nil
}

// TestShardsOf1200kItems writes 1,200,000 items as a sharded feed twice,
// the second time with the first build's count, as a build does: both give
// the same three names, the items split 500k, 500k, 200k.
func TestShardsOf1200kItems(t *testing.T) {
	t.Parallel()
	const items = 1_200_000
	it := feed.Item{Title: "T", IsEligibleSearch: true, InventoryQuantity: -1}
	var names [2][]string
	prev := 0
	for build := range 2 {
		files := countingFiles{}
		sw, err := feed.NewShardWriter(feed.FormatTSV, feed.NamesCurrent, files.open)
		if err != nil {
			t.Fatal(err)
		}
		id := make([]byte, 0, 16)
		for n := range items {
			id = strconv.AppendInt(id[:0], int64(n), 10)
			it.ItemID = string(id)
			if err := sw.Write(it); err != nil {
				t.Fatal(err)
			}
		}
		n := feed.ShardCount(sw.Count(), prev)
		counts, err := sw.Finish(n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(counts, []int{500_000, 500_000, 200_000}) || len(files) != 3 {
			t.Fatalf("build %d: shards of %v items, %d files", build, counts, len(files))
		}
		for i := range n {
			names[build] = append(names[build], feed.ShardName(feed.FormatParquet, i+1, n))
		}
		prev = n
	}
	want := []string{"products-00001-of-00003.parquet", "products-00002-of-00003.parquet", "products-00003-of-00003.parquet"}
	if !slices.Equal(names[0], want) || !slices.Equal(names[1], want) {
		t.Fatalf("names %q then %q, want %q both times", names[0], names[1], want)
	}
}

// TestShardWriterPadsAndSplits: shards hold at most MaxItems, in order;
// Finish pads with valid empty shards; asking for fewer shards than
// written fails.
func TestShardWriterPadsAndSplits(t *testing.T) {
	t.Parallel()
	items := sampleItems()
	files := memFiles{}
	sw, err := feed.NewShardWriter(feed.FormatParquet, feed.NamesCurrent, files.open)
	if err != nil {
		t.Fatal(err)
	}
	sw.MaxItems = 2
	for _, it := range items[:5] {
		if err := sw.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := sw.Finish(4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(counts, []int{2, 2, 1, 0}) {
		t.Fatalf("counts %v", counts)
	}
	for i, n := range counts {
		_, rows := arrowRows(t, files[i+1].Bytes())
		if len(rows) != n {
			t.Fatalf("shard %d reads %d rows, want %d", i+1, len(rows), n)
		}
		for k, r := range rows {
			if r.values["item_id"] != items[2*i+k].ItemID {
				t.Errorf("shard %d row %d is item %v, want %s", i+1, k, r.values["item_id"], items[2*i+k].ItemID)
			}
		}
	}

	sw, _ = feed.NewShardWriter(feed.FormatJSONL, feed.NamesCurrent, memFiles{}.open)
	sw.MaxItems = 1
	for _, it := range items[:3] {
		_ = sw.Write(it)
	}
	if _, err := sw.Finish(2); err == nil {
		t.Fatal("Finish with fewer shards than written succeeded")
	}
}
