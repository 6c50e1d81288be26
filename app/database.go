package app

import "net/url"

// DatabaseKind is the database the app runs on.
type DatabaseKind string

// Database kinds.
const (
	DatabasePostgres DatabaseKind = "postgres"
	DatabaseSQLite   DatabaseKind = "sqlite"
)

// DatabaseConfig says which database to open.
type DatabaseConfig struct {
	Kind DatabaseKind
	// URL is the PostgreSQL connection URL (postgres kind only).
	URL string
	// Path is the SQLite file (sqlite kind only).
	Path string
}

// Redacted returns the database location without a password, for logs.
func (d DatabaseConfig) Redacted() string {
	if d.Kind == DatabaseSQLite {
		return "sqlite:" + d.Path
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "postgres://(unparseable)"
	}
	return u.Redacted()
}
