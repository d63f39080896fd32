// Package webuitest starts a Pokor web server built from the real parts (SQLite store in a temp
// directory, event hub, session service, webui) behind an httptest server, the way cmd/pokor
// wires them, for the tests of the packages that plug into it: the chat bots and the trackers.
package webuitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
	"github.com/pokor/pokor/webui"
	"github.com/pokor/pokor/webui/openapitest"
)

// DefaultSecret is the POKOR_SECRET_KEY of a test server unless Options.Secret says otherwise.
const DefaultSecret = "webuitest-secret-key-that-is-long-enough-0123456789"

// Options adjusts a test server. Every field may be left zero.
type Options struct {
	// Secret is the POKOR_SECRET_KEY.
	Secret string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Service changes the service's configuration before it is built: wrap the store, add
	// trackers, a notifier or a clock. Store, Bus, Presence, Keys, BaseURL and Logger are set.
	Service func(*session.Config)
	// Mount runs once the web server exists and before it serves: mount a bot's routes on
	// s.Web.Router() and register its notifier.
	Mount func(s *Server)
}

// Server is a running test server.
type Server struct {
	// URL is the server's base URL (POKOR_BASE_URL), known before it serves so links carry it.
	URL     string
	Keys    *session.Keys
	Store   *sqlstore.Store
	Hub     *session.Hub
	Service *session.Service
	Web     *webui.Server
	HTTP    *httptest.Server
}

// Start builds and starts a server; test cleanup shuts it down gracefully and closes the store.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Secret == "" {
		opts.Secret = DefaultSecret
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	keys, err := session.NewKeys(opts.Secret)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "pokor.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Keys: keys, Store: store, Hub: session.NewHub(), HTTP: httptest.NewUnstartedServer(nil)}
	s.URL = "http://" + s.HTTP.Listener.Addr().String()
	cfg := session.Config{Store: store, Bus: session.LocalBus{Hub: s.Hub}, Presence: s.Hub, Keys: keys, BaseURL: s.URL, Logger: opts.Logger}
	if opts.Service != nil {
		opts.Service(&cfg)
	}
	s.Service = session.NewService(cfg)
	s.Hub.OnPresence(s.Service.PresenceChanged)
	s.Web, err = webui.New(webui.Config{Service: s.Service, Hub: s.Hub, BaseURL: s.URL, Logger: opts.Logger, Ready: store.Ping})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	if opts.Mount != nil {
		opts.Mount(s)
	}
	// Every API response of the tests is checked against the OpenAPI description.
	s.HTTP.Config.Handler = openapitest.Wrap(t, webui.OpenAPI(), s.Web.Handler())
	s.HTTP.Start()
	timers, stopTimers := context.WithCancel(context.Background())
	timersDone := make(chan struct{})
	go func() {
		defer close(timersDone)
		s.Service.RunTimers(timers)
	}()
	t.Cleanup(func() {
		// The timers stop before the store closes: a query of theirs still running would close
		// SQLite's last connection after Close returned, removing its WAL files while t.TempDir
		// empties the directory ("directory not empty").
		stopTimers()
		<-timersDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Web.Shutdown(ctx)
		s.HTTP.CloseClientConnections()
		s.HTTP.Close()
		store.Close()
	})
	return s
}
