// Package demo runs a whole store on one machine with no account and no
// setup: the app exactly as in production, on the embedded SQLite default in
// a folder of its own. It follows docs/demo-contract.md (shared with the
// end-to-end tests); each capability adds its part of that contract here.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/service"
)

// Options are the demo command's flags.
type Options struct {
	Addr            string // --addr, default 127.0.0.1:8080
	Dir             string // --dir, default ./demo-data
	AgentWebhookURL string // --agent-webhook-url
	Products        int    // --products, default 25
}

// Validate checks the options, naming the flag at fault.
func (o *Options) Validate() error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Dir == "" {
		o.Dir = "demo-data"
	}
	if o.Products == 0 {
		o.Products = 25
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return fmt.Errorf("--addr: expected HOST:PORT such as 127.0.0.1:8080, got %q", o.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("--addr: expected a port from 0 to 65535, got %q", port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// The demo has no authentication worth the name: keep it on loopback.
		return fmt.Errorf("--addr: the demo listens on loopback only (127.0.0.1, ::1 or localhost), got %q", host)
	}
	if o.Products < 5 || o.Products > 1_000_000 {
		return fmt.Errorf("--products: expected 5 to 1000000 (the seeded catalog needs its five special cases), got %d", o.Products)
	}
	if o.AgentWebhookURL != "" {
		u, err := url.Parse(o.AgentWebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--agent-webhook-url: expected an absolute http(s) URL, got %q", o.AgentWebhookURL)
		}
	}
	return nil
}

// Manifest is demo.json: how a person or a test reaches the running demo.
type Manifest struct {
	AppURL string `json:"app_url"`
}

// Run starts the demo and serves until ctx is done. It writes DIR/demo.json
// once the app answers, and prints a short quickstart to out.
func Run(ctx context.Context, opts Options, base app.Config, logger *slog.Logger, out io.Writer) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	// demo.json from an earlier run would tell a waiting script the demo
	// is ready before it is.
	if err := os.Remove(filepath.Join(opts.Dir, "demo.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo folder: %w", err)
	}

	cfg := base
	cfg.Database = app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Join(opts.Dir, "acpbridge.db")}
	cfg.EncryptionKey = "" // the demo keeps its own key beside its database
	cfg.HTTPAddr = opts.Addr

	svc, err := service.New(ctx, service.Options{Config: cfg, Logger: logger})
	if err != nil {
		return err
	}
	return service.Run(ctx, svc, func(svc *service.Service) error {
		m := Manifest{AppURL: svc.URL()}
		path := filepath.Join(opts.Dir, "demo.json")
		if err := writeJSONAtomic(path, m); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nacpbridge demo is running.\n\n  app:     %s\n  health:  %s/healthz\n  metrics: %s/metrics\n  details: %s\n\nPress Ctrl-C to stop.\n\n",
			m.AppURL, m.AppURL, m.AppURL, path)
		return nil
	})
}

// writeJSONAtomic writes v to path through a temporary file and a rename,
// so a reader never sees half a file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
