package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestPublishedFeedFile: a build is published once its jsonl.gz is written
// and writes its other formats afterwards; until a format is complete its
// pulls get the previous build's file, and nothing of the partial one.
func TestPublishedFeedFile(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := catalogShop(t, st, "files.myshopify.com")
		write := func(b *app.FeedBuild, format, data string, finish bool) {
			t.Helper()
			w, err := st.NewFeedFile(ctx, b.ID, format)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(data)); err != nil {
				t.Fatal(err)
			}
			if finish {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
		publish := func() *app.FeedBuild {
			t.Helper()
			b, err := st.CreateBuild(ctx, sh.ID, "current")
			if err != nil {
				t.Fatal(err)
			}
			b.Status = app.BuildPublished
			if err := st.FinishBuild(ctx, b); err != nil {
				t.Fatal(err)
			}
			return b
		}
		if _, _, err := st.PublishedFeedFile(ctx, sh.ID, "csv.gz"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("before any build: %v, want not found", err)
		}
		b1 := publish()
		write(b1, "jsonl.gz", "jsonl-1", true)
		write(b1, "csv.gz", "csv-1", true)
		b2 := publish()
		write(b2, "jsonl.gz", "jsonl-2", true)
		write(b2, "csv.gz", "csv-2-partial", false) // the second pass is under way

		for format, want := range map[string]int64{"jsonl.gz": b2.ID, "csv.gz": b1.ID} {
			b, f, err := st.PublishedFeedFile(ctx, sh.ID, format)
			if err != nil || b.ID != want || f.BuildID != want || f.SHA256 == "" {
				t.Fatalf("%s: build %v, file %+v, %v; want build %d", format, b, f, err, want)
			}
		}
		var buf bytes.Buffer
		if n, err := st.CopyFeedFile(ctx, b2.ID, "csv.gz", &buf); err != nil || n != 0 {
			t.Fatalf("copying a file being written: %d bytes, %v", n, err)
		}
		if _, err := st.CopyFeedFile(ctx, b1.ID, "csv.gz", &buf); err != nil || buf.String() != "csv-1" {
			t.Fatalf("copy = %q, %v", buf.String(), err)
		}
	})
}
