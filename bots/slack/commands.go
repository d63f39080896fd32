package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// Lifetimes Slack gives us, and those we give.
const (
	// replyLifetime is how long a response_url takes posts: 30 minutes (and 5 posts).
	replyLifetime = 30 * time.Minute
	// linkLifetime is how long the Join as organizer link works.
	linkLifetime = 24 * time.Hour
	// postTimeout bounds one post to a response_url.
	postTimeout = 10 * time.Second
)

// The action ids of the buttons Pokor puts in messages.
const (
	actionJoinOrganizer = "join_organizer"
	actionInvite        = "invite_channel"
	actionJoinRoom      = "join_room"
	actionOpenSession   = "open_session"
)

// command answers /pokor: it creates the session and answers at once with an ephemeral message
// holding the organizer's pre-signed link and an Invite channel button. An import named in the
// text runs after the answer and reports to the response_url.
func (b *Bot) command(c *gin.Context) {
	body, ok := b.signedBody(c)
	if !ok {
		return
	}
	sc, err := slackgo.SlashCommandParse(c.Request)
	if err != nil {
		c.String(http.StatusBadRequest, "not a slash command")
		return
	}
	// A retry of a command already answered gets the same answer and creates nothing. While
	// the first attempt is still running, the retry waits for it, within Slack's 3 seconds.
	entry, first := b.commands.begin(commandKey(sc, body), b.now())
	if !first {
		b.log.Info("slash command retried; answering as the first time", "team", sc.TeamID, "retry", c.GetHeader("X-Slack-Retry-Num"))
		select {
		case <-entry.done:
			c.Data(http.StatusOK, "application/json", entry.body)
		case <-time.After(2 * time.Second):
			c.Status(http.StatusOK) // acknowledge only: the first attempt will answer
		case <-c.Request.Context().Done():
		}
		return
	}
	var out []byte
	defer func() { b.commands.finish(entry, out) }()
	out, err = json.Marshal(b.answer(c.Request.Context(), sc))
	if err != nil {
		b.log.Error("encoding the answer", "err", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "application/json", out)
}

// commandKey names one invocation of a command. Slack retries with the same body, hence the same
// trigger_id, but with a new timestamp and so a new signature: the signature would not catch a
// retry, the trigger_id does. A body without one is named by its hash.
func commandKey(sc slackgo.SlashCommand, body []byte) string {
	if sc.TriggerID != "" {
		return sc.TeamID + "/" + sc.TriggerID
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// answer runs a parsed command and returns the message to show its author.
func (b *Bot) answer(ctx context.Context, sc slackgo.SlashCommand) *slackgo.WebhookMessage {
	cmd, err := bots.NewGrammar(b.svc.Trackers()).Parse(unescape(sc.Text))
	var pe *bots.ParseError
	switch {
	case errors.As(err, &pe):
		return b.help(pe.Text(b.markup))
	case err != nil:
		return b.help("")
	case cmd.Help:
		return b.help("")
	}
	now := b.now()
	name := bots.DisplayName(sc.UserName, "Slack user")
	chatID := "slack:" + sc.TeamID + ":" + sc.UserID
	sess, org, _, err := b.svc.CreateSession(ctx, session.CreateInput{
		Title: cmd.Title, Organizer: name, ChatID: chatID, ChannelName: sc.ChannelName,
		Origin: session.Origin{Platform: "slack", Team: sc.TeamID, Channel: sc.ChannelID,
			ReplyURL: sc.ResponseURL, ReplyExpires: now.Add(replyLifetime), Language: b.markup.Tag()},
	})
	if err != nil {
		return b.failure("bot.failure.start", err, "team", sc.TeamID)
	}
	link := b.svc.LinkURL(session.Link{SessionID: sess.ID, Role: session.RoleOrganizer, ChatID: chatID, Name: name,
		Expires: now.Add(linkLifetime).Unix()})
	if cmd.Source != "" {
		b.work.Import(b.svc, b.log, b.markup, sess, org.ID, cmd, func(_ context.Context, text string) error {
			return b.postReply(sc.ResponseURL, ephemeral(text))
		})
	}
	return organizerMessage(b.markup, sess, link, cmd)
}

// postReply posts a message to a response_url. It runs with its own deadline, so an outcome is
// still reported while the bot closes. Its error never quotes the URL.
func (b *Bot) postReply(responseURL string, msg *slackgo.WebhookMessage) error {
	if responseURL == "" {
		return errors.New("no response_url")
	}
	ctx, cancel := context.WithTimeout(context.Background(), postTimeout)
	defer cancel()
	if err := slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, b.http, msg); err != nil {
		return errors.New(explain(err))
	}
	return nil
}

// ephemeral is a message only the author of the command sees.
func ephemeral(text string, blocks ...slackgo.Block) *slackgo.WebhookMessage {
	m := &slackgo.WebhookMessage{ResponseType: slackgo.ResponseTypeEphemeral, Text: text}
	if len(blocks) > 0 {
		m.Blocks = &slackgo.Blocks{BlockSet: blocks}
	}
	return m
}

// help shows the /pokor grammar, after what was wrong when there is something.
func (b *Bot) help(problem string) *slackgo.WebhookMessage {
	text := bots.NewGrammar(b.svc.Trackers()).HelpIn(b.markup, problem)
	return ephemeral(text, slackgo.NewSectionBlock(mrkdwn(text), nil, nil))
}

// failure is the reply to a domain error from Slack, mapped once for every call site: the
// internal ones are logged with attrs, and the author sees what to do. key is the catalog text
// saying what could not be done.
func (b *Bot) failure(key string, err error, attrs ...any) *slackgo.WebhookMessage {
	if session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("a command failed", append(attrs, "failure", key, "err", err)...)
	}
	return ephemeral(bots.Failure(b.markup, key, err))
}

// organizerMessage is the private answer to /pokor in m's language: the session's title, the
// organizer's pre-signed link, and the button that invites the channel. The link appears only
// here.
func organizerMessage(m bots.Markup, sess *session.Session, link string, cmd bots.Command) *slackgo.WebhookMessage {
	joinLabel, inviteLabel := m.T("bot.join_organizer"), m.T("bot.invite_channel")
	blocks := []slackgo.Block{
		slackgo.NewHeaderBlock(plain(bots.Truncate(sess.Title, 150))),
		slackgo.NewSectionBlock(mrkdwn(m.T("bot.ready.slack", "join", m.Bold(joinLabel), "invite", m.Bold(inviteLabel))), nil, nil),
	}
	if cmd.Source != "" {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(":hourglass_flowing_sand: "+
			m.T("bot.importing", "source", cmd.Source, "query", m.Code(bots.Truncate(cmd.Query, 200))))))
	}
	join := slackgo.NewButtonBlockElement(actionJoinOrganizer, "", plain(joinLabel)).WithURL(link).WithStyle(slackgo.StylePrimary)
	invite := slackgo.NewButtonBlockElement(actionInvite, sess.ID, plain(inviteLabel))
	blocks = append(blocks, slackgo.NewActionBlock("pokor_session", join, invite))
	return ephemeral(m.T("bot.ready.fallback", "title", m.T("bot.quoted", "text", escape(sess.Title))), blocks...)
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

// unescape undoes the escaping Slack applies to a slash command's text (&, < and > arrive as
// &amp;, &lt; and &gt;), so a JQL or WIQL query such as `Status <> Done` reaches the tracker
// as typed (https://docs.slack.dev/messaging/formatting-message-text#escaping).
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// escape makes user text safe in Slack mrkdwn: &, < and > are its control characters
// (https://docs.slack.dev/messaging/formatting-message-text#escaping).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Dedupe of retries.
const (
	// retryWindow is how long an answer is remembered: longer than Slack's retries and than the
	// 5 minutes after which a replayed request fails the signature check anyway.
	retryWindow = 10 * time.Minute
	// maxReplies bounds the memory the answers take; past it, the oldest are forgotten.
	maxReplies = 10000
)

// replies remembers the answer to each recent command, in memory. A retry that reaches another
// instance behind a load balancer is not caught: Slack rarely retries a command that was
// answered in time, and the handler answers in milliseconds, so the rare duplicate is a second
// empty session, not worth a shared store on the hot path.
type replies struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[string]*reply
	order   []string // keys by arrival, for expiry
}

type reply struct {
	done chan struct{} // closed once body is set
	body []byte
	at   time.Time
}

func newReplies(ttl time.Duration, max int) *replies {
	return &replies{ttl: ttl, max: max, entries: map[string]*reply{}}
}

// begin returns the entry of key and true when the caller is the first to ask, and must finish it.
func (r *replies) begin(key string, now time.Time) (*reply, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.order) > 0 {
		e := r.entries[r.order[0]]
		if len(r.order) < r.max && now.Sub(e.at) < r.ttl {
			break
		}
		delete(r.entries, r.order[0])
		r.order = r.order[1:]
	}
	if e, ok := r.entries[key]; ok {
		return e, false
	}
	e := &reply{done: make(chan struct{}), at: now}
	r.entries[key] = e
	r.order = append(r.order, key)
	return e, true
}

// finish records the answer and releases the retries waiting for it.
func (r *replies) finish(e *reply, body []byte) {
	e.body = body // read by the waiters only after done is closed
	close(e.done)
}

// isSSLCheck reports whether a body is Slack's check of the Request URL's certificate
// (ssl_check=1), which carries no command and needs only a 200. Such checks may come unsigned;
// Bolt, Slack's own framework, answers them before verifying signatures too.
func isSSLCheck(body []byte) bool {
	v, err := url.ParseQuery(string(body))
	return err == nil && v.Get("ssl_check") == "1" && v.Get("command") == "" && v.Get("payload") == ""
}
