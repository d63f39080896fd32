package jira

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

var _ session.OutcomeSource = (*Client)(nil)

// issueHistory is an issue with its changelog, as GET /rest/api/2/issue/{key}?expand=changelog
// returns it on Cloud and Data Center
// (https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-get).
type issueHistory struct {
	Fields struct {
		Created        string `json:"created"`
		ResolutionDate string `json:"resolutiondate"`
		Resolution     *struct {
			Name string `json:"name"`
		} `json:"resolution"`
		Status struct {
			Name           string `json:"name"`
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
		TimeSpent *int64 `json:"timespent"`
	} `json:"fields"`
	Changelog changelogPage `json:"changelog"`
}

// changelogPage is a page of an issue's changelog: "histories" in the expanded issue, "values"
// from GET /rest/api/2/issue/{key}/changelog (Cloud,
// https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-changelog-get).
type changelogPage struct {
	StartAt   int         `json:"startAt"`
	Total     int         `json:"total"`
	IsLast    bool        `json:"isLast"`
	Histories []changelog `json:"histories"`
	Values    []changelog `json:"values"`
}

type changelog struct {
	Created string `json:"created"`
	Items   []struct {
		Field      string `json:"field"`
		FieldID    string `json:"fieldId"`
		FromString string `json:"fromString"`
		ToString   string `json:"toString"`
	} `json:"items"`
}

// maxChangelogPages bounds the history read for one issue (100 entries a page).
const maxChangelogPages = 10

// notStarted are the statuses of work not begun: a move to any other status starts the work.
var notStarted = map[string]bool{"to do": true, "todo": true, "backlog": true, "open": true, "new": true,
	"selected for development": true, "ready": true, "ready for development": true, "reopened": true}

// notDone are resolutions that close an issue without the work: no cycle time.
var notDone = map[string]bool{"won't do": true, "won't fix": true, "duplicate": true, "cannot reproduce": true,
	"declined": true, "incomplete": true}

// jiraTime reads Jira's timestamps ("2025-03-05T12:00:00.000+0000").
func jiraTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Outcome reads what happened to an issue: done when its status is in the "done" category, at its
// resolution date; work started at the changelog's first move of the status out of the to-do
// statuses; time spent is the time logged on it.
func (c *Client) Outcome(ctx context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return session.OutcomeReport{}, httpx.Errorf(provider, session.CodeInvalid, "the issue key is empty")
	}
	var is issueHistory
	q := url.Values{"fields": {"status,resolution,resolutiondate,created,timespent"}, "expand": {"changelog"}}
	if err := c.call(ctx, "GET", "rest/api/2/issue/"+url.PathEscape(key), q, nil, &is, "read the history of "+key); err != nil {
		return session.OutcomeReport{}, err
	}
	f := is.Fields
	rep := session.OutcomeReport{}
	rep.CreatedAt, _ = jiraTime(f.Created)
	if f.Status.StatusCategory.Key != "done" {
		return rep, nil
	}
	done, ok := jiraTime(f.ResolutionDate)
	histories := is.Changelog.Histories
	// The expanded changelog holds at most 100 entries; on Cloud the rest is paged.
	for page, start := 0, len(histories); c.cloud && start < is.Changelog.Total && page < maxChangelogPages; page++ {
		var p changelogPage
		pq := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}}
		if err := c.call(ctx, "GET", "rest/api/2/issue/"+url.PathEscape(key)+"/changelog", pq, nil, &p, "read the history of "+key); err != nil {
			return session.OutcomeReport{}, err
		}
		if len(p.Values) == 0 {
			break
		}
		histories = append(histories, p.Values...)
		start += len(p.Values)
		if p.IsLast {
			break
		}
	}
	var lastDone time.Time
	for _, h := range histories {
		at, ok := jiraTime(h.Created)
		if !ok {
			continue
		}
		for _, it := range h.Items {
			if it.Field != "status" && it.FieldID != "status" {
				continue
			}
			to := strings.ToLower(strings.TrimSpace(it.ToString))
			if to == strings.ToLower(f.Status.Name) {
				lastDone = at
			}
			if !notStarted[to] && to != strings.ToLower(f.Status.Name) && (rep.StartedAt == nil || at.Before(*rep.StartedAt)) {
				t := at
				rep.StartedAt = &t
			}
		}
	}
	if !ok {
		// Done without a resolution date (a workflow that sets none): when it reached its status.
		done, ok = lastDone, !lastDone.IsZero()
	}
	if !ok {
		return rep, nil
	}
	rep.Done, rep.DoneAt, rep.Counted = true, done, true
	rep.Detail = f.Status.Name + " " + done.UTC().Format(time.DateOnly)
	if f.Resolution != nil && notDone[strings.ToLower(f.Resolution.Name)] {
		rep.Counted = false
		rep.Detail += " (" + f.Resolution.Name + ")"
		return rep, nil
	}
	if rep.StartedAt != nil {
		rep.Detail += fmt.Sprintf("; in progress since %s", rep.StartedAt.UTC().Format(time.DateOnly))
	}
	if f.TimeSpent != nil && *f.TimeSpent > 0 {
		h := float64(*f.TimeSpent) / 3600
		rep.SpentHours = &h
	}
	return rep, nil
}
