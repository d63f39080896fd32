package github

import (
	"context"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v66/github"

	"github.com/pokor/pokor/integrations/workflow"
	"github.com/pokor/pokor/session"
)

var _ session.OutcomeSource = (*Client)(nil)

// maxTimelinePages bounds the history read for one issue (100 events a page).
const maxTimelinePages = 10

// Outcome reads what happened to an issue: done when it is closed (closed_at); work started at
// the first "in progress" label of its timeline
// (https://docs.github.com/en/rest/issues/timeline#list-timeline-events-for-an-issue). An issue
// closed as not planned has no cycle time.
func (c *Client) Outcome(ctx context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	ref, err := parseKey(key)
	if err != nil {
		return session.OutcomeReport{}, err
	}
	issue, _, err := c.gh.Issues.Get(ctx, ref.repo.owner, ref.repo.name, ref.number)
	if err != nil {
		return session.OutcomeReport{}, c.fail(err, readIssue(ref))
	}
	rep := session.OutcomeReport{CreatedAt: issue.GetCreatedAt().Time}
	if issue.GetState() != "closed" || issue.ClosedAt == nil {
		return rep, nil
	}
	rep.Done, rep.DoneAt = true, issue.GetClosedAt().Time
	rep.Counted = issue.GetStateReason() != "not_planned"
	rep.Detail = "closed " + rep.DoneAt.UTC().Format(time.DateOnly)
	if !rep.Counted {
		rep.Detail += " as not planned"
		return rep, nil
	}
	opts := &gh.ListOptions{PerPage: pageSize}
	for page := 0; page < maxTimelinePages; page++ {
		events, resp, err := c.gh.Issues.ListIssueTimeline(ctx, ref.repo.owner, ref.repo.name, ref.number, opts)
		if err != nil {
			return session.OutcomeReport{}, c.fail(err, readIssue(ref))
		}
		for _, ev := range events {
			if ev.GetEvent() != "labeled" || ev.Label == nil || !workflow.InProgress.MatchString(ev.Label.GetName()) || ev.CreatedAt == nil {
				continue
			}
			at := ev.GetCreatedAt().Time
			if rep.StartedAt == nil || at.Before(*rep.StartedAt) {
				rep.StartedAt = &at
				rep.Detail = fmt.Sprintf("%s; labeled %q %s", strings.SplitN(rep.Detail, ";", 2)[0], ev.Label.GetName(), at.UTC().Format(time.DateOnly))
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return rep, nil
}
