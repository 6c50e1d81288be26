package store

import (
	"context"
	"sync/atomic"
	"time"

	gormlogger "gorm.io/gorm/logger"
)

// CountStatements counts the statements st sends through gorm from now on
// (BEGIN and COMMIT are not counted): gorm traces each once. Call it
// before st is in use by other goroutines.
func CountStatements(st *Store) *atomic.Int64 {
	n := &atomic.Int64{}
	st.db.Logger = countingLogger{Interface: st.db.Logger, n: n}
	return n
}

type countingLogger struct {
	gormlogger.Interface
	n *atomic.Int64
}

func (l countingLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	return countingLogger{l.Interface.LogMode(level), l.n}
}

func (l countingLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	l.n.Add(1)
	l.Interface.Trace(ctx, begin, fc, err)
}

func (l countingLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(interface {
		ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any)
	}); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}
