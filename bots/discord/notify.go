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

// PostChannel implements bots.Bot: it posts m to the channel /pokor was run in. With a bot token
// it posts as the bot; otherwise, or when the bot may not post there (not invited), it uses the
// interaction webhook while its token is valid (15 minutes after /pokor).
func (b *Bot) PostChannel(ctx context.Context, o session.Origin, m bots.Message) error {
	content, components := layout(m)
	var botErr error
	if b.api.Token != "" && o.Channel != "" {
		_, err := b.api.ChannelMessageSendComplex(o.Channel, &discordgo.MessageSend{
			Content: content, Components: components, AllowedMentions: noMentions(), Flags: noEmbeds,
		}, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
		botErr = apiError("posting to the channel", err)
	}
	if app, token, ok := webhook(o.ReplyURL); ok && b.now().Before(o.ReplyExpires) {
		_, err := b.api.WebhookExecute(app, token, false, &discordgo.WebhookParams{
			Content: content, Components: components, AllowedMentions: noMentions(), Flags: noEmbeds,
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

// PostPerson implements bots.Bot: the bot opens a direct message with the Discord user of chatID
// ("discord:GUILD:USER"; Create DM, https://discord.com/developers/docs/resources/user#create-dm)
// and posts m there. When the user takes no direct messages from the server's members, it
// mentions them in the channel the session came from, pinging them alone. It needs
// DISCORD_BOT_TOKEN.
func (b *Bot) PostPerson(ctx context.Context, o session.Origin, chatID string, m bots.Message) error {
	parts := strings.SplitN(chatID, ":", 3)
	if len(parts) != 3 || parts[0] != "discord" || parts[2] == "" {
		return fmt.Errorf("discord: %q is not a Discord user", chatID)
	}
	user := parts[2]
	if b.api.Token == "" {
		return errors.New("discord: direct messages are sent by the bot: set DISCORD_BOT_TOKEN")
	}
	content, components := layout(m)
	dm, err := b.api.UserChannelCreate(user, discordgo.WithContext(ctx))
	if err == nil {
		_, err = b.api.ChannelMessageSendComplex(dm.ID, &discordgo.MessageSend{
			Content: content, Components: components, AllowedMentions: noMentions(), Flags: noEmbeds,
		}, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
	}
	dmErr := apiError("sending a direct message", err)
	if o.Platform != Platform.Name || o.Channel == "" {
		return dmErr
	}
	_, err = b.api.ChannelMessageSendComplex(o.Channel, &discordgo.MessageSend{
		Content: bots.Truncate("<@"+user+"> "+content, maxContent), Components: components, Flags: noEmbeds,
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{user}},
	}, discordgo.WithContext(ctx))
	if err != nil {
		return errors.Join(dmErr, apiError("mentioning in the channel", err))
	}
	return nil
}

// noEmbeds keeps Discord from previewing every tracker link of a summary under it.
const noEmbeds = discordgo.MessageFlagsSuppressEmbeds

// layout lays m out: its text within Discord's limit, and its link as a link button.
func layout(m bots.Message) (string, []discordgo.MessageComponent) {
	content := bots.Truncate(m.Text, maxContent)
	if m.Link == nil || m.Link.URL == "" {
		return content, nil
	}
	return content, []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: m.Link.Label, Style: discordgo.LinkButton, URL: m.Link.URL},
	}}}
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
