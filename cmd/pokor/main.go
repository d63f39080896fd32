// Command pokor is the Pokor server and its administration commands. main only wires: the
// configuration table is read in config.go, and Main holds the running parts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/discord"
	"github.com/pokor/pokor/bots/mattermost"
	slackbot "github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/integrations/azuredevops"
	"github.com/pokor/pokor/integrations/csv"
	"github.com/pokor/pokor/integrations/github"
	"github.com/pokor/pokor/integrations/gitlab"
	"github.com/pokor/pokor/integrations/jira"
	"github.com/pokor/pokor/integrations/notion"
	"github.com/pokor/pokor/integrations/webhook"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pokor:", err)
		os.Exit(1)
	}
}

// usage lists the commands; the trackers and chat platforms come from the wiring below.
func usage() string {
	return `Usage: pokor [command] [flags]

Commands:
  serve            run the server (default)
  export ID        print a session as CSV or JSON (--format csv|json)
  import ID FILE   add the stories of a CSV file to a session
  import ID --from TRACKER QUERY
                   import the stories a query selects (` + strings.Join(queryTrackers(), ", ") + `)
  check NAME       test a connection: ` + strings.Join(checkNames(), ", ") + ` (--json)
  discord register bulk-overwrite the /pokor command from manifests/discord/commands.json
  backup FILE      copy the running SQLite database (and its generated key) to FILE
  restore FILE     replace the SQLite database with a backup (stop the server first)
  webhooks         list, set or remove a team's webhook (pokor webhooks add --team TEAM_ID URL)
  healthcheck      exit 0 if the local server answers /healthz (--ready: /readyz)
  version          print the version

Every setting is an environment variable; see docs/configuration.md or 'pokor serve --help'.
`
}

// trackers lists the issue trackers of this binary, in the order the room's import dialog, the
// /pokor help and the docs show them. get reads the configuration when a tracker connects.
// Adding a tracker is its package, its docs page and one line here (docs/trackers.md).
func trackers(get func(string) string) []session.Tracker {
	return []session.Tracker{
		github.Tracker(get),
		jira.Tracker(get),
		notion.Tracker(get),
		gitlab.Tracker(get),
		azuredevops.Tracker(get),
		csv.Tracker(),
	}
}

// chatPlatforms are the chat platforms Pokor speaks, each described by its package. The
// configuration table takes their settings, and Open starts those whose first setting is set.
func chatPlatforms() []bots.Platform {
	return []bots.Platform{slackbot.Platform, discord.Platform, mattermost.Platform}
}

// chatChecks are the chat platforms `pokor check` tests, beside the trackers.
var chatChecks = map[string]func(ctx context.Context, cfg Config, args []string) (session.CheckReport, error){
	"slack":      checkSlack,
	"discord":    checkDiscord,
	"mattermost": checkMattermost,
}

// commands maps sub-commands to their functions.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"serve":       serve,
	"export":      exportCmd,
	"import":      importCmd,
	"check":       checkCmd,
	"discord":     discordCmd,
	"healthcheck": healthcheck,
	"backup":      backupCmd,
	"restore":     restoreCmd,
	"webhooks":    webhooksCmd,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if c, ok := commands[cmd]; ok {
		return c(ctx, args, stdout, stderr)
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "pokor", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	fmt.Fprint(stderr, usage())
	return fmt.Errorf("unknown command %q", cmd)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Get("POKOR_LOG_LEVEL")))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Get("POKOR_LOG_FORMAT") == "json" {
		return slog.New(traceLogHandler{slog.NewJSONHandler(w, opts)})
	}
	return slog.New(traceLogHandler{slog.NewTextHandler(w, opts)})
}

// Main is a running Pokor: the end-to-end tests start the same Main as the binary.
type Main struct {
	Config Config
	Log    *slog.Logger

	Keys    *session.Keys
	Store   *sqlstore.Store
	Hub     *session.Hub
	Service *session.Service
	Web     *webui.Server
	// Chats holds the chat bots that report back to the channel a session came from.
	Chats bots.Chats

	// Tracing exports OpenTelemetry traces; nil when OTEL_EXPORTER_OTLP_ENDPOINT is unset
	// (tracing.go).
	Tracing *sdktrace.TracerProvider

	// Instance names this process among the instances sharing a database and Redis (outbox
	// leases, presence entries): the host name and a random suffix.
	Instance string

	ln net.Listener
	// pprofAddr is where net/http/pprof listens (POKOR_PPROF_ADDR); empty when off.
	pprofAddr string
	server    *http.Server
	closers   []func() error
	starters  []func(ctx context.Context)
	drainers  []func()
	checks    []func(ctx context.Context) error
	wraps     []func(next session.PresenceFunc) session.PresenceFunc
	// draining is set when shutdown begins: connections closing from then on are clients moving
	// to another instance, not people leaving the room.
	draining atomic.Bool
}

// NewMain returns an unopened Main.
func NewMain(cfg Config, log *slog.Logger) *Main {
	return &Main{Config: cfg, Log: log, Chats: bots.Chats{}, Instance: instanceName()}
}

// instanceName is the host name (the pod or container name) with a random suffix, unique even
// when a restarted process reuses the host name.
func instanceName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "pokor"
	}
	return host + "-" + session.NewToken()[:6]
}

// Open opens the store, builds the service and the web server, and listens.
func (m *Main) Open(ctx context.Context) error {
	slog.SetDefault(m.Log)
	secret, err := m.secretKey()
	if err != nil {
		return err
	}
	if m.Keys, err = session.NewKeys(secret); err != nil {
		return err
	}
	if m.Tracing, err = setupTracing(ctx, getenv, nil); err != nil {
		return err
	}
	if m.Tracing != nil {
		// Registered first, so run last: the spans of the shutdown itself are sent too. An
		// unreachable collector delays the exit by at most 5 s.
		m.OnClose(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return m.Tracing.Shutdown(ctx)
		})
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if m.Tracing != nil {
		m.Store.Trace(m.Tracing)
	}
	m.Hub = session.NewHub()
	svcCfg := session.Config{
		Store: m.Store, Bus: session.LocalBus{Hub: m.Hub}, Presence: m.Hub, Keys: m.Keys,
		BaseURL: m.Config.Get("POKOR_BASE_URL"), Logger: m.Log, Notifier: m.Chats,
		Trackers: trackers(m.Config.Get),
		Nudger:   m.Chats,
		Webhooks: m.webhooks(),
	}
	if err := m.openRedis(&svcCfg); err != nil {
		return err
	}
	m.Service = session.NewService(svcCfg)
	onPresence := session.PresenceFunc(m.Service.PresenceChanged)
	for _, wrap := range m.wraps {
		onPresence = wrap(onPresence)
	}
	m.Hub.OnPresence(func(sessionID, participantID string, connected bool) {
		if !m.draining.Load() {
			onPresence(sessionID, participantID, connected)
		}
	})
	m.OnStart(m.Service.RunApprovals)
	m.OnStart(func(ctx context.Context) { m.Service.RunWriteBack(ctx, m.writeBackOwner()) })
	m.OnStart(m.Service.RunTimers)
	m.OnStart(func(ctx context.Context) { m.Service.RunWebhooks(ctx, m.writeBackOwner()) })
	limits, _ := m.Config.Limits() // validated by loadConfig
	m.Web, err = webui.New(webui.Config{
		Limits: limits, OIDC: m.Config.OIDC(m.Keys),
		Service: m.Service, Hub: m.Hub, BaseURL: m.Config.Get("POKOR_BASE_URL"), Logger: m.Log, Version: version,
		Ready: m.ready,
	})
	if err != nil {
		return err
	}
	if err := m.openChats(); err != nil {
		return err
	}
	m.ln, err = net.Listen("tcp", m.Config.Get("POKOR_ADDR"))
	if err != nil {
		return fmt.Errorf("listening on %s: %w", m.Config.Get("POKOR_ADDR"), err)
	}
	if err := m.openPprof(); err != nil {
		return err
	}
	handler := m.Web.Handler()
	if m.Tracing != nil {
		handler = traceHTTP(handler, m.Tracing)
	}
	m.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	return nil
}

// webhooks wires the outbound webhooks: the server-wide URLs are queued by the store with every
// event; sessions' and teams' webhooks are in the database.
func (m *Main) webhooks() session.WebhookConfig {
	m.Store.SetServerWebhooks(list(m.Config.Get("POKOR_WEBHOOK_URLS")))
	return session.WebhookConfig{
		Store: m.Store, Secret: m.Config.Get("POKOR_WEBHOOK_SECRET"),
		Sender: webhook.New(list(m.Config.Get("POKOR_WEBHOOK_ALLOWED_HOSTS")), version),
	}
}

// writeBackOwner names this instance in the outbox leases: the host name and the address it
// listens on. Two instances running at once never share it (they cannot listen on the same
// address of one host), and a restarted instance gets the same one back, so its write-back
// worker takes back at once the deliveries the previous process held when it was killed.
func (m *Main) writeBackOwner() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "pokor"
	}
	return host + "@" + m.Addr()
}

func (m *Main) openStore(ctx context.Context) error {
	var err error
	m.Store, err = sqlstore.Open(ctx, m.Config.Get("POKOR_DATABASE_URL"), m.Keys)
	return err
}

func (m *Main) ready(ctx context.Context) error {
	if err := m.Store.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	for _, check := range m.checks {
		if err := check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Addr is the address the server listens on (useful with POKOR_ADDR=127.0.0.1:0).
func (m *Main) Addr() string { return m.ln.Addr().String() }

// OnStart registers work that runs beside the server until Run's context ends.
func (m *Main) OnStart(f func(ctx context.Context)) { m.starters = append(m.starters, f) }

// OnClose registers a function run by Close.
func (m *Main) OnClose(f func() error) { m.closers = append(m.closers, f) }

// OnReady adds a readiness check of this Main to /readyz; its error message is shown there.
func (m *Main) OnReady(check func(ctx context.Context) error) { m.checks = append(m.checks, check) }

// WrapPresence wraps what the Hub tells of connections coming and going before the Service hears
// it; call it before the Service is built.
func (m *Main) WrapPresence(wrap func(next session.PresenceFunc) session.PresenceFunc) {
	m.wraps = append(m.wraps, wrap)
}

// OnDrain registers a function run when shutdown begins, before clients are moved away.
func (m *Main) OnDrain(f func()) { m.drainers = append(m.drainers, f) }

// Shutdown budget: the drain delay comes on top. Kubernetes' terminationGracePeriodSeconds and
// compose's stop_grace_period must cover both.
const (
	// shutdownTimeout bounds moving the clients away and finishing in-flight requests.
	shutdownTimeout = 15 * time.Second
	// stopTimeout bounds the background work (a write-back in flight) after the server stopped.
	stopTimeout = 15 * time.Second
)

// Run serves until ctx ends, then shuts down gracefully, in the order a rolling restart needs:
// /readyz turns unready while the server still serves, for POKOR_SHUTDOWN_DELAY, so that the load
// balancer stops sending new clients here; then connected clients are told to reconnect (they
// land on another instance, or on this one after a restart) and their sockets closed; in-flight
// requests finish; last, the background work stops: the write-back worker finishes the delivery
// in flight and gives back the entries it had claimed, for another instance to deliver.
func (m *Main) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bg sync.WaitGroup
	for _, f := range m.starters {
		bg.Go(func() { f(runCtx) })
	}
	if ttl, _ := m.Config.SessionTTL(); ttl > 0 {
		bg.Go(func() { m.expireSessions(runCtx, ttl) })
	}
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.ln) }()
	m.Log.Info("pokor listening", "addr", m.Addr(), "base_url", m.Config.Get("POKOR_BASE_URL"), "version", version,
		"database", strings.SplitN(m.Config.Get("POKOR_DATABASE_URL"), ":", 2)[0], "instance", m.Instance)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		delay, _ := m.Config.Duration("POKOR_SHUTDOWN_DELAY")
		m.Log.Info("shutting down", "drain_delay", delay)
		m.Web.Drain()
		m.draining.Store(true)
		for _, f := range m.drainers {
			f()
		}
		time.Sleep(delay)
		shutCtx, done := context.WithTimeout(context.Background(), shutdownTimeout)
		m.Web.Shutdown(shutCtx)
		err = m.server.Shutdown(shutCtx)
		done()
	}
	cancel()
	stopped := make(chan struct{})
	go func() { bg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopTimeout):
		m.Log.Warn("background work did not stop in time")
	}
	m.Log.Info("stopped")
	return err
}

func (m *Main) expireSessions(ctx context.Context, ttl time.Duration) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := m.Store.DeleteIdleSessions(ctx, time.Now().Add(-ttl))
		if err != nil && ctx.Err() == nil {
			m.Log.Warn("deleting idle sessions", "err", err)
		} else if n > 0 {
			m.Log.Info("deleted idle sessions", "count", n, "idle_for", ttl)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases everything Open acquired.
func (m *Main) Close() error {
	var err error
	for i := len(m.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, m.closers[i]())
	}
	if m.ln != nil {
		m.ln.Close()
	}
	if m.Store != nil {
		err = errors.Join(err, m.Store.Close())
	}
	return err
}

// secretKey returns POKOR_SECRET_KEY or, with SQLite, a key generated once and kept beside the
// database (mode 0600), so that links and encrypted secrets survive restarts.
func (m *Main) secretKey() (string, error) {
	if k := m.Config.Get("POKOR_SECRET_KEY"); k != "" {
		return k, nil
	}
	path := keyPath(m.Config.Get("POKOR_DATABASE_URL"))
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	k := session.NewToken() + session.NewToken()
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keeping the generated secret key: %w", err)
	}
	m.Log.Info("generated POKOR_SECRET_KEY and kept it beside the database", "path", path)
	return k, nil
}

var newKeys = session.NewKeys

func newOfflineService(m *Main) *session.Service {
	return session.NewService(session.Config{Store: m.Store, Keys: m.Keys, BaseURL: m.Config.Get("POKOR_BASE_URL"), Logger: m.Log,
		Trackers: trackers(m.Config.Get)})
}
