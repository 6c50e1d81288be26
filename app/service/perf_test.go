//go:build linux

package service_test

// Scale harness for the two budgets of the catalog pipeline:
//
//   - ingest: a bulk-export JSONL of N variants into the database through
//     the app's own sync code (Catalog.PollSync → download → BulkReader →
//     UpsertCatalog in batches of 2,000 rows → prune), and
//   - build: Feeds.Build over the same rows (CatalogPages → map → validate
//     → jsonl.gz, csv.gz and tsv.gz stored in DB chunks).
//
// It is skipped unless ACPBRIDGE_PERF=1, so `go test ./...` stays fast.
//
//	ACPBRIDGE_PERF=1              run at all
//	ACPBRIDGE_PERF_VARIANTS=N     catalog size in variants (default 10000; N/4 products)
//	ACPBRIDGE_PERF_DB=postgres    databases, comma-separated (default postgres,sqlite)
//	ACPBRIDGE_PERF_DIR=dir        keep generated JSONL files there and reuse them
//	ACPBRIDGE_PERF_PROFILE=dir    write a CPU and an allocs profile per phase
//	ACPBRIDGE_PERF_OUT=file       append one TSV line per phase
//	ACPBRIDGE_PERF_BUILDS=N       run the timed build N times (default 1)
//	ACPBRIDGE_PERF_SKIP=a,b       skip phases: parse, read, formats, resync
//	ACPBRIDGE_PERF_QUIET=L        start each phase once the 1-minute load average is below L
//
// Every phase runs under the pprof label phase=NAME, so a whole-run
// `-cpuprofile` can be split with `go tool pprof -tagfocus=phase=ingest`
// (GC workers and the loopback file server are not labelled; the per-phase
// profiles of ACPBRIDGE_PERF_PROFILE include them). Peak RSS is VmHWM,
// reset before each phase through /proc/self/clear_refs; peak heap is
// HeapInuse sampled every 50 ms. See docs/benchmarks.md.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

const (
	perfShop = "perf-shop.myshopify.com"
	// perfGenVersion names generated files; bump it when the generator
	// changes so cached files are not reused.
	perfGenVersion = 2
)

// ---- configuration ----

func perfSkip(tb testing.TB) {
	tb.Helper()
	if os.Getenv("ACPBRIDGE_PERF") != "1" {
		tb.Skip("set ACPBRIDGE_PERF=1 to run the scale harness (see docs/benchmarks.md)")
	}
}

func perfVariants(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("ACPBRIDGE_PERF_VARIANTS")
	if s == "" {
		return 10_000
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 4 || n%4 != 0 {
		tb.Fatalf("ACPBRIDGE_PERF_VARIANTS=%q: want a multiple of 4", s)
	}
	return n
}

func perfKinds(tb testing.TB) []app.DatabaseKind {
	tb.Helper()
	s := os.Getenv("ACPBRIDGE_PERF_DB")
	if s == "" {
		return storetest.Kinds
	}
	var kinds []app.DatabaseKind
	for _, k := range strings.Split(s, ",") {
		switch kind := app.DatabaseKind(strings.TrimSpace(k)); kind {
		case app.DatabasePostgres, app.DatabaseSQLite:
			kinds = append(kinds, kind)
		default:
			tb.Fatalf("ACPBRIDGE_PERF_DB: unknown database %q", k)
		}
	}
	return kinds
}

// perfSkipPhase reports whether ACPBRIDGE_PERF_SKIP (comma-separated)
// names the phase: parse, read, formats or resync.
func perfSkipPhase(name string) bool {
	for _, p := range strings.Split(os.Getenv("ACPBRIDGE_PERF_SKIP"), ",") {
		if strings.TrimSpace(p) == name {
			return true
		}
	}
	return false
}

// ---- the catalog generator ----

var (
	perfSyllables = strings.Fields(`ka lo mi ter san dra po lin ve rus ton fi bel ar mo
que zen tal or ni cu pra sel dom wen ix ul bra cor fa gen hol jas kir lum nor pes`)
	perfAdjectives = []string{"Classic", "Organic Cotton", "Lightweight", "Heritage", "Everyday", "Premium",
		"Recycled", "Vintage", "Waterproof", "Merino", "Relaxed Fit", "Handmade"}
	perfNouns = []string{"Tee", "Hoodie", "Jacket", "Sneaker", "Backpack", "Mug", "Lamp", "Notebook",
		"Scarf", "Beanie", "Bottle", "Candle", "Tote Bag", "Overshirt"}
	perfVendors    = []string{"Acme Apparel", "Northwind Goods", "Blue Harbor", "Kalomi & Co.", "Terra Studio", "Fjell Outfitters"}
	perfCategories = [][2]string{
		{"Apparel & Accessories > Clothing > Shirts & Tops", "T-Shirts"},
		{"Apparel & Accessories > Clothing > Outerwear > Coats & Jackets", "Jackets"},
		{"Apparel & Accessories > Shoes > Sneakers", "Shoes"},
		{"Luggage & Bags > Backpacks", "Bags"},
		{"Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs", "Mugs"},
		{"Home & Garden > Lighting > Lamps", "Lighting"},
		{"Office Supplies > General Office Supplies > Paper Products > Notebooks & Notepads", "Stationery"},
		{"Apparel & Accessories > Clothing Accessories > Scarves & Shawls", "Accessories"},
	}
	perfTags   = []string{"new", "bestseller", "eco", "gift", "summer", "winter", "sale", "limited", "unisex", "staff-pick"}
	perfColors = []string{"Red", "Blue", "Black", "Olive", "Sand", "Navy", "Forest Green", "Oat"}
	perfSizes  = []string{"XS", "S", "M", "L", "XL", "XXL"}
)

// perfGen writes a realistic catalog bulk export: for each product one
// product line, two media images, one collection and four variants (two
// colours × two sizes), in the shape BulkReader parses (groupObjects:
// false, children after their parent with __parentId).
type perfGen struct {
	rng  *rand.Rand
	buf  []byte
	word strings.Builder
}

func newPerfGen() *perfGen {
	return &perfGen{rng: rand.New(rand.NewPCG(20260101, 42))}
}

func (g *perfGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// pseudoWord gives descriptions the variety of real text (a small
// vocabulary would flatter gzip).
func (g *perfGen) pseudoWord() string {
	g.word.Reset()
	for range 1 + g.rng.IntN(3) {
		g.word.WriteString(g.pick(perfSyllables))
	}
	return g.word.String()
}

func perfAppendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = fmt.Appendf(dst, `\u%04x`, c)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func perfAppendGID(dst []byte, kind string, id int64) []byte {
	dst = append(dst, `"gid://shopify/`...)
	dst = append(dst, kind...)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, id, 10)
	return append(dst, '"')
}

func perfAppendMoney(dst []byte, cents int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, cents/100, 10)
	dst = append(dst, '.')
	if c := cents % 100; c < 10 {
		dst = append(dst, '0', byte('0'+c))
	} else {
		dst = strconv.AppendInt(dst, c, 10)
	}
	return append(dst, '"')
}

// perfGTIN13 makes a valid EAN-13 from a 12-digit body.
func perfGTIN13(body int64) string {
	s := fmt.Sprintf("%012d", body%1_000_000_000_000)
	sum := 0
	for i, w := len(s)-1, 3; i >= 0; i, w = i-1, 4-w {
		sum += int(s[i]-'0') * w
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

// perfSlug makes a Shopify-like handle: lower-case letters and digits
// joined by single hyphens.
func perfSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// product appends the eight lines of product i.
func (g *perfGen) product(i int64) {
	pid := 8_000_000_000 + i
	name := g.pseudoWord()
	title := g.pick(perfAdjectives) + " " + g.pick(perfNouns) + " " + strings.ToUpper(name[:1]) + name[1:]
	if g.rng.IntN(10) == 0 {
		title += " – Limited Edition" // non-ASCII, as real titles have
	}
	handle := perfSlug(title) + "-" + strconv.FormatInt(i, 10)
	cat := perfCategories[g.rng.IntN(len(perfCategories))]
	b := g.buf

	// ~300 characters of HTML with an attribute, a list and an entity.
	var d strings.Builder
	d.WriteString(`<p class="lead">`)
	for d.Len() < 170 {
		d.WriteString(g.pseudoWord())
		d.WriteByte(' ')
	}
	d.WriteString("</p><ul><li>")
	for d.Len() < 270 {
		d.WriteString(g.pseudoWord())
		d.WriteByte(' ')
	}
	d.WriteString("</li><li>Care &amp; materials: see label</li></ul>")

	b = append(b, `{"id":`...)
	b = perfAppendGID(b, "Product", pid)
	b = append(b, `,"handle":`...)
	b = perfAppendStr(b, handle)
	b = append(b, `,"title":`...)
	b = perfAppendStr(b, title)
	b = append(b, `,"descriptionHtml":`...)
	b = perfAppendStr(b, d.String())
	b = append(b, `,"vendor":`...)
	b = perfAppendStr(b, g.pick(perfVendors))
	b = append(b, `,"productType":`...)
	b = perfAppendStr(b, cat[1])
	b = append(b, `,"status":"ACTIVE","onlineStoreUrl":`...)
	b = perfAppendStr(b, "https://perf-shop.example/products/"+handle)
	b = append(b, `,"updatedAt":`...)
	b = perfAppendStr(b, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	b = append(b, `,"tags":[`...)
	for k := range 3 {
		if k > 0 {
			b = append(b, ',')
		}
		b = perfAppendStr(b, perfTags[(int(i)+3*k)%len(perfTags)])
	}
	b = append(b, `],"category":{"fullName":`...)
	b = perfAppendStr(b, cat[0])
	b = append(b, "}}\n"...)

	c0 := g.rng.IntN(len(perfColors))
	colors := []string{perfColors[c0], perfColors[(c0+1+g.rng.IntN(len(perfColors)-1))%len(perfColors)]}
	s0 := g.rng.IntN(len(perfSizes) - 1)
	sizes := []string{perfSizes[s0], perfSizes[s0+1]}
	var imageURLs [2]string
	for k := range 2 {
		mid := 30_000_000_000 + 2*i + int64(k)
		imageURLs[k] = "https://cdn.shopify.com/s/files/1/0712/3456/7890/files/" + handle + "-" + perfSlug(colors[k]) + ".jpg?v=1767323045"
		b = append(b, `{"id":`...)
		b = perfAppendGID(b, "MediaImage", mid)
		b = append(b, `,"image":{"url":`...)
		b = perfAppendStr(b, imageURLs[k])
		b = append(b, `,"altText":`...)
		b = perfAppendStr(b, title+" in "+colors[k])
		b = append(b, `,"width":2048,"height":2048},"__parentId":`...)
		b = perfAppendGID(b, "Product", pid)
		b = append(b, "}\n"...)
	}

	coll := i % 40
	b = append(b, `{"id":`...)
	b = perfAppendGID(b, "Collection", 400_000_000+coll)
	b = append(b, `,"title":`...)
	b = perfAppendStr(b, "Collection "+strconv.FormatInt(coll, 10)+" "+perfTags[coll%int64(len(perfTags))])
	b = append(b, `,"__parentId":`...)
	b = perfAppendGID(b, "Product", pid)
	b = append(b, "}\n"...)

	base := int64(500 + g.rng.IntN(24_500)) // $5.00 – $250.00
	base -= base % 5
	onSale := g.rng.IntN(4) == 0
	weight := 150 + g.rng.IntN(1350)
	for k := range 4 {
		vid := 45_000_000_000 + 4*i + int64(k)
		color, size := colors[k/2], sizes[k%2]
		price := base + int64(k%2)*500
		qty := g.rng.IntN(60)
		if g.rng.IntN(12) == 0 {
			qty = 0
		}
		policy := "DENY"
		if g.rng.IntN(10) == 0 {
			policy = "CONTINUE"
		}
		b = append(b, `{"id":`...)
		b = perfAppendGID(b, "ProductVariant", vid)
		b = append(b, `,"title":`...)
		b = perfAppendStr(b, color+" / "+size)
		b = append(b, `,"sku":`...)
		b = perfAppendStr(b, "SKU-"+strconv.FormatInt(pid, 36)+"-"+strings.ToUpper(color[:3])+"-"+size)
		b = append(b, `,"barcode":`...)
		if g.rng.IntN(20) == 0 {
			b = append(b, "null"...) // some variants have none: the SKU stands in as mpn
		} else {
			b = perfAppendStr(b, perfGTIN13(vid))
		}
		b = append(b, `,"price":`...)
		b = perfAppendMoney(b, price)
		b = append(b, `,"compareAtPrice":`...)
		if onSale {
			b = perfAppendMoney(b, price*5/4)
		} else {
			b = append(b, "null"...)
		}
		b = fmt.Appendf(b, `,"availableForSale":%t,"inventoryQuantity":%d,"inventoryPolicy":"%s","taxable":true,"selectedOptions":[{"name":"Color","value":`,
			qty > 0 || policy == "CONTINUE", qty, policy)
		b = perfAppendStr(b, color)
		b = append(b, `},{"name":"Size","value":`...)
		b = perfAppendStr(b, size)
		b = append(b, `}],"image":{"url":`...)
		b = perfAppendStr(b, imageURLs[k/2])
		b = append(b, `},"inventoryItem":{"id":`...)
		b = perfAppendGID(b, "InventoryItem", 47_000_000_000+4*i+int64(k))
		b = fmt.Appendf(b, `,"tracked":true,"requiresShipping":true,"measurement":{"weight":{"unit":"GRAMS","value":%d.0}}},"__parentId":`, weight)
		b = perfAppendGID(b, "Product", pid)
		b = append(b, "}\n"...)
	}
	g.buf = b
}

// writePerfCatalog streams a catalog of n variants (n/4 products) to w,
// holding one product's lines at a time.
func writePerfCatalog(w io.Writer, n int) error {
	g := newPerfGen()
	bw := bufio.NewWriterSize(w, 1<<20)
	for i := range int64(n / 4) {
		g.buf = g.buf[:0]
		g.product(i)
		if _, err := bw.Write(g.buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// perfCatalogFile returns the path of the generated export of n variants,
// generating it unless ACPBRIDGE_PERF_DIR already holds it.
func perfCatalogFile(tb testing.TB, n int) string {
	tb.Helper()
	dir := os.Getenv("ACPBRIDGE_PERF_DIR")
	if dir == "" {
		dir = tb.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("catalog-%d-v%d.jsonl", n, perfGenVersion))
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		tb.Logf("reusing %s (%.1f MB)", path, float64(fi.Size())/1e6)
		return path
	}
	start := time.Now()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	pprof.Do(context.Background(), pprof.Labels("phase", "generate"), func(context.Context) {
		err = writePerfCatalog(f, n)
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		tb.Fatalf("generate catalog: %v", err)
	}
	fi, _ := os.Stat(path)
	tb.Logf("generated %s: %d variants, %.1f MB in %v", path, n, float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond))
	return path
}

// ---- measurement ----

// phase is what one measured step cost.
type phase struct {
	name      string
	wall      time.Duration
	goCPU     time.Duration // this process, all threads
	pgCPU     time.Duration // every local postgres process (server side of the work, and others')
	dbCPU     time.Duration // the backends of the phase's database only
	startRSS  uint64        // bytes
	peakRSS   uint64        // VmHWM since the phase began
	peakHeap  uint64        // HeapInuse, sampled every 50 ms
	peakSys   uint64        // runtime Sys (all memory the Go runtime mapped)
	allocated uint64        // bytes allocated during the phase
	gcs       uint32
	startLoad string // load averages when the phase began
}

func procStatusKB(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v << 10
		}
	}
	return 0
}

// resetPeakRSS sets VmHWM to the current RSS (Linux ≥ 4.0), so each phase
// gets its own peak; it reports whether that worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU sums the CPU time of the local PostgreSQL processes: live
// ones, plus the children the postmaster has reaped (cutime, cstime). Clock
// ticks are taken as 100 Hz (USER_HZ on Linux).
func postgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks uint64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < 0 || s[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(s[end+2:]) // f[0] is the state (field 3)
		if len(f) < 15 {
			continue
		}
		num := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		ticks += num(11) + num(12) // utime, stime
		if ppid, _ := strconv.Atoi(f[1]); ppid <= 1 || !isPostgres(ppid) {
			ticks += num(13) + num(14) // the postmaster: its reaped backends
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// perfDB is the database of the phase being measured ("" for none).
var perfDB string

// databaseCPU sums the CPU time of the live PostgreSQL backends serving
// the database db (their process titles name it): the server's work for
// this harness alone, where postgresCPU also counts whatever else the
// server does meanwhile (other tests on a shared machine). A backend that
// exits during a phase takes its time with it; the pool keeps ours open.
func databaseCPU(db string) time.Duration {
	if db == "" {
		return 0
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks uint64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres: ")) || !bytes.Contains(cmd, []byte(" "+db+" ")) {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		f := strings.Fields(st[strings.LastIndexByte(st, ')')+2:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		k, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += u + k
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

func isPostgres(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.TrimSpace(string(b)) == "postgres"
}

// measure runs fn as a phase under the pprof label phase=name, and writes
// its CPU and allocs profiles when ACPBRIDGE_PERF_PROFILE is set.
func measure(tb testing.TB, prefix, name string, fn func(ctx context.Context) error) phase {
	tb.Helper()
	waitQuiet(tb)
	runtime.GC()
	debug.FreeOSMemory() // start each phase from what is live, not the last one's garbage
	if !resetPeakRSS() {
		tb.Log("cannot reset VmHWM: peak RSS is the process's peak so far")
	}
	var stopProfile func()
	if dir := os.Getenv("ACPBRIDGE_PERF_PROFILE"); dir != "" {
		_ = os.MkdirAll(dir, 0o755)
		f, err := os.Create(filepath.Join(dir, prefix+"-"+name+".cpu.pprof"))
		if err == nil {
			if err := pprof.StartCPUProfile(f); err != nil {
				tb.Logf("per-phase CPU profile off (%v): use -tagfocus=phase=%s on -cpuprofile instead", err, name)
				_ = f.Close()
			} else {
				stopProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
			}
		}
	}
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	p := phase{name: name, startRSS: procStatusKB("VmRSS"), peakHeap: ms0.HeapInuse, peakSys: ms0.Sys, startLoad: loadAvg()}
	var mu sync.Mutex
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				mu.Lock()
				p.peakHeap, p.peakSys = max(p.peakHeap, ms.HeapInuse), max(p.peakSys, ms.Sys)
				mu.Unlock()
			}
		}
	}()
	cpu0, pg0, db0, start := processCPU(), postgresCPU(), databaseCPU(perfDB), time.Now()
	var err error
	pprof.Do(context.Background(), pprof.Labels("phase", name), func(ctx context.Context) { err = fn(ctx) })
	p.wall = time.Since(start)
	p.goCPU, p.pgCPU, p.dbCPU = processCPU()-cpu0, postgresCPU()-pg0, databaseCPU(perfDB)-db0
	close(done)
	<-sampled
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	p.peakHeap, p.peakSys = max(p.peakHeap, ms1.HeapInuse), max(p.peakSys, ms1.Sys)
	p.peakRSS = procStatusKB("VmHWM")
	p.allocated, p.gcs = ms1.TotalAlloc-ms0.TotalAlloc, ms1.NumGC-ms0.NumGC
	if stopProfile != nil {
		stopProfile()
		if f, ferr := os.Create(filepath.Join(os.Getenv("ACPBRIDGE_PERF_PROFILE"), prefix+"-"+name+".allocs.pprof")); ferr == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return p
}

const mb = 1e6

func (p phase) String() string {
	return fmt.Sprintf("%-7s wall %7.2fs  go-cpu %7.2fs  pg-cpu %6.2fs (this db %6.2fs)  peak RSS %6.1f MB (start %5.1f)  peak heap-in-use %6.1f MB  runtime-sys %6.1f MB  alloc %8.1f MB  GCs %d",
		p.name, p.wall.Seconds(), p.goCPU.Seconds(), p.pgCPU.Seconds(), p.dbCPU.Seconds(), float64(p.peakRSS)/mb, float64(p.startRSS)/mb,
		float64(p.peakHeap)/mb, float64(p.peakSys)/mb, float64(p.allocated)/mb, p.gcs)
}

// record appends the phase to ACPBRIDGE_PERF_OUT as TSV.
func record(tb testing.TB, kind app.DatabaseKind, n int, p phase, extra string) {
	tb.Helper()
	extra += " load-start=" + p.startLoad + " load-end=" + loadAvg()
	tb.Logf("PERF %s n=%d %s  %s", kind, n, p, extra)
	path := os.Getenv("ACPBRIDGE_PERF_OUT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Logf("ACPBRIDGE_PERF_OUT: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%d\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%s\n",
		time.Now().UTC().Format(time.RFC3339), kind, n, p.name, p.wall.Seconds(), p.goCPU.Seconds(), p.pgCPU.Seconds(), p.dbCPU.Seconds(),
		float64(p.startRSS)/mb, float64(p.peakRSS)/mb, float64(p.peakHeap)/mb, float64(p.peakSys)/mb,
		float64(p.allocated)/mb, p.gcs, extra)
}

// ---- the app wired for a sync without Shopify ----

// perfAdmin answers the sync's one Admin API call, the bulk operation's
// status, with a completed operation whose result is at url.
type perfAdmin struct {
	url     string
	objects int
}

func (a perfAdmin) Query(_ context.Context, _, _, query string, _ map[string]any, out any) error {
	if !strings.Contains(query, "BulkOperation") {
		return fmt.Errorf("perf harness: unexpected Admin query %.60q", query)
	}
	body := fmt.Sprintf(`{"node":{"id":"gid://shopify/BulkOperation/1","status":"COMPLETED","errorCode":null,"objectCount":"%d","url":%q}}`, a.objects, a.url)
	return json.Unmarshal([]byte(body), out)
}

// perfQueue drops the jobs a sync enqueues (the follow-up feed build is
// run by the harness itself).
type perfQueue struct{}

func (perfQueue) EnqueueTx(context.Context, river.JobArgs, *river.InsertOpts) error { return nil }

// perfLog is the harness's logger: warnings only, each line cut to 300
// bytes (gorm's slow-query warnings quote 4,000-parameter INSERTs), and
// slow statements counted.
type perfLog struct {
	tb   testing.TB
	slow atomic.Int64
}

func (l *perfLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("SQL executed")) {
		l.slow.Add(1)
	}
	line := strings.TrimSpace(string(p))
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	l.tb.Log(line)
	return len(p), nil
}

func (l *perfLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// waitQuiet waits, when ACPBRIDGE_PERF_QUIET=L is set, until the 1-minute
// load average is below L (at most 10 minutes), so that a phase starts on
// an idle machine rather than one busy with other sessions' work.
func waitQuiet(tb testing.TB) {
	limit, err := strconv.ParseFloat(os.Getenv("ACPBRIDGE_PERF_QUIET"), 64)
	if err != nil {
		return
	}
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile("/proc/loadavg")
		f := strings.Fields(string(b))
		if len(f) > 0 {
			if l, err := strconv.ParseFloat(f[0], 64); err == nil && l < limit {
				return
			}
		}
		time.Sleep(2 * time.Second)
	}
	tb.Logf("the load average stayed above %v for 10 minutes: measuring anyway", limit)
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], "/")
}

type perfEnv struct {
	log   *perfLog
	st    *store.Store
	cfg   app.DatabaseConfig
	keys  *secret.Keyring
	shop  *app.Shop
	feeds *feeds.Service
}

// newPerfEnv opens a fresh migrated database with one installed shop whose
// feed settings are complete (so every item can be valid).
func newPerfEnv(tb testing.TB, kind app.DatabaseKind) *perfEnv {
	tb.Helper()
	ctx := context.Background()
	cfg := storetest.Config(tb, kind, true)
	perfDB = ""
	if kind == app.DatabasePostgres {
		if u, err := url.Parse(cfg.URL); err == nil {
			perfDB = strings.TrimPrefix(u.Path, "/")
		}
	}
	log := &perfLog{tb: tb}
	key, err := secret.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := secret.ParseKeyring(key)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, log.logger(), store.WithKeys(keys))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	sealed, err := keys.Seal([]byte("shpat_perf"), app.AccessTokenAAD(perfShop))
	if err != nil {
		tb.Fatal(err)
	}
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: perfShop, Name: "Perf Shop", Scopes: config.DefaultScopes, AccessTokenSealed: sealed})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.UpdateShopDetails(ctx, sh.ID, app.ShopDetails{Name: "Perf Shop", ShopifyGID: "gid://shopify/Shop/1", CurrencyCode: "USD", CountryCode: "US"}); err != nil {
		tb.Fatal(err)
	}
	fs := app.FeedSettings{
		ShopID: sh.ID, SellerName: "Perf Shop", SellerURL: "https://perf-shop.example", StoreCountry: "US",
		TargetCountries: []string{"US"}, ReturnPolicyURL: "https://perf-shop.example/policies/refund-policy",
		ReturnWindowDays: 30, PrivacyPolicyURL: "https://perf-shop.example/policies/privacy-policy",
		TermsURL: "https://perf-shop.example/policies/terms-of-service", EligibleSearch: true, EligibleCheckout: true,
	}
	if err := feeds.ValidateFeedSettings(&fs); err != nil {
		tb.Fatal(err)
	}
	if err := st.SaveFeedSettings(ctx, fs); err != nil {
		tb.Fatal(err)
	}
	if sh, err = st.ShopByID(ctx, sh.ID); err != nil {
		tb.Fatal(err)
	}
	feeds := &feeds.Service{Store: st, Logger: log.logger(), Now: time.Now}
	return &perfEnv{log: log, st: st, cfg: cfg, keys: keys, shop: sh, feeds: feeds}
}

// startSync prepares a full sync whose bulk result is path, served over
// loopback HTTP as Shopify's storage would, and returns the catalog and the
// sync to poll.
func (e *perfEnv) startSync(tb testing.TB, path string, objects int) (*catalog.Syncer, *app.CatalogSync) {
	tb.Helper()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, path)
	}))
	tb.Cleanup(srv.Close)
	logger := e.log.logger()
	cat := &catalog.Syncer{
		Store: e.st,
		Shopify: &shops.Shopify{Store: e.st, Admin: perfAdmin{url: srv.URL + "/bulk.jsonl", objects: objects},
			Keys: e.keys, Logger: logger, Now: time.Now},
		Feeds: e.feeds, Queue: perfQueue{}, Download: srv.Client(), Logger: logger, Now: time.Now,
	}
	sy, err := e.st.CreateSync(ctx, e.shop.ID, "perf")
	if err != nil {
		tb.Fatal(err)
	}
	sy.Status, sy.BulkOperationID = app.SyncRunning, "gid://shopify/BulkOperation/1"
	if err := e.st.UpdateSync(ctx, sy); err != nil {
		tb.Fatal(err)
	}
	return cat, sy
}

// checkSync fails unless the sync completed with every row of the export.
func (e *perfEnv) checkSync(tb testing.TB, syncID int64, n int) {
	tb.Helper()
	ctx := context.Background()
	sy, err := e.st.Sync(ctx, syncID)
	if err != nil {
		tb.Fatal(err)
	}
	if sy.Status != app.SyncCompleted || sy.Variants != int64(n) || sy.Products != int64(n/4) || sy.RowsDone != int64(2*n) {
		tb.Fatalf("sync ended %s (%s): %d products, %d variants, %d rows; want %d, %d, %d",
			sy.Status, sy.Error, sy.Products, sy.Variants, sy.RowsDone, n/4, n, 2*n)
	}
	products, variants, err := e.st.CatalogCounts(ctx, e.shop.ID)
	if err != nil || products != int64(n/4) || variants != int64(n) {
		tb.Fatalf("catalog holds %d products, %d variants (%v); want %d, %d", products, variants, err, n/4, n)
	}
}

func (e *perfEnv) dbSize(tb testing.TB) float64 {
	tb.Helper()
	if e.cfg.Kind == app.DatabaseSQLite {
		var total int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(e.cfg.Path + suffix); err == nil {
				total += fi.Size()
			}
		}
		return float64(total) / mb
	}
	var size int64
	if err := e.st.DB().QueryRow("SELECT pg_database_size(current_database())").Scan(&size); err != nil {
		tb.Logf("database size: %v", err)
	}
	return float64(size) / mb
}

// fileSizes lists the sizes of a build's files in the formats.
func fileSizes(tb testing.TB, st *store.Store, buildID int64, formats ...feed.Format) string {
	tb.Helper()
	sizes := make([]string, 0, len(formats))
	for _, format := range formats {
		if slices.Contains(feeds.ShardedFormats, format) {
			var raw bytes.Buffer
			if _, err := st.CopyFeedFile(context.Background(), buildID, feeds.ManifestKey(format), &raw); err != nil {
				tb.Fatalf("%s shard set of build %d: %v", format, buildID, err)
			}
			var m feed.Manifest
			if err := json.Unmarshal(raw.Bytes(), &m); err != nil {
				tb.Fatal(err)
			}
			var bytes int64
			for _, s := range m.Shards {
				bytes += s.Bytes
			}
			sizes = append(sizes, fmt.Sprintf("%s=%.2fMB(%d shards)", format, float64(bytes)/mb, len(m.Shards)))
			continue
		}
		ff, err := st.FeedFile(context.Background(), buildID, string(format))
		if err != nil {
			tb.Fatal(err)
		}
		if ff.SHA256 == "" {
			tb.Fatalf("%s of build %d is not complete", format, buildID)
		}
		sizes = append(sizes, fmt.Sprintf("%s=%.2fMB", format, float64(ff.Bytes)/mb))
	}
	return strings.Join(sizes, " ")
}

// countFeedLines reads a stored jsonl.gz back through CopyFeedFile and
// counts its lines (each must be a JSON object).
func countFeedLines(ctx context.Context, st *store.Store, buildID int64) (int64, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := st.CopyFeedFile(ctx, buildID, "jsonl.gz", pw)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	zr, err := gzip.NewReader(pr)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var n int64
	for sc.Scan() {
		if n == 0 && !json.Valid(sc.Bytes()) {
			return 0, errors.New("the first feed line is not JSON")
		}
		if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			return n, fmt.Errorf("feed line %d is not an object", n+1)
		}
		n++
	}
	return n, sc.Err()
}

// ---- the harness ----

// TestPerfCatalog generates a catalog export of ACPBRIDGE_PERF_VARIANTS
// variants and, on each database, ingests it through the app's sync code
// and builds the feed from it, reporting time, throughput and memory per
// phase. It checks correctness (every row synced, every item published),
// not the budgets: those are read from its output (docs/benchmarks.md).
func TestPerfCatalog(t *testing.T) {
	perfSkip(t)
	n := perfVariants(t)
	path := perfCatalogFile(t, n)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GOMAXPROCS=%d NumCPU=%d %s, export %.1f MB (%d lines)", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), float64(fi.Size())/mb, 2*n)

	// Parsing alone (no database): the floor under ingest.
	var parsed int64
	if !perfSkipPhase("parse") {
		p := measure(t, fmt.Sprintf("none-%d", n), "parse", func(context.Context) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			rd := catalog.NewBulkReader(f, "USD")
			var b app.CatalogBatch
			for {
				err := rd.Next(&b, 2000)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				parsed += int64(len(b.Variants))
			}
			if parsed != int64(n) {
				return fmt.Errorf("parsed %d variants, want %d", parsed, n)
			}
			return nil
		})
		record(t, "none", n, p, fmt.Sprintf("lines/s=%.0f MB/s=%.1f", float64(2*n)/p.wall.Seconds(), float64(fi.Size())/mb/p.wall.Seconds()))
	}

	for _, kind := range perfKinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := newPerfEnv(t, kind)
			ctx := context.Background()
			prefix := fmt.Sprintf("%s-%d", kind, n)

			cat, sy := e.startSync(t, path, 2*n)
			ing := measure(t, prefix, "ingest", func(ctx context.Context) error { return cat.PollSync(ctx, sy.ID) })
			e.checkSync(t, sy.ID, n)
			record(t, kind, n, ing, fmt.Sprintf("rows/s=%.0f variants/s=%.0f db=%.0fMB slowSQL=%d",
				float64(2*n)/ing.wall.Seconds(), float64(n)/ing.wall.Seconds(), e.dbSize(t), e.log.slow.Swap(0)))

			// Reading the catalog alone (CatalogPages, nothing mapped): the
			// floor under the build's reading, and the database's share.
			if !perfSkipPhase("read") {
				var items int64
				rd := measure(t, prefix, "read", func(ctx context.Context) error {
					return e.st.CatalogPages(ctx, e.shop.ID, 500, func(p *app.CatalogPage) error {
						for _, vs := range p.Variants {
							items += int64(len(vs))
						}
						return nil
					})
				})
				if items != int64(n) {
					t.Fatalf("read %d variants, want %d", items, n)
				}
				record(t, kind, n, rd, fmt.Sprintf("variants/s=%.0f", float64(n)/rd.wall.Seconds()))
			}

			// The timed build: the jsonl.gz, validated and published
			// (ACPBRIDGE_PERF_BUILDS times, default once).
			builds, _ := strconv.Atoi(os.Getenv("ACPBRIDGE_PERF_BUILDS"))
			var b *app.FeedBuild
			for range max(builds, 1) {
				bld := measure(t, prefix, "build", func(ctx context.Context) error {
					var err error
					b, err = e.feeds.BuildPrimary(ctx, e.shop.ID)
					return err
				})
				if b.Status != app.BuildPublished || b.ItemsPublished != int64(n) || b.ItemsInvalid != 0 {
					problems, _ := e.st.FeedProblems(ctx, b.ID, 5)
					t.Fatalf("build %s: %d published, %d invalid, %d excluded of %d; problems %+v",
						b.Status, b.ItemsPublished, b.ItemsInvalid, b.ItemsExcluded, n, problems)
				}
				record(t, kind, n, bld, fmt.Sprintf("items/s=%.0f us/item=%.2f warnings=%d slowSQL=%d %s",
					float64(b.ItemsPublished)/bld.wall.Seconds(), float64(bld.wall.Microseconds())/float64(n), b.Warnings,
					e.log.slow.Swap(0), fileSizes(t, e.st, b.ID, feeds.PrimaryFormat)))
			}

			// The same build's csv.gz and tsv.gz, written after it is published.
			if !perfSkipPhase("formats") {
				sec := measure(t, prefix, "formats", func(ctx context.Context) error { return e.feeds.BuildSecondary(ctx, b) })
				record(t, kind, n, sec, fmt.Sprintf("items/s=%.0f slowSQL=%d %s", float64(b.ItemsPublished)/sec.wall.Seconds(),
					e.log.slow.Swap(0), fileSizes(t, e.st, b.ID, feeds.SecondaryFormats...)))
			}

			// Read the feed back as a pull would: it is complete and valid.
			var lines int64
			ver := measure(t, prefix, "verify", func(ctx context.Context) error {
				var err error
				lines, err = countFeedLines(ctx, e.st, b.ID)
				return err
			})
			if lines != int64(n) {
				t.Fatalf("jsonl.gz has %d lines, want %d", lines, n)
			}
			record(t, kind, n, ver, fmt.Sprintf("read back %d jsonl lines", lines))

			// A second sync of the same export: every row exists already
			// and is replaced (the daily reconciliation's case).
			if perfSkipPhase("resync") {
				return
			}
			cat, sy = e.startSync(t, path, 2*n)
			res := measure(t, prefix, "resync", func(ctx context.Context) error { return cat.PollSync(ctx, sy.ID) })
			e.checkSync(t, sy.ID, n)
			record(t, kind, n, res, fmt.Sprintf("rows/s=%.0f variants/s=%.0f db=%.0fMB slowSQL=%d",
				float64(2*n)/res.wall.Seconds(), float64(n)/res.wall.Seconds(), e.dbSize(t), e.log.slow.Swap(0)))
		})
	}
}

// BenchmarkIngest syncs the generated export into a fresh database per
// iteration through the app's sync code (run with -benchtime=1x for large
// sizes). Size and database come from ACPBRIDGE_PERF_VARIANTS and the
// first of ACPBRIDGE_PERF_DB.
func BenchmarkIngest(b *testing.B) {
	perfSkip(b)
	n, kind := perfVariants(b), perfKinds(b)[0]
	path := perfCatalogFile(b, n)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newPerfEnv(b, kind)
		cat, sy := e.startSync(b, path, 2*n)
		b.StartTimer()
		if err := cat.PollSync(context.Background(), sy.ID); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.checkSync(b, sy.ID, n)
		b.StartTimer()
	}
	b.ReportMetric(float64(2*n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/mb, "peakRSS-MB")
}

// BenchmarkFeedBuild ingests the export once, then measures Feeds.Build.
func BenchmarkFeedBuild(b *testing.B) {
	perfSkip(b)
	n, kind := perfVariants(b), perfKinds(b)[0]
	path := perfCatalogFile(b, n)
	e := newPerfEnv(b, kind)
	cat, sy := e.startSync(b, path, 2*n)
	if err := cat.PollSync(context.Background(), sy.ID); err != nil {
		b.Fatal(err)
	}
	e.checkSync(b, sy.ID, n)
	runtime.GC()
	resetPeakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fb, err := e.feeds.Build(context.Background(), e.shop.ID)
		if err != nil || fb.ItemsPublished != int64(n) {
			b.Fatalf("build: %v (%+v)", err, fb)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/mb, "peakRSS-MB")
}
