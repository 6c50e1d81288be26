package feed_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/feed"
)

// sampleItems maps a few products, with values that stress the encoders.
func sampleItems() []feed.Item {
	s, shop := testSettings(), testShop()
	awkward := tee()
	awkward.ID, awkward.Handle = "8003", "awkward"
	awkward.URL = "https://acme.example/products/awkward"
	awkward.Title = `The "Quoted", Tee; 100% \ back-slashed`
	awkward.DescriptionHTML = "Line one<br>line two with \"quotes\", commas, 'apostrophes' and \u2028 separators 😀 عربى"
	awkward.Images = append(awkward.Images, feed.Image{URL: "https://cdn.acme.example/with,comma.jpg"})
	awkward.Variants[0].Options[0].Value = `Red "Rouge"`
	oos := mug()
	oos.ID, oos.Variants[0].ID = "8004", "4040"
	oos.Variants[0].AvailableForSale = false
	oos.Variants[0].InventoryQuantity = 0
	var items []feed.Item
	for _, p := range []feed.Product{tee(), mug(), awkward, oos} {
		items = append(items, feed.Map(p, s, shop)...)
	}
	// Map cleans identifiers, but writers must cope with any Item.
	for i := range items {
		if items[i].GroupID == "8003" {
			items[i].MPN = "MPN\tWITH\nBREAKS,\x01CTRL\u2028END"
			break
		}
	}
	return items
}

// jsonToText renders a decoded JSON value the way Fields renders it.
func jsonToText(t *testing.T, key string, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		if v == "" {
			t.Errorf("%s: empty string written; empty values must be omitted", key)
		}
		return v
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = strings.ReplaceAll(e.(string), ",", "%2C")
		}
		return strings.Join(parts, ",")
	case map[string]any:
		t.Fatalf("%s: unexpected object", key)
	}
	t.Fatalf("%s: unexpected JSON type %T", key, v)
	return ""
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	items := sampleItems()
	for _, names := range []feed.FieldNames{feed.NamesCurrent, feed.Names2025} {
		for _, format := range []feed.Format{feed.FormatJSONL, feed.FormatCSV, feed.FormatTSV} {
			t.Run(string(names)+"/"+string(format), func(t *testing.T) {
				t.Parallel()
				var out closeRecorder
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
				if out.closed {
					t.Error("Close closed the underlying writer")
				}
				if w.Count() != len(items) {
					t.Errorf("Count = %d, want %d", w.Count(), len(items))
				}
				if err := w.Write(items[0]); !errors.Is(err, feed.ErrClosed) {
					t.Errorf("Write after Close = %v", err)
				}
				raw := gunzip(t, out.Bytes())
				cols := feed.Columns(names)
				switch format {
				case feed.FormatJSONL:
					checkJSONL(t, raw, items, names, cols)
				case feed.FormatCSV:
					checkCSV(t, raw, items, names, cols)
				case feed.FormatTSV:
					checkTSV(t, raw, items, names, cols)
				}
			})
		}
	}
}

func checkJSONL(t *testing.T, raw []byte, items []feed.Item, names feed.FieldNames, cols []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != len(items) {
		t.Fatalf("%d lines for %d items", len(lines), len(items))
	}
	for i, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, line)
		}
		want := fieldMap(items[i].Fields(names))
		// Keys appear in column order.
		var keys []string
		kd := json.NewDecoder(strings.NewReader(line))
		kd.Token()
		for kd.More() {
			k, _ := kd.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			kd.Decode(&skip)
		}
		if !slices.IsSortedFunc(keys, func(a, b string) int { return slices.Index(cols, a) - slices.Index(cols, b) }) {
			t.Errorf("line %d: keys out of column order: %v", i, keys)
		}
		for k, v := range obj {
			if !slices.Contains(cols, k) {
				t.Errorf("line %d: unknown key %q", i, k)
				continue
			}
			var got string
			if k == "variant_dict" {
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("variant_dict is %T", v)
				}
				var wantDict map[string]any
				if err := json.Unmarshal([]byte(want[k]), &wantDict); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(m, wantDict) {
					t.Errorf("line %d: variant_dict = %v, want %v", i, m, wantDict)
				}
				continue
			}
			got = jsonToText(t, k, v)
			if got != want[k] {
				t.Errorf("line %d: %s = %q, want %q", i, k, got, want[k])
			}
		}
		for k, v := range want {
			if _, ok := obj[k]; !ok && v != "" {
				t.Errorf("line %d: %s missing (want %q)", i, k, v)
			}
		}
		// Typed values.
		for _, k := range []string{"is_eligible_search", "enable_search", "is_eligible_checkout", "enable_checkout"} {
			if v, ok := obj[k]; ok {
				if _, isBool := v.(bool); !isBool {
					t.Errorf("line %d: %s is %T, want bool", i, k, v)
				}
			}
		}
		if names == feed.NamesCurrent {
			if _, ok := obj["target_countries"].([]any); !ok {
				t.Errorf("line %d: target_countries is %T, want array", i, obj["target_countries"])
			}
			if _, ok := obj["weight"].(json.Number); !ok && obj["weight"] != nil {
				t.Errorf("line %d: weight is %T, want number", i, obj["weight"])
			}
		}
	}
}

func checkCSV(t *testing.T, raw []byte, items []feed.Item, names feed.FieldNames, cols []string) {
	t.Helper()
	if !bytes.Contains(raw, []byte("\r\n")) {
		t.Error("CSV rows do not end in CRLF (RFC 4180)")
	}
	r := csv.NewReader(bytes.NewReader(raw))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(items)+1 {
		t.Fatalf("%d rows for %d items", len(rows), len(items))
	}
	if !slices.Equal(rows[0], cols) {
		t.Fatalf("header = %v, want %v", rows[0], cols)
	}
	for i, it := range items {
		var want []string
		for _, f := range it.Fields(names) {
			want = append(want, f.Value)
		}
		if !slices.Equal(rows[i+1], want) {
			t.Errorf("row %d = %q\nwant %q", i+1, rows[i+1], want)
		}
	}
}

func checkTSV(t *testing.T, raw []byte, items []feed.Item, names feed.FieldNames, cols []string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	var rows [][]string
	for sc.Scan() {
		rows = append(rows, strings.Split(sc.Text(), "\t"))
	}
	if len(rows) != len(items)+1 {
		t.Fatalf("%d rows for %d items", len(rows), len(items))
	}
	if !slices.Equal(rows[0], cols) {
		t.Fatalf("header = %v, want %v", rows[0], cols)
	}
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for i, it := range items {
		var want []string
		for _, f := range it.Fields(names) {
			want = append(want, clean.Replace(f.Value))
		}
		if !slices.Equal(rows[i+1], want) {
			t.Errorf("row %d = %q\nwant %q", i+1, rows[i+1], want)
		}
	}
	if !strings.Contains(string(raw), "MPN WITH BREAKS,\x01CTRL") {
		t.Error("tab and newline inside a TSV value were not replaced by spaces")
	}
}

func TestWriterEscaping(t *testing.T) {
	t.Parallel()
	items := sampleItems()
	var buf bytes.Buffer
	w, err := feed.NewWriter(&buf, feed.FormatJSONL, feed.NamesCurrent)
	if err != nil {
		t.Fatal(err)
	}
	var awkward feed.Item
	for _, it := range items {
		if strings.HasPrefix(it.Title, "The \"Quoted\"") {
			awkward = it
			break
		}
	}
	if err := w.Write(awkward); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	line := string(gunzip(t, buf.Bytes()))
	for _, want := range []string{`\"Quoted\"`, `\\ back-slashed`, `\u2028`, `MPN\tWITH\nBREAKS,\u0001CTRL`, `"Color":"Red \"Rouge\""`, "😀 عربى"} {
		if !strings.Contains(line, want) {
			t.Errorf("JSONL lacks %s:\n%s", want, line)
		}
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		t.Fatal(err)
	}
	if obj["mpn"] != "MPN\tWITH\nBREAKS,\x01CTRL\u2028END" || obj["title"] != awkward.Title {
		t.Errorf("decoded mpn %q title %q", obj["mpn"], obj["title"])
	}
	if strings.Count(line, "\n") != 1 {
		t.Error("a JSONL record spans several lines")
	}
}

func TestWriterLargeStream(t *testing.T) {
	t.Parallel()
	items := feed.Map(tee(), testSettings(), testShop())
	const n = 6000 // well past the 64 KiB flush threshold
	for _, format := range []feed.Format{feed.FormatJSONL, feed.FormatCSV, feed.FormatTSV} {
		var buf bytes.Buffer
		w, err := feed.NewWriter(&buf, format, feed.NamesCurrent)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			it := items[i%len(items)]
			it.ItemID = strconv.Itoa(i)
			if err := w.Write(it); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		raw := gunzip(t, buf.Bytes())
		lines := bytes.Count(raw, []byte("\n"))
		want := n
		if format != feed.FormatJSONL {
			want++ // header
		}
		if lines != want {
			t.Errorf("%s: %d lines, want %d", format, lines, want)
		}
	}
}

// TestWriterGzipStream checks the parallel compressor's output: one gzip
// member (no concatenated members), correct CRC-32 and length (gzip.Reader
// verifies both), byte-identical content across block boundaries, and, when
// the gzip tool is installed, acceptance by zlib's decoder.
func TestWriterGzipStream(t *testing.T) {
	t.Parallel()
	items := feed.Map(tee(), testSettings(), testShop())
	for _, n := range []int{0, 1, 3000} { // 3000 items ≈ 6 MB: many 256 KiB blocks
		var gz bytes.Buffer
		w, err := feed.NewWriter(&gz, feed.FormatJSONL, feed.NamesCurrent)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		for i := range n {
			it := items[i%len(items)]
			it.ItemID = strconv.Itoa(i)
			if err := w.Write(it); err != nil {
				t.Fatal(err)
			}
			want.WriteString(`{"item_id":"` + it.ItemID + `",`)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(bytes.NewReader(gz.Bytes()))
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("n=%d: data after the first gzip member", n)
		}
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		if n == 0 {
			lines = nil
		}
		if len(lines) != n {
			t.Fatalf("n=%d: %d lines", n, len(lines))
		}
		var got bytes.Buffer
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Fatalf("n=%d: invalid JSON line %q", n, l)
			}
			got.WriteString(l[:strings.Index(l, `,"title"`)+1])
		}
		if got.String() != want.String() {
			t.Errorf("n=%d: item ids out of order or corrupted", n)
		}
		if path, err := exec.LookPath("gzip"); err == nil {
			cmd := exec.Command(path, "-t")
			cmd.Stdin = bytes.NewReader(gz.Bytes())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("n=%d: gzip -t: %v %s", n, err, out)
			}
		}
	}
}

// TestAbandonedWriterReleasesWorkers drops writers without Close, as a
// caller does after an error, and checks that their compression workers go
// away with them. It counts goroutines, so it does not run in parallel.
func TestAbandonedWriterReleasesWorkers(t *testing.T) {
	items := feed.Map(tee(), testSettings(), testShop())
	base := runtime.NumGoroutine()
	for range 3 {
		w, err := feed.NewWriter(io.Discard, feed.FormatJSONL, feed.NamesCurrent)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 500 { // several blocks in flight
			if err := w.Write(items[i%len(items)]); err != nil {
				t.Fatal(err)
			}
		}
		aw := feed.NewACPWriter(io.Discard)
		_ = aw.Write(feed.ToACP(tee(), testSettings(), testShop()))
	}
	if runtime.NumGoroutine() <= base {
		t.Fatal("writers started no workers; the test proves nothing")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left behind by abandoned writers", n-base)
	}
}

func TestNewWriterRejectsUnknown(t *testing.T) {
	t.Parallel()
	if _, err := feed.NewWriter(&bytes.Buffer{}, "xml.gz", feed.NamesCurrent); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := feed.NewWriter(&bytes.Buffer{}, feed.FormatJSONL, "2024"); err == nil {
		t.Error("unknown field names accepted")
	}
}

type failingWriter struct{ left int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, errors.New("disk full")
	}
	f.left -= len(p)
	return len(p), nil
}

func TestWriterPropagatesErrors(t *testing.T) {
	t.Parallel()
	items := feed.Map(tee(), testSettings(), testShop())
	for _, format := range []feed.Format{feed.FormatJSONL, feed.FormatCSV, feed.FormatTSV} {
		w, err := feed.NewWriter(&failingWriter{left: 100}, format, feed.NamesCurrent)
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		for i := 0; i < 5000 && werr == nil; i++ {
			werr = w.Write(items[i%len(items)])
		}
		cerr := w.Close()
		if werr == nil && cerr == nil {
			t.Errorf("%s: no error from a failing writer", format)
		}
	}
	aw := feed.NewACPWriter(&failingWriter{left: 10})
	p := feed.ToACP(tee(), testSettings(), testShop())
	var werr error
	for i := 0; i < 2000 && werr == nil; i++ {
		werr = aw.Write(p)
	}
	if cerr := aw.Close(); werr == nil && cerr == nil {
		t.Error("ACPWriter: no error from a failing writer")
	}
}

func TestACPWriterRoundTrip(t *testing.T) {
	t.Parallel()
	sch := loadSchema(t, "Product")
	s, shop := testSettings(), testShop()
	var products []acp.FeedProduct
	for _, p := range []feed.Product{tee(), mug()} {
		products = append(products, feed.ToACP(p, s, shop))
	}
	var out closeRecorder
	w := feed.NewACPWriter(&out)
	for _, p := range products {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.closed || w.Count() != len(products) {
		t.Errorf("closed=%v count=%d", out.closed, w.Count())
	}
	lines := strings.Split(strings.TrimSuffix(string(gunzip(t, out.Bytes())), "\n"), "\n")
	if len(lines) != len(products) {
		t.Fatalf("%d lines for %d products", len(lines), len(products))
	}
	for i, line := range lines {
		if err := schemaValidate(t, sch, []byte(line)); err != nil {
			t.Errorf("line %d does not validate: %v", i, err)
		}
		var got acp.FeedProduct
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, products[i]) {
			t.Errorf("line %d round trip differs:\n got %+v\nwant %+v", i, got, products[i])
		}
	}
}

func ExampleNewWriter() {
	var buf bytes.Buffer
	w, _ := feed.NewWriter(&buf, feed.FormatCSV, feed.Names2025)
	for _, it := range feed.Map(mug(), testSettings(), testShop()) {
		if !feed.HasErrors(feed.Validate(it, feed.Names2025)) {
			_ = w.Write(it)
		}
	}
	_ = w.Close()
	fmt.Println(w.Count(), "item;", feed.Columns(feed.Names2025)[:4])
	// Output: 1 item; [id title description link]
}

// TestWriterNeutralizesFormulas: a merchant's (or a staff member's) text
// that starts like a spreadsheet formula goes out in CSV and TSV with a
// leading single quote, so Excel or Sheets shows it instead of running it
// (the review's =HYPERLINK(…) override title); JSONL is not a spreadsheet
// format and keeps the text as it is.
func TestWriterNeutralizesFormulas(t *testing.T) {
	t.Parallel()
	it := sampleItems()[0]
	it.Title = `=HYPERLINK("http://x","y")`
	it.Description = "-2+3 sale"
	it.Brand = "@SUM(A1:A9)"
	it.MPN = "+cmd|' /C calc'!A0"
	it.Color = "\t=1+1"   // CSV keeps the tab
	it.Size = "\r=1+1"    // and a carriage return
	it.GTIN = "12345678"  // a plain value: untouched
	it.ItemID = "a=b-c@d" // formula characters after the first: untouched

	encode := func(f feed.Format) []byte {
		var buf bytes.Buffer
		w, err := feed.NewWriter(&buf, f, feed.NamesCurrent)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return gunzip(t, buf.Bytes())
	}
	cell := func(cols, row []string, name string) string {
		i := slices.Index(cols, name)
		if i < 0 || i >= len(row) {
			t.Fatalf("no column %s in %q", name, cols)
		}
		return row[i]
	}

	rows, err := csv.NewReader(bytes.NewReader(encode(feed.FormatCSV))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	tsvLines := strings.Split(strings.TrimSuffix(string(encode(feed.FormatTSV)), "\n"), "\n")
	if len(tsvLines) != 2 {
		t.Fatalf("TSV: %d lines", len(tsvLines))
	}
	tsvCols, tsvRow := strings.Split(tsvLines[0], "\t"), strings.Split(tsvLines[1], "\t")
	for _, tc := range []struct{ col, csv, tsv string }{
		{"title", `'=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"description", "'-2+3 sale", "'-2+3 sale"},
		{"brand", "'@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"mpn", "'+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		// TSV has already turned the tab and CR into spaces: nothing to run.
		{"color", "'\t=1+1", " =1+1"},
		// encoding/csv drops a lone CR when it writes CRLF line ends: without
		// the quote the cell would read =1+1.
		{"size", "'=1+1", " =1+1"},
		{"gtin", "12345678", "12345678"},
		{"item_id", "a=b-c@d", "a=b-c@d"},
	} {
		if got := cell(rows[0], rows[1], tc.col); got != tc.csv {
			t.Errorf("CSV %s = %q, want %q", tc.col, got, tc.csv)
		}
		if got := cell(tsvCols, tsvRow, tc.col); got != tc.tsv {
			t.Errorf("TSV %s = %q, want %q", tc.col, got, tc.tsv)
		}
	}
	// The other cells of the row are what Fields says.
	for _, f := range it.Fields(feed.NamesCurrent) {
		switch f.Name {
		case "title", "description", "brand", "mpn", "color", "size":
			continue
		}
		if got := cell(rows[0], rows[1], f.Name); got != f.Value {
			t.Errorf("CSV %s = %q, want %q", f.Name, got, f.Value)
		}
	}

	var obj map[string]any
	if err := json.Unmarshal(encode(feed.FormatJSONL), &obj); err != nil {
		t.Fatal(err)
	}
	if obj["title"] != it.Title || obj["description"] != it.Description || obj["brand"] != it.Brand {
		t.Errorf("JSONL changed the text: title %q description %q brand %q", obj["title"], obj["description"], obj["brand"])
	}
}
