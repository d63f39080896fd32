package jira

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pokor/pokor/integrations"
)

// user is the part of GET /rest/api/2/myself Pokor shows.
type user struct {
	AccountID    string `json:"accountId"`
	Name         string `json:"name"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
}

func (u user) identity() string {
	name := u.DisplayName
	if name == "" {
		name = u.Name
	}
	if name == "" {
		name = u.AccountID
	}
	if u.EmailAddress != "" && u.EmailAddress != name {
		return name + " <" + u.EmailAddress + ">"
	}
	return name
}

// Check tests the connection and reports what Pokor found: who the credentials are, which site,
// and, for an issue key ("API-12") or a project key ("API", its most recent issue), the
// story-points field Discover chooses with its id, name, writability and reason, and the other
// candidates with their scores. Check.Detail holds the Decision.
//
// Findings such as "no field is writable" or "two fields tie" are facts with OK false, not
// errors. The error is an *integrations.Error only when Check could not look at all (refused
// credentials, unknown issue or project, site unreachable); the Check is filled as far as it
// got either way.
func (c *Client) Check(ctx context.Context, issueKeyOrProject string) (integrations.Check, error) {
	ch := integrations.Check{Provider: provider, Site: c.base.Host, Facts: []integrations.Fact{}}
	deployment := "Jira Data Center"
	if c.cloud {
		deployment = "Jira Cloud"
	}
	ch.Facts = append(ch.Facts, integrations.Fact{Name: "site", Value: c.site + " (" + deployment + ")", OK: true})

	var me user
	if err := c.call(ctx, "GET", "rest/api/2/myself", nil, nil, &me, "read who the credentials belong to"); err != nil {
		ch.Facts = append(ch.Facts, integrations.Fact{Name: "credentials", Value: errorText(err)})
		return ch, err
	}
	ch.Identity = me.identity()
	ch.Facts = append(ch.Facts, integrations.Fact{Name: "credentials", Value: c.credentials + " of " + ch.Identity, OK: true})
	ch.OK = true

	target := strings.TrimSpace(issueKeyOrProject)
	if target == "" {
		return ch, nil
	}
	key := ""
	switch {
	case issueKeyRe.MatchString(target) || issueIDRe.MatchString(target):
		key = strings.ToUpper(target)
	case projectKeyRe.MatchString(target):
		project := strings.ToUpper(target)
		k, err := c.firstIssue(ctx, project)
		if err != nil {
			ch.OK = false
			ch.Facts = append(ch.Facts, integrations.Fact{Name: "project", Value: errorText(err)})
			return ch, err
		}
		if k == "" {
			ch.Facts = append(ch.Facts, integrations.Fact{Name: "issue checked", Value: "none: project " + project + " has no issue yet to look for a story-points field on", OK: true})
			return ch, nil
		}
		key = k
	default:
		ch.OK = false
		err := integrations.Errorf(provider, integrations.KindInvalid, "%q is neither an issue key (API-12) nor a project key (API)", target)
		ch.Facts = append(ch.Facts, integrations.Fact{Name: "issue checked", Value: errorText(err)})
		return ch, err
	}

	d, err := c.Discover(ctx, key, 0)
	var e *integrations.Error
	// A tie or an admin's to-do is what Check is for; anything else stopped the look.
	finding := errors.As(err, &e) && (e.Kind == integrations.KindChoice || d.Guidance != "")
	if err != nil && !finding {
		ch.OK = false
		ch.Facts = append(ch.Facts, integrations.Fact{Name: "issue checked", Value: errorText(err)})
		return ch, err
	}
	ch.Detail = d
	kind := "company-managed"
	if d.TeamManaged {
		kind = "team-managed"
	}
	ch.Facts = append(ch.Facts, integrations.Fact{Name: "issue checked",
		Value: fmt.Sprintf("%s (%s in %s project %s)", d.Issue, d.IssueType, kind, d.Project), OK: true})

	if err == nil {
		ch.Facts = append(ch.Facts,
			integrations.Fact{Name: "story-points field", Value: d.Field.Label(), OK: true},
			integrations.Fact{Name: "writable on " + d.Issue, Value: "yes", OK: true},
			integrations.Fact{Name: "why", Value: d.Reason, OK: true},
		)
	} else {
		ch.OK = false
		value := "none writable"
		if e.Kind == integrations.KindChoice {
			value = "undecided: " + fmt.Sprint(len(e.Choices)) + " fields tie"
		}
		ch.Facts = append(ch.Facts,
			integrations.Fact{Name: "story-points field", Value: value},
			integrations.Fact{Name: "writable on " + d.Issue, Value: "no"},
			integrations.Fact{Name: "what to do", Value: e.Message},
		)
	}
	var others []string
	for _, cand := range d.Candidates {
		if cand.ID == d.Field.ID {
			continue
		}
		// The last reason says why a field is not writable ("not on the edit screen of API-12").
		state := "writable"
		if !cand.Writable && len(cand.Reasons) > 0 {
			state = "not writable: " + cand.Reasons[len(cand.Reasons)-1]
		}
		others = append(others, fmt.Sprintf("%s: score %d, %s", cand.Label(), cand.Score, state))
	}
	if len(others) == 0 {
		others = []string{"none"}
	}
	ch.Facts = append(ch.Facts, integrations.Fact{Name: "other candidates", Value: strings.Join(others, "; "), OK: true})
	return ch, nil
}

// firstIssue returns the key of the most recently created issue of a project, "" when it has
// none. An unknown project is KindNotFound.
func (c *Client) firstIssue(ctx context.Context, project string) (string, error) {
	if _, err := c.project(ctx, project); err != nil {
		return "", err
	}
	jql := fmt.Sprintf("project = %q ORDER BY created DESC", project)
	want := []string{"project", "issuetype"}
	var issues []searchIssue
	var err error
	if c.cloud {
		issues, _, err = c.searchCloud(ctx, jql, "", want, 1)
	} else {
		issues, _, _, err = c.searchDataCenter(ctx, jql, "", want, 1)
	}
	if err != nil || len(issues) == 0 {
		return "", err
	}
	c.rememberIssue(ctx, issues[0], 0)
	return issues[0].Key, nil
}

// errorText is an error as a fact's value: the message without the "jira: " prefix.
func errorText(err error) string {
	var e *integrations.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
