// Package sqlstore implements session.Store on SQLite (modernc.org/sqlite, no cgo) and
// PostgreSQL (pgx). Both run the same embedded migrations; the few differences in SQL between
// the two stay in this package.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/pokor/pokor/session"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Sealer encrypts the secrets a store keeps (reply URLs of chat origins).
type Sealer interface {
	Seal(plain string) string
	Open(sealed string) (string, error)
}

type dialect int

const (
	sqlite dialect = iota
	postgres
)

// Store is a session.Store over database/sql.
type Store struct {
	dialect dialect
	// w takes writes; r takes reads. On SQLite w has one connection (SQLite has one writer, and
	// queueing in Go is cheaper than busy-waiting in SQLite) and r several (WAL lets readers run
	// beside the writer). On PostgreSQL both are the same pool.
	w, r   *sql.DB
	sealer Sealer
	rounds *roundWriter
	// rstmts and wstmts hold prepared statements by query text, on SQLite only: modernc's SQLite
	// compiles every statement it is given, and under load compiling the same few queries again
	// and again cost a fifth of the server's CPU (docs/performance.md). PostgreSQL's driver
	// caches statements itself.
	rstmts, wstmts sync.Map // string → *sql.Stmt
	// pgQueries holds q's rewrites: on PostgreSQL every statement, the vote's included, was
	// rewritten on every call (2% of the server's CPU at 3,000 votes/s).
	pgQueries sync.Map // string → string
	// cache holds recently read sessions and participants (cache.go).
	cache *rowCache
	// announce tells the other instances which rows a write changed, and live reports whether
	// their announcements reach this one (ShareCache); both nil while this process is the only
	// writer. down records that live was false, so that the cache is emptied when it returns.
	announce func(sessionID string, f session.Forget)
	live     func() bool
	down     atomic.Bool
	// commits counts committed write transactions (Commits), reads the queries read (Reads).
	commits, reads atomic.Int64
	// serverHooks are the server-wide webhook URLs every event is queued for.
	serverHooks []string
	// tracer records spans when tracing is on (Trace); nil otherwise.
	tracer trace.Tracer
}

var _ session.Store = (*Store)(nil)

// Open opens the store named by url: "sqlite:PATH" (the directory is created) or
// "postgres://..." / "postgresql://...", and applies the migrations.
func Open(ctx context.Context, url string, sealer Sealer) (*Store, error) {
	s := &Store{sealer: sealer}
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("POKOR_DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/pokor.db")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("creating the data directory: %w", err)
			}
		}
		// synchronous(FULL) makes each commit durable before it returns: a vote is acknowledged
		// only once on disk. Group commit (roundWriter) keeps that affordable.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
		w, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		// A reader's page cache is small (512 KB instead of SQLite's 2 MB): in WAL mode a reader
		// drops its cache whenever another connection has committed, which under load is every
		// few milliseconds, so a large cache only holds memory (docs/performance.md).
		r, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-512)")
		if err != nil {
			w.Close()
			return nil, err
		}
		r.SetMaxOpenConns(8)
		// Keep them all: database/sql keeps two idle connections by default and closes the
		// rest, and under load reopening SQLite connections (files, pragmas, schema,
		// prepared statements) cost more than the queries.
		r.SetMaxIdleConns(8)
		s.dialect, s.w, s.r, s.cache = sqlite, w, r, newRowCache()
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("POKOR_DATABASE_URL: %w", err)
		}
		// A vote is acknowledged only once durable (ARCHITECTURE.md): whatever the server's or
		// the role's default, each commit waits for its WAL to reach the disk.
		cfg.RuntimeParams["synchronous_commit"] = "on"
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		s.dialect, s.w, s.r, s.cache = postgres, db, db, newRowCache()
	default:
		return nil, fmt.Errorf("POKOR_DATABASE_URL must start with sqlite: or postgres:// (got %q)", redact(url))
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	if err := s.prepareWrites(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.rounds = newRoundWriter(s)
	return s, nil
}

// redact hides a password in a database URL.
func redact(url string) string {
	if at := strings.Index(url, "@"); at > 0 {
		if i := strings.Index(url, "://"); i > 0 && i < at {
			return url[:i+3] + "…" + url[at:]
		}
	}
	return url
}

// Close stops the vote writer and closes the databases.
func (s *Store) Close() error {
	if s.rounds != nil {
		s.rounds.close()
	}
	var err error
	for _, m := range []*sync.Map{&s.rstmts, &s.wstmts} {
		m.Range(func(_, st any) bool {
			st.(*sql.Stmt).Close()
			return true
		})
	}
	if s.w != nil {
		err = s.w.Close()
	}
	if s.r != nil && s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.w.PingContext(ctx) }

// q rewrites "?" placeholders as "$1", "$2"... for PostgreSQL.
func (s *Store) q(query string) string {
	if s.dialect != postgres {
		return query
	}
	if v, ok := s.pgQueries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	// The queries are the package's own texts (one is built for a handful of tracker names), so
	// the map stays small.
	s.pgQueries.Store(query, b.String())
	return b.String()
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (_ sql.Result, err error) {
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "", query)
		defer func() { end(err) }()
	}
	return s.w.ExecContext(ctx, s.q(query), args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (_ *sql.Rows, err error) {
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "", query)
		defer func() { end(err) }()
	}
	s.reads.Add(1)
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.q(query), args...)
}

// queryRow reads one row by key. Such a lookup takes microseconds and is not worth cancelling:
// with a cancellable context database/sql and the SQLite driver each start a goroutine per
// query to watch the context, which under load cost more scheduling than the lookup itself.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	s.reads.Add(1)
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "", query)
		defer end(nil)
	}
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, s.q(query), args...)
}

// readStmt returns the reader pool's prepared statement for query, preparing it the first
// time; nil on PostgreSQL or when preparing fails (the caller then runs the query as text).
func (s *Store) readStmt(ctx context.Context, query string) *sql.Stmt {
	if s.dialect != sqlite {
		return nil
	}
	if st, ok := s.rstmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := s.rstmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

// prepareWrites prepares the statements of the round writer on the writer connection, before
// anything else uses it: preparing later could wait for the connection a transaction holds.
func (s *Store) prepareWrites(ctx context.Context) error {
	if s.dialect != sqlite {
		return nil
	}
	for _, q := range roundStatements {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", q, err)
		}
		s.wstmts.Store(q, st)
	}
	return nil
}

// tx runs f in a write transaction. On PostgreSQL a transaction aborted to break a deadlock is
// run again (f must start from scratch each time): writers of different instances meet there,
// where on SQLite they queue.
func (s *Store) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx1(ctx, f)
		if err == nil || attempt == 3 || s.dialect != postgres || !transient(err) {
			return err
		}
	}
}

func (s *Store) tx1(ctx context.Context, f func(tx *sql.Tx) error) (err error) {
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "transaction", "")
		defer func() { end(err) }()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.commits.Add(1)
	return nil
}

// Commits returns how many write transactions the store has committed, for benchmarks: group
// commit shows as fewer commits than operations.
func (s *Store) Commits() int64 { return s.commits.Load() }

// Reads returns how many read queries the store has sent to the database, for benchmarks: rows
// the cache answers are not among them.
func (s *Store) Reads() int64 { return s.reads.Load() }

// txExec runs a statement in tx, through its prepared statement when the writer has one.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (_ sql.Result, err error) {
	if s.tracer != nil {
		var end func(error)
		ctx, end = s.trace(ctx, "", query)
		defer func() { end(err) }()
	}
	if st, ok := s.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.q(query), args...)
}

// txQueryRow runs a statement that returns one row in tx, prepared like txExec.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.q(query), args...)
}

// migrateLock is the PostgreSQL advisory lock key that serialises migrations.
const migrateLock = 727001

// migrate applies the embedded migrations not yet applied, each in its own transaction. On
// PostgreSQL every step, the creation of schema_migrations included, first takes a transaction
// advisory lock, so that instances starting at the same moment wait for each other: CREATE TABLE
// IF NOT EXISTS alone is not safe against a concurrent one there. The lock is released with its
// transaction, so a failed start never leaves it held.
func (s *Store) migrate(ctx context.Context) error {
	err := s.migrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.migrationTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitSQL(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", version, err)
				}
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// migrationTx runs f in a transaction that, on PostgreSQL, holds the migration lock.
func (s *Store) migrationTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return err
			}
		}
		return f(tx)
	})
}

// splitSQL splits a migration into statements at semicolons that end a line, dropping comments.
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// transient reports whether PostgreSQL aborted a transaction to break a deadlock or a
// serialization conflict, which a retry resolves.
func transient(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// notFound maps sql.ErrNoRows to session.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return session.ErrNotFound
	}
	return err
}
