package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/pokor/pokor/integrations/workflow"
	"github.com/pokor/pokor/session"
)

var _ session.OutcomeSource = (*Client)(nil)

// maxLabelEventPages bounds the history read for one issue (100 events a page).
const maxLabelEventPages = 10

// outcomeIssue is the part of GitLab's issue payload an outcome reads
// (https://docs.gitlab.com/api/issues/#single-project-issue).
type outcomeIssue struct {
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at"`
	// DuplicatedToID is set on an issue closed as a duplicate of another; MovedToID on one moved
	// to another project (where the work goes on).
	DuplicatedToID *int64 `json:"duplicated_to_id"`
	MovedToID      *int64 `json:"moved_to_id"`
	TimeStats      struct {
		TotalTimeSpent int64 `json:"total_time_spent"` // seconds
	} `json:"time_stats"`
}

// labelEvent is one entry of an issue's resource label events
// (https://docs.gitlab.com/api/resource_label_events/).
type labelEvent struct {
	CreatedAt time.Time `json:"created_at"`
	Action    string    `json:"action"` // "add" or "remove"
	Label     *struct {
		Name string `json:"name"`
	} `json:"label"` // null when the label was deleted since
}

// Outcome reads what happened to an issue: done when it is closed (closed_at); work started at
// the first "in progress" label its resource label events add (the same rule as GitHub's, e.g.
// "workflow::In Progress", "Doing"); time spent from time_stats.total_time_spent. An issue closed
// as a duplicate or moved to another project has no cycle time.
func (c *Client) Outcome(ctx context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	ref, err := parseKey(key)
	if err != nil {
		return session.OutcomeReport{}, err
	}
	var is outcomeIssue
	if _, err := c.do(ctx, http.MethodGet, issuePath(ref), nil, &is, "read "+ref.String()); err != nil {
		return session.OutcomeReport{}, err
	}
	rep := session.OutcomeReport{CreatedAt: is.CreatedAt}
	if is.State != "closed" || is.ClosedAt == nil {
		return rep, nil
	}
	rep.Done, rep.DoneAt = true, *is.ClosedAt
	rep.Detail = "closed " + rep.DoneAt.UTC().Format(time.DateOnly)
	if is.TimeStats.TotalTimeSpent > 0 {
		h := float64(is.TimeStats.TotalTimeSpent) / 3600
		rep.SpentHours = &h
	}
	switch {
	case is.DuplicatedToID != nil:
		rep.Detail += " as a duplicate"
		return rep, nil
	case is.MovedToID != nil:
		rep.Detail += " as moved to another project"
		return rep, nil
	}
	rep.Counted = true
	closed := rep.Detail
	opt := gl.ListOptions{Page: 1, PerPage: 100}
	for page := 0; page < maxLabelEventPages; page++ {
		var events []labelEvent
		resp, err := c.do(ctx, http.MethodGet, issuePath(ref)+"/resource_label_events", &opt, &events, "read the label history of "+ref.String())
		if err != nil {
			return session.OutcomeReport{}, err
		}
		for _, ev := range events {
			if ev.Action != "add" || ev.Label == nil || !workflow.InProgress.MatchString(ev.Label.Name) || ev.CreatedAt.IsZero() {
				continue
			}
			at := ev.CreatedAt
			if rep.StartedAt == nil || at.Before(*rep.StartedAt) {
				rep.StartedAt = &at
				rep.Detail = fmt.Sprintf("%s; labeled %q %s", closed, ev.Label.Name, at.UTC().Format(time.DateOnly))
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return rep, nil
}
