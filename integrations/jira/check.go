package jira

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
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
// candidates with their scores; each fact's value holds the same typed (the field, the candidates).
//
// Findings such as "no field is writable" or "two fields tie" are facts with OK false, not
// errors. The error is an *session.Error only when Check could not look at all (refused
// credentials, unknown issue or project, site unreachable); the Check is filled as far as it
// got either way.
func (c *Client) Check(ctx context.Context, issueKeyOrProject string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: provider, Site: c.base.Host, Facts: []session.Fact{}}
	deployment := "Jira Data Center"
	if c.cloud {
		deployment = "Jira Cloud"
	}
	ch.Add("site", true, c.site+" ("+deployment+")", map[string]any{"url": c.site, "cloud": c.cloud})

	var me user
	if err := c.call(ctx, "GET", "rest/api/2/myself", nil, nil, &me, "read who the credentials belong to"); err != nil {
		ch.Add("credentials", false, errorText(err), map[string]any{"kind": c.credentials, "valid": false})
		return ch, err
	}
	ch.Identity = me.identity()
	ch.Add("credentials", true, c.credentials+" of "+ch.Identity, map[string]any{"kind": c.credentials, "valid": true,
		"account_id": me.AccountID, "name": me.Name, "display_name": me.DisplayName, "email": me.EmailAddress})
	ch.OK = true

	target := strings.TrimSpace(issueKeyOrProject)
	if target == "" {
		return ch, nil
	}
	key, boardID := "", 0
	switch {
	case boardQueryRe.MatchString(target):
		boardID, _ = strconv.Atoi(boardQueryRe.FindStringSubmatch(target)[1])
		k, err := c.checkBoard(ctx, &ch, boardID)
		if err != nil || k == "" {
			return ch, err
		}
		key = k
		if c.checkBoardEstimation(ctx, &ch, key, boardID) {
			return ch, nil
		}
	case issueKeyRe.MatchString(target) || issueIDRe.MatchString(target):
		key = strings.ToUpper(target)
	case projectKeyRe.MatchString(target):
		project := strings.ToUpper(target)
		k, err := c.firstIssue(ctx, project)
		if err != nil {
			ch.OK = false
			ch.Add("project", false, errorText(err), map[string]any{"key": project, "found": false})
			return ch, err
		}
		if k == "" {
			ch.Add("issue checked", true, "none: project "+project+" has no issue yet to look for a story-points field on", map[string]any{"project": project, "issue": nil})
			return ch, nil
		}
		key = k
	default:
		ch.OK = false
		err := httpx.Errorf(provider, session.CodeInvalid, "%q is neither an issue key (API-12), a project key (API) nor a board (board:42)", target)
		ch.Add("issue checked", false, errorText(err), map[string]any{"target": target})
		return ch, err
	}

	d, err := c.Discover(ctx, key, boardID)
	var e *session.Error
	// A tie or an admin's to-do is what Check is for; anything else stopped the look.
	finding := errors.As(err, &e) && (e.Code == session.CodeConflict || d.Guidance != "")
	if err != nil && !finding {
		ch.OK = false
		ch.Add("issue checked", false, errorText(err), map[string]any{"issue": key})
		return ch, err
	}
	kind := "company-managed"
	if d.TeamManaged {
		kind = "team-managed"
	}
	ch.Add("issue checked", true, fmt.Sprintf("%s (%s in %s project %s)", d.Issue, d.IssueType, kind, d.Project),
		map[string]any{"issue": d.Issue, "issue_type": d.IssueType, "project": d.Project, "team_managed": d.TeamManaged})

	if err == nil {
		ch.Add("story-points field", true, d.Field.Label(), d.Field)
		ch.Add("writable on "+d.Issue, true, "yes", true)
		ch.Add("why", true, d.Reason, nil)
	} else {
		ch.OK = false
		value := "none writable"
		if e.Code == session.CodeConflict {
			value = "undecided: " + fmt.Sprint(len(e.Choices)) + " fields tie"
		}
		ch.Add("story-points field", false, value, nil)
		ch.Add("writable on "+d.Issue, false, "no", false)
		ch.Add("what to do", false, errorText(e), map[string]any{"choices": e.Choices, "guidance": d.Guidance})
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
	candidates := []Candidate{}
	for _, cand := range d.Candidates {
		if cand.ID != d.Field.ID {
			candidates = append(candidates, cand)
		}
	}
	ch.Add("other candidates", true, strings.Join(others, "; "), candidates)
	return ch, nil
}

// checkBoard reports how a board estimates, and returns the key of one of its issues to look
// for the field on ("" when the board estimates by time, or has no issue). A board that
// estimates by time is a failed fact with the setting to change, not an error.
func (c *Client) checkBoard(ctx context.Context, ch *session.CheckReport, id int) (string, error) {
	b, err := c.board(ctx, id)
	if err != nil {
		ch.OK = false
		ch.Add("board", false, errorText(err), map[string]any{"id": id, "found": false})
		return "", err
	}
	value := map[string]any{"id": id, "found": true, "name": b.Name, "estimation": b.Estimation.Type, "field": b.estimationField()}
	fields, err := c.siteFields(ctx)
	if err != nil {
		ch.OK = false
		return "", err
	}
	d := Decision{Board: id}
	if terr := timeEstimation(&d, b, fields); terr != nil {
		ch.OK = false
		ch.Add("board", false, errorText(terr), value)
		return "", nil
	}
	text := fmt.Sprintf("%d (%s) estimates with %s", id, b.Name, orUnknown(b.Estimation.Field.DisplayName))
	if f := b.estimationField(); f != "" {
		text += " (" + f + ")"
	} else {
		text = fmt.Sprintf("%d (%s) estimates by %s, not by a field", id, b.Name, orUnknown(b.Estimation.Type))
	}
	ch.Add("board", true, text, value)
	jql, err := c.boardJQL(ctx, b)
	if err != nil {
		ch.OK = false
		return "", err
	}
	want := []string{"project", "issuetype"}
	var issues []searchIssue
	if c.cloud {
		issues, _, err = c.searchCloud(ctx, jql, "", want, 1)
	} else {
		issues, _, _, err = c.searchDataCenter(ctx, jql, "", want, 1)
	}
	if err != nil || len(issues) == 0 {
		if err == nil {
			ch.Add("issue checked", true, fmt.Sprintf("none: board %d has no issue yet to look for the field on", id), map[string]any{"board": id, "issue": nil})
		}
		return "", err
	}
	c.rememberIssue(ctx, issues[0])
	return issues[0].Key, nil
}

// firstIssue returns the key of the most recently created issue of a project, "" when it has
// none. An unknown project is CodeNotFound.
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
	c.rememberIssue(ctx, issues[0])
	return issues[0].Key, nil
}

// errorText is an error as a fact's value: the message without the "jira: " prefix.
func errorText(err error) string {
	return strings.TrimPrefix(session.ErrorMessage(err), provider+": ")
}
