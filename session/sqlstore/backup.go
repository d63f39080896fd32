package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrInUse is returned by Restore when a running Pokor (or another program) has the database open.
var ErrInUse = errors.New("the database is in use: stop Pokor first (systemctl stop pokor, docker stop pokor, or Ctrl-C), then run restore again")

// BackupInfo describes a backup file.
type BackupInfo struct {
	Path     string
	Bytes    int64
	Sessions int
	Votes    int
	// Migrations is the last migration the backup's schema has.
	Migration string
}

// SQLitePath returns the file of a "sqlite:PATH" database URL, or "" for another database.
func SQLitePath(url string) string {
	if !strings.HasPrefix(url, "sqlite:") {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
}

// Backup writes a consistent copy of the SQLite database at url to dest, while Pokor may be
// running and writing. It uses VACUUM INTO, which reads the database in one read transaction: the
// copy holds every transaction committed before the backup began (every acknowledged vote) and
// none that was half done, and writers are not held up meanwhile (WAL). The copy is written to a
// temporary file, synced and renamed, so dest is either absent or complete. dest must not exist.
func Backup(ctx context.Context, url, dest string) (*BackupInfo, error) {
	src := SQLitePath(url)
	if src == "" {
		return nil, errors.New("pokor backup copies a SQLite database; with PostgreSQL use pg_dump (docs/deploy.md, Backups)")
	}
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("no database at %s: %w", src, err)
	}
	if _, err := os.Stat(dest); err == nil {
		return nil, fmt.Errorf("%s exists: choose a new file name (a backup never overwrites a file)", dest)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return nil, err
	}
	tmp := abs + ".partial"
	_ = os.Remove(tmp)
	// mode=rw: never create an empty database where the real one was expected.
	db, err := sql.Open("sqlite", "file:"+src+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("copying the database: %w", err)
	}
	if err := syncRename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		return nil, err
	}
	return Inspect(ctx, abs)
}

// Inspect checks that path is an intact Pokor SQLite database and counts what it holds.
func Inspect(ctx context.Context, path string) (*BackupInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return nil, fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	if check != "ok" {
		return nil, fmt.Errorf("%s is damaged: %s", path, check)
	}
	info := &BackupInfo{Path: path, Bytes: fi.Size()}
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&info.Migration); err != nil {
		return nil, fmt.Errorf("%s is not a Pokor database (no schema_migrations table)", path)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&info.Sessions); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM votes`).Scan(&info.Votes); err != nil {
		return nil, err
	}
	return info, nil
}

// Restore replaces the SQLite database of url with the backup src. It refuses while the database
// is open elsewhere (ErrInUse): a running server would go on writing into the replaced file's
// pages. The database it replaces is not deleted but renamed to PATH.replaced-TIMESTAMP, and
// that name is returned ("" when there was none).
func Restore(ctx context.Context, src, url string) (replaced string, err error) {
	dst := SQLitePath(url)
	if dst == "" {
		return "", errors.New("pokor restore restores a SQLite database; with PostgreSQL use pg_restore (docs/deploy.md, Backups)")
	}
	if _, err := Inspect(ctx, src); err != nil {
		return "", err
	}
	if dir := filepath.Dir(dst); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(dst); err == nil {
		if err := quiesce(ctx, dst); err != nil {
			return "", err
		}
		replaced = dst + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dst, replaced); err != nil {
			return "", err
		}
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dst + ext); err == nil {
				if err := os.Rename(dst+ext, replaced+ext); err != nil {
					return replaced, err
				}
			}
		}
	}
	tmp := dst + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		_ = os.Remove(tmp)
		return replaced, err
	}
	return replaced, syncRename(tmp, dst)
}

// quiesce takes the database for itself and folds its write-ahead log into the file, or returns
// ErrInUse. In WAL mode every connection that has read the database keeps a shared lock on its
// file for as long as it is open, so an exclusive lock is only granted when nobody else has it
// open.
func quiesce(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return inUse(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		return inUse(err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return inUse(err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return inUse(err)
	}
	return nil
}

func inUse(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "locked") || strings.Contains(msg, "busy") || strings.Contains(msg, "BUSY") {
		return ErrInUse
	}
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncRename makes tmp durable, renames it to dst and makes the rename durable.
func syncRename(tmp, dst string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
