package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// maxEstimateFields bounds how many candidate fields a search asks for, to keep the URL short
// on sites with many look-alike fields.
const maxEstimateFields = 5

var boardQueryRe = regexp.MustCompile(`(?i)^board\s*[:\s]\s*([0-9]+)$`)

// query is a parsed List query.
type query struct {
	jql     string
	project string // set for a bare project key
	board   int    // set for board:42
}

// parseQuery reads the query grammar of List:
//
//	board:42, board 42     the issues of board 42, in the board's order
//	API                    a bare project key: project = "API" ORDER BY Rank ASC
//	anything else          JQL, passed to Jira as is
func parseQuery(q string) (query, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return query{}, httpx.Errorf(provider, session.CodeInvalid,
			"the query is empty: give JQL (project = API AND sprint in openSprints()), a project key (API) or a board (board:42)")
	case boardQueryRe.MatchString(q):
		id, err := strconv.Atoi(boardQueryRe.FindStringSubmatch(q)[1])
		if err != nil || id <= 0 {
			return query{}, httpx.Errorf(provider, session.CodeInvalid, "%q is not a board id", q)
		}
		return query{board: id}, nil
	case projectKeyRe.MatchString(q):
		key := strings.ToUpper(q)
		// Quoted, so a key that is also a JQL word (IN, IS, OR) still parses.
		return query{project: key, jql: fmt.Sprintf("project = %q ORDER BY Rank ASC", key)}, nil
	}
	return query{jql: q}, nil
}

// searchIssue is one issue of a search answer.
type searchIssue struct {
	ID     string                     `json:"id"`
	Key    string                     `json:"key"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// List returns one page of the issues a query selects. The query is JQL, a bare project key
// ("API" means project = "API" ORDER BY Rank ASC) or a board ("board:42" or "board 42"), and
// cursor is the previous page's Next ("" for the first page). On Jira Cloud it uses the
// enhanced search (/rest/api/3/search/jql, cursor = nextPageToken, Total -1); on Data Center the
// v2 search (cursor = startAt, Total known). Items carry key, summary, description as plain
// text, URL, issue type, and the estimate a story-points field already holds.
//
// It returns CodeInvalid for an empty query or JQL Jira rejects (with Jira's messages), and
// CodeNotFound for an unknown project or board.
func (c *Client) List(ctx context.Context, q string, cursor string) (session.ExternalPage, error) {
	pq, err := parseQuery(q)
	if err != nil {
		return session.ExternalPage{}, err
	}
	var board *boardConfig
	switch {
	case pq.board > 0:
		b, err := c.board(ctx, pq.board)
		if err != nil {
			return session.ExternalPage{}, err
		}
		board = &b
		if pq.jql, err = c.boardJQL(ctx, b); err != nil {
			return session.ExternalPage{}, err
		}
	case pq.project != "" && cursor == "":
		// Asking for the project first turns Jira's 400 about an unknown value into a clear
		// not-found, and tells team-managed projects apart for the write-back.
		if _, err := c.project(ctx, pq.project); err != nil {
			var e *session.Error
			if errors.As(err, &e) && e.Code == session.CodeNotFound {
				e.Message = fmt.Sprintf(provider+": project %s does not exist on %s or these credentials cannot see it", pq.project, c.base.Host)
			}
			return session.ExternalPage{}, err
		}
	}

	fields, err := c.siteFields(ctx)
	if err != nil {
		return session.ExternalPage{}, err
	}
	estimateIDs := estimateFields(fields, board)
	want := append([]string{"summary", "description", "issuetype", "project"}, estimateIDs...)

	var issues []searchIssue
	page := session.ExternalPage{Total: -1}
	if c.cloud {
		issues, page.Next, err = c.searchCloud(ctx, pq.jql, cursor, want, pageSize)
	} else {
		issues, page.Next, page.Total, err = c.searchDataCenter(ctx, pq.jql, cursor, want, pageSize)
	}
	if err != nil {
		return session.ExternalPage{}, err
	}

	page.Stories = make([]session.ExternalStory, 0, len(issues))
	for _, is := range issues {
		item := session.ExternalStory{
			Key:         is.Key,
			Title:       stringField(is.Fields["summary"]),
			Description: descriptionText(is.Fields["description"]),
			URL:         c.browseURL(is.Key),
			Estimate:    firstNumber(is.Fields, estimateIDs),
		}
		item.Type = c.rememberIssue(ctx, is).IssueType.Name
		if pq.board > 0 {
			// The board decides where the estimate goes; it is kept with the story.
			item.Target = session.WriteTarget{TargetBoard: strconv.Itoa(pq.board)}
		}
		page.Stories = append(page.Stories, item)
	}
	return page, nil
}

// rememberIssue notes where a found issue lives, which saves the write-back a request, and
// returns its project and type. When the project's kind cannot be read now, the write-back
// asks again.
func (c *Client) rememberIssue(ctx context.Context, is searchIssue) issueFields {
	var loc issueFields
	if raw, ok := is.Fields["issuetype"]; ok {
		_ = json.Unmarshal(raw, &loc.IssueType) // a missing type leaves the name empty
	}
	if raw, ok := is.Fields["project"]; ok {
		_ = json.Unmarshal(raw, &loc.Project)
	}
	if loc.Project.Key != "" && is.Key != "" {
		if s, err := c.scopeOf(ctx, loc); err == nil {
			c.remember(strings.ToUpper(is.Key), s)
		}
	}
	return loc
}

// searchCloud runs the enhanced search. Jira may omit nextPageToken on the last page or send
// isLast; either ends the listing.
func (c *Client) searchCloud(ctx context.Context, jql, cursor string, fields []string, max int) ([]searchIssue, string, error) {
	q := url.Values{"jql": {jql}, "fields": {strings.Join(fields, ",")}, "maxResults": {strconv.Itoa(max)}}
	if cursor != "" {
		q.Set("nextPageToken", cursor)
	}
	var res struct {
		Issues        []searchIssue `json:"issues"`
		NextPageToken string        `json:"nextPageToken"`
		IsLast        *bool         `json:"isLast"`
	}
	if err := c.call(ctx, "GET", "rest/api/3/search/jql", q, nil, &res, "search issues"); err != nil {
		return nil, "", err
	}
	next := res.NextPageToken
	if res.IsLast != nil && *res.IsLast {
		next = ""
	}
	return res.Issues, next, nil
}

// searchDataCenter runs the v2 search that Data Center offers; the cursor is startAt.
func (c *Client) searchDataCenter(ctx context.Context, jql, cursor string, fields []string, max int) ([]searchIssue, string, int, error) {
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return nil, "", 0, httpx.Errorf(provider, session.CodeInvalid, "cursor %q is not a position in the search", cursor)
		}
		start = n
	}
	q := url.Values{"jql": {jql}, "fields": {strings.Join(fields, ",")}, "maxResults": {strconv.Itoa(max)}, "startAt": {strconv.Itoa(start)}}
	var res struct {
		StartAt int           `json:"startAt"`
		Total   int           `json:"total"`
		Issues  []searchIssue `json:"issues"`
	}
	if err := c.call(ctx, "GET", "rest/api/2/search", q, nil, &res, "search issues"); err != nil {
		return nil, "", 0, err
	}
	next := ""
	if end := res.StartAt + len(res.Issues); len(res.Issues) > 0 && end < res.Total {
		next = strconv.Itoa(end)
	}
	return res.Issues, next, res.Total, nil
}

// boardJQL is the query of a board's saved filter, narrowed by a kanban board's sub-filter.
// When the filter cannot be read (it may be shared with the board but not with these
// credentials) the filter clause selects the same issues, in Rank order.
func (c *Client) boardJQL(ctx context.Context, b boardConfig) (string, error) {
	if b.Filter.ID == "" {
		return "", httpx.Errorf(provider, session.CodeInvalid, "board %d has no saved filter to list its issues", b.ID)
	}
	var f struct {
		JQL string `json:"jql"`
	}
	err := c.call(ctx, "GET", "rest/api/2/filter/"+url.PathEscape(b.Filter.ID), nil, nil, &f, "read the filter of board "+strconv.Itoa(b.ID))
	var e *session.Error
	switch {
	case err == nil && strings.TrimSpace(f.JQL) != "":
	case err == nil || errors.As(err, &e) && (e.Code == session.CodeNotFound || e.Code == session.CodeForbidden):
		f.JQL = "filter = " + b.Filter.ID + " ORDER BY Rank ASC"
	default:
		return "", err
	}
	if sub := strings.TrimSpace(b.SubQuery.Query); sub != "" {
		where, order := splitOrderBy(f.JQL)
		f.JQL = "(" + where + ") AND (" + sub + ")" + order
	}
	return f.JQL, nil
}

var orderByRe = regexp.MustCompile(`(?i)\s+order\s+by\s+`)

// splitOrderBy splits JQL into its condition and its " ORDER BY ..." clause, so a condition can
// be added without breaking the order. It looks for the last ORDER BY outside quotes.
func splitOrderBy(jql string) (where, order string) {
	locs := orderByRe.FindAllStringIndex(jql, -1)
	for i := len(locs) - 1; i >= 0; i-- {
		if strings.Count(jql[:locs[i][0]], `"`)%2 == 0 {
			return strings.TrimSpace(jql[:locs[i][0]]), " " + strings.TrimSpace(jql[locs[i][0]:])
		}
	}
	return strings.TrimSpace(jql), ""
}

// estimateFields lists the fields to read an existing estimate from, most likely first: the
// board's estimation field, then number fields that look like story points by type or name.
// Editability does not matter for reading, so editmeta is not asked per issue.
func estimateFields(fields []fieldInfo, board *boardConfig) []string {
	type scored struct {
		id    string
		score int
	}
	boardField := ""
	if board != nil {
		boardField = board.estimationField()
	}
	var list []scored
	for _, f := range fields {
		if !f.isCustom() || f.Schema.Type != "number" {
			continue
		}
		s := 0
		if f.ID == boardField {
			s += scoreBoard
		}
		if excludedName(f) && s == 0 {
			continue
		}
		if f.Schema.Custom == jswStoryPoints {
			s += scoreSchema
		}
		p, _ := nameScore(f)
		s += p
		if knownIDs[f.ID] {
			s += scoreKnownID
		}
		if s > 0 {
			list = append(list, scored{f.ID, s})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].score != list[j].score {
			return list[i].score > list[j].score
		}
		return list[i].id < list[j].id
	})
	if len(list) > maxEstimateFields {
		list = list[:maxEstimateFields]
	}
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.id
	}
	return ids
}

// firstNumber returns the first of the fields holding a number, formatted as the room shows
// cards ("5", "0.5"), or "" when none does.
func firstNumber(fields map[string]json.RawMessage, ids []string) string {
	for _, id := range ids {
		var v *float64
		if err := json.Unmarshal(fields[id], &v); err == nil && v != nil {
			return strconv.FormatFloat(*v, 'f', -1, 64)
		}
	}
	return ""
}

func stringField(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s) // null or absent leaves ""
	return s
}
