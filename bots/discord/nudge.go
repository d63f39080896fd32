package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/pokor/pokor/session"
)

// Nudge implements session.ChatNudger for participants who came from Discord: the bot opens a
// direct message with them (Create DM, https://discord.com/developers/docs/resources/user#create-dm)
// and posts the reminder there. When the user does not take direct messages from the server's
// members, it mentions them in the channel the session was started from, pinging them alone.
// It needs DISCORD_BOT_TOKEN.
func (b *Bot) Nudge(ctx context.Context, n session.Nudge) error {
	parts := strings.SplitN(n.Participant.ChatID, ":", 3)
	if len(parts) != 3 || parts[0] != "discord" || parts[2] == "" {
		return fmt.Errorf("discord: %q is not a Discord user", n.Participant.ChatID)
	}
	user := parts[2]
	if b.api.Token == "" {
		return errors.New("discord: reminders are sent by the bot: set DISCORD_BOT_TOKEN")
	}
	content := nudgeText(n)
	components := []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Vote now", Style: discordgo.LinkButton, URL: n.URL},
	}}}
	var dmErr error
	dm, err := b.api.UserChannelCreate(user, discordgo.WithContext(ctx))
	if err == nil {
		_, err = b.api.ChannelMessageSendComplex(dm.ID, &discordgo.MessageSend{
			Content: content, Components: components, AllowedMentions: noMentions(),
		}, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
	}
	dmErr = apiError("sending a direct message", err)
	o := n.Session.Origin
	if o.Platform != "discord" || o.Channel == "" {
		return dmErr
	}
	_, err = b.api.ChannelMessageSendComplex(o.Channel, &discordgo.MessageSend{
		Content: "<@" + user + "> " + content, Components: components,
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{user}},
	}, discordgo.WithContext(ctx))
	if err != nil {
		return errors.Join(dmErr, apiError("mentioning in the channel", err))
	}
	return nil
}

// nudgeText is the reminder in Discord markdown.
func nudgeText(n session.Nudge) string {
	return clip(fmt.Sprintf("⏳ %s is waiting for your vote on %s in **%s**.",
		escapeMarkdown(n.From), storyName(n.Story), escapeMarkdown(n.Session.Title)))
}
