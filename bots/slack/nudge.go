package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/session"
)

// Nudge implements session.ChatNudger for participants who came from Slack: the bot sends them a
// direct message (chat.postMessage with the user's id as the channel, which Slack delivers in the
// app's direct messages with them, https://docs.slack.dev/reference/methods/chat.postMessage).
// When that is refused, it mentions them in the channel the session was started from. It posts
// with the workspace's bot token, as Notify does.
func (b *Bot) Nudge(ctx context.Context, n session.Nudge) error {
	parts := strings.SplitN(n.Participant.ChatID, ":", 3)
	if len(parts) != 3 || parts[0] != "slack" || parts[2] == "" {
		return fmt.Errorf("slack: %q is not a Slack user", n.Participant.ChatID)
	}
	team, user := parts[1], parts[2]
	token, err := b.botToken(ctx, team)
	if token == "" {
		if err != nil {
			return fmt.Errorf("slack: %w", err)
		}
		return errors.New("slack: Pokor has no bot token for this workspace: install Pokor in the workspace (" + b.baseURL + "/slack/install) or set SLACK_BOT_TOKEN")
	}
	body := nudgeText(n)
	post := func(channel, text string) error {
		blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(text), nil,
			slackgo.NewAccessory(slackgo.NewButtonBlockElement(actionOpenSession, "", plain("Vote now")).WithURL(n.URL)))}
		_, _, err := b.client(token).PostMessageContext(ctx, channel,
			slackgo.MsgOptionText(text+"\n<"+n.URL+"|Open the session>", false), slackgo.MsgOptionBlocks(blocks...), slackgo.MsgOptionDisableLinkUnfurl())
		return err
	}
	err = post(user, body)
	if err == nil {
		return nil
	}
	failures := []string{"the direct message failed: " + explain(err)}
	if o := n.Session.Origin; o.Platform == "slack" && o.Team == team && o.Channel != "" {
		err := post(o.Channel, "<@"+user+"> "+body)
		if err == nil {
			return nil
		}
		failures = append(failures, "the mention in the channel failed: "+explain(err))
	}
	return errors.New("slack: " + strings.Join(failures, "; "))
}

// nudgeText is the reminder in Slack mrkdwn.
func nudgeText(n session.Nudge) string {
	return fmt.Sprintf(":hourglass_flowing_sand: %s is waiting for your vote on %s in *%s*.",
		escape(n.From), storyName(n.Story), escape(n.Session.Title))
}
