package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pokor/pokor/session/sqlstore"
)

// keyPath is where the generated secret key of a SQLite database is kept: beside the database.
func keyPath(dbURL string) string {
	return filepath.Join(filepath.Dir(sqlstore.SQLitePath(dbURL)), "secret.key")
}

// backupCmd copies the SQLite database consistently while the server runs, and the generated
// secret key beside it (docs/deploy.md, Backups).
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pokor backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	noKey := fs.Bool("no-key", false, "do not copy the generated secret key to FILE.key (keep it elsewhere yourself)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: pokor backup [--no-key] FILE")
	}
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		return err
	}
	dest := fs.Arg(0)
	start := time.Now()
	info, err := sqlstore.Backup(ctx, cfg.Get("POKOR_DATABASE_URL"), dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup: %s (%d bytes, %d sessions, %d votes, schema %s) in %s\n",
		info.Path, info.Bytes, info.Sessions, info.Votes, info.Migration, time.Since(start).Round(time.Millisecond))
	switch {
	case cfg.Get("POKOR_SECRET_KEY") != "":
		fmt.Fprintln(stdout, "secret key: POKOR_SECRET_KEY comes from your configuration; a restore needs the same value (keep it in your secret store, not beside the backup)")
	case *noKey:
		fmt.Fprintf(stdout, "secret key: not copied (--no-key); a restore needs %s\n", keyPath(cfg.Get("POKOR_DATABASE_URL")))
	default:
		key, err := os.ReadFile(keyPath(cfg.Get("POKOR_DATABASE_URL")))
		if err != nil {
			fmt.Fprintf(stderr, "warning: no secret key at %s (%v): stored tokens in this backup cannot be read without it\n", keyPath(cfg.Get("POKOR_DATABASE_URL")), err)
			return nil
		}
		if err := writeNew(dest+".key", key); err != nil {
			return fmt.Errorf("copying the secret key: %w", err)
		}
		fmt.Fprintf(stdout, "secret key: %s.key (mode 0600). It decrypts the tracker and bot tokens in the backup: store it apart from the backup, or pass --no-key\n", dest)
	}
	return nil
}

// restoreCmd replaces the SQLite database with a backup; the server must be stopped.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pokor restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "secret key file of the backup (default: FILE.key when it exists)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: pokor restore [--key FILE.key] FILE   (stop Pokor first)")
	}
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		return err
	}
	src, dbURL := fs.Arg(0), cfg.Get("POKOR_DATABASE_URL")
	if *keyFile == "" {
		if _, err := os.Stat(src + ".key"); err == nil {
			*keyFile = src + ".key"
		}
	}
	var key []byte
	if *keyFile != "" {
		if key, err = os.ReadFile(*keyFile); err != nil {
			return fmt.Errorf("reading the backup's secret key: %w", err)
		}
	}
	replaced, err := sqlstore.Restore(ctx, src, dbURL)
	if err != nil {
		return err
	}
	info, err := sqlstore.Inspect(ctx, sqlstore.SQLitePath(dbURL))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s (%d sessions, %d votes, schema %s)\n", src, info.Path, info.Sessions, info.Votes, info.Migration)
	if replaced != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s (delete it when you are satisfied)\n", replaced)
	}
	switch {
	case key == nil:
		fmt.Fprintln(stdout, "secret key: none given; the current one stays. If the backup was made with another key, stored tracker and bot tokens must be entered again")
	case cfg.Get("POKOR_SECRET_KEY") != "":
		if strings.TrimSpace(string(key)) != cfg.Get("POKOR_SECRET_KEY") {
			fmt.Fprintf(stderr, "warning: POKOR_SECRET_KEY differs from %s: set POKOR_SECRET_KEY to its content, or stored tokens and outstanding links will not work\n", *keyFile)
		}
	default:
		path := keyPath(dbURL)
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(bytes.TrimSpace(old), bytes.TrimSpace(key)) {
			fmt.Fprintf(stdout, "secret key: %s already holds the backup's key\n", path)
			break
		}
		if err == nil {
			if err := os.Rename(path, path+".replaced-"+time.Now().UTC().Format("20060102T150405Z")); err != nil {
				return err
			}
		}
		if err := writeNew(path, key); err != nil {
			return fmt.Errorf("installing the secret key: %w", err)
		}
		fmt.Fprintf(stdout, "secret key: installed %s as %s\n", *keyFile, path)
	}
	return nil
}

// writeNew writes a file that must not exist yet, readable by its owner only, and syncs it.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
