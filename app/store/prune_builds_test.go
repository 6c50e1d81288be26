package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestPruneBuildsSparesRunning: pruning keeps the newest published builds
// and a build still running, however old its id (builds run concurrently,
// and the one started first may finish last); a build left running by a
// process that died (started over an hour ago) is pruned like the others.
func TestPruneBuildsSparesRunning(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := catalogShop(t, st, "prune.myshopify.com")
		status := []string{app.BuildPublished, app.BuildRunning, app.BuildRunning, app.BuildFailed, app.BuildPublished, app.BuildPublished, app.BuildPublished}
		var ids []int64
		for _, s := range status {
			b, err := st.CreateBuild(ctx, sh.ID, "current")
			if err != nil {
				t.Fatal(err)
			}
			if s != app.BuildRunning {
				b.Status = s
				if err := st.FinishBuild(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, b.ID)
		}
		// The third build's process died two hours ago.
		if _, err := st.DB().ExecContext(ctx, "UPDATE feed_builds SET started_at = $1 WHERE id = $2", time.Now().Add(-2*time.Hour).UTC(), ids[2]); err != nil {
			t.Fatal(err)
		}
		n, err := st.PruneBuilds(ctx, sh.ID, 3)
		if err != nil || n != 3 {
			t.Fatalf("pruned %d, %v; want 3 (the old published, the dead running, the failed)", n, err)
		}
		var left []int64
		for _, id := range ids {
			var c int64
			if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM feed_builds WHERE id = $1", id).Scan(&c); err != nil {
				t.Fatal(err)
			}
			if c == 1 {
				left = append(left, id)
			}
		}
		if want := []int64{ids[1], ids[4], ids[5], ids[6]}; !slices.Equal(left, want) {
			t.Fatalf("builds left %v, want %v (the running one and the newest three published)", left, want)
		}
	})
}
