package notion

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// maxSearchPages bounds database discovery to a thousand databases: enough for any picker,
// and a workspace with more should be named by URL rather than paged through at 3 requests a
// second.
const maxSearchPages = 10

// List returns the pages of the database a query names (see QuerySyntax), one Notion page of
// up to 100 at a time; cursor is Notion's next_cursor from the previous Page. Each item's Key is
// the page ID, its Title the title property, its Description the text of a property named like
// Description, Details, Notes or Summary, and its Estimate the value of the estimate property.
func (c *Client) List(ctx context.Context, q string, cursor string) (session.ExternalPage, error) {
	parsed, err := parseQuery(q)
	if err != nil {
		return session.ExternalPage{}, err
	}
	// The schema is read again for every page of results rather than cached: one request more
	// per hundred stories, and a property renamed or an option added in Notion is seen at once.
	s, err := c.database(ctx, parsed.database)
	if err != nil {
		return session.ExternalPage{}, err
	}
	filter, err := s.filter(parsed.conditions)
	if err != nil {
		return session.ExternalPage{}, err
	}
	// Import works without an estimate property (the room can still vote); only the
	// write-back needs one, and it reports the missing property itself.
	var est *EstimateTarget
	if t, err := s.estimate(""); err == nil {
		est = &t
	}

	req := map[string]any{"page_size": pageSize}
	if cursor != "" {
		req["start_cursor"] = cursor
	}
	if filter != nil {
		req["filter"] = filter
	}
	var resp list
	if err := c.do(ctx, target{noun: "database", id: s.ID, action: "read"}, "POST", "databases/"+s.ID+"/query", req, &resp); err != nil {
		return session.ExternalPage{}, err
	}
	out := session.ExternalPage{Stories: make([]session.ExternalStory, 0, len(resp.Results)), Total: -1, Next: resp.next()}
	for _, raw := range resp.Results {
		var p page
		if err := json.Unmarshal(raw, &p); err != nil {
			return session.ExternalPage{}, &session.Error{Code: session.CodeUnavailable,
				Message: provider + ": Notion sent a page Pokor could not read: " + err.Error(), Err: err}
		}
		out.Stories = append(out.Stories, s.item(&p, est))
	}
	return out, nil
}

// Databases lists the databases shared with the integration, most recently edited first, so an
// organizer can pick one by name.
func (c *Client) Databases(ctx context.Context) ([]Database, error) {
	dbs, err := c.search(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]Database, len(dbs))
	for i, db := range dbs {
		out[i] = newSchema(db).Database
	}
	return out, nil
}

// search pages through POST /v1/search filtered to databases, most recently edited first.
func (c *Client) search(ctx context.Context, title string) ([]*database, error) {
	var out []*database
	req := map[string]any{
		"filter":    map[string]string{"property": "object", "value": "database"},
		"sort":      map[string]string{"timestamp": "last_edited_time", "direction": "descending"},
		"page_size": pageSize,
	}
	if title != "" {
		req["query"] = title
	}
	for range maxSearchPages {
		var resp list
		if err := c.do(ctx, target{action: "search"}, "POST", "search", req, &resp); err != nil {
			return nil, err
		}
		for _, raw := range resp.Results {
			var db database
			if json.Unmarshal(raw, &db) == nil && db.Object == "database" && !db.Archived && !db.InTrash {
				out = append(out, &db)
			}
		}
		next := resp.next()
		if next == "" {
			break
		}
		req["start_cursor"] = next
	}
	return out, nil
}

// database reads the schema of the database ref names: an ID or URL is fetched directly
// (GET /v1/databases/{id}); a title is looked up among the databases shared with the
// integration.
func (c *Client) database(ctx context.Context, ref string) (schema, error) {
	if id, ok := parseID(ref); ok {
		var db database
		if err := c.do(ctx, target{noun: "database", id: id, action: "read"}, "GET", "databases/"+id, nil, &db); err != nil {
			return schema{}, err
		}
		return newSchema(&db), nil
	}
	return c.databaseByTitle(ctx, ref)
}

// databaseByTitle finds the one shared database whose title is title, ignoring case. Several
// databases with that title, or none but a few with similar titles, give a CodeConflict error with Choices.
func (c *Client) databaseByTitle(ctx context.Context, title string) (schema, error) {
	title = strings.TrimSpace(title)
	dbs, err := c.search(ctx, title)
	if err != nil {
		return schema{}, err
	}
	var exact, partial []schema
	for _, db := range dbs {
		s := newSchema(db)
		switch {
		case strings.EqualFold(strings.TrimSpace(s.Title), title):
			exact = append(exact, s)
		case strings.Contains(strings.ToLower(s.Title), strings.ToLower(title)):
			partial = append(partial, s)
		}
	}
	switch {
	case len(exact) == 1:
		return exact[0], nil
	case len(exact) > 1:
		return schema{}, choice(fmt.Sprintf("several databases are titled %q: choose one", title), exact, "same title")
	case len(partial) > 0:
		return schema{}, choice(fmt.Sprintf("no database is titled %q: choose one of these or give its URL", title),
			partial, "title contains "+fmt.Sprintf("%q", title))
	}
	return schema{}, httpx.Errorf(provider, session.CodeNotFound,
		"no database titled %q is shared with the integration: open it in Notion → ••• → Connections → add %q, or give its URL",
		title, c.botName(ctx, true))
}

func choice(msg string, dbs []schema, reason string) *session.Error {
	e := httpx.Errorf(provider, session.CodeConflict, "%s", msg)
	for _, s := range dbs {
		e.Choices = append(e.Choices, session.Choice{ID: s.ID, Name: s.Title, Reason: reason + ", " + s.URL})
	}
	return e
}
