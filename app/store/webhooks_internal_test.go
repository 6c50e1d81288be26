package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	gormlogger "gorm.io/gorm/logger"

	"github.com/acpbridge/acpbridge/app"
)

// statementCounter is a gorm logger that counts the statements gorm runs
// (it traces each one) and logs none.
type statementCounter struct {
	gormlogger.Interface
	n atomic.Int64
}

func (c *statementCounter) LogMode(gormlogger.LogLevel) gormlogger.Interface { return c }

func (c *statementCounter) Trace(context.Context, time.Time, func() (string, int64), error) {
	c.n.Add(1)
}

// TestWebhookEventStatements: storing a delivery and then finishing it is
// two statements (which is why a delivery with nothing left to do is not
// stored at all: shops.ProcessFirstTopics); a duplicate costs one. Counted on SQLite, as gorm runs them (PostgreSQL runs the
// same gorm calls).
func TestWebhookEventStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Join(t.TempDir(), "test.db")}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	counter := &statementCounter{Interface: st.db.Logger}
	st.db.Logger = counter
	ev := func(id string) app.WebhookEvent {
		return app.WebhookEvent{WebhookID: id, Shop: "a.myshopify.com", Topic: "inventory_levels/update", EventID: id, Payload: []byte(`{"inventory_item_id":1}`)}
	}
	for _, c := range []struct {
		name string
		run  func() error
		want int64
	}{
		{"stored, then finished", func() error {
			id, _, err := st.InsertWebhookEvent(ctx, ev("w1"))
			if err != nil {
				return err
			}
			return st.FinishWebhookEvent(ctx, id, "inventory change handled")
		}, 2},
		{"a duplicate", func() error {
			_, dup, err := st.InsertWebhookEvent(ctx, ev("w1"))
			if err == nil && !dup {
				t.Errorf("not a duplicate")
			}
			return err
		}, 1},
	} {
		before := counter.n.Load()
		if err := c.run(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := counter.n.Load() - before; got != c.want {
			t.Errorf("%s: %d statements, want %d", c.name, got, c.want)
		}
	}
}
