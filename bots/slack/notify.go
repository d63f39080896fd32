package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// PostChannel implements bots.Bot: it posts m to the channel /pokor was typed in, with the
// workspace's bot token (installed through OAuth, else SLACK_BOT_TOKEN), and falls back to the
// command's response_url while that is valid. Its error says in words why nothing could be
// posted; the service shows it to the organizers.
func (b *Bot) PostChannel(ctx context.Context, o session.Origin, m bots.Message) error {
	blocks, text := messageBlocks(m)
	var failures []string
	token, err := b.botToken(ctx, o.Team)
	if err != nil {
		failures = append(failures, err.Error())
	}
	if token != "" && o.Channel != "" {
		_, _, err := b.client(token).PostMessageContext(ctx, o.Channel,
			slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...), slackgo.MsgOptionDisableLinkUnfurl())
		if err == nil {
			return nil
		}
		failures = append(failures, "posting to the channel failed: "+explain(err))
	}
	if o.ReplyURL != "" && b.now().Before(o.ReplyExpires) {
		msg := &slackgo.WebhookMessage{ResponseType: slackgo.ResponseTypeInChannel, Text: text, Blocks: &slackgo.Blocks{BlockSet: blocks}}
		err := b.postReply(o.ReplyURL, msg)
		if err == nil {
			return nil
		}
		failures = append(failures, "replying to /pokor failed: "+err.Error())
	}
	if len(failures) == 0 {
		return errors.New("Pokor has no bot token for this workspace and the reply link of /pokor expired after 30 minutes: " +
			"install Pokor in the workspace (" + b.baseURL + "/slack/install) or set SLACK_BOT_TOKEN")
	}
	return errors.New(strings.Join(failures, "; "))
}

// PostPerson implements bots.Bot: a direct message from the bot to the Slack user of chatID
// ("slack:TEAM:USER"; chat.postMessage to a user id posts in the app's conversation with them).
// When that is refused, it mentions them in the channel the session came from. It posts with the
// workspace's bot token, as PostChannel does.
func (b *Bot) PostPerson(ctx context.Context, o session.Origin, chatID string, m bots.Message) error {
	parts := strings.SplitN(chatID, ":", 3)
	if len(parts) != 3 || parts[0] != "slack" || parts[2] == "" {
		return fmt.Errorf("slack: %q is not a Slack user", chatID)
	}
	team, user := parts[1], parts[2]
	token, err := b.botToken(ctx, team)
	if token == "" {
		if err != nil {
			return fmt.Errorf("slack: %w", err)
		}
		return errors.New("slack: Pokor has no bot token for this workspace: install Pokor in the workspace (" + b.baseURL + "/slack/install) or set SLACK_BOT_TOKEN")
	}
	post := func(channel string, m bots.Message) error {
		blocks, text := messageBlocks(m)
		_, _, err := b.client(token).PostMessageContext(ctx, channel,
			slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...), slackgo.MsgOptionDisableLinkUnfurl())
		return err
	}
	err = post(user, m)
	if err == nil {
		return nil
	}
	failures := []string{"the direct message failed: " + explain(err)}
	if o.Platform == Platform.Name && o.Team == team && o.Channel != "" {
		m.Text = "<@" + user + "> " + m.Text
		err := post(o.Channel, m)
		if err == nil {
			return nil
		}
		failures = append(failures, "the mention in the channel failed: "+explain(err))
	}
	return errors.New("slack: " + strings.Join(failures, "; "))
}

// messageBlocks lays a message out: a section with its link as a button, and the text that is
// the notification and the fallback where blocks do not show, which carries the link too.
func messageBlocks(m bots.Message) ([]slackgo.Block, string) {
	if m.Link == nil {
		return []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(m.Text), nil, nil)}, m.Text
	}
	button := slackgo.NewButtonBlockElement(actionOpenSession, "", plain(m.Link.Label)).WithURL(m.Link.URL)
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(m.Text), nil, slackgo.NewAccessory(button))}
	return blocks, m.Text + "\n" + Markup.Link(m.Link.URL, escape(m.Link.Label))
}

// botToken returns the bot token for a workspace: its OAuth installation's, else SLACK_BOT_TOKEN.
func (b *Bot) botToken(ctx context.Context, team string) (string, error) {
	if b.cfg.Installations != nil && team != "" {
		_, sealed, err := b.cfg.Installations.SlackInstallation(ctx, team)
		switch {
		case err == nil:
			token, err := b.keys.Open(sealed)
			if err != nil {
				return b.cfg.BotToken, fmt.Errorf("the stored bot token of this workspace cannot be decrypted (%v); install Pokor again", err)
			}
			return token, nil
		case session.ErrorCode(err) != session.CodeNotFound:
			b.log.Error("loading a Slack installation", "team", team, "err", err)
			return b.cfg.BotToken, errors.New("the workspace's installation could not be loaded")
		}
	}
	return b.cfg.BotToken, nil
}
