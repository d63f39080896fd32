// Package slack is Pokor's Slack app, built on the Slack Web API (https://docs.slack.dev/apis/web-api/)
// and its interactivity surfaces (https://docs.slack.dev/interactivity/): the /pokor slash command,
// the buttons of its answer, the OAuth v2 install into many workspaces
// (https://docs.slack.dev/authentication/installing-with-oauth), and the summaries posted back to
// the channel a session was started from.
//
// Every request from Slack is checked against the app's signing secret
// (https://docs.slack.dev/authentication/verifying-requests-from-slack) before anything else.
// Slack wants an answer within 3 seconds, so the handlers create the session and answer at once;
// slower work (an import from a tracker, a post to a channel) runs afterwards and reports through
// the request's response_url.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Config is what the Slack app needs.
type Config struct {
	// SigningSecret verifies that requests come from Slack (SLACK_SIGNING_SECRET); required.
	SigningSecret string
	// ClientID and ClientSecret enable the OAuth install into many workspaces.
	ClientID, ClientSecret string
	// BotToken posts summaries in a single workspace without the install flow (SLACK_BOT_TOKEN).
	BotToken string
	// APIURL is the Web API base URL, DefaultAPIURL when empty (tests point it at a fake).
	APIURL string
	// BaseURL is Pokor's public URL, for the OAuth redirect URL.
	BaseURL string
	Service *session.Service
	// Installations keeps the workspaces installed through OAuth; required with ClientID.
	Installations InstallationStore
	// HTTPClient calls Slack; nil uses a client with a 10-second timeout.
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
	// Language is the catalog Pokor answers in (POKOR_LANGUAGE): a slash command carries no
	// locale. nil is English.
	Language *i18n.Catalog
}

// InstallationStore keeps the Slack workspaces Pokor is installed in. *sqlstore.Store
// implements it.
type InstallationStore interface {
	// SaveSlackInstallation stores a workspace's installation, replacing an earlier one;
	// sealedToken is the bot token sealed with session.Keys.Seal.
	SaveSlackInstallation(ctx context.Context, team, teamName, sealedToken string, at time.Time) error
	// SlackInstallation returns a workspace's name and sealed bot token. It returns an error of
	// code session.CodeNotFound when Pokor is not installed there.
	SlackInstallation(ctx context.Context, team string) (teamName, sealedToken string, err error)
}

// Bot serves the Slack endpoints and reports notices to Slack channels.
type Bot struct {
	cfg     Config
	svc     *session.Service
	keys    *session.Keys
	log     *slog.Logger
	now     func() time.Time
	http    *http.Client
	apiURL  string
	baseURL string
	verify  verifier
	// markup is Slack's mrkdwn in the language of the answers.
	markup bots.Markup
	// commands remembers recent slash commands so that Slack's retries get the first answer.
	commands *replies

	// work is what runs after the answers (imports, posts); Close waits for it.
	work *bots.Work
}

var _ bots.Bot = (*Bot)(nil)

// New returns the Slack app for cfg.
func New(cfg Config) (*Bot, error) {
	if cfg.SigningSecret == "" {
		return nil, errors.New("slack: SLACK_SIGNING_SECRET is required to verify requests from Slack")
	}
	if cfg.Service == nil {
		return nil, errors.New("slack: no session service")
	}
	if (cfg.ClientID == "") != (cfg.ClientSecret == "") {
		return nil, errors.New("slack: set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for the install flow, or neither")
	}
	if cfg.ClientID != "" && cfg.Installations == nil {
		return nil, errors.New("slack: the install flow needs a store for installations")
	}
	b := &Bot{cfg: cfg, svc: cfg.Service, keys: cfg.Service.Keys(), log: cfg.Logger, now: cfg.Now, http: cfg.HTTPClient,
		apiURL: apiURL(cfg.APIURL), baseURL: strings.TrimRight(cfg.BaseURL, "/")}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("component", "slack")
	if b.now == nil {
		b.now = time.Now
	}
	if b.http == nil {
		b.http = &http.Client{Timeout: 10 * time.Second}
	}
	b.verify = verifier{secret: []byte(cfg.SigningSecret), now: b.now}
	b.markup = Markup.In(bots.Language("", cfg.Language))
	b.commands = newReplies(retryWindow, maxReplies)
	b.work = bots.NewWork()
	return b, nil
}

// apiURL returns the Web API base URL with the trailing slash slack-go expects.
func apiURL(u string) string {
	if u == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(u, "/") + "/"
}

// Mount adds the Slack endpoints to r.
func (b *Bot) Mount(r gin.IRouter) {
	g := r.Group("/slack")
	g.POST("/commands", b.command)
	g.POST("/interactions", b.interaction)
	g.GET("/install", b.install)
	g.GET("/oauth/callback", b.callback)
}

// Close stops the background work (imports, posts) and waits for it to report.
func (b *Bot) Close() error {
	b.work.Stop()
	return nil
}

// client returns a Web API client for a token.
func (b *Bot) client(token string) *slackgo.Client {
	return slackgo.New(token, slackgo.OptionAPIURL(b.apiURL), slackgo.OptionHTTPClient(b.http))
}

// Identity is who a bot token belongs to, as auth.test says.
type Identity struct {
	Workspace    string `json:"workspace"`
	WorkspaceURL string `json:"workspace_url"`
	TeamID       string `json:"team_id"`
	BotUser      string `json:"bot_user"`
	BotUserID    string `json:"bot_user_id"`
	BotID        string `json:"bot_id,omitempty"`
}

// CheckToken calls auth.test with token and says whose it is. apiURL and hc may be empty and nil.
// Its errors say what to do and never contain the token.
func CheckToken(ctx context.Context, token, apiURLBase string, hc *http.Client) (Identity, error) {
	if token == "" {
		return Identity{}, errors.New("slack: no bot token: set SLACK_BOT_TOKEN (Slack app settings, OAuth & Permissions, Bot User OAuth Token)")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := slackgo.New(token, slackgo.OptionAPIURL(apiURL(apiURLBase)), slackgo.OptionHTTPClient(hc)).AuthTestContext(ctx)
	if err != nil {
		return Identity{}, fmt.Errorf("slack: auth.test: %s", explain(err))
	}
	return Identity{Workspace: res.Team, WorkspaceURL: res.URL, TeamID: res.TeamID, BotUser: res.User, BotUserID: res.UserID, BotID: res.BotID}, nil
}

// explain turns a Slack API error into words a person can act on. It never returns a URL: the
// response_url of a command is a credential, and transport errors quote the URL they failed on.
func explain(err error) string {
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		if hint, ok := hints[se.Err]; ok {
			return se.Err + ": " + hint
		}
		return se.Err
	}
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		return fmt.Sprintf("Slack is rate limiting Pokor; it asked to wait %s", rl.RetryAfter)
	}
	var sc slackgo.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("Slack answered %s", sc.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "Slack did not answer in time"
	}
	return "Slack could not be reached"
}

// hints says what to do about the Slack errors an operator is likely to meet.
var hints = map[string]string{
	"invalid_auth":     "the bot token is not valid; copy it again from the Slack app settings or reinstall Pokor",
	"not_authed":       "no bot token was sent",
	"token_revoked":    "the bot token was revoked; reinstall Pokor in the workspace",
	"account_inactive": "the app was uninstalled or its bot deactivated; reinstall Pokor in the workspace",
	"not_in_channel":   "the Pokor app is not in this channel; invite it with /invite @Pokor",
	"channel_not_found": "the channel is private or gone; invite the Pokor app to it (/invite @Pokor) " +
		"or check that SLACK_BOT_TOKEN belongs to this workspace",
	"is_archived":       "the channel is archived",
	"missing_scope":     "the app lacks the chat:write scope; reinstall it from manifests/slack/manifest.yaml",
	"invalid_code":      "the authorization code is wrong or already used; start the install again",
	"code_already_used": "the authorization code was already used; start the install again",
	"bad_redirect_uri":  "the redirect URL does not match the app's; check POKOR_BASE_URL and the manifest",
	"invalid_client_id": "SLACK_CLIENT_ID is not this app's client id",
	"bad_client_secret": "SLACK_CLIENT_SECRET is wrong",
}
