package bots

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// Platform describes a chat platform Pokor speaks. Each platform's package exports one (slack.Platform,
// discord.Platform, mattermost.Platform); cmd/pokor wires the platforms from them, the
// configuration table and its documentation take their settings from them, and what the domain
// tells a chat goes through the Bot they build.
type Platform struct {
	// Name is the platform's key: Origin.Platform and the prefix of chat identities ("slack:T1:U2").
	Name string
	// Label is the name people know ("Slack").
	Label string
	// Docs is the page that sets the platform up, from the repository root.
	Docs string
	// Settings are the environment variables the platform reads; the first turns it on.
	Settings []Setting
	// Endpoints are the HTTP routes its bot serves.
	Endpoints []Endpoint
	// Verify says how every request from the platform is checked before anything else.
	Verify string
	// Answer says how Pokor answers the command within the platform's deadline.
	Answer string
	// Markup writes shared text (help, summaries, failures) in the platform's format.
	Markup Markup
	// New builds the bot from the configuration.
	New func(d Deps) (Bot, error)
}

// Enabled reports whether the configuration turns the platform on: its first setting is set.
func (p Platform) Enabled(get func(env string) string) bool {
	return len(p.Settings) > 0 && get(p.Settings[0].Env) != ""
}

// Setting is one environment variable of a platform.
type Setting struct {
	Env  string
	Help string
	// Secret settings are never printed, logged or sent to a browser.
	Secret  bool
	Default string
}

// Endpoint is one HTTP route a platform's bot serves.
type Endpoint struct {
	Method, Path, What string
}

// Deps is what a platform's bot is built from.
type Deps struct {
	// Get reads a setting of the configuration table.
	Get func(env string) string
	// BaseURL is Pokor's public URL.
	BaseURL string
	Service *session.Service
	// Store is the session store. A platform that keeps data of its own asserts the interface it
	// needs (Slack keeps the workspaces it is installed in).
	Store  session.Store
	Logger *slog.Logger
	// HTTPClient, when set, carries the platform's API calls (cmd/pokor traces them this way when
	// tracing is on); nil leaves the platform its own client.
	HTTPClient *http.Client
	// Language is the catalog the bot answers in when the platform says nothing of the user's or
	// the team's language (POKOR_LANGUAGE); nil is English.
	Language *i18n.Catalog
}

// Bot is a platform's running bot.
type Bot interface {
	// Mount adds the platform's endpoints to r.
	Mount(r gin.IRouter)
	// PostChannel posts m to the channel a session came from. Its error says in words why nothing
	// could be posted; the organizers see it.
	PostChannel(ctx context.Context, o session.Origin, m Message) error
	// PostPerson sends m to one person of the session's chat, named by chat identity
	// ("mattermost:TEAM:USER"): a direct message from the bot.
	PostPerson(ctx context.Context, o session.Origin, chatID string, m Message) error
	// Close stops the bot's background work and waits for it.
	Close() error
}

// Message is what a bot posts: text already written in the platform's markup, and a link shown
// as a button where the platform has link buttons (the bot puts it in the text otherwise).
type Message struct {
	Text string
	Link *Link
}

// Link is a labelled URL.
type Link struct {
	Label, URL string
}

// Markup writes text in a platform's format.
type Markup struct {
	// Escape makes user text (titles, names, queries) show as typed.
	Escape func(s string) string
	// Bold and Link take text already escaped; Code takes raw text.
	Bold func(s string) string
	Link func(url, text string) string
	Code func(s string) string
	// Warn starts a message about a failure.
	Warn string
	// Limit is the longest message the platform takes, in characters.
	Limit int
	// Lang is the catalog the shared texts are written from (In sets it); nil writes English.
	Lang *i18n.Catalog
}

// Markdown is the markup of the platforms that write Markdown (Discord, Mattermost), with their
// limit on a message's length. mention, when set, is applied to escaped text to keep it from
// notifying anyone.
func Markdown(limit int, mention func(string) string) Markup {
	escape := markdownSpecial.Replace
	if mention != nil {
		escape = func(s string) string { return mention(markdownSpecial.Replace(s)) }
	}
	return Markup{
		Escape: escape,
		Bold:   func(s string) string { return "**" + s + "**" },
		Link:   func(url, text string) string { return "[" + text + "](" + markdownURL.Replace(url) + ")" },
		Code:   func(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" },
		Warn:   "⚠️",
		Limit:  limit,
	}
}

// markdownSpecial are the characters that format text inline. Headings (#) and quotes (>) count
// only at the start of a line, where user text never is in Pokor's messages.
var markdownSpecial = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `[`, `\[`, `]`, `\]`)

// markdownURL keeps a URL from ending a Markdown link early.
var markdownURL = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

var sourceBold = regexp.MustCompile(`\*([^*\n]+)\*`)

// HelpIn is the /pokor grammar in a platform's markup and language, after what was wrong when
// there is something.
func (g Grammar) HelpIn(m Markup, problem string) string {
	text := sourceBold.ReplaceAllStringFunc(g.help(m), func(s string) string { return m.Bold(s[1 : len(s)-1]) })
	if problem != "" {
		text = m.Warn + " " + problem + "\n\n" + text
	}
	return text
}
