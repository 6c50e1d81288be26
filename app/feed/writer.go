package feed

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/acpbridge/acpbridge/acp"
)

// Format is the file format of a feed: gzip-compressed text, or Parquet
// (zstd-compressed columns).
type Format string

// The formats of the OpenAI file upload, which prefers Parquet.
const (
	FormatJSONL   Format = "jsonl.gz"
	FormatCSV     Format = "csv.gz"
	FormatTSV     Format = "tsv.gz"
	FormatParquet Format = "parquet"
)

// Formats lists every format, the preferred first.
var Formats = []Format{FormatParquet, FormatJSONL, FormatCSV, FormatTSV}

// Valid reports whether f is a known format.
func (f Format) Valid() bool {
	switch f {
	case FormatJSONL, FormatCSV, FormatTSV, FormatParquet:
		return true
	}
	return false
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("feed: writer is closed")

// Writer streams Items as an OpenAI feed file: gzip'd text, or Parquet
// (see parquet.go; parquet-go compresses on the caller's goroutine and
// writes a row group at a time, so memory stays bounded there too). For
// the gzip'd formats: Encoding runs on the
// caller's goroutine and deflate on background workers (see compressor),
// so a build uses every core; a fixed set of buffers circulates between
// them, so memory stays bounded whatever the size of the feed. The
// underlying io.Writer is only written from within Write and Close, on the
// caller's goroutine. A Writer is not safe for concurrent use. Close it to
// finish the file; a Writer dropped without Close (after an error, say)
// releases its workers when it is garbage collected.
type Writer struct {
	c      *compressor
	pq     pqSink // FormatParquet only
	item   Item   // FormatParquet: the item being written
	format Format
	names  FieldNames
	legacy bool
	cols   []col
	prefix [][]byte // JSONL: `,"name":` per column
	buf    []byte
	csv    *csv.Writer
	rec    []string
	offs   []int
	n      int
	err    error
	closed bool

	// The description is the longest value and the same for every variant
	// of a product: its JSON encoding is kept for the next item.
	descRaw  string
	descJSON []byte
	// JSONL: the encodings of the columns that keep their value from item
	// to item (a product's, or the whole feed's), reused while they do.
	memo [numCols]jsonMemo
}

// jsonMemo is a column's last value and its JSON encoding.
type jsonMemo struct {
	str     string
	list    []string
	present bool // the column had a value
	set     bool
	enc     []byte
}

// memoized marks the columns worth remembering: the same for every
// variant of a product (brand, category, group, images) or for the whole
// feed (the seller's and the policies' fields).
var memoized = func() (m [numCols]bool) {
	for _, c := range []col{cBrand, cProductCategory, cCondition, cAdditionalImageURLs, cGroupID, cSellerName, cSellerURL,
		cSellerPrivacyPolicy, cSellerTOS, cReturnPolicy, cTargetCountries, cStoreCountry} {
		m[c] = true
	}
	return m
}()

// memoValue returns a memoized column's value.
func (it *Item) memoValue(c col) (string, []string) {
	switch c {
	case cBrand:
		return it.Brand, nil
	case cProductCategory:
		return it.ProductCategory, nil
	case cCondition:
		return it.Condition, nil
	case cAdditionalImageURLs:
		return "", it.AdditionalImageURLs
	case cGroupID:
		return it.GroupID, nil
	case cSellerName:
		return it.SellerName, nil
	case cSellerURL:
		return it.SellerURL, nil
	case cSellerPrivacyPolicy:
		return it.SellerPrivacyPolicy, nil
	case cSellerTOS:
		return it.SellerTOS, nil
	case cReturnPolicy:
		return it.ReturnPolicy, nil
	case cTargetCountries:
		return "", it.TargetCountries
	case cStoreCountry:
		return it.StoreCountry, nil
	}
	return "", nil
}

// sameList reports whether a and b hold the same strings (cheap when they
// share them, as the items of a product do).
func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// NewWriter starts a feed of format f with the given field naming on w and,
// for CSV and TSV, writes the header row (Columns(names)).
//
//   - JSONL: one JSON object per line, keys in column order; fields without
//     a value are omitted; lists are JSON arrays, variant_dict an object,
//     booleans and numbers (weight, inventory_quantity, the return window)
//     are JSON booleans and numbers, prices strings like "12.34 USD".
//   - CSV: RFC 4180 (encoding/csv, CRLF line ends), every column on every
//     row, empty cells where there is no value; values as in Item.Fields.
//   - TSV: tab-separated, no quoting; tabs and line breaks inside values
//     become spaces.
//   - Parquet: the JSONL feed's columns, typed; a row reads back as the
//     item's JSONL line (see parquet.go).
//
// In CSV and TSV, a cell that a spreadsheet would read as a formula (see
// neutralizeFormula) is prefixed with a single quote; JSONL is left as is.
func NewWriter(w io.Writer, f Format, names FieldNames) (*Writer, error) {
	if !names.Valid() {
		return nil, fmt.Errorf("feed: unknown field names %q", names)
	}
	if !f.Valid() {
		return nil, fmt.Errorf("feed: unknown format %q", f)
	}
	if f == FormatParquet {
		return &Writer{pq: newParquet(w, names), format: f, names: names}, nil
	}
	c := newCompressor(w)
	fw := &Writer{
		c:      c,
		format: f,
		names:  names,
		legacy: names.legacy(),
		cols:   layouts[idx(names)],
		buf:    c.buffer(),
	}
	stopWhenUnreachable(fw, c)
	switch f {
	case FormatJSONL:
		fw.prefix = make([][]byte, len(fw.cols))
		for i, col := range fw.cols {
			fw.prefix[i] = append(appendJSONString([]byte{','}, col.name(names)), ':')
		}
	case FormatCSV:
		fw.csv = csv.NewWriter((*bufSink)(fw))
		fw.csv.UseCRLF = true
		fw.rec = make([]string, len(fw.cols))
		fw.offs = make([]int, len(fw.cols)+1)
		fw.err = fw.csv.Write(Columns(names))
	case FormatTSV:
		for i, col := range fw.cols {
			if i > 0 {
				fw.buf = append(fw.buf, '\t')
			}
			fw.buf = append(fw.buf, col.name(names)...)
		}
		fw.buf = append(fw.buf, '\n')
	}
	return fw, nil
}

// Write appends one item. Errors are sticky: after the first, every Write
// and Close returns it.
func (w *Writer) Write(it Item) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	switch w.format {
	case FormatParquet:
		// Through the Writer's own copy: &it would escape to the heap
		// through the interface call, an allocation per item.
		w.item = it
		w.err = w.pq.write(&w.item)
		w.item = Item{}
		if w.err != nil {
			return w.err
		}
		w.n++
		return nil
	case FormatJSONL:
		w.buf = w.appendJSONL(w.buf, &it)
	case FormatTSV:
		w.buf = w.appendTSV(w.buf, &it)
	case FormatCSV:
		if w.err = w.writeCSV(&it); w.err != nil {
			return w.err
		}
	}
	w.n++
	if len(w.buf) >= bufSize {
		w.buf = w.c.swap(w.buf)
		w.err = w.c.err
	}
	return w.err
}

// Count is the number of items written.
func (w *Writer) Count() int { return w.n }

// Close flushes everything, ends the gzip stream and stops the compression
// workers (Parquet: writes the last row group and the footer). It does not
// close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.pq != nil {
		if err := w.pq.close(); w.err == nil {
			w.err = err
		}
		w.pq = nil
		return w.err
	}
	if w.csv != nil {
		w.csv.Flush()
		if err := w.csv.Error(); w.err == nil {
			w.err = err
		}
	}
	if err := w.c.close(w.buf); w.err == nil {
		w.err = err
	}
	w.buf = nil
	return w.err
}

// bufSink lets encoding/csv append to the Writer's buffer.
type bufSink Writer

func (s *bufSink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (w *Writer) appendJSONL(dst []byte, it *Item) []byte {
	dst = append(dst, '{')
	first := true
	for i, c := range w.cols {
		mark := len(dst)
		p := w.prefix[i]
		if first {
			p = p[1:] // no comma before the first key
		}
		dst = append(dst, p...)
		var ok bool
		if memoized[c] {
			m := &w.memo[c]
			str, list := it.memoValue(c)
			if !m.set || m.str != str || !sameList(m.list, list) {
				start := len(dst)
				dst, ok = it.appendValue(dst, c, w.legacy, true)
				m.str, m.list, m.present, m.set = str, list, ok, true
				m.enc = append(m.enc[:0], dst[start:]...)
			} else if ok = m.present; ok {
				dst = append(dst, m.enc...)
			}
		} else if c == cDescription && it.Description != "" {
			if it.Description != w.descRaw {
				w.descRaw = it.Description
				w.descJSON = appendJSONString(w.descJSON[:0], it.Description)
			}
			dst, ok = append(dst, w.descJSON...), true
		} else {
			dst, ok = it.appendValue(dst, c, w.legacy, true)
		}
		if !ok {
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return append(dst, '}', '\n')
}

func (w *Writer) appendTSV(dst []byte, it *Item) []byte {
	for i, c := range w.cols {
		if i > 0 {
			dst = append(dst, '\t')
		}
		mark := len(dst)
		dst, _ = it.appendValue(dst, c, w.legacy, false)
		for k := mark; k < len(dst); k++ {
			if b := dst[k]; b == '\t' || b == '\n' || b == '\r' {
				dst[k] = ' '
			}
		}
		dst = neutralizeFormula(dst, mark)
	}
	return append(dst, '\n')
}

// writeCSV renders the row into one string (one allocation) and hands
// encoding/csv slices of it.
func (w *Writer) writeCSV(it *Item) error {
	row := w.descJSON[:0] // scratch space; the JSONL cache is unused here
	for i, c := range w.cols {
		w.offs[i] = len(row)
		row, _ = it.appendValue(row, c, w.legacy, false)
		row = neutralizeFormula(row, w.offs[i])
	}
	w.offs[len(w.cols)] = len(row)
	s := string(row)
	for i := range w.cols {
		w.rec[i] = s[w.offs[i]:w.offs[i+1]]
	}
	w.descJSON = row[:0]
	return w.csv.Write(w.rec)
}

// neutralizeFormula prefixes the cell that starts at dst[mark] with a
// single quote when it begins with a character a spreadsheet takes as the
// start of a formula (=, +, -, @, tab, carriage return: OWASP's CSV
// injection list), so a title such as =HYPERLINK(…) opened in Excel or
// Sheets is shown as text instead of run. Feed values come from merchants
// and their staff; the shop's own feed file is the one a merchant is most
// likely to open in a spreadsheet. Prices and numbers never start with
// these characters (negative quantities are left out), so they are
// unchanged; the quote only costs something on such cells.
func neutralizeFormula(dst []byte, mark int) []byte {
	if mark >= len(dst) {
		return dst
	}
	switch dst[mark] {
	case '=', '+', '-', '@', '\t', '\r':
		dst = append(dst, 0)
		copy(dst[mark+1:], dst[mark:])
		dst[mark] = '\''
	}
	return dst
}

// ACPWriter streams acp.FeedProduct values as gzip'd JSON Lines: the
// products.jsonl of ACP Feed API file ingestion (the companion
// metadata.json is a plain acp.FeedMetadata). Like Writer it deflates on
// background workers with bounded buffers and writes to the underlying
// io.Writer only within Write and Close; it is not safe for concurrent use.
type ACPWriter struct {
	c      *compressor
	buf    []byte
	enc    *json.Encoder
	n      int
	err    error
	closed bool
}

// NewACPWriter starts a products.jsonl.gz stream on w.
func NewACPWriter(w io.Writer) *ACPWriter {
	c := newCompressor(w)
	aw := &ACPWriter{c: c, buf: c.buffer()}
	stopWhenUnreachable(aw, c)
	aw.enc = json.NewEncoder((*acpSink)(aw))
	aw.enc.SetEscapeHTML(false)
	return aw
}

type acpSink ACPWriter

func (s *acpSink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// Write appends one product as one line. Errors are sticky.
func (w *ACPWriter) Write(p acp.FeedProduct) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	mark := len(w.buf)
	if err := w.enc.Encode(p); err != nil {
		w.buf = w.buf[:mark]
		return err // not sticky: nothing was written
	}
	w.n++
	if len(w.buf) >= bufSize {
		w.buf = w.c.swap(w.buf)
		w.err = w.c.err
	}
	return w.err
}

// Count is the number of products written.
func (w *ACPWriter) Count() int { return w.n }

// Close ends the gzip stream and stops the compression workers; it does
// not close the underlying io.Writer.
func (w *ACPWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if err := w.c.close(w.buf); w.err == nil {
		w.err = err
	}
	w.buf = nil
	return w.err
}
