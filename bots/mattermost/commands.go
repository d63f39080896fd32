package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// The Invite channel button.
const (
	// actionInvite is the button's id and the action named in its context.
	actionInvite = "invite"
	// signPurpose keys the signature of a button's context, apart from every other signature.
	signPurpose = "mattermost action"
)

// command answers /pokor: it creates the session and answers at once with an ephemeral message
// holding the organizer's pre-signed link and an Invite channel button. An import named in the
// text runs after the answer and reports to the response_url.
func (b *Bot) command(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	if err := c.Request.ParseForm(); err != nil {
		c.String(http.StatusBadRequest, "not a slash command")
		return
	}
	f := c.Request.PostForm
	token := f.Get("token")
	if token == "" {
		// Mattermost sends the token in the form and as "Authorization: Token …".
		token, _ = strings.CutPrefix(c.GetHeader("Authorization"), "Token ")
	}
	if !b.tokenOK(token) {
		// The body is never logged: it holds the response_url, a credential.
		b.log.Warn("refused a slash command with a wrong or missing token", "remote", c.ClientIP(), "team", f.Get("team_id"))
		c.String(http.StatusUnauthorized, "invalid slash command token: check MATTERMOST_COMMAND_TOKEN")
		return
	}
	c.JSON(http.StatusOK, b.answer(c.Request.Context(), f))
}

// answer runs a verified command and returns the message to show its author.
func (b *Bot) answer(ctx context.Context, f url.Values) commandResponse {
	m := b.markup
	grammar := bots.NewGrammar(b.svc.Trackers())
	cmd, err := grammar.Parse(f.Get("text"))
	var pe *bots.ParseError
	switch {
	case errors.As(err, &pe):
		return ephemeral(grammar.HelpIn(m, pe.Text(m)))
	case err != nil, cmd.Help:
		return ephemeral(grammar.HelpIn(m, ""))
	}
	team, channelID, userID := f.Get("team_id"), f.Get("channel_id"), f.Get("user_id")
	if team == "" || channelID == "" || userID == "" {
		return ephemeral(m.Warn + " " + m.T("bot.mattermost.no_user"))
	}
	now := b.now()
	name := bots.DisplayName(f.Get("user_name"), "Mattermost user")
	chatID := "mattermost:" + team + ":" + userID
	origin := session.Origin{Platform: Platform.Name, Team: team, Channel: channelID, Language: m.Tag()}
	if ru := f.Get("response_url"); ru != "" {
		origin.ReplyURL, origin.ReplyExpires = ru, now.Add(replyLifetime).UTC()
	}
	sess, org, _, err := b.svc.CreateSession(ctx, session.CreateInput{Title: cmd.Title, Organizer: name, ChatID: chatID, Origin: origin,
		ChannelName: f.Get("channel_name")})
	if err != nil {
		return b.failure("bot.failure.start", err, "team", team)
	}
	link := b.svc.LinkURL(session.Link{SessionID: sess.ID, Role: session.RoleOrganizer, ChatID: chatID, Name: name,
		Expires: now.Add(linkLifetime).Unix()})
	if cmd.Source != "" {
		responseURL := f.Get("response_url")
		b.work.Import(b.svc, b.log, m, sess, org.ID, cmd, func(ctx context.Context, text string) error {
			return b.reply(ctx, responseURL, ephemeral(text))
		})
	}
	return b.organizerMessage(sess, link, cmd)
}

// organizerMessage is the private answer to /pokor: the organizer's pre-signed link, which
// appears only here, and the Invite channel button.
func (b *Bot) organizerMessage(sess *session.Session, link string, cmd bots.Command) commandResponse {
	m := b.markup
	invite := m.T("bot.invite_channel")
	text := m.T("bot.ready.mattermost", "title", m.Bold(m.Escape(sess.Title)), "join", m.Link(link, m.T("bot.join_organizer")), "invite", m.Bold(invite))
	if cmd.Source != "" {
		text += "\n⏳ " + m.T("bot.importing", "source", cmd.Source, "query", m.Code(bots.Truncate(cmd.Query, 200)))
	}
	r := ephemeral(text)
	r.Attachments = []attachment{{
		// The fallback shows where buttons do not (notifications); the link stays in the text alone.
		Fallback: invite,
		Actions: []action{{
			ID: actionInvite, Type: "button", Name: invite, Style: "primary",
			Integration: integration{URL: b.baseURL + ActionsPath, Context: b.signContext(sess.Origin, sess.ID)},
		}},
	}}
	return r
}

// signContext is the context of the Invite channel button: the session, the team and channel it
// was started in, and Pokor's signature of the three.
func (b *Bot) signContext(o session.Origin, sessionID string) map[string]any {
	return map[string]any{
		"action": actionInvite, "session": sessionID, "team": o.Team, "channel": o.Channel,
		"signature": b.keys.Sign(signPurpose, contextMessage(actionInvite, sessionID, o.Team, o.Channel)),
	}
}

func contextMessage(act, sessionID, team, channelID string) string {
	return strings.Join([]string{act, sessionID, team, channelID}, "\x00")
}

// action answers a press of the Invite channel button: a context that Pokor did not sign, or
// that was signed for another channel, is refused with 401 and changes nothing.
func (b *Bot) action(c *gin.Context) {
	var req actionRequest
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	if err := json.NewDecoder(c.Request.Body).Decode(&req); err != nil {
		c.JSON(http.StatusBadRequest, actionResponse{Error: &actionError{Message: "not a Mattermost action request"}})
		return
	}
	str := func(k string) string { s, _ := req.Context[k].(string); return s }
	act, id, team, channelID, sig := str("action"), str("session"), str("team"), str("channel"), str("signature")
	if sig == "" || !b.keys.Verify(signPurpose, contextMessage(act, id, team, channelID), sig) ||
		(req.ChannelID != "" && req.ChannelID != channelID) || (req.TeamID != "" && req.TeamID != team) {
		b.log.Warn("refused a button press whose context Pokor did not sign", "remote", c.ClientIP(), "team", req.TeamID)
		c.JSON(http.StatusUnauthorized, actionResponse{Error: &actionError{Message: b.markup.T("bot.mattermost.foreign_button")}})
		return
	}
	if act != actionInvite {
		c.JSON(http.StatusOK, actionResponse{EphemeralText: b.markup.T("bot.button_gone")})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), postTimeout)
	defer cancel()
	c.JSON(http.StatusOK, actionResponse{EphemeralText: b.invite(ctx, req, id), SkipSlackParsing: true})
}

// invite posts the room link for the whole channel and says to the presser how it went. The
// organizer link stays in the organizer's private message.
func (b *Bot) invite(ctx context.Context, req actionRequest, sessionID string) string {
	m := b.markup
	sess, err := b.svc.Session(ctx, sessionID)
	switch {
	case session.ErrorCode(err) == session.CodeNotFound:
		return bots.Gone(m, false)
	case err != nil:
		if session.ErrorCode(err) == session.CodeInternal {
			b.log.Error("loading a session to invite a channel", "session", sessionID, "err", err)
		}
		return bots.Failure(m, "bot.failure.load", err)
	case sess.Closed():
		return bots.Gone(m, true)
	}
	// The invitation is for the channel: it speaks the language the session's chat was answered in.
	ch := Markup.In(bots.Language(sess.Origin.Language, m.Lang))
	room := b.svc.RoomURL(sess.ID)
	pairs := []string{"title", ch.Bold(ch.Escape(sess.Title)), "link", ch.Link(room, ch.T("bot.invite.link"))}
	text := ch.T("bot.invite.everyone", pairs...)
	if req.UserName != "" {
		text = ch.T("bot.invite", append(pairs, "inviter", "@"+req.UserName)...)
	}
	if err := b.PostChannel(ctx, sess.Origin, bots.Message{Text: text}); err != nil {
		b.log.Warn("inviting the channel", "session", sess.ID, "err", err)
		return m.Warn + " " + m.T("bot.mattermost.invite_failed", "reason", err.Error())
	}
	return m.T("bot.mattermost.invited", "title", m.Bold(m.Escape(sess.Title)))
}

// failure is the reply to a domain error from Mattermost, mapped once for every call site: the
// internal ones are logged with attrs, and the author sees what to do. key is the catalog text
// saying what could not be done.
func (b *Bot) failure(key string, err error, attrs ...any) commandResponse {
	if session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("a command failed", append(attrs, "failure", key, "err", err)...)
	}
	return ephemeral(bots.Failure(b.markup, key, err))
}

// ephemeral is a message only the author of the command sees.
func ephemeral(text string) commandResponse {
	return commandResponse{ResponseType: responseEphemeral, Text: text, SkipSlackParsing: true}
}
