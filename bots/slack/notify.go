package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// maxListed bounds the stories a closing summary lists; a long backlog would make a wall of text.
const maxListed = 15

// Notify implements session.Notifier for sessions started from Slack: it posts a short summary
// (the estimate accepted, or every estimate when the session ends) with the room link to the
// channel /pokor was typed in. It posts with the workspace's bot token (installed through OAuth,
// else SLACK_BOT_TOKEN) and falls back to the command's response_url while that is valid. Its
// error says in words why nothing could be posted; the service shows it to the organizers.
func (b *Bot) Notify(ctx context.Context, n session.Notice) error {
	o := n.Session.Origin
	body := summary(n)
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(body), nil,
		slackgo.NewAccessory(slackgo.NewButtonBlockElement(actionOpenSession, "", plain("Open session")).WithURL(n.URL)))}
	// The text is the notification and the fallback where blocks do not show: it carries the link.
	text := body + "\n<" + n.URL + "|Open the session>"

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

// summary is the text of a notice in Slack mrkdwn.
func summary(n session.Notice) string {
	title := escape(n.Session.Title)
	switch n.Kind {
	case "estimated":
		s := fmt.Sprintf("*%s*: %s estimated at *%s*.", title, storyName(n.Story), escape(n.Story.Estimate))
		if l := bots.VotesLine(n); l != "" {
			s += "\n" + escape(l)
		}
		return s
	case "closed":
		var lines []string
		estimated, total, numeric := 0, 0.0, false
		for _, st := range n.Stories {
			if st.Status != session.StoryEstimated {
				continue
			}
			estimated++
			if v, ok := session.CardValue(st.Estimate); ok {
				total, numeric = total+v, true
			}
			if len(lines) < maxListed {
				lines = append(lines, fmt.Sprintf("• %s: *%s*", storyName(st), escape(st.Estimate)))
			}
		}
		head := fmt.Sprintf("*%s* has ended: %d of %s estimated", title, estimated, plural(len(n.Stories), "story", "stories"))
		if numeric {
			head += ", " + strconv.FormatFloat(total, 'f', -1, 64) + " points in all"
		}
		head += "."
		if estimated > maxListed {
			lines = append(lines, fmt.Sprintf("…and %d more in the session.", estimated-maxListed))
		}
		return strings.TrimSpace(head + "\n" + strings.Join(lines, "\n"))
	}
	return fmt.Sprintf("*%s* changed.", title)
}

// storyName is a story's title, linked to its tracker item when it has one.
func storyName(st *session.Story) string {
	name := escape(truncate(st.Title, 80))
	if st.URL != "" {
		// "|" would end the URL part of Slack's <url|text> link.
		return "<" + strings.ReplaceAll(st.URL, "|", "%7C") + "|" + name + ">"
	}
	return "“" + name + "”"
}
