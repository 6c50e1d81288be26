package store

import (
	"time"

	"context"
	"fmt"
	"github.com/acpbridge/acpbridge/app"

	"github.com/pressly/goose/v3"

	"github.com/acpbridge/acpbridge/migrations"
)

// MigrationStatus is the schema's state: the version applied and the newest
// the binary knows.
type MigrationStatus struct {
	Current int64
	Latest  int64
	Pending []string
}

func (s *Store) provider() (*goose.Provider, error) {
	return migrations.NewProvider(s.sqlDB, s.dialect())
}

// Migrate applies every pending migration of the app's own schema.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// MigrateDown rolls back the newest `steps` migrations (all when steps <= 0).
func (s *Store) MigrateDown(ctx context.Context, steps int) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if steps <= 0 {
		_, err = p.DownTo(ctx, 0)
	} else {
		for range steps {
			if _, err = p.Down(ctx); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Migrations reports the schema version against the binary's newest.
func (s *Store) Migrations(ctx context.Context) (MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return MigrationStatus{}, err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("migration status: %w", err)
	}
	st := MigrationStatus{Current: cur}
	for _, src := range p.ListSources() {
		st.Latest = max(st.Latest, src.Version)
		if src.Version > cur {
			st.Pending = append(st.Pending, fmt.Sprintf("%05d %s", src.Version, src.Path))
		}
	}
	return st, nil
}

// migrationLockID is the PostgreSQL advisory lock that serialises
// migrations when several replicas start at once ("acpbridge" in ASCII).
const migrationLockID = 0x6163706272696467

// WithMigrationLock runs fn while holding a database-wide lock, so that of
// several replicas starting together one migrates and the others wait, then
// find nothing to do. SQLite has one writer per file anyway.
func (s *Store) WithMigrationLock(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.kind != app.DatabasePostgres {
		return fn(ctx)
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockID)); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even when ctx is done.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", int64(migrationLockID))
	}()
	return fn(ctx)
}
