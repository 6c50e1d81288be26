package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/shopify"
)

// shopFlag parses the --shop flag (and others the caller adds).
func shopFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	shop := fs.String("shop", "", "the shop, NAME.myshopify.com")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	domain, err := shopify.NormalizeShop(*shop)
	if err != nil {
		return "", fmt.Errorf("%s: --shop: expected NAME.myshopify.com, got %q", name, *shop)
	}
	return domain, nil
}

// openWorker opens the app as a temporary worker replica: the job queue
// runs (so the sync's jobs are worked here or by any running server), no
// HTTP is served.
func openWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) (*service.Service, error) {
	svc, err := service.New(ctx, service.Options{Config: cfg, Logger: logger, SyncPoll: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := svc.StartWorkers(ctx); err != nil {
		_ = svc.Shutdown(context.WithoutCancel(ctx))
		return nil, err
	}
	return svc, nil
}

// runSync starts a full catalog sync and follows it to the end.
func runSync(ctx context.Context, args []string, cfg config.Config, logger *slog.Logger, stdout, stderr io.Writer) error {
	domain, err := shopFlags("sync", args, stderr, nil)
	if err != nil {
		return usageError{err}
	}
	svc, err := openWorker(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer svc.Shutdown(context.WithoutCancel(ctx))
	sy, err := svc.Catalog().StartSync(ctx, domain, "manual")
	if err != nil {
		return err
	}
	bar := newProgress(stdout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !sy.Done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if sy, err = svc.Store().Sync(ctx, sy.ID); err != nil {
			return err
		}
		bar.show(sy.Status, sy.RowsDone, sy.RowsExpected)
	}
	bar.done()
	if sy.Status == app.SyncFailed {
		return fmt.Errorf("sync %d failed: %s", sy.ID, sy.Error)
	}
	fmt.Fprintf(stdout, "synced %s: %d products, %d variants (%d rows) in %s\n", domain, sy.Products, sy.Variants,
		sy.RowsDone, sy.FinishedAt.Sub(sy.CreatedAt).Round(time.Millisecond))
	return nil
}

// runFeed is `acpbridge feed export|validate|build|push --shop X`.
func runFeed(ctx context.Context, args []string, cfg config.Config, logger *slog.Logger, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("feed: expected export, validate, build or push")}
	}
	action, args := args[0], args[1:]
	var format, out string
	domain, err := shopFlags("feed "+action, args, stderr, func(fs *flag.FlagSet) {
		if action == "export" {
			fs.StringVar(&format, "format", "jsonl.gz", "jsonl.gz, csv.gz or tsv.gz")
			fs.StringVar(&out, "out", "", "file to write (default: products.FORMAT)")
		}
	})
	if err != nil {
		return usageError{err}
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Logger: logger})
	if err != nil {
		return err
	}
	defer svc.Shutdown(context.WithoutCancel(ctx))
	sh, err := svc.Store().ShopByDomain(ctx, domain)
	if err != nil {
		return err
	}
	switch action {
	case "build", "validate":
		// A build is also the validation: it checks every item and
		// publishes the valid ones, as the scheduled build would.
		b, err := svc.Feeds().Build(ctx, sh.ID)
		if err != nil {
			return err
		}
		return printReport(ctx, svc, b, stdout)
	case "export":
		// The newest build that has this format written: while a build's
		// csv/tsv pass runs, that is the previous build, as pulls serve.
		b, _, err := svc.Store().PublishedFeedFile(ctx, sh.ID, format)
		if err != nil {
			return fmt.Errorf("no published feed for %s yet (run `acpbridge feed build --shop %s`): %w", domain, domain, err)
		}
		if out == "" {
			out = "products." + format
		}
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		n, err := svc.Store().CopyFeedFile(ctx, b.ID, format, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("build %d has no %s file", b.ID, format)
		}
		fmt.Fprintf(stdout, "wrote %s: %d bytes, %d items (build %d of %s)\n", out, n, b.ItemsPublished, b.ID, b.FinishedAt.Format(time.RFC3339))
		return nil
	case "push":
		// Push the newest published build to every enabled target now, in
		// this process (the same code the push jobs run).
		b, err := svc.Store().LatestBuild(ctx, sh.ID, app.BuildPublished)
		if err != nil {
			return fmt.Errorf("no published feed for %s yet: %w", domain, err)
		}
		targets, err := svc.Store().FeedTargets(ctx, sh.ID)
		if err != nil {
			return err
		}
		failed := 0
		for _, t := range targets {
			if !t.Enabled {
				continue
			}
			err := svc.Deliveries().Push(ctx, t.ID, b.ID)
			got, _ := svc.Store().FeedTarget(ctx, t.ID)
			fmt.Fprintf(stdout, "target %d (%s): %s %s\n", t.ID, t.Kind, got.LastStatus, got.LastDetail)
			if err != nil {
				failed++
			}
		}
		if len(targets) == 0 {
			fmt.Fprintln(stdout, "no delivery targets configured")
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d pushes failed", failed, len(targets))
		}
		return nil
	default:
		return usageError{fmt.Errorf("feed: unknown action %q; expected export, validate, build or push", action)}
	}
}

// printReport prints a build's counts and its problems grouped by field.
func printReport(ctx context.Context, svc *service.Service, b *app.FeedBuild, w io.Writer) error {
	fmt.Fprintf(w, "build %d: %s\n  products %d, items %d: published %d, invalid %d, excluded %d; warnings %d\n",
		b.ID, b.Status, b.Products, b.ItemsTotal, b.ItemsPublished, b.ItemsInvalid, b.ItemsExcluded, b.Warnings)
	if len(b.Summary) > 2 {
		fmt.Fprintf(w, "problems by field:\n%s\n", indentJSON(b.Summary))
	}
	ps, err := svc.Store().FeedProblems(ctx, b.ID, 50)
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(w, "  %-7s item %s %s: %s (%s)\n", p.Severity, p.ItemID, p.Field, p.Message, p.Hint)
	}
	if b.ItemsInvalid > 0 {
		return fmt.Errorf("%d items are invalid and left out of the feed", b.ItemsInvalid)
	}
	return nil
}

func indentJSON(b []byte) string {
	s := strings.ReplaceAll(string(b), "},{", "},\n  {")
	return "  " + s
}

// progress prints a bar on a terminal and plain lines otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	last  string
	lines time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) show(status string, done, expected int64) {
	pct := ""
	bar := ""
	if expected > 0 {
		frac := min(float64(done)/float64(expected), 1)
		pct = fmt.Sprintf(" %3.0f%%", frac*100)
		n := int(frac * 30)
		bar = " [" + strings.Repeat("#", n) + strings.Repeat(".", 30-n) + "]"
	}
	line := fmt.Sprintf("%-9s%s%s %d/%d rows", status, bar, pct, done, expected)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
		return
	}
	// Plain output: a line when something changed, at most every 2 s.
	if line != p.last && time.Since(p.lines) > 2*time.Second {
		fmt.Fprintln(p.w, line)
		p.lines = time.Now()
	}
	p.last = line
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
