// Package store keeps the app's state in PostgreSQL or in an embedded SQLite
// file, through gorm. It is the only package that imports gorm: everything
// else sees app types and the methods here.
//
// Transactions travel in the context (see InTx) so that a use-case can write
// rows and enqueue the River jobs they cause in one transaction without every
// method growing a tx parameter; River gets the same *sql.Tx through SQLTx.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite "github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/migrations"
)

// slowQuery is when a statement is logged as slow.
const slowQuery = 250 * time.Millisecond

// Store is the app's database.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	kind  app.DatabaseKind
	// shopLocks serialise per-shop work on SQLite, whose file one process
	// owns, so a process lock is a global one (shop id → *sync.Mutex).
	shopLocks sync.Map
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// legacyIdemUntil is when the last idempotency record converted by
	// migration 00014 expires, once legacyIdemKnown: until then a claim
	// looks for one (idempotency.go).
	legacyIdemMu    sync.Mutex
	legacyIdemKnown bool
	legacyIdemUntil time.Time
	// idemIDs are idempotency record ids reserved from the table's
	// sequence, for creates that claim their key with the session
	// (idempotency_create.go).
	idemIDs idBlock
	// auth is this process's short memory of authentication answers and
	// shop rows (authcache.go).
	auth authCache
	// sessions is this process's short memory of checkout sessions as it
	// last wrote or read them: a hint for updates (idempotency_update.go).
	sessions  ttlcache.Cache[sessionMemoryKey, checkoutSessionRow]
	claimGate claimGate
	// keys seal buyers' personal data (personal.go; WithKeys).
	keys *secret.Keyring
}

// sqliteParams makes the embedded database safe for a server: WAL so readers
// do not block the writer, IMMEDIATE transactions so two writers queue on
// busy_timeout instead of failing at commit, and foreign keys on.
const sqliteParams = "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_timezone=UTC" +
	// What gorm's SQLite dialector adds to a DSN it opens itself (this
	// store opens its own, sqlite_stmts.go): times stored as text and
	// read back as time.Time.
	"&_texttotime=1&_inttotime=1&_time_format=sqlite"

// Open connects to the database cfg names. For SQLite it creates the file
// and its folder when missing. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg app.DatabaseConfig, logger *slog.Logger, opts ...Option) (*Store, error) {
	gcfg := &gorm.Config{
		// Unique violations and missing rows come back as gorm's sentinel
		// errors whatever the driver, so no error string is ever matched.
		TranslateError: true,
		// Every write here is one statement (atomic on its own) or runs in
		// InTx: gorm's own BEGIN/COMMIT around each would only add two
		// round trips per write.
		SkipDefaultTransaction: true,
		Logger: quietLogger{gormlogger.NewSlogLogger(logger.With("component", "db"), gormlogger.Config{
			SlowThreshold:             slowQuery,
			LogLevel:                  gormlogger.Warn,
			IgnoreRecordNotFoundError: true,
			// Never put bound values (tokens, emails) into logs.
			ParameterizedQueries: true,
		}), slowQuery},
		NowFunc: func() time.Time { return time.Now().UTC() },
	}

	var dialector gorm.Dialector
	switch cfg.Kind {
	case app.DatabasePostgres:
		dialector = postgres.Open(cfg.URL)
	case app.DatabaseSQLite:
		if dir := filepath.Dir(cfg.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("open sqlite: create folder: %w", err)
			}
		}
		// The file holds sealed secrets and buyers' details: owner only.
		f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		_ = f.Close()
		// The connection keeps its compiled statements (sqlite_stmts.go).
		dialector = sqlite.New(sqlite.Config{Conn: sql.OpenDB(stmtConnector{dsn: cfg.Path + sqliteParams})})
	default:
		return nil, fmt.Errorf("open: unknown database kind %q", cfg.Kind)
	}

	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Redacted(), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if cfg.Kind == app.DatabaseSQLite {
		// SQLite allows one writer at a time; River's own advice is a single
		// connection, which also makes every transaction strictly serial.
		sqlDB.SetMaxOpenConns(1)
	} else {
		// Keep every connection open when idle: under load, closing the
		// ones above an idle cap makes PostgreSQL fork a backend per
		// request (measured: most of the server's CPU at 32 agents).
		sqlDB.SetMaxOpenConns(25)
		sqlDB.SetMaxIdleConns(25)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", cfg.Redacted(), err)
	}
	st := &Store{db: db, sqlDB: sqlDB, kind: cfg.Kind, Now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(st)
	}
	return st, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// DB returns the underlying pool, for River and goose.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Kind says which database this is.
func (s *Store) Kind() app.DatabaseKind { return s.kind }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

func (s *Store) dialect() migrations.Dialect {
	if s.kind == app.DatabaseSQLite {
		return migrations.SQLite
	}
	return migrations.Postgres
}

type (
	txKey      struct{}
	txHooksKey struct{}
)

// txHooks are the callbacks AfterCommit registered in one transaction.
type txHooks struct {
	mu  sync.Mutex
	fns []func(ctx context.Context)
}

// InTx runs fn in a transaction carried by the context fn receives: every
// store method called with that context takes part, and so does a River
// insert through SQLTx. fn's error rolls everything back. A nested InTx
// joins the outer transaction. Once the transaction has committed, the
// callbacks registered in it with AfterCommit run, in order, with the
// context InTx was given; after a rollback they are dropped.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	hooks := &txHooks{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), txHooksKey{}, hooks))
	})
	// BEGIN, COMMIT, or a statement that did not go through translate
	// (River's job insert) may have lost the connection.
	if err != nil && app.ErrorCode(err) == "" && unreachable(err) {
		return fmt.Errorf("%w: %w", errDatabaseUnavailable, err)
	}
	if err != nil {
		return err
	}
	hooks.mu.Lock()
	fns := hooks.fns
	hooks.fns = nil
	hooks.mu.Unlock()
	for _, f := range fns {
		f(ctx)
	}
	return nil
}

// AfterCommit runs fn once the transaction ctx carries has committed, never
// after a rollback; without a transaction in ctx, it runs fn at once. fn
// gets the context the transaction was started with (no transaction in
// it). It is for what must not happen unless the rows it concerns exist,
// such as a first delivery attempt of an event stored in the transaction:
// fn runs in the committing goroutine, so what may take long belongs in a
// goroutine fn starts.
func (s *Store) AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	hooks, ok := ctx.Value(txHooksKey{}).(*txHooks)
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); !ok || !inTx {
		fn(ctx)
		return
	}
	hooks.mu.Lock()
	hooks.fns = append(hooks.fns, fn)
	hooks.mu.Unlock()
}

// SQLTx returns the *sql.Tx of the transaction in ctx, for River's InsertTx.
// It works for both databases because gorm's transaction pool is a *sql.Tx.
func SQLTx(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return nil, false
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	return sqlTx, ok
}

// conn returns the transaction in ctx, or the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// containsSQL is a condition "column contains ?" as a literal substring,
// without LIKE's wildcards (which user data could carry).
func (s *Store) containsSQL(column string) string {
	if s.kind == app.DatabaseSQLite {
		return "instr(" + column + ", ?) > 0"
	}
	return "strpos(" + column + ", ?) > 0"
}

// translate maps gorm's sentinel errors to app errors, naming what.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, app.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", what, app.ErrConflict)
	case unreachable(err):
		return fmt.Errorf("%s: %w: %w", what, errDatabaseUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// errDatabaseUnavailable marks a failure to reach the database: the caller
// may retry (HTTP 503 with Retry-After), as when PostgreSQL restarts; the
// connection pool reconnects by itself.
var errDatabaseUnavailable = &app.Error{Code: app.CodeUnavailable, RetryAfter: time.Second,
	Message: "The service is briefly unavailable; retry in a moment."}

// unreachable reports whether err says the database could not be reached
// or dropped the connection (refused, reset, closed, the server shutting
// down or starting up), rather than refusing the statement.
func unreachable(err error) bool {
	var (
		connect *pgconn.ConnectError
		pgErr   *pgconn.PgError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return false // the caller went away
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: admin or crash
		// shutdown, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &connect), errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return pgconn.SafeToRetry(err)
}

// Optimize runs the database's own periodic upkeep. SQLite recommends
// `PRAGMA optimize` on long-lived connections so the planner's statistics
// stay current; PostgreSQL's autovacuum does this by itself.
func (s *Store) Optimize(ctx context.Context) error {
	if s.kind != app.DatabaseSQLite {
		return nil
	}
	return translate(s.conn(ctx).Exec("PRAGMA optimize").Error, "optimize")
}

// errNotFound is gorm's not-found error, for translate.
func errNotFound() error { return gorm.ErrRecordNotFound }
