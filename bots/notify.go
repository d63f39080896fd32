package bots

import (
	"context"
	"strings"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// Chat is a platform with its running bot.
type Chat struct {
	Platform Platform
	Bot      Bot
	// Language is the catalog for sessions that keep none (Origin.Language; those started before
	// Pokor kept it): POKOR_LANGUAGE. nil is English.
	Language *i18n.Catalog
}

// markup is the platform's markup in the language of a session's chat: the one its command was
// answered in.
func (c Chat) markup(o session.Origin) Markup {
	return c.Platform.Markup.In(Language(o.Language, c.Language))
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
	s, m := Summarize(n), c.markup(n.Session.Origin)
	return c.Bot.PostChannel(ctx, n.Session.Origin, Message{Text: s.Render(m), Link: &Link{Label: m.T("bot.open_room"), URL: s.URL}})
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
	// The person's own locale is not known here: the reminder speaks the language of the chat.
	m := c.markup(sess.Origin)
	pairs := []string{"from", m.Escape(from), "session", m.Bold(m.Escape(sess.Title))}
	text := "⏳ " + m.T("bot.remind", pairs...)
	if story != nil {
		text = "⏳ " + m.T("bot.remind.story", append(pairs, "story", storyName(m, SummaryStory{Key: story.ExternalKey, Title: story.Title, URL: story.URL}))...)
	}
	return c.Bot.PostPerson(ctx, sess.Origin, chatID, Message{Text: Truncate(text, m.Limit), Link: &Link{Label: m.T("bot.vote_now"), URL: url}})
}

// Nudge implements session.ChatNudger: a reminder to vote, through the bot of the platform the
// participant came from (the prefix of its chat identity, "slack:T1:U2").
func (cs Chats) Nudge(ctx context.Context, n session.Nudge) error {
	return cs.Remind(ctx, n.Session, n.Story, n.Participant.ChatID, n.From, n.URL)
}
