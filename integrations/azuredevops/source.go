package azuredevops

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Paging. A WIQL query returns ids only; the items come in batches of at most 200, the
// documented limit of workitemsbatch.
const (
	batchSize = 200
	// maxResults caps what one query may select: more than this is not a poker session.
	maxResults = 1000
)

// The estimate fields of the standard processes, in the order Pokor looks for them.
const (
	FieldStoryPoints = "Microsoft.VSTS.Scheduling.StoryPoints" // Agile
	FieldEffort      = "Microsoft.VSTS.Scheduling.Effort"      // Scrum
	FieldSize        = "Microsoft.VSTS.Scheduling.Size"        // CMMI
)

// estimateFields are the fields Pokor writes without being told, most common first.
var estimateFields = []string{FieldStoryPoints, FieldEffort, FieldSize}

// workItem is a work item as the API returns it: its fields by reference name.
type workItem struct {
	ID     int64                      `json:"id"`
	Rev    int                        `json:"rev"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// str returns a string field, "" when absent.
func (w workItem) str(name string) string {
	var s string
	_ = json.Unmarshal(w.Fields[name], &s)
	return s
}

// num returns a number field and whether it holds one.
func (w workItem) num(name string) (float64, bool) {
	raw, ok := w.Fields[name]
	if !ok || string(raw) == "null" {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, false
	}
	return f, true
}

// List returns one page of the work items a query in QueryGrammar selects, in the query's
// order; the cursor is the offset of the next page. It returns KindInvalid for a query it
// cannot read or Azure DevOps refuses, and KindNotFound for an unknown project or team.
func (c *Client) List(ctx context.Context, query string, cursor string) (session.ExternalPage, error) {
	q, err := parseQuery(query)
	if err != nil {
		return session.ExternalPage{}, err
	}
	offset := 0
	if cursor = strings.TrimSpace(cursor); cursor != "" {
		if offset, err = strconv.Atoi(cursor); err != nil || offset < 0 {
			return session.ExternalPage{}, httpx.Errorf(provider, session.CodeInvalid, "the page cursor %q is not an offset", cursor)
		}
	}
	ids, err := c.wiql(ctx, q)
	if err != nil {
		return session.ExternalPage{}, err
	}
	page := session.ExternalPage{Stories: []session.ExternalStory{}, Total: len(ids)}
	if offset >= len(ids) {
		return page, nil
	}
	end := min(offset+batchSize, len(ids))
	items, err := c.batch(ctx, ids[offset:end])
	if err != nil {
		return session.ExternalPage{}, err
	}
	for _, w := range items {
		page.Stories = append(page.Stories, c.item(w))
	}
	if end < len(ids) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// wiql runs the query and returns the ids it selects, at most maxResults.
func (c *Client) wiql(ctx context.Context, q wiqlQuery) ([]int64, error) {
	path := "_apis/wit/wiql"
	what := "run the query"
	if q.project != "" {
		path = url.PathEscape(q.project) + "/" + path
		what += " in project " + q.project
		if q.team != "" {
			path = url.PathEscape(q.project) + "/" + url.PathEscape(q.team) + "/_apis/wit/wiql"
			what += " for team " + q.team
		}
	}
	var res struct {
		QueryResultType string `json:"queryResultType"`
		WorkItems       []struct {
			ID int64 `json:"id"`
		} `json:"workItems"`
		WorkItemRelations []struct {
			Target *struct {
				ID int64 `json:"id"`
			} `json:"target"`
		} `json:"workItemRelations"`
	}
	err := c.call(ctx, request{method: http.MethodPost, path: path, query: url.Values{"$top": {strconv.Itoa(maxResults)}},
		body: map[string]string{"query": q.wiql}, what: what}, &res)
	if err != nil {
		if statusOf(err) == http.StatusNotFound && q.team != "" {
			return nil, httpx.Errorf(provider, session.CodeNotFound,
				"could not %s: there is no team %q in project %q (iteration:current needs the team whose sprints to follow; name it with team:\"Team\")", what, q.team, q.project)
		}
		return nil, err
	}
	var ids []int64
	seen := map[int64]bool{}
	add := func(id int64) {
		if id > 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, w := range res.WorkItems {
		add(w.ID)
	}
	// A tree or one-hop query answers with links; their targets are the items.
	for _, r := range res.WorkItemRelations {
		if r.Target != nil {
			add(r.Target.ID)
		}
	}
	return ids, nil
}

// batch reads the work items with the given ids, in that order; deleted ones are skipped.
func (c *Client) batch(ctx context.Context, ids []int64) ([]workItem, error) {
	var res struct {
		Value []*workItem `json:"value"`
	}
	err := c.call(ctx, request{method: http.MethodPost, path: "_apis/wit/workitemsbatch",
		body: map[string]any{"ids": ids, "errorPolicy": "omit"}, what: fmt.Sprintf("read %d work items", len(ids))}, &res)
	if err != nil {
		return nil, err
	}
	out := make([]workItem, 0, len(res.Value))
	for _, w := range res.Value {
		if w != nil {
			out = append(out, *w)
		}
	}
	return out, nil
}

// item maps a work item to a story: its id as the key, its title, its description as text,
// its type, and the estimate it already holds in any of the process fields.
func (c *Client) item(w workItem) session.ExternalStory {
	id := strconv.FormatInt(w.ID, 10)
	it := session.ExternalStory{Key: id, Title: w.str("System.Title"), Type: w.str("System.WorkItemType")}
	desc := w.str("System.Description")
	if desc == "" {
		desc = w.str("Microsoft.VSTS.TCM.ReproSteps") // bugs describe themselves here
	}
	it.Description = htmlText(desc)
	if p := w.str("System.TeamProject"); p != "" {
		it.URL = c.org + "/" + url.PathEscape(p) + "/_workitems/edit/" + id
	}
	for _, f := range estimateFields {
		if n, ok := w.num(f); ok {
			it.Estimate = strconv.FormatFloat(n, 'f', -1, 64)
			break
		}
	}
	return it
}

// htmlText turns the HTML of a rich-text field into plain text, one line per block, empty
// lines dropped.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.TrimSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			lines := strings.Split(b.String(), "\n")
			out := lines[:0]
			for _, l := range lines {
				l = strings.Join(strings.Fields(l), " ")
				if l != "" {
					out = append(out, l)
				}
			}
			return strings.TrimSpace(strings.Join(out, "\n"))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "br", "p", "div", "tr", "h1", "h2", "h3", "h4", "ul", "ol":
				b.WriteString("\n")
			case "li":
				b.WriteString("\n- ")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4":
				b.WriteString("\n")
			}
		}
	}
}
