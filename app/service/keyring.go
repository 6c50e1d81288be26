package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
)

// KeyFileName is the file beside the SQLite database that holds the
// generated encryption key when ENCRYPTION_KEY is not set.
const KeyFileName = "encryption.key"

// LoadKeyring returns the keyring ENCRYPTION_KEY names. With SQLite and no
// ENCRYPTION_KEY it reads the key kept beside the database file, creating it
// (mode 0600) on first start, so the zero-setup default still encrypts. With
// PostgreSQL the key is required (LoadConfig says so): replicas must share it.
func LoadKeyring(cfg config.Config) (*secret.Keyring, error) {
	if cfg.EncryptionKey != "" {
		k, err := secret.ParseKeyring(cfg.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("ENCRYPTION_KEY: %w", err)
		}
		return k, nil
	}
	if cfg.Database.Kind != app.DatabaseSQLite {
		return nil, errors.New("ENCRYPTION_KEY: required with PostgreSQL")
	}
	path := filepath.Join(filepath.Dir(cfg.Database.Path), KeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("encryption key file %s: mode %v lets others read it; chmod 600 it", path, st.Mode().Perm())
	}
	k, err := secret.ParseKeyring(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new key with O_EXCL, so two processes starting on
// the same folder cannot each write a different key.
func createKeyFile(path string) error {
	key, err := secret.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("encryption key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("encryption key file: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("encryption key file: %w", err)
	}
	return f.Close()
}
