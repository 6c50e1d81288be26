package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/service"
)

func TestLoadKeyringGeneratesAndKeepsSQLiteKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := config.Config{Database: app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Join(dir, "sub", "a.db")}}

	k1, err := service.LoadKeyring(cfg)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	path := filepath.Join(dir, "sub", service.KeyFileName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not written: %v", err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", got)
	}
	sealed, err := k1.Seal([]byte("token"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}

	// A restart must find the same key, or every stored token is lost.
	k2, err := service.LoadKeyring(cfg)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if got, err := k2.Open(sealed, []byte("aad")); err != nil || string(got) != "token" {
		t.Fatalf("after restart Open = %q, %v; want the same key", got, err)
	}

	// A key file others can read is refused rather than used.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := service.LoadKeyring(cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: err = %v, want a chmod hint", err)
	}
}

func TestLoadKeyringPostgresNeedsKey(t *testing.T) {
	t.Parallel()
	_, err := service.LoadKeyring(config.Config{Database: app.DatabaseConfig{Kind: app.DatabasePostgres, URL: "postgres://h/db"}})
	if err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY") {
		t.Fatalf("err = %v, want ENCRYPTION_KEY required", err)
	}
}

func TestLoadKeyringFromEnvironment(t *testing.T) {
	t.Parallel()
	cfg := config.Config{
		EncryptionKey: "new:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=,old:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
		Database:      app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Join(t.TempDir(), "a.db")},
	}
	k, err := service.LoadKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if k.PrimaryID() != "new" || len(k.IDs()) != 2 {
		t.Fatalf("keyring primary %q ids %v", k.PrimaryID(), k.IDs())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg.Database.Path), service.KeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although ENCRYPTION_KEY is set (stat err %v)", err)
	}
}
