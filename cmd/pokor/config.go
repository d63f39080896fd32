package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui"
)

// setting is one row of the configuration table: an environment variable, also accepted as a
// flag of `pokor serve` (POKOR_BASE_URL → --base-url).
type setting struct {
	Env     string
	Default string
	Help    string
	Secret  bool
}

// settings is the whole configuration of Pokor, read in one place: the core settings and
// those of every chat platform and tracker (each descriptor lists its own). docs/configuration.md documents the
// same table.
var settings = append(append(coreSettings, chatSettings()...), trackerSettings()...)

// trackerSettings are the server-wide settings the trackers' descriptors declare.
func trackerSettings() []setting {
	var out []setting
	for _, t := range trackers(func(string) string { return "" }) {
		for _, s := range t.Settings {
			out = append(out, setting{Env: s.Env, Help: s.Help, Secret: s.Secret})
		}
	}
	return out
}

// coreSettings are the settings of Pokor itself.
var coreSettings = []setting{
	{Env: "POKOR_ADDR", Default: ":8080", Help: "listen address"},
	{Env: "POKOR_BASE_URL", Default: "http://localhost:8080", Help: "public URL used in links"},
	{Env: "POKOR_DATABASE_URL", Default: "sqlite:./data/pokor.db", Help: "sqlite:PATH or postgres://…"},
	{Env: "POKOR_REDIS_URL", Help: "redis://… enables cross-instance events, presence and join requests (needed with more than one instance)", Secret: true},
	{Env: "POKOR_REDIS_PREFIX", Default: "pokor:", Help: "prefix of every Redis key and channel (several deployments can share one Redis)"},
	{Env: "POKOR_SECRET_KEY", Help: "signs links and encrypts secrets (32+ characters); generated and kept in the data directory when unset with SQLite; required with PostgreSQL", Secret: true},
	{Env: "POKOR_SESSION_TTL", Default: "0", Help: "delete sessions idle this long, e.g. 720h (0 keeps them)"},
	{Env: "POKOR_LANGUAGE", Default: "en", Help: "language of the chat bots' replies where the chat does not say the user's (Slack, Mattermost; Discord without a catalog for the user's locale): the BCP 47 tag of a catalog, e.g. de"},
	{Env: "POKOR_SHUTDOWN_DELAY", Default: "0s", Help: "on SIGTERM, report unready this long before moving clients away, so a load balancer stops routing here first (e.g. 5s)"},
	{Env: "POKOR_RATE_SESSIONS", Default: "1000/h", Help: "sessions one client address may create: N/s, N/m or N/h (bursts of N), or off"},
	{Env: "POKOR_RATE_JOINS", Default: "10000/h", Help: "joins (by room link or pre-signed link) per client address, or off"},
	{Env: "POKOR_RATE_MESSAGES", Default: "20/s", Help: "room actions (API calls and WebSocket messages) per participant, or off"},
	{Env: "POKOR_MAX_CONNECTIONS_PER_CLIENT", Default: "10000", Help: "room WebSockets one client address may hold open at once (0: no cap)"},
	{Env: "POKOR_MAX_ROOMS_PER_CLIENT", Default: "1000", Help: "distinct rooms one client address may be connected to at once (0: no cap)"},
	{Env: "POKOR_TRUSTED_PROXIES", Help: "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (unset: X-Forwarded-For is ignored)"},
	{Env: "POKOR_OIDC_ISSUER", Help: "OpenID Connect issuer URL; with it, organizers sign in before they create a session on the web"},
	{Env: "POKOR_OIDC_CLIENT_ID", Help: "OpenID Connect client id (redirect URI: POKOR_BASE_URL/auth/callback)"},
	{Env: "POKOR_OIDC_CLIENT_SECRET", Help: "OpenID Connect client secret", Secret: true},
	{Env: "POKOR_OIDC_ALLOWED_DOMAINS", Help: "comma-separated e-mail domains whose (verified) addresses may sign in; unset admits any"},
	{Env: "POKOR_OIDC_ALLOWED_GROUPS", Help: "comma-separated groups, one of which an organizer must be in; unset admits any"},
	{Env: "POKOR_OIDC_GROUPS_CLAIM", Default: "groups", Help: "the ID token claim that lists the groups"},
	{Env: "POKOR_WEBHOOK_URLS", Help: "comma-separated URLs that receive every session's events (session.created, estimate.accepted, session.ended)"},
	{Env: "POKOR_WEBHOOK_SECRET", Help: "signs the events sent to POKOR_WEBHOOK_URLS (HMAC-SHA256); required with them", Secret: true},
	{Env: "POKOR_WEBHOOK_ALLOWED_HOSTS", Help: "comma-separated hosts an organizer's session webhook may name although they are on a private network"},
	{Env: "POKOR_LOG_FORMAT", Default: "text", Help: "text or json"},
	{Env: "POKOR_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
	{Env: "POKOR_PPROF_ADDR", Help: "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); off when unset"},
}

// Config is the parsed configuration.
type Config struct {
	values map[string]string
}

// Get returns the value of an environment variable of the table.
func (c Config) Get(env string) string { return c.values[env] }

func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "POKOR_")), "_", "-")
}

// loadConfig reads the table from the environment, then lets flags override it.
func loadConfig(args []string, getenv func(string) string) (Config, error) {
	c := Config{values: map[string]string{}}
	fs := flag.NewFlagSet("pokor serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: pokor serve [flags]\n\nEvery flag may also be given as its environment variable.")
		fs.PrintDefaults()
	}
	flags := map[string]*string{}
	for _, s := range settings {
		v := s.Default
		if e := getenv(s.Env); e != "" {
			v = e
		}
		c.values[s.Env] = v
		def := v
		if s.Secret && v != "" {
			def = "" // never print a secret in --help
		}
		flags[s.Env] = fs.String(flagName(s.Env), def, s.Help+" ($"+s.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) {
		for env := range flags {
			if flagName(env) == f.Name {
				c.values[env] = f.Value.String()
			}
		}
	})
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []string
	db := c.Get("POKOR_DATABASE_URL")
	if !strings.HasPrefix(db, "sqlite:") && !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		errs = append(errs, "POKOR_DATABASE_URL must be sqlite:PATH or postgres://…")
	}
	if !strings.HasPrefix(c.Get("POKOR_BASE_URL"), "http://") && !strings.HasPrefix(c.Get("POKOR_BASE_URL"), "https://") {
		errs = append(errs, "POKOR_BASE_URL must start with http:// or https://")
	}
	if a := c.Get("POKOR_PPROF_ADDR"); a != "" && !loopback(a) {
		errs = append(errs, "POKOR_PPROF_ADDR must be a loopback address such as 127.0.0.1:6060: profiles show the server's internals")
	}
	if k := c.Get("POKOR_SECRET_KEY"); k != "" && len(k) < 32 {
		errs = append(errs, "POKOR_SECRET_KEY must be at least 32 characters (try: openssl rand -base64 48)")
	}
	if k := c.Get("POKOR_SECRET_KEY"); k == "" && !strings.HasPrefix(db, "sqlite:") {
		errs = append(errs, "POKOR_SECRET_KEY is required with PostgreSQL: every instance must sign links with the same key")
	}
	if _, err := c.SessionTTL(); err != nil {
		errs = append(errs, "POKOR_SESSION_TTL: "+err.Error())
	}
	if _, err := bots.ParseLanguage(c.Get("POKOR_LANGUAGE")); err != nil {
		errs = append(errs, "POKOR_LANGUAGE: "+err.Error())
	}
	if _, err := c.Duration("POKOR_SHUTDOWN_DELAY"); err != nil {
		errs = append(errs, "POKOR_SHUTDOWN_DELAY: "+err.Error())
	}
	if u := c.Get("POKOR_REDIS_URL"); u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") && !strings.HasPrefix(u, "unix://") {
		errs = append(errs, "POKOR_REDIS_URL must start with redis://, rediss:// or unix://")
	}
	if iss := c.Get("POKOR_OIDC_ISSUER"); iss != "" || c.Get("POKOR_OIDC_CLIENT_ID") != "" {
		switch {
		case iss == "" || c.Get("POKOR_OIDC_CLIENT_ID") == "":
			errs = append(errs, "POKOR_OIDC_ISSUER and POKOR_OIDC_CLIENT_ID go together")
		case !strings.HasPrefix(iss, "https://") && !strings.HasPrefix(iss, "http://localhost") && !strings.HasPrefix(iss, "http://127.0.0.1"):
			errs = append(errs, "POKOR_OIDC_ISSUER must be an https:// URL")
		}
	}
	for _, u := range list(c.Get("POKOR_WEBHOOK_URLS")) {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			errs = append(errs, "POKOR_WEBHOOK_URLS: "+u+" is not an http:// or https:// URL")
		}
	}
	if c.Get("POKOR_WEBHOOK_URLS") != "" && len(c.Get("POKOR_WEBHOOK_SECRET")) < 16 {
		errs = append(errs, "POKOR_WEBHOOK_SECRET (16 characters or more) is required with POKOR_WEBHOOK_URLS: receivers check the signature (try: openssl rand -hex 32)")
	}
	if _, err := c.Limits(); err != nil {
		errs = append(errs, err.Error())
	}
	switch c.Get("POKOR_LOG_FORMAT") {
	case "text", "json":
	default:
		errs = append(errs, "POKOR_LOG_FORMAT must be text or json")
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return errors.New("configuration: " + strings.Join(errs, "; "))
	}
	return nil
}

// SessionTTL parses POKOR_SESSION_TTL ("0" keeps sessions).
func (c Config) SessionTTL() (time.Duration, error) {
	v := c.Get("POKOR_SESSION_TTL")
	if v == "" || v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 720h", v)
	}
	return d, nil
}

// Duration parses a duration setting ("5s", "1m"; "0" is zero).
func (c Config) Duration(env string) (time.Duration, error) {
	v := c.Get(env)
	if v == "" || v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 5s", v)
	}
	return d, nil
}

// Limits reads the abuse limits (POKOR_RATE_*, POKOR_MAX_*, POKOR_TRUSTED_PROXIES).
func (c Config) Limits() (webui.Limits, error) {
	var l webui.Limits
	var errs []string
	for env, r := range map[string]*webui.Rate{"POKOR_RATE_SESSIONS": &l.Sessions, "POKOR_RATE_JOINS": &l.Joins, "POKOR_RATE_MESSAGES": &l.Messages} {
		v, err := webui.ParseRate(c.Get(env))
		if err != nil {
			errs = append(errs, env+": "+err.Error())
		}
		*r = v
	}
	for env, n := range map[string]*int{"POKOR_MAX_CONNECTIONS_PER_CLIENT": &l.MaxConnections, "POKOR_MAX_ROOMS_PER_CLIENT": &l.MaxRooms} {
		v, err := strconv.Atoi(strings.TrimSpace(c.Get(env)))
		if err != nil || v < 0 {
			errs = append(errs, env+" must be a whole number (0: no cap)")
		}
		*n = v
	}
	for _, p := range strings.Split(c.Get("POKOR_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, "POKOR_TRUSTED_PROXIES: "+p+" is neither an address nor a CIDR range like 10.0.0.0/8")
			}
		}
		l.TrustedProxies = append(l.TrustedProxies, p)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return l, errors.New(strings.Join(errs, "; "))
	}
	return l, nil
}

// OIDC returns the organizer sign-in settings, or nil when POKOR_OIDC_ISSUER is unset.
func (c Config) OIDC(sealer *session.Keys) *webui.OIDC {
	if c.Get("POKOR_OIDC_ISSUER") == "" {
		return nil
	}
	return &webui.OIDC{
		Issuer: c.Get("POKOR_OIDC_ISSUER"), ClientID: c.Get("POKOR_OIDC_CLIENT_ID"), ClientSecret: c.Get("POKOR_OIDC_CLIENT_SECRET"),
		AllowedDomains: list(c.Get("POKOR_OIDC_ALLOWED_DOMAINS")), AllowedGroups: list(c.Get("POKOR_OIDC_ALLOWED_GROUPS")),
		GroupsClaim: c.Get("POKOR_OIDC_GROUPS_CLAIM"), Sealer: sealer,
	}
}

// list splits a comma-separated setting, dropping blanks.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// getenv is os.Getenv, replaceable in tests.
var getenv = os.Getenv
