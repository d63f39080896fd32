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
  pokor webhooks add --team TEAM_ID [--secret S] URL
  pokor webhooks remove --team TEAM_ID

A team's webhook (one per team) receives the events of every session in that team: TEAM_ID is
the id in the team page's address (/t/TEAM_ID). Setting it replaces the team's previous webhook.
docs/webhooks.md explains the events and their signature.`

// webhooksCmd manages the teams' webhooks from the administrator's side; a team may also set its
// own through the team API.
func webhooksCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(webhooksUsage)
	}
	fs := flag.NewFlagSet("pokor webhooks "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	team := fs.String("team", "", "the team id, as in its page /t/TEAM_ID")
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
			fmt.Fprintf(stdout, "%s (%s)\t%s\t(since %s)\n", w.TeamID, w.TeamName, w.URL, w.CreatedAt.Format(time.DateOnly))
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
		if *team == "" || strings.Contains(*team, ":") {
			return errors.New("--team takes a team id (the TEAM_ID of its page /t/TEAM_ID), not a chat workspace\n" + webhooksUsage)
		}
		t, err := m.Store.Team(ctx, *team)
		if err != nil {
			return fmt.Errorf("no team %q: %w", *team, err)
		}
		if args[0] == "remove" {
			if fs.NArg() > 1 {
				return errors.New(webhooksUsage)
			}
			if err := m.Store.DeleteTeamWebhook(ctx, t.ID); err != nil {
				return fmt.Errorf("team %s has no webhook: %w", t.ID, err)
			}
			fmt.Fprintf(stdout, "removed the webhook of team %s (%s)\n", t.ID, t.Name)
			return nil
		}
		if fs.NArg() != 1 {
			return errors.New(webhooksUsage)
		}
		url := fs.Arg(0)
		if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
			return errors.New("the URL must start with https:// or http://")
		}
		generated := *secret == ""
		if generated {
			*secret = "whsec_" + session.NewToken()
		} else if len(*secret) < 16 {
			return errors.New("--secret must be at least 16 characters")
		}
		if err := m.Store.SetTeamWebhook(ctx, t.ID, &session.Webhook{URL: url, Sealed: m.Keys.Seal(*secret), CreatedAt: time.Now()}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "set: the sessions of team %s (%s) now send their events to %s\n", t.ID, t.Name, url)
		if generated {
			fmt.Fprintf(stdout, "signing secret (shown once; check %s with it): %s\n", webhook.HeaderSignature, *secret)
		}
		return nil
	}
	return errors.New(webhooksUsage)
}
