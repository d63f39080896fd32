package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
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
	{Env: "POKOR_SHUTDOWN_DELAY", Default: "0s", Help: "on SIGTERM, report unready this long before moving clients away, so a load balancer stops routing here first (e.g. 5s)"},
	{Env: "POKOR_LOG_FORMAT", Default: "text", Help: "text or json"},
	{Env: "POKOR_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
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
	if k := c.Get("POKOR_SECRET_KEY"); k != "" && len(k) < 32 {
		errs = append(errs, "POKOR_SECRET_KEY must be at least 32 characters (try: openssl rand -base64 48)")
	}
	if k := c.Get("POKOR_SECRET_KEY"); k == "" && !strings.HasPrefix(db, "sqlite:") {
		errs = append(errs, "POKOR_SECRET_KEY is required with PostgreSQL: every instance must sign links with the same key")
	}
	if _, err := c.SessionTTL(); err != nil {
		errs = append(errs, "POKOR_SESSION_TTL: "+err.Error())
	}
	if _, err := c.Duration("POKOR_SHUTDOWN_DELAY"); err != nil {
		errs = append(errs, "POKOR_SHUTDOWN_DELAY: "+err.Error())
	}
	if u := c.Get("POKOR_REDIS_URL"); u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") && !strings.HasPrefix(u, "unix://") {
		errs = append(errs, "POKOR_REDIS_URL must start with redis://, rediss:// or unix://")
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

// getenv is os.Getenv, replaceable in tests.
var getenv = os.Getenv
