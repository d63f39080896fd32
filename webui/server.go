// Package webui serves the landing page, the room, the JSON API under /api/v1 and the room
// WebSocket. It holds no rules: every change goes through session.Service.
package webui

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the web server needs.
type Config struct {
	Service *session.Service
	Hub     *session.Hub
	// BaseURL is the public URL; its scheme decides whether cookies are Secure.
	BaseURL string
	Logger  *slog.Logger
	// Ready reports whether the server can serve (store reachable, event bus connected); nil
	// checks nothing. Its error message is shown on /readyz.
	Ready func(ctx context.Context) error
	// Registry receives the metrics; nil uses a new registry.
	Registry *prometheus.Registry
	// Version is shown on /healthz.
	Version string
	// Limits are the abuse limits; the zero value limits nothing.
	Limits Limits
	// OIDC, when not nil, requires organizers to sign in before they create a session on the web.
	OIDC *OIDC
}

// Server is the HTTP side of Pokor.
type Server struct {
	cfg     Config
	svc     *session.Service
	hub     *session.Hub
	log     *slog.Logger
	engine  *gin.Engine
	tmpl    *template.Template
	langs   *i18n.Set
	secure  bool
	metrics *metrics
	guard   *guard
	auth    *auth // nil without OIDC
	// extra holds routes other packages mount (Slack, Discord).
	mu sync.Mutex
	// draining makes /readyz answer 503 so that load balancers stop sending new clients here;
	// closing (Shutdown) also turns new room connections away.
	draining bool
	closing  bool
	conns    sync.WaitGroup
	shutdown chan struct{}
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{"json": jsonForScript}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	langs, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.BaseURL)
	s := &Server{
		cfg: cfg, svc: cfg.Service, hub: cfg.Hub, log: cfg.Logger, tmpl: tmpl, langs: langs,
		secure:   u != nil && u.Scheme == "https",
		shutdown: make(chan struct{}),
	}
	s.metrics = newMetrics(cfg.Registry, cfg.Hub)
	s.guard = newGuard(cfg.Limits, cfg.Registry)
	s.engine = gin.New()
	// c.ClientIP() is the peer address unless the peer is a trusted proxy; gin would otherwise
	// believe any client's X-Forwarded-For.
	if err := s.engine.SetTrustedProxies(cfg.Limits.TrustedProxies); err != nil {
		return nil, fmt.Errorf("POKOR_TRUSTED_PROXIES: %w", err)
	}
	s.engine.RemoteIPHeaders = []string{"X-Forwarded-For"}
	s.engine.Use(s.recover, s.logRequests, securityHeaders)
	if cfg.OIDC != nil {
		s.auth = &auth{cfg: *cfg.OIDC, srv: s}
		s.auth.routes(s.engine)
	}
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Router lets other packages (Slack, Discord) mount their endpoints.
func (s *Server) Router() gin.IRouter { return s.engine }

func (s *Server) routes() {
	r := s.engine
	static, _ := fs.Sub(staticFS, "static")
	r.StaticFS("/static", http.FS(static))
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})))
	r.GET("/", s.landing)
	r.GET("/s/:id", s.room)
	r.GET("/s/:id/enter", s.enter)
	r.GET("/s/:id/ws", s.websocket)

	api := r.Group("/api/v1", s.csrf, limitBody(1<<20))
	api.GET("/openapi.json", s.openapi)
	api.POST("/sessions", s.createSession)
	api.GET("/sessions/:id", s.act("snapshot"))
	api.PATCH("/sessions/:id", s.act("update_session"))
	api.POST("/sessions/:id/close", s.act("close_session"))
	api.GET("/sessions/:id/organizer-link", s.act("organizer_link"))
	api.POST("/sessions/:id/organizer-link/rotate", s.act("rotate_organizer_link"))
	api.GET("/sessions/:id/export", s.export)
	api.POST("/sessions/:id/participants", s.join)
	api.PATCH("/sessions/:id/participants/:pid", s.act("update_participant"))
	api.DELETE("/sessions/:id/participants/:pid", s.act("remove_participant"))
	api.POST("/sessions/:id/participants/:pid/admit", s.act("admit"))
	api.POST("/sessions/:id/participants/:pid/emoji", s.act("throw"))
	api.POST("/sessions/:id/stories", s.act("add_stories"))
	api.PUT("/sessions/:id/order", s.act("reorder"))
	api.PATCH("/sessions/:id/stories/:sid", s.act("update_story"))
	api.DELETE("/sessions/:id/stories/:sid", s.act("remove_story"))
	api.POST("/sessions/:id/stories/:sid/select", s.act("select_story"))
	api.PUT("/sessions/:id/stories/:sid/vote", s.act("vote"))
	api.DELETE("/sessions/:id/stories/:sid/vote", s.act("retract"))
	api.POST("/sessions/:id/stories/:sid/reveal", s.act("reveal"))
	api.POST("/sessions/:id/stories/:sid/revote", s.act("revote"))
	api.POST("/sessions/:id/stories/:sid/accept", s.act("accept"))
	api.GET("/sessions/:id/stories/:sid/rounds", s.act("history"))
	api.GET("/sessions/:id/timer", s.act("check_timer"))
	api.POST("/sessions/:id/timer", s.act("start_timer"))
	api.DELETE("/sessions/:id/timer", s.act("stop_timer"))
	api.POST("/sessions/:id/nudge", s.act("nudge"))
	api.POST("/sessions/:id/participants/:pid/nudge", s.act("nudge"))
	s.trackerRoutes(api)
	s.teamRoutes(r, api)
	s.webhookRoutes(api)
	r.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			writeError(c, session.Errorf(session.CodeNotFound, "no such endpoint: %s %s (see docs/api.md)", c.Request.Method, c.Request.URL.Path))
			return
		}
		c.Status(http.StatusNotFound)
		s.page(c, "error.html", pageData{Title: "Not found", Message: "There is nothing at this address."})
	})
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c *gin.Context) {
	s.mu.Lock()
	draining := s.draining || s.closing
	s.mu.Unlock()
	if draining {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "shutting down"})
		return
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// Drain makes /readyz report the server as shutting down while it goes on serving, so that a load
// balancer stops routing new clients here before Shutdown moves the connected ones away.
func (s *Server) Drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
}

// Shutdown tells every connected client to reconnect (to this instance after a restart, or to
// another one behind the load balancer), then closes the connections.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	close(s.shutdown)
	s.mu.Unlock()
	msg, _ := session.Event{Type: session.EvReconnect, Data: map[string]string{"reason": "the server is restarting"}}.Encode()
	s.hub.Broadcast(msg)
	// Each writer sends the notice it has queued, then the close frame (1012, service restart).
	s.hub.KickAll("server restart")
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
