package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// quietLogger passes to gorm's slog logger only the statements it will
// print (errors and slow ones). gorm's own Trace renders every statement's
// SQL before deciding not to print it, which profiling showed to be 39% of
// a catalog ingest's CPU.
type quietLogger struct {
	gormlogger.Interface
	slow time.Duration
}

func (l quietLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	return quietLogger{l.Interface.LogMode(level), l.slow}
}

// ParamsFilter keeps bound values out of the logged SQL: gorm asks the
// logger it holds, and a wrapper that did not pass the question on let
// slow and failed statements be logged with their values (sealed secrets,
// buyers' emails).
func (l quietLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}

// Trace logs failed and slow statements. A statement stopped because its
// caller's context was canceled (an agent that hung up) is no database
// failure: the edge logs the client going away, once per request. Nor is
// an update's claim that finds its remembered session moved
// (claimAndSaveSQL fails on purpose, and the update goes the ordinary way).
func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return
	}
	if sessionMovedError(err) {
		err = nil
	}
	if (err != nil && !errors.Is(err, gorm.ErrRecordNotFound)) || time.Since(begin) > l.slow {
		l.Interface.Trace(ctx, begin, fc, err)
	}
}
