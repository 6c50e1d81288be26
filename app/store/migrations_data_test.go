package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestMigrationForgetsRemoteText: delivery results stored before issue 13
// could hold what a merchant-set URL answered (an internal service's body,
// an address and port). Migration 00013 must clear the failures' text on
// upgrade and leave successes (our own words) alone.
func TestMigrationForgetsRemoteText(t *testing.T) {
	t.Parallel()
	const leak = `create feed: answer has no feed id: "{\"AccessKeyId\":\"ASIA...\"}" from 10.0.0.7:8080`
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := store.Open(ctx, storetest.Config(t, kind, false), storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// Back to the schema just before 00013.
			for {
				ms, err := st.Migrations(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if ms.Current < 13 {
					break
				}
				if err := st.MigrateDown(ctx, 1); err != nil {
					t.Fatal(err)
				}
			}
			exec := func(q string) {
				t.Helper()
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO shops (id, domain, installed_at, created_at, updated_at) VALUES (1, 'm.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO feed_targets (id, shop_id, kind, config, last_status, last_detail, created_at, updated_at) VALUES
				(1, 1, 'acp', '{}', 'failed', '` + leak + `', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
				(2, 1, 'acp', '{}', 'succeeded', 'pushed build 3 in 1.2s', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO feed_deliveries (target_id, build_id, status, detail, started_at) VALUES
				(1, 3, 'retrying', '` + leak + `', CURRENT_TIMESTAMP),
				(2, 3, 'succeeded', 'pushed build 3 in 1.2s', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO agent_events (id, shop_id, session_id, type, api_version, body, status, last_error, created_at) VALUES
				(1, 1, 'cs_1', 'order_create', '2026-04-17', '{}', 'failed', '` + leak + `', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO agent_event_attempts (event_id, attempted_at, status_code, error) VALUES
				(1, CURRENT_TIMESTAMP, 0, '` + leak + `'), (1, CURRENT_TIMESTAMP, 204, '')`)

			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			texts := queryStrings(t, st, `
				SELECT last_detail FROM feed_targets UNION ALL SELECT detail FROM feed_deliveries
				UNION ALL SELECT last_error FROM agent_events UNION ALL SELECT error FROM agent_event_attempts`)
			kept, cleared := 0, 0
			for _, s := range texts {
				switch {
				case strings.Contains(s, "AccessKeyId") || strings.Contains(s, "10.0.0.7"):
					t.Errorf("remote text kept after the migration: %q", s)
				case s == "pushed build 3 in 1.2s":
					kept++
				case strings.HasPrefix(s, "failed (the details"):
					cleared++
				}
			}
			if kept != 2 || cleared != 4 {
				t.Errorf("after migration: %d successes kept (want 2), %d failures cleared (want 4): %q", kept, cleared, texts)
			}
		})
	}
}
