package feed_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/acpbridge/acpbridge/app/feed"
)

// parquetTestItems is 10,000 items: realistic products through the whole
// pipeline, then the awkward samples and items with edge values.
func parquetTestItems(t *testing.T) []feed.Item {
	t.Helper()
	s, shop := testSettings(), testShop()
	var items []feed.Item
	for _, p := range benchProducts(2500) {
		items = append(items, feed.Map(p, s, shop)...)
	}
	samples := sampleItems()
	edge := samples[0]
	edge.ItemID, edge.Title = "9001", "bad \xff UTF-8 \xc3 and \u2028 \"quotes\" <b>&amp;"
	edge.AdditionalImageURLs, edge.TargetCountries = []string{}, []string{"U\xffS", "CA"}
	edge.InventoryQuantity, edge.Weight, edge.ReturnDeadlineInDays, edge.AcceptsReturns = -1, 0, 0, false
	zero := samples[1]
	zero.ItemID, zero.InventoryQuantity, zero.Weight, zero.WeightUnit = "9002", 0, 0.125, "kg"
	zero.VariantDict = []feed.Option{{Name: "Size", Value: "L"}, {Name: "Color", Value: "Red"}, {Name: "Size", Value: "XL"}}
	items = append(items[:10_000-len(samples)-2], append(samples, edge, zero)...)
	if len(items) != 10_000 {
		t.Fatalf("%d items", len(items))
	}
	return items
}

// TestParquetReadsBackAsJSONL writes the same 10,000 items as jsonl.gz and
// as parquet, reads the Parquet file with an independent implementation
// (Apache Arrow's Go reader, not the parquet-go that wrote it) and checks
// that every row is the item's JSONL line: the same keys (a null where the
// line leaves a key out), the same values, variant_dict the same JSON text,
// and the columns in the feed's order.
func TestParquetReadsBackAsJSONL(t *testing.T) {
	t.Parallel()
	items := parquetTestItems(t)
	for _, names := range []feed.FieldNames{feed.NamesCurrent, feed.Names2025} {
		t.Run(string(names), func(t *testing.T) {
			jsonl, pq := writeFeed(t, feed.FormatJSONL, names, items), writeFeed(t, feed.FormatParquet, names, items)
			want := jsonlRows(t, gunzip(t, jsonl))
			cols, got := arrowRows(t, pq)
			if !slices.Equal(cols, feed.Columns(names)) {
				t.Errorf("columns\n got %q\nwant %q", cols, feed.Columns(names))
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i].values, want[i].values) {
					t.Fatalf("row %d differs from its JSONL line\n got %v\nwant %v", i, got[i].values, want[i].values)
				}
				if got[i].dict != want[i].dict {
					t.Fatalf("row %d: variant_dict %s, JSONL has %s", i, got[i].dict, want[i].dict)
				}
			}
		})
	}
}

func writeFeed(t *testing.T, format feed.Format, names feed.FieldNames, items []feed.Item) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := feed.NewWriter(&out, format, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != len(items) {
		t.Fatalf("Count %d, want %d", w.Count(), len(items))
	}
	return out.Bytes()
}

// row is one feed row as decoded JSON values (numbers as json.Number),
// and the raw text of its variant_dict.
type row struct {
	values map[string]any
	dict   string
}

func jsonlRows(t *testing.T, b []byte) []row {
	t.Helper()
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&r.values); err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		r.dict = string(raw["variant_dict"])
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// arrowRows reads a Parquet file with Arrow and returns its column names
// and rows, each value as encoding/json would decode the JSONL's.
func arrowRows(t *testing.T, b []byte) ([]string, []row) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if pf.NumRowGroups() > 0 {
		cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		if c := cc.Compression().String(); c != "ZSTD" {
			t.Errorf("compression %s, want ZSTD", c)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var cols []string
	for _, f := range rr.Schema().Fields() {
		cols = append(cols, f.Name)
	}
	var rows []row
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := range int(rec.NumRows()) {
			r := row{values: map[string]any{}}
			for c, arr := range rec.Columns() {
				if arr.IsNull(i) {
					continue
				}
				name := cols[c]
				v, err := jsonValue(arr, i)
				if err != nil {
					t.Fatalf("row %d column %s: %v", len(rows), name, err)
				}
				if name == "variant_dict" {
					s, _ := v.(string)
					r.dict = s
					var obj any
					dec := json.NewDecoder(bytes.NewReader([]byte(s)))
					dec.UseNumber()
					if err := dec.Decode(&obj); err != nil {
						t.Fatalf("variant_dict %q: %v", s, err)
					}
					v = obj
				}
				r.values[name] = v
			}
			rows = append(rows, r)
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, rows
}

// jsonValue converts Arrow's value to what decoding JSON gives.
func jsonValue(arr arrow.Array, i int) (any, error) {
	switch v := arr.GetOneForMarshal(i).(type) {
	case string, bool:
		return v, nil
	case json.RawMessage: // lists come as their JSON text
		var out any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		err := dec.Decode(&out)
		return out, err
	case int64:
		return json.Number(strconv.FormatInt(v, 10)), nil
	case float64:
		return json.Number(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case []any:
		out := make([]any, len(v))
		for k, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list element %T", e)
			}
			out[k] = s
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unexpected %s value %T", arr.DataType(), v)
	}
}
