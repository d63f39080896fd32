// Package discord is Pokor's Discord bot: the /pokor slash command over HTTP interactions, the
// Invite channel button, and summaries posted back to the channel a session came from.
//
// Discord API documentation:
//   - interactions: https://discord.com/developers/docs/interactions/receiving-and-responding
//   - commands: https://discord.com/developers/docs/interactions/application-commands
//   - message components: https://discord.com/developers/docs/components/reference
//   - webhooks (interaction follow-ups): https://discord.com/developers/docs/resources/webhook
package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// DefaultAPIURL is Discord's documented API base URL; the version segment is added per request.
const DefaultAPIURL = "https://discord.com/api"

// apiVersion is the API version every request is sent to. discordgo v0.29 still builds v9 URLs,
// which Discord has deprecated; the endpoints Pokor uses have the same payloads in v10.
const apiVersion = "v10"

// Config is what the bot needs.
type Config struct {
	// PublicKey is the application's public key (hex) from the Developer Portal; it verifies that
	// interactions come from Discord. Without it the interactions endpoint refuses everything.
	PublicKey string
	// ApplicationID is the application's id; needed to register commands, and used when an
	// interaction does not carry application_id.
	ApplicationID string
	// BotToken lets the bot post summaries to channels and register commands; without it,
	// summaries go through the interaction webhook while its token lasts (15 minutes).
	BotToken string
	// APIURL replaces https://discord.com/api for every Discord API call (tests, proxies).
	APIURL string
	// BaseURL is Pokor's public URL; the interactions endpoint is BaseURL + "/discord/interactions".
	BaseURL string
	// Service creates sessions; nil is enough for Register and Identity.
	Service    *session.Service
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
	// Language is the catalog for interactions whose locale has none, and for those that carry
	// no locale (POKOR_LANGUAGE); nil is English.
	Language *i18n.Catalog
}

// Bot answers Discord interactions and reports to Discord channels.
type Bot struct {
	cfg Config
	key ed25519.PublicKey // nil when no public key is configured
	api *discordgo.Session
	svc *session.Service
	log *slog.Logger
	now func() time.Time
	// retryWait is the first pause before editing a response Discord does not know yet.
	retryWait time.Duration

	// work is what runs after the answers (deferred imports); Close waits for it.
	work *bots.Work
}

// InteractionsPath is where Mount serves the interactions endpoint.
const InteractionsPath = "/discord/interactions"

// New returns a bot for cfg. It checks the public key and the API URL, not the credentials:
// Identity does that.
func New(cfg Config) (*Bot, error) {
	b := &Bot{cfg: cfg, svc: cfg.Service, log: cfg.Logger, now: cfg.Now, retryWait: 500 * time.Millisecond}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if k := strings.TrimSpace(cfg.PublicKey); k != "" {
		raw, err := hex.DecodeString(k)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			// ed25519.Verify panics on a key of the wrong length, so a bad key must stop here.
			return nil, errors.New("discord: DISCORD_PUBLIC_KEY must be the application's public key: 64 hexadecimal characters from the Developer Portal")
		}
		b.key = ed25519.PublicKey(raw)
	}
	base := strings.TrimSpace(cfg.APIURL)
	if base == "" {
		base = DefaultAPIURL
	}
	target, err := url.Parse(base)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("discord: DISCORD_API_URL %q is not an http(s) URL", cfg.APIURL)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient // a copy: the caller's client keeps its own transport
		client = &c
	}
	client.Transport = &apiTransport{base: client.Transport, target: target}

	// discordgo.New only fills in defaults; it opens no connection.
	b.api, _ = discordgo.New("")
	if tok := strings.TrimSpace(cfg.BotToken); tok != "" {
		b.api.Token = "Bot " + strings.TrimPrefix(tok, "Bot ")
	}
	b.api.Client = client
	b.api.StateEnabled = false
	b.work = bots.NewWork()
	return b, nil
}

// Mount serves the interactions endpoint (POST /discord/interactions) on r.
func (b *Bot) Mount(r gin.IRouter) {
	r.POST(InteractionsPath, b.interactions)
}

// Close stops background work (an import still running ends with a message saying so) and
// waits for it.
func (b *Bot) Close() error {
	b.work.Stop()
	return nil
}

// apiTransport sends discordgo's requests to DISCORD_API_URL and API v10.
//
// discordgo builds its endpoint URLs into package-level variables at init
// (EndpointAPI = EndpointDiscord + "api/v9/", EndpointApplications = EndpointAPI + ...), so
// reassigning EndpointDiscord later changes nothing, and reassigning every derived variable
// would be a data race with requests in flight and would point every discordgo user in the
// process at the same host (two bots, or parallel tests with their own fakes, could not
// coexist). Rewriting each request in this bot's own http.Client has none of these problems
// and covers endpoints discordgo may add later.
type apiTransport struct {
	base   http.RoundTripper
	target *url.URL
}

// discordHost is the host every discordgo REST endpoint uses.
const discordHost = "discord.com"

var versionPrefix = regexp.MustCompile(`^/api/v[0-9]+/`)
var versionSuffix = regexp.MustCompile(`/v[0-9]+$`)

// RoundTrip implements http.RoundTripper.
func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	loc := versionPrefix.FindString(req.URL.Path)
	if req.URL.Host != discordHost || loc == "" {
		return base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	// DISCORD_API_URL is the documented base URL without a version; one given with a version
	// ("…/api/v10") is accepted too, as both forms circulate.
	prefix := versionSuffix.ReplaceAllString(strings.TrimSuffix(t.target.Path, "/"), "")
	out.URL.Scheme, out.URL.Host, out.Host = t.target.Scheme, t.target.Host, t.target.Host
	out.URL.Path = prefix + "/" + apiVersion + "/" + strings.TrimPrefix(req.URL.Path, loc)
	out.URL.RawPath = ""
	return base.RoundTrip(out)
}

// apiError turns a discordgo error into one that is safe to log and to show an organizer:
// request URLs are dropped, since interaction webhook URLs carry the interaction token.
func apiError(op string, err error) error {
	var rest *discordgo.RESTError
	var rate *discordgo.RateLimitError
	var uerr *url.Error
	switch {
	case errors.As(err, &rest):
		msg := "HTTP " + rest.Response.Status
		if rest.Message != nil && rest.Message.Message != "" {
			msg += ": " + rest.Message.Message
			if rest.Message.Code != 0 {
				msg += fmt.Sprintf(" (code %d)", rest.Message.Code)
			}
		}
		return fmt.Errorf("discord: %s: %s", op, msg)
	case errors.As(err, &rate):
		return fmt.Errorf("discord: %s: rate limited, retry after %s", op, rate.RetryAfter)
	case errors.As(err, &uerr):
		return fmt.Errorf("discord: %s: %w", op, uerr.Err)
	}
	return fmt.Errorf("discord: %s: %w", op, err)
}

// notFound reports whether Discord answered 404, as it does for an interaction response that
// does not exist yet.
func notFound(err error) bool {
	var rest *discordgo.RESTError
	return errors.As(err, &rest) && rest.Response != nil && rest.Response.StatusCode == http.StatusNotFound
}
