// Package migrations owns the database schema. The SQL files are embedded into
// the binary and applied by goose, one folder per dialect: PostgreSQL and
// SQLite differ in types (BIGSERIAL vs INTEGER PRIMARY KEY, TIMESTAMPTZ vs
// DATETIME), so each dialect gets SQL it understands natively, and a test
// (app/store) checks that both end at the same tables and columns.
//
// River's own tables are not here: River ships and versions its migrations
// itself, and app/jobs applies them next to ours.
package migrations

import (
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect names the SQL flavour of a database.
type Dialect string

// The two supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// FS returns the migration files of one dialect.
func FS(d Dialect) (fs.FS, error) {
	switch d {
	case Postgres, SQLite:
		return fs.Sub(files, string(d))
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", d)
	}
}

// NewProvider returns a goose provider that applies this dialect's migrations
// to db. Goose keeps its bookkeeping in the goose_db_version table.
func NewProvider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	fsys, err := FS(d)
	if err != nil {
		return nil, err
	}
	gd := goose.DialectPostgres
	if d == SQLite {
		gd = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(gd, db, fsys)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}
