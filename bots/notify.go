package bots

import (
	"context"
	"strings"

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

var (
	_ session.Notifier   = Chats(nil)
	_ session.ChatNudger = Chats(nil)
)

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

// Remind asks one person of a session's chat, named by chat identity ("slack:T1:U2"), to vote on
// story: the reminder is worded once and sent by the bot of the identity's platform
// (Bot.PostPerson: a direct message). from is the name of the organizer asking; url the room's.
func (cs Chats) Remind(ctx context.Context, sess *session.Session, story *session.Story, chatID, from, url string) error {
	platform, _, _ := strings.Cut(chatID, ":")
	c, ok := cs[platform]
	if !ok {
		return errNotConfigured(platform)
	}
	m := c.Platform.Markup
	text := "⏳ " + m.Escape(from) + " is waiting for your vote"
	if story != nil {
		text += " on " + storyName(m, SummaryStory{Key: story.ExternalKey, Title: story.Title, URL: story.URL})
	}
	text += " in " + m.Bold(m.Escape(sess.Title)) + "."
	return c.Bot.PostPerson(ctx, sess.Origin, chatID, Message{Text: Truncate(text, m.Limit), Link: &Link{Label: "Vote now", URL: url}})
}

// Nudge implements session.ChatNudger: a reminder to vote, through the bot of the platform the
// participant came from (the prefix of its chat identity, "slack:T1:U2").
func (cs Chats) Nudge(ctx context.Context, n session.Nudge) error {
	return cs.Remind(ctx, n.Session, n.Story, n.Participant.ChatID, n.From, n.URL)
}
