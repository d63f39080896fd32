// Package mattermost is Pokor's Mattermost integration, for teams that self-host their chat: the
// /pokor custom slash command, the Invite channel button of its answer (an interactive message
// action), and the summaries and reminders a bot account posts.
//
// Mattermost documentation:
//   - custom slash commands: https://developers.mattermost.com/integrate/slash-commands/custom/
//   - interactive messages: https://developers.mattermost.com/integrate/plugins/interactive-messages/
//   - bot accounts: https://developers.mattermost.com/integrate/reference/bot-accounts/
//   - REST API v4 (posts, users, channels): https://api.mattermost.com/
//
// Every slash command carries the command's token; Pokor compares it in constant time with
// MATTERMOST_COMMAND_TOKEN before anything else. Button presses carry no token: Pokor signs the
// context it gives each button and refuses a press whose context does not verify.
package mattermost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// The paths Mount serves.
const (
	CommandsPath = "/mattermost/commands"
	ActionsPath  = "/mattermost/actions"
)

// Platform describes Pokor's Mattermost integration to the rest of Pokor.
var Platform = bots.Platform{
	Name:  "mattermost",
	Label: "Mattermost",
	Docs:  "docs/mattermost.md",
	Settings: []bots.Setting{
		{Env: "MATTERMOST_COMMAND_TOKEN", Help: "token of the /pokor slash command (comma-separated for one command per team); enables /mattermost/*", Secret: true},
		{Env: "MATTERMOST_URL", Help: "Mattermost server URL, e.g. https://chat.acme.com (summaries, reminders, pokor check mattermost)"},
		{Env: "MATTERMOST_BOT_TOKEN", Help: "access token of the Pokor bot account (summaries to the channel, direct messages)", Secret: true},
	},
	Endpoints: []bots.Endpoint{
		{Method: "POST", Path: CommandsPath, What: "the /pokor slash command"},
		{Method: "POST", Path: ActionsPath, What: "the Invite channel button"},
	},
	Verify: "the slash command's token, compared in constant time with MATTERMOST_COMMAND_TOKEN; button contexts signed by Pokor",
	Answer: "an ephemeral message within 3 s; imports report afterwards through the command's response_url",
	Markup: Markup,
	New: func(d bots.Deps) (bots.Bot, error) {
		b, err := New(Config{
			CommandTokens: splitTokens(d.Get("MATTERMOST_COMMAND_TOKEN")),
			ServerURL:     d.Get("MATTERMOST_URL"),
			BotToken:      d.Get("MATTERMOST_BOT_TOKEN"),
			BaseURL:       d.BaseURL,
			Service:       d.Service,
			Logger:        d.Logger,
			HTTPClient:    d.HTTPClient,
			Language:      d.Language,
		})
		if err != nil {
			return nil, err
		}
		return b, nil
	},
}

// maxPost is the most characters a post holds (Mattermost 5.0 and later).
const maxPost = 16383

// Markup is Mattermost's Markdown. An @ in user text is followed by a zero-width space, so that a
// title such as "@channel review" notifies nobody.
var Markup = bots.Markdown(maxPost, func(s string) string { return strings.ReplaceAll(s, "@", "@\u200b") })

// Lifetimes Mattermost gives us, and those we give.
const (
	// replyLifetime is how long a response_url takes posts: 30 minutes (and 5 posts).
	replyLifetime = 30 * time.Minute
	// linkLifetime is how long the Join as organizer link works.
	linkLifetime = 24 * time.Hour
	// postTimeout bounds one call to Mattermost.
	postTimeout = 10 * time.Second
	// maxBody bounds a request from Mattermost; commands and button presses are small.
	maxBody = 64 << 10
)

// Config is what the Mattermost integration needs.
type Config struct {
	// CommandTokens are the tokens of the /pokor slash commands (one per team); at least one.
	CommandTokens []string
	// ServerURL is the Mattermost server's URL (MATTERMOST_URL), for the bot's API calls.
	ServerURL string
	// BotToken is the bot account's access token (MATTERMOST_BOT_TOKEN).
	BotToken string
	// BaseURL is Pokor's public URL; buttons post to BaseURL + ActionsPath.
	BaseURL    string
	Service    *session.Service
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
	// Language is the catalog Pokor answers in (POKOR_LANGUAGE): a slash command carries no
	// locale. nil is English.
	Language *i18n.Catalog
}

// Bot serves the Mattermost endpoints and posts to Mattermost.
type Bot struct {
	cfg     Config
	svc     *session.Service
	keys    *session.Keys
	log     *slog.Logger
	now     func() time.Time
	http    *http.Client
	server  string   // MATTERMOST_URL without a trailing slash, "" when unset
	tokens  [][]byte // SHA-256 of each command token
	baseURL string
	// markup is Mattermost's Markdown in the language of the answers.
	markup bots.Markup

	// botID is the bot account's user id, learnt from /api/v4/users/me on first use.
	botMu sync.Mutex
	botID string

	// work is what runs after the answers (imports); Close waits for it.
	work *bots.Work
}

var _ bots.Bot = (*Bot)(nil)

// New returns the Mattermost integration for cfg.
func New(cfg Config) (*Bot, error) {
	if len(cfg.CommandTokens) == 0 {
		return nil, errors.New("mattermost: MATTERMOST_COMMAND_TOKEN is required to verify slash commands")
	}
	if cfg.Service == nil {
		return nil, errors.New("mattermost: no session service")
	}
	server, err := ServerURL(cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	b := &Bot{cfg: cfg, svc: cfg.Service, keys: cfg.Service.Keys(), log: cfg.Logger, now: cfg.Now, http: cfg.HTTPClient,
		server: server, baseURL: strings.TrimRight(cfg.BaseURL, "/")}
	for _, t := range cfg.CommandTokens {
		sum := sha256.Sum256([]byte(t))
		b.tokens = append(b.tokens, sum[:])
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("component", "mattermost")
	if b.now == nil {
		b.now = time.Now
	}
	if b.http == nil {
		b.http = &http.Client{Timeout: postTimeout}
	}
	b.work = bots.NewWork()
	b.markup = Markup.In(bots.Language("", cfg.Language))
	return b, nil
}

// splitTokens reads MATTERMOST_COMMAND_TOKEN: one token, or several separated by commas.
func splitTokens(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// ServerURL checks MATTERMOST_URL and returns it without a trailing slash or /api/v4; "" stays "".
func ServerURL(raw string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	s = strings.TrimSuffix(s, "/api/v4")
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("mattermost: MATTERMOST_URL %q is not the server's http(s) URL, e.g. https://chat.acme.com", raw)
	}
	return s, nil
}

// Mount adds the Mattermost endpoints to r.
func (b *Bot) Mount(r gin.IRouter) {
	r.POST(CommandsPath, b.command)
	r.POST(ActionsPath, b.action)
}

// Close stops the background work (imports) and waits for it to report.
func (b *Bot) Close() error {
	b.work.Stop()
	return nil
}

// tokenOK reports whether got is one of the command tokens. Both sides are hashed first, so the
// comparison takes the same time whatever the length of a guess.
func (b *Bot) tokenOK(got string) bool {
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	ok := 0
	for _, t := range b.tokens {
		ok |= subtle.ConstantTimeCompare(sum[:], t)
	}
	return ok == 1
}

// PostChannel implements bots.Bot: it posts m to the channel /pokor was typed in, as the bot
// account, and falls back to the command's response_url while that is valid (30 minutes). Its
// error says in words why nothing could be posted; the organizers see it.
func (b *Bot) PostChannel(ctx context.Context, o session.Origin, m bots.Message) error {
	text := render(m)
	var failures []string
	if b.server != "" && b.cfg.BotToken != "" && o.Channel != "" {
		err := b.api(ctx, http.MethodPost, "/api/v4/posts", post{ChannelID: o.Channel, Message: text}, nil)
		if err == nil {
			return nil
		}
		failures = append(failures, "posting as the bot failed: "+err.Error())
	}
	if o.ReplyURL != "" && b.now().Before(o.ReplyExpires) {
		err := b.reply(ctx, o.ReplyURL, commandResponse{ResponseType: responseInChannel, Text: text, SkipSlackParsing: true})
		if err == nil {
			return nil
		}
		failures = append(failures, "replying to /pokor failed: "+err.Error())
	}
	if len(failures) == 0 {
		return errors.New("mattermost: Pokor has no bot account to post with (set MATTERMOST_URL and MATTERMOST_BOT_TOKEN) " +
			"and the reply link of /pokor expired after 30 minutes")
	}
	return errors.New("mattermost: " + strings.Join(failures, "; "))
}

// PostPerson implements bots.Bot: a direct message from the bot account to the Mattermost user
// of chatID ("mattermost:TEAM:USER").
func (b *Bot) PostPerson(ctx context.Context, _ session.Origin, chatID string, m bots.Message) error {
	rest, ok := strings.CutPrefix(chatID, "mattermost:")
	_, userID, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || userID == "" {
		return fmt.Errorf("mattermost: %q is not a Mattermost user", chatID)
	}
	if b.server == "" || b.cfg.BotToken == "" {
		return errors.New("mattermost: direct messages need a bot account: set MATTERMOST_URL and MATTERMOST_BOT_TOKEN")
	}
	botID, err := b.botUserID(ctx)
	if err != nil {
		return err
	}
	var ch channel
	if err := b.api(ctx, http.MethodPost, "/api/v4/channels/direct", []string{botID, userID}, &ch); err != nil {
		return fmt.Errorf("mattermost: opening a direct message: %w", err)
	}
	if err := b.api(ctx, http.MethodPost, "/api/v4/posts", post{ChannelID: ch.ID, Message: render(m)}, nil); err != nil {
		return fmt.Errorf("mattermost: sending a direct message: %w", err)
	}
	return nil
}

// render is a message's text with its link, Mattermost having no link buttons.
func render(m bots.Message) string {
	text := m.Text
	if m.Link != nil && m.Link.URL != "" {
		text += "\n" + Markup.Link(m.Link.URL, Markup.Escape(m.Link.Label))
	}
	return bots.Truncate(text, maxPost)
}

// botUserID returns the bot account's user id, asking Mattermost once.
func (b *Bot) botUserID(ctx context.Context) (string, error) {
	b.botMu.Lock()
	defer b.botMu.Unlock()
	if b.botID != "" {
		return b.botID, nil
	}
	me, err := Me(ctx, b.http, b.server, b.cfg.BotToken)
	if err != nil {
		return "", err
	}
	b.botID = me.ID
	return me.ID, nil
}

// api calls the Mattermost REST API as the bot account. Its errors say what to do and never
// contain the token.
func (b *Bot) api(ctx context.Context, method, path string, in, out any) error {
	return call(ctx, b.http, method, b.server+path, b.cfg.BotToken, in, out)
}

// reply posts to a command's response_url. Its error never quotes the URL, which is a credential
// for 30 minutes.
func (b *Bot) reply(ctx context.Context, responseURL string, msg commandResponse) error {
	if responseURL == "" {
		return errors.New("no response_url")
	}
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	return call(ctx, b.http, http.MethodPost, responseURL, "", msg, nil)
}

// call sends one JSON request to Mattermost and decodes the answer into out when it is not nil.
func call(ctx context.Context, hc *http.Client, method, target, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return errors.New("the request could not be built")
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return errors.New("Mattermost did not answer in time")
		}
		return errors.New("Mattermost could not be reached; check MATTERMOST_URL and that Pokor can reach it")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return explain(resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("Mattermost answered %d with a body Pokor cannot read", resp.StatusCode)
		}
	}
	return nil
}

// explain turns a failed API call into words an operator can act on.
func explain(status int, body []byte) error {
	var ae appError
	_ = json.Unmarshal(body, &ae)
	msg := fmt.Sprintf("Mattermost answered %d", status)
	if ae.Message != "" {
		msg += " (" + ae.Message + ")"
	}
	switch status {
	case http.StatusUnauthorized:
		msg += ": MATTERMOST_BOT_TOKEN is not valid; create a new token for the bot account"
	case http.StatusForbidden:
		msg += ": the bot may not post here; add it to the team and the channel (/invite @pokor)"
	case http.StatusNotFound:
		msg += ": the channel or the reply link is gone, or MATTERMOST_URL is not the server's URL"
	case http.StatusTooManyRequests:
		msg += ": Mattermost is rate limiting Pokor"
	}
	return errors.New(msg)
}

// Me returns the user a token belongs to (GET /api/v4/users/me).
func Me(ctx context.Context, hc *http.Client, server, token string) (User, error) {
	var u User
	if err := call(ctx, hc, http.MethodGet, server+"/api/v4/users/me", token, nil, &u); err != nil {
		return User{}, fmt.Errorf("mattermost: reading the bot account: %w", err)
	}
	return u, nil
}
