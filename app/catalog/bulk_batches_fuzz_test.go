package catalog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// FuzzBulkReaderBatches: the bulk JSONL reader gives the same rows, in the
// same order, or the same error (a sync then keeps the old catalog), whatever the batch size the importer asks
// for (1, 7 or everything at once); a file it reads to the end has only
// JSON objects on its non-blank lines (as encoding/json sees them) and no
// more rows than lines; an error names a line of the file.
func FuzzBulkReaderBatches(f *testing.F) {
	for _, s := range []string{
		"{\"id\":\"gid://shopify/Product/1\",\"title\":\"T\"}\n{\"id\":\"gid://shopify/ProductVariant/2\",\"price\":\"2.50\",\"__parentId\":\"gid://shopify/Product/1\"}\n" +
			"{\"id\":\"gid://shopify/MediaImage/3\",\"image\":{\"url\":\"https://x/a.jpg\"},\"__parentId\":\"gid://shopify/Product/1\"}\n" +
			"{\"id\":\"gid://shopify/Collection/4\",\"title\":\"C\",\"__parentId\":\"gid://shopify/Product/1\"}",
		"\r\n{\"id\":\"gid://shopify/Product/1\"}\r\n\r\n",
		"{\"id\":\"gid://shopify/Product/1\"}\n[]\n{\"id\":\"gid://shopify/Product/2\"}",
		"{\"id\":\"gid://shopify/ProductVariant/2\",\"price\":\"x\",\"__parentId\":\"gid://shopify/Product/1\"}",
		"{\"id\":\"gid://shopify/Video/9\"}\n{\"id\":\"gid://shopify/Product/1?x=1\"}",
		"{\"id\":\"gid://shopify/Product/1\"} {\"id\":\"gid://shopify/Product/2\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		rows, err := readAllBulk(data, 1)
		for _, n := range []int{7, 1 << 20} {
			rows2, err2 := readAllBulk(data, n)
			if fmt.Sprint(err) != fmt.Sprint(err2) || err == nil && !reflect.DeepEqual(rows, rows2) {
				t.Fatalf("batches of 1 and of %d differ:\n%v %v\n%v %v", n, err, rows, err2, rows2)
			}
		}
		sc := bufio.NewScanner(strings.NewReader(data))
		sc.Buffer(nil, catalog.MaxBulkLine)
		lines, nonBlank := 0, 0
		allObjects := true
		for sc.Scan() {
			lines++
			raw := bytes.TrimSpace(sc.Bytes())
			if len(raw) == 0 {
				continue
			}
			nonBlank++
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil || m == nil {
				allObjects = false
			}
		}
		if err != nil {
			var line int
			if _, serr := fmt.Sscanf(err.Error(), "bulk line %d:", &line); serr != nil || line < 1 || line > lines+1 {
				t.Fatalf("error %q names no line of the %d", err, lines)
			}
			return
		}
		if !allObjects {
			t.Fatalf("read %q to the end, but a line is not a JSON object for encoding/json", data)
		}
		if rows.Len() > nonBlank {
			t.Fatalf("%d rows from %d lines", rows.Len(), nonBlank)
		}
	})
}

// readAllBulk reads data to the end in batches of n and returns every row
// (copied out of the reused batch), by kind, and the error that ended it (nil for
// io.EOF).
func readAllBulk(data string, n int) (app.CatalogBatch, error) {
	rd := catalog.NewBulkReader(strings.NewReader(data), "USD")
	var b, rows app.CatalogBatch
	for range 100_000 {
		err := rd.Next(&b, n)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if b.Len() == 0 || b.Len() > n {
			return rows, fmt.Errorf("a batch of %d rows for %d asked", b.Len(), n)
		}
		// A batch groups its rows by kind: the rows of each kind, in file
		// order, are what must not depend on the batch size.
		rows.Products = append(rows.Products, b.Products...)
		rows.Variants = append(rows.Variants, b.Variants...)
		rows.Media = append(rows.Media, b.Media...)
		rows.Collections = append(rows.Collections, b.Collections...)
	}
	return rows, errors.New("the reader never ended")
}
