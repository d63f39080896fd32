package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// maxContent is Discord's limit on a message's content, in characters.
const maxContent = 2000

// Notify implements session.Notifier for sessions started from Discord: it posts the summary of
// an accepted estimate or of the finished session to the channel /pokor was run in. With a bot
// token it posts as the bot; otherwise, or when the bot may not post there (not invited),
// it uses the interaction webhook while its token is valid (15 minutes after /pokor).
func (b *Bot) Notify(ctx context.Context, n session.Notice) error {
	if n.Session == nil {
		return errors.New("discord: a notice without a session")
	}
	content := summary(n)
	components := []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Open the room", Style: discordgo.LinkButton, URL: n.URL},
	}}}
	if n.URL == "" {
		components = nil
	}
	o := n.Session.Origin
	var botErr error
	if b.api.Token != "" && o.Channel != "" {
		_, err := b.api.ChannelMessageSendComplex(o.Channel, &discordgo.MessageSend{
			Content: content, Components: components, AllowedMentions: noMentions(),
		}, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
		botErr = apiError("posting to the channel", err)
	}
	if app, token, ok := webhook(o.ReplyURL); ok && b.now().Before(o.ReplyExpires) {
		_, err := b.api.WebhookExecute(app, token, false, &discordgo.WebhookParams{
			Content: content, Components: components, AllowedMentions: noMentions(),
		}, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
		return errors.Join(botErr, apiError("posting through the interaction webhook", err))
	}
	if botErr != nil {
		return botErr
	}
	return errors.New("discord: cannot post the summary: without DISCORD_BOT_TOKEN Pokor can answer in the channel only for 15 minutes after /pokor")
}

// webhook splits an interaction webhook URL made by command into application id and token.
func webhook(replyURL string) (app, token string, ok bool) {
	rest, ok := strings.CutPrefix(replyURL, discordgo.EndpointWebhooks)
	if !ok {
		return "", "", false
	}
	app, token, ok = strings.Cut(rest, "/")
	return app, token, ok && app != "" && token != "" && !strings.Contains(token, "/")
}

// summary is the text of a notice, within Discord's length limit.
func summary(n session.Notice) string {
	title := escapeMarkdown(n.Session.Title)
	switch n.Kind {
	case "estimated":
		if n.Story == nil {
			break
		}
		return clip(fmt.Sprintf("🃏 %s estimated **%s** in **%s**.", storyName(n.Story), escapeMarkdown(n.Story.Estimate), title) + votesLine(n))
	case "closed":
		done := 0
		for _, st := range n.Stories {
			if st.Status == session.StoryEstimated {
				done++
			}
		}
		var s strings.Builder
		fmt.Fprintf(&s, "🏁 **%s** has ended: %d of %d %s estimated.", title, done, len(n.Stories), plural(len(n.Stories), "story", "stories"))
		for i, st := range n.Stories {
			line := "\n• " + storyName(st) + ": "
			if st.Status == session.StoryEstimated {
				line += "**" + escapeMarkdown(st.Estimate) + "**"
			} else {
				line += "not estimated"
			}
			more := fmt.Sprintf("\n…and %d more", len(n.Stories)-i)
			if len([]rune(s.String()))+len([]rune(line))+len([]rune(more)) > maxContent {
				s.WriteString(more)
				break
			}
			s.WriteString(line)
		}
		return s.String()
	}
	return clip(fmt.Sprintf("**%s** was updated.", title))
}

// storyName is a story's title, prefixed with its tracker key when imported.
func storyName(st *session.Story) string {
	name := escapeMarkdown(st.Title)
	if st.ExternalKey != "" && !strings.Contains(st.Title, st.ExternalKey) {
		name = escapeMarkdown(st.ExternalKey) + " " + name
	}
	return name
}

func clip(s string) string {
	if r := []rune(s); len(r) > maxContent {
		return string(r[:maxContent-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// votesLine is the round's votes on a line of their own (bots.VotesLine), or nothing.
func votesLine(n session.Notice) string {
	if l := bots.VotesLine(n); l != "" {
		return "\n" + escapeMarkdown(l)
	}
	return ""
}
