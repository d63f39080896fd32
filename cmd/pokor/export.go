package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/pokor/pokor/integrations/csv"
)

// exportCmd prints a session from the database, for operators and backups.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pokor export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "csv", "csv or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: pokor export [--format csv|json] SESSION_ID")
	}
	m, err := openOffline(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	ex, err := m.Service.ExportByID(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	case "csv":
		return csv.WriteSession(stdout, ex)
	}
	return fmt.Errorf("--format must be csv or json")
}

// openOffline opens the configured store and service without listening, for commands.
func openOffline(ctx context.Context) (*Main, error) {
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		return nil, err
	}
	m := NewMain(cfg, newLogger(cfg, io.Discard))
	secret, err := m.secretKey()
	if err != nil {
		return nil, err
	}
	if m.Keys, err = newKeys(secret); err != nil {
		return nil, err
	}
	if err := m.openStore(ctx); err != nil {
		return nil, err
	}
	m.Service = newOfflineService(m)
	return m, nil
}
