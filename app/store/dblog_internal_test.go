package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	gormlogger "gorm.io/gorm/logger"

	"github.com/acpbridge/acpbridge/internal/testkit"
)

// TestQuietLoggerLeavesOutHungUpCallers: a statement failed with its
// caller's context canceled is not logged; other failures are, even a
// context.Canceled that is not the caller's.
func TestQuietLoggerLeavesOutHungUpCallers(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		err     error
		wantLog bool
	}{
		{"caller hung up", canceled, fmt.Errorf("read: %w", context.Canceled), false},
		{"canceled, caller still there", context.Background(), context.Canceled, true},
		{"a real failure", context.Background(), errors.New("connection reset"), true},
		{"a real failure, caller gone", canceled, errors.New("connection reset"), true},
		// claimAndSaveSQL's own failure: the update goes the ordinary way.
		{"an update's session moved", context.Background(), fmt.Errorf("x: %w", &pgconn.PgError{Code: "22P02",
			Message: `invalid input syntax for type bigint: "` + sessionMovedMark + `"`}), false},
		{"another cast failure", context.Background(), &pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type bigint: "x"`}, true},
	} {
		logs := &testkit.LogBuffer{}
		l := quietLogger{gormlogger.NewSlogLogger(slog.New(slog.NewJSONHandler(logs, nil)), gormlogger.Config{LogLevel: gormlogger.Warn}), time.Second}
		l.Trace(tc.ctx, time.Now(), func() (string, int64) { return "SELECT 1", 0 }, tc.err)
		if got := strings.Contains(logs.String(), "SELECT 1"); got != tc.wantLog {
			t.Errorf("%s: logged %v, want %v:\n%s", tc.name, got, tc.wantLog, logs)
		}
	}
}
