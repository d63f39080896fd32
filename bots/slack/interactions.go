package slack

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// interaction answers the buttons of Pokor's messages (a block_actions payload in the "payload"
// form field). Slack wants the acknowledgement within 3 seconds, so what a button does runs
// after it. URL buttons (Join as organizer, Join to vote) also arrive here; they only need the
// acknowledgement.
func (b *Bot) interaction(c *gin.Context) {
	if _, ok := b.signedBody(c); !ok {
		return
	}
	ic, err := slackgo.InteractionCallbackParse(c.Request)
	if err != nil {
		c.String(http.StatusBadRequest, "not an interaction payload")
		return
	}
	if ic.Type == slackgo.InteractionTypeBlockActions {
		for _, a := range ic.ActionCallback.BlockActions {
			if a.ActionID == actionInvite {
				b.invite(ic, a.Value)
			}
		}
	}
	c.Status(http.StatusOK)
}

// invite posts the room link for the whole channel, through the response_url of the button
// press. The organizer link stays in the organizer's private message.
func (b *Bot) invite(ic slackgo.InteractionCallback, sessionID string) {
	b.work.Go(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, postTimeout)
		defer cancel()
		msg := b.inviteMessage(ctx, ic, sessionID)
		if err := b.postReply(ic.ResponseURL, msg); err != nil {
			b.log.Warn("inviting the channel", "session", sessionID, "team", ic.Team.ID, "err", err)
		}
	})
}

func (b *Bot) inviteMessage(ctx context.Context, ic slackgo.InteractionCallback, sessionID string) *slackgo.WebhookMessage {
	sess, err := b.svc.Session(ctx, sessionID)
	// A session of another workspace is answered as unknown: its id says nothing to this one.
	if err != nil || sess.Origin.Platform != "slack" || sess.Origin.Team != ic.Team.ID {
		if err != nil && session.ErrorCode(err) != session.CodeNotFound {
			return b.failure("bot.failure.load", err, "session", sessionID)
		}
		return ephemeral(bots.Gone(b.markup, false))
	}
	if sess.Closed() {
		return ephemeral(bots.Gone(b.markup, true))
	}
	// The invitation is for the channel: it speaks the language the session's chat was answered in.
	m := Markup.In(bots.Language(sess.Origin.Language, b.markup.Lang))
	room := b.svc.RoomURL(sess.ID)
	text := m.T("bot.invite", "inviter", "<@"+ic.User.ID+">", "title", m.Bold(escape(sess.Title)), "link", m.Link(room, m.T("bot.invite.link")))
	join := slackgo.NewButtonBlockElement(actionJoinRoom, "", plain(m.T("bot.join_vote"))).WithURL(room).WithStyle(slackgo.StylePrimary)
	return &slackgo.WebhookMessage{
		ResponseType: slackgo.ResponseTypeInChannel,
		Text:         text,
		Blocks: &slackgo.Blocks{BlockSet: []slackgo.Block{
			slackgo.NewSectionBlock(mrkdwn(text), nil, nil),
			slackgo.NewActionBlock("pokor_invite", join),
		}},
	}
}
