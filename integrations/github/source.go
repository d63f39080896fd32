package github

import (
	"context"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v66/github"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// pageSize is GitHub's maximum page size: fewer round trips for a sprint's worth of issues.
const pageSize = 100

// List returns one page of the issues that query selects (see QueryGrammar); cursor is the
// GitHub page number from the previous page's Next. Pull requests are left out, so a page may
// hold fewer than 100 items, or none, while Next is still set.
func (c *Client) List(ctx context.Context, query string, cursor string) (session.ExternalPage, error) {
	q, err := parseQuery(query)
	if err != nil {
		return session.ExternalPage{}, err
	}
	page := 1
	if cursor != "" {
		page, err = strconv.Atoi(cursor)
		if err != nil || page < 1 {
			return session.ExternalPage{}, httpx.Errorf(provider, session.CodeInvalid,
				"the page cursor %q is not a page number", cursor)
		}
	}

	opts := &gh.IssueListByRepoOptions{
		State:       q.state,
		Labels:      q.labels,
		Assignee:    q.assignee,
		ListOptions: gh.ListOptions{Page: page, PerPage: pageSize},
	}
	if q.milestone != "" {
		// Resolved on every page rather than carried in the cursor: the cursor stays the plain
		// page number GitHub uses, and one milestones request per page is cheap.
		opts.Milestone, err = c.resolveMilestone(ctx, q.repo, q.milestone)
		if err != nil {
			return session.ExternalPage{}, err
		}
	}

	issues, resp, err := c.gh.Issues.ListByRepo(ctx, q.repo.owner, q.repo.name, opts)
	if err != nil {
		return session.ExternalPage{}, c.fail(err, readRepo(q.repo))
	}
	out := session.ExternalPage{Stories: make([]session.ExternalStory, 0, len(issues)), Total: -1}
	for _, is := range issues {
		// GitHub's issues endpoints return pull requests too; they carry a pull_request key.
		if is.IsPullRequest() {
			continue
		}
		out.Stories = append(out.Stories, session.ExternalStory{
			Key:         issueRef{repo: q.repo, number: is.GetNumber()}.String(),
			Title:       is.GetTitle(),
			Description: is.GetBody(),
			URL:         is.GetHTMLURL(),
			Estimate:    estimateFromLabels(is.Labels, DefaultLabelPrefix),
		})
	}
	if resp != nil && resp.NextPage != 0 {
		out.Next = strconv.Itoa(resp.NextPage)
	}
	return out, nil
}

// estimateFromLabels returns the value of the first label named prefix+value, "" when none.
func estimateFromLabels(labels []*gh.Label, prefix string) string {
	for _, l := range labels {
		if v, ok := cutPrefixFold(l.GetName(), prefix); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cutPrefixFold is strings.CutPrefix ignoring case, because GitHub label names are unique
// regardless of case ("Estimate: 5" and "estimate: 5" are the same label).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// resolveMilestone turns a milestone as written in a query into the value the issues endpoint
// takes: a number, "none" or "*". A title wins over a number so that a milestone called
// "2025" is found by its title.
func (c *Client) resolveMilestone(ctx context.Context, repo repoRef, want string) (string, error) {
	if want == "none" || want == "*" {
		return want, nil
	}
	var (
		titles []string
		fold   string
	)
	opts := &gh.MilestoneListOptions{State: "all", ListOptions: gh.ListOptions{PerPage: pageSize}}
	for {
		ms, resp, err := c.gh.Issues.ListMilestones(ctx, repo.owner, repo.name, opts)
		if err != nil {
			return "", c.fail(err, readRepo(repo))
		}
		for _, m := range ms {
			num := strconv.Itoa(m.GetNumber())
			if m.GetTitle() == want {
				return num, nil
			}
			if fold == "" && strings.EqualFold(m.GetTitle(), want) {
				fold = num
			}
			titles = append(titles, strconv.Quote(m.GetTitle()))
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if fold != "" {
		return fold, nil
	}
	if n, err := strconv.Atoi(want); err == nil && n > 0 {
		return want, nil
	}
	if len(titles) == 0 {
		return "", httpx.Errorf(provider, session.CodeNotFound,
			"milestone %q was not found: %s has no milestones", want, repo)
	}
	return "", httpx.Errorf(provider, session.CodeNotFound,
		"milestone %q was not found in %s; its milestones are %s", want, repo, listSome(titles, 10))
}

// listSome joins up to max names, saying how many more there are.
func listSome(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + ", and " + strconv.Itoa(len(names)-max) + " more"
}
