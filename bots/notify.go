package bots

import (
	"context"

	"github.com/pokor/pokor/session"
)

// Chat is a platform with its running bot.
type Chat struct {
	Platform Platform
	Bot      Bot
}

// Chats sends what the domain tells a chat to the platform a session came from. It implements
// session.Notifier: the summary is composed once (Summarize) and written in each platform's
// markup.
type Chats map[string]Chat

var _ session.Notifier = Chats(nil)

// Notify implements session.Notifier.
func (cs Chats) Notify(ctx context.Context, n session.Notice) error {
	c, ok := cs[n.Session.Origin.Platform]
	if !ok {
		return errNotConfigured(n.Session.Origin.Platform)
	}
	s := Summarize(n)
	return c.Bot.PostChannel(ctx, n.Session.Origin, Message{Text: s.Render(c.Platform.Markup), Link: &Link{Label: "Open the room", URL: s.URL}})
}

type errNotConfigured string

func (e errNotConfigured) Error() string { return string(e) + " is not configured on this server" }
