package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	grammar := bots.NewGrammar(b.svc.Trackers())
	cmd, err := grammar.Parse(f.Get("text"))
	var pe *bots.ParseError
	switch {
	case errors.As(err, &pe):
		return ephemeral(grammar.HelpIn(Markup, pe.Msg))
	case err != nil, cmd.Help:
		return ephemeral(grammar.HelpIn(Markup, ""))
	}
	team, channelID, userID := f.Get("team_id"), f.Get("channel_id"), f.Get("user_id")
	if team == "" || channelID == "" || userID == "" {
		return ephemeral(Markup.Warn + " Mattermost did not say which team, channel and user ran the command; please try again.")
	}
	now := b.now()
	name := bots.DisplayName(f.Get("user_name"), "Mattermost user")
	chatID := "mattermost:" + team + ":" + userID
	origin := session.Origin{Platform: Platform.Name, Team: team, Channel: channelID}
	if ru := f.Get("response_url"); ru != "" {
		origin.ReplyURL, origin.ReplyExpires = ru, now.Add(replyLifetime).UTC()
	}
	sess, org, _, err := b.svc.CreateSession(ctx, session.CreateInput{Title: cmd.Title, Organizer: name, ChatID: chatID, Origin: origin})
	if err != nil {
		return b.failure("start the session", err, "team", team)
	}
	link := b.svc.LinkURL(session.Link{SessionID: sess.ID, Role: session.RoleOrganizer, ChatID: chatID, Name: name,
		Expires: now.Add(linkLifetime).Unix()})
	if cmd.Source != "" {
		responseURL := f.Get("response_url")
		b.work.Import(b.svc, b.log, Markup, sess, org.ID, cmd, func(ctx context.Context, text string) error {
			return b.reply(ctx, responseURL, ephemeral(text))
		})
	}
	return b.organizerMessage(sess, link, cmd)
}

// organizerMessage is the private answer to /pokor: the organizer's pre-signed link, which
// appears only here, and the Invite channel button.
func (b *Bot) organizerMessage(sess *session.Session, link string, cmd bots.Command) commandResponse {
	var s strings.Builder
	fmt.Fprintf(&s, "%s is ready. %s opens it with you in charge: the link is yours alone and works for 24 hours. "+
		"%s posts a link everyone here can join with.",
		Markup.Bold(Markup.Escape(sess.Title)), Markup.Link(link, "Join as organizer"), Markup.Bold("Invite channel"))
	if cmd.Source != "" {
		fmt.Fprintf(&s, "\n⏳ Importing stories from %s (%s); the result will appear here.", cmd.Source, Markup.Code(bots.Truncate(cmd.Query, 200)))
	}
	m := ephemeral(s.String())
	m.Attachments = []attachment{{
		// The fallback shows where buttons do not (notifications); the link stays in the text alone.
		Fallback: "Invite channel",
		Actions: []action{{
			ID: actionInvite, Type: "button", Name: "Invite channel", Style: "primary",
			Integration: integration{URL: b.baseURL + ActionsPath, Context: b.signContext(sess.Origin, sess.ID)},
		}},
	}}
	return m
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
		c.JSON(http.StatusUnauthorized, actionResponse{Error: &actionError{Message: "This button was not made by this Pokor server. Run /pokor again."}})
		return
	}
	if act != actionInvite {
		c.JSON(http.StatusOK, actionResponse{EphemeralText: "This button is no longer supported; run /pokor again."})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), postTimeout)
	defer cancel()
	c.JSON(http.StatusOK, actionResponse{EphemeralText: b.invite(ctx, req, id), SkipSlackParsing: true})
}

// invite posts the room link for the whole channel and says to the presser how it went. The
// organizer link stays in the organizer's private message.
func (b *Bot) invite(ctx context.Context, req actionRequest, sessionID string) string {
	sess, err := b.svc.Session(ctx, sessionID)
	switch {
	case session.ErrorCode(err) == session.CodeNotFound:
		return bots.Gone(Markup, false)
	case err != nil:
		if session.ErrorCode(err) == session.CodeInternal {
			b.log.Error("loading a session to invite a channel", "session", sessionID, "err", err)
		}
		return bots.Failure(Markup, "load the session", err)
	case sess.Closed():
		return bots.Gone(Markup, true)
	}
	room := b.svc.RoomURL(sess.ID)
	inviter := "Everyone is invited"
	if req.UserName != "" {
		inviter = "@" + req.UserName + " invites everyone"
	}
	text := fmt.Sprintf("%s to estimate %s in planning poker: %s and pick your cards.",
		inviter, Markup.Bold(Markup.Escape(sess.Title)), Markup.Link(room, "join the session"))
	if err := b.PostChannel(ctx, sess.Origin, bots.Message{Text: text}); err != nil {
		b.log.Warn("inviting the channel", "session", sess.ID, "err", err)
		return Markup.Warn + " Could not post the invitation: " + err.Error()
	}
	return "Invited the channel to " + Markup.Bold(Markup.Escape(sess.Title)) + "."
}

// failure is the reply to a domain error from Mattermost, mapped once for every call site: the
// internal ones are logged with attrs, and the author sees what to do.
func (b *Bot) failure(what string, err error, attrs ...any) commandResponse {
	if session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("could not "+what, append(attrs, "err", err)...)
	}
	return ephemeral(bots.Failure(Markup, what, err))
}

// ephemeral is a message only the author of the command sees.
func ephemeral(text string) commandResponse {
	return commandResponse{ResponseType: responseEphemeral, Text: text, SkipSlackParsing: true}
}
