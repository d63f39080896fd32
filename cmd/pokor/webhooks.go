package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations/webhook"
	"github.com/pokor/pokor/session"
)

const webhooksUsage = `usage:
  pokor webhooks list
  pokor webhooks add --team PLATFORM:ID [--secret S] URL
  pokor webhooks remove --team PLATFORM:ID URL

A team's webhook receives the events of every session created from that chat workspace
(slack:T0123, discord:GUILD, mattermost:TEAM). docs/webhooks.md explains the events and their
signature.`

// webhooksCmd manages the teams' webhooks, which only the administrator may set: a team's events
// concern everyone in the workspace.
func webhooksCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(webhooksUsage)
	}
	fs := flag.NewFlagSet("pokor webhooks "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	team := fs.String("team", "", "the team: platform:id, e.g. slack:T0123")
	secret := fs.String("secret", "", "the signing secret (default: one is generated and printed once)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	m, err := openOffline(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	switch args[0] {
	case "list":
		hooks, err := m.Store.TeamWebhooks(ctx)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			fmt.Fprintf(stdout, "%s\t%s\t(since %s)\n", w.Team, w.URL, w.CreatedAt.Format(time.DateOnly))
		}
		if urls := m.Config.Get("POKOR_WEBHOOK_URLS"); urls != "" {
			fmt.Fprintf(stdout, "server-wide (POKOR_WEBHOOK_URLS)\t%s\n", urls)
		}
		counts, err := m.Store.WebhookCounts(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deliveries: %d pending, %d delivered (last 7 days), %d failed\n", counts["pending"], counts["delivered"], counts["failed"])
		return nil
	case "add", "remove":
		if fs.NArg() != 1 || !strings.Contains(*team, ":") {
			return errors.New(webhooksUsage)
		}
		url := fs.Arg(0)
		if args[0] == "remove" {
			return m.Store.RemoveTeamWebhook(ctx, *team, url)
		}
		if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
			return errors.New("the URL must start with https:// or http://")
		}
		generated := *secret == ""
		if generated {
			*secret = "whsec_" + session.NewToken()
		} else if len(*secret) < 16 {
			return errors.New("--secret must be at least 16 characters")
		}
		if err := m.Store.AddTeamWebhook(ctx, *team, url, m.Keys.Seal(*secret), time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added: the sessions of %s now send their events to %s\n", *team, url)
		if generated {
			fmt.Fprintf(stdout, "signing secret (shown once; check %s with it): %s\n", webhook.HeaderSignature, *secret)
		}
		return nil
	}
	return errors.New(webhooksUsage)
}
