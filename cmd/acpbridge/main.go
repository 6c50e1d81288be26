// Command acpbridge is the whole product in one binary:
//
//	acpbridge [serve]                    serve the app (the default)
//	acpbridge migrate up|down [N]|reset|status
//	acpbridge demo [--addr A] [--dir D] [--agent-webhook-url U] [--products N] [--free-orders N]
//	acpbridge sync --shop X              full catalog sync, with progress
//	acpbridge feed build|validate|export|push --shop X
//	acpbridge keygen                     print a new ENCRYPTION_KEY entry
//	acpbridge version
//
// Configuration comes from the environment (see README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/demo"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/logging"
	"github.com/acpbridge/acpbridge/app/procs"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/store"
)

func main() {
	if serving(os.Args[1:]) {
		// Before anything else: on success this does not return, and the
		// program starts over with the runtime setting (app/procs says why).
		_ = procs.KeepSysmonAwake()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "acpbridge:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// serving says whether the command line runs the server, the one
// long-running command whose CPU at low load the runtime settings cut.
func serving(args []string) bool {
	return len(args) == 0 || args[0] == "serve"
}

// usageError is a mistake in the command line or configuration.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

const usage = `usage: acpbridge [serve | migrate up|down [N]|reset|status | demo [flags] | sync --shop X | feed build|validate|export|push --shop X | agents key create|key revoke ID|keys|signing-secret|webhook|stripe|show --shop X | keygen | version]`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "acpbridge", app.Version)
		return nil
	case "keygen":
		k, err := secret.GenerateKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k)
		return nil
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return nil
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return usageError{err}
	}
	logger := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)

	switch cmd {
	case "serve":
		if len(args) > 0 {
			return usageError{fmt.Errorf("serve takes no arguments\n%s", usage)}
		}
		if err := cfg.RequireServe(); err != nil {
			return usageError{err}
		}
		autoMigrate, err := parseBool(getenv("AUTO_MIGRATE"), true)
		if err != nil {
			return usageError{fmt.Errorf("AUTO_MIGRATE: %w", err)}
		}
		if pct, limit := tuneGC(getenv); pct > 0 || limit > 0 {
			logger.Debug("garbage collector", "gogc", pct, "gomemlimit_bytes", limit)
		}
		if procs.Enabled(getenv) && cfg.RuntimeTuning {
			scaler := procs.New(logger)
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go scaler.Run(sctx)
		}
		svc, err := service.New(ctx, service.Options{Config: cfg, Logger: logger, SkipMigrate: !autoMigrate})
		if err != nil {
			return err
		}
		return service.Run(ctx, svc, nil)
	case "migrate":
		return runMigrate(ctx, args, cfg, logger, stdout)
	case "sync":
		return runSync(ctx, args, cfg, logger, stdout, stderr)
	case "feed":
		return runFeed(ctx, args, cfg, logger, stdout, stderr)
	case "agents":
		return runAgents(ctx, args, cfg, logger, stdout, stderr)
	case "demo":
		opts, err := parseDemoFlags(args, stderr)
		if err != nil {
			return usageError{err}
		}
		return demo.Run(ctx, opts, cfg, logger, stdout)
	default:
		return usageError{fmt.Errorf("unknown command %q\n%s", cmd, usage)}
	}
}

func parseDemoFlags(args []string, stderr io.Writer) (demo.Options, error) {
	var o demo.Options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to serve on (loopback only)")
	fs.StringVar(&o.Dir, "dir", "demo-data", "folder for the demo's database and demo.json")
	fs.StringVar(&o.AgentWebhookURL, "agent-webhook-url", "", "where order events are sent")
	fs.IntVar(&o.Products, "products", 25, "products in the emulated store's catalog")
	fs.IntVar(&o.FreeOrders, "free-orders", demo.DefaultFreeOrders, "agent orders a month each demo shop gets before it needs a plan (-1: billing off)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	return o, o.Validate()
}

func runMigrate(ctx context.Context, args []string, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("migrate: expected up, down [N], reset or status")}
	}
	st, err := store.Open(ctx, cfg.Database, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "up":
		if err := service.Migrate(ctx, st, logger); err != nil {
			return err
		}
	case "down":
		steps := 1
		if len(args) > 1 {
			steps, err = strconv.Atoi(args[1])
			if err != nil || steps < 1 {
				return usageError{fmt.Errorf("migrate down: expected a number of steps >= 1, got %q", args[1])}
			}
		}
		if err := st.MigrateDown(ctx, steps); err != nil {
			return err
		}
	case "reset":
		// Everything, River's tables included: for development databases.
		if err := st.MigrateDown(ctx, 0); err != nil {
			return err
		}
		if err := jobs.MigrateDown(ctx, st.Kind(), st.DB(), logger); err != nil {
			return err
		}
	case "status":
	default:
		return usageError{fmt.Errorf("migrate: unknown action %q; expected up, down [N], reset or status", args[0])}
	}
	ms, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\nschema version: %d (latest %d)\n", cfg.Database.Redacted(), ms.Current, ms.Latest)
	for _, p := range ms.Pending {
		fmt.Fprintf(stdout, "pending: %s\n", p)
	}
	if err := jobs.MigrationsCurrent(ctx, st.Kind(), st.DB()); err != nil {
		fmt.Fprintf(stdout, "job queue schema: %v\n", err)
	} else {
		fmt.Fprintln(stdout, "job queue schema: current")
	}
	return nil
}

func parseBool(s string, def bool) (bool, error) {
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("expected true or false, got %q", s)
	}
	return b, nil
}
