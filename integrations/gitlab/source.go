package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// pageSize is the number of issues asked per page; GitLab allows up to 100, and 50 keeps one
// page of a chat import quick.
const pageSize = 50

// targetTTL bounds how long the client remembers whether a path is a project or a group.
const targetTTL = 10 * time.Minute

// issue is the part of GitLab's issue payload Pokor reads. It is decoded here rather than
// into the official client's Issue because that type turns an absent weight into 0, and the
// absence is what tells an instance without weights.
type issue struct {
	ID          int64       `json:"id"`
	IID         int64       `json:"iid"`
	ProjectID   int64       `json:"project_id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	State       string      `json:"state"`
	WebURL      string      `json:"web_url"`
	Labels      []string    `json:"labels"`
	IssueType   string      `json:"issue_type"`
	Weight      optionalInt `json:"weight"`
	References  struct {
		Full string `json:"full"`
	} `json:"references"`
}

// optionalInt records whether a JSON attribute was there at all, null, or a number.
type optionalInt struct {
	Present bool
	Null    bool
	Value   int64
}

// UnmarshalJSON is called for every present attribute, null included.
func (o *optionalInt) UnmarshalJSON(b []byte) error {
	o.Present = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// hasWeights reports whether the instance exposes issue weights for this issue's project:
// licensed instances send "weight" (null when unset); the others leave it out.
func (is issue) hasWeights() bool { return is.Weight.Present }

// weight returns the issue's weight when it has one.
func (is issue) weight() (int64, bool) {
	return is.Weight.Value, is.Weight.Present && !is.Weight.Null
}

// target is a resolved project or group.
type target struct {
	group bool
	id    int64
	path  string
	at    time.Time
}

func (t target) api() string {
	if t.group {
		return "groups/" + strconv.FormatInt(t.id, 10)
	}
	return "projects/" + strconv.FormatInt(t.id, 10)
}

func (t target) kind() string {
	if t.group {
		return "group"
	}
	return "project"
}

// targets remembers which paths are projects and which are groups.
type targets struct {
	mu sync.Mutex
	m  map[string]target
}

// resolve finds whether path is a project or a group, trying the project first since that is
// what most queries name.
func (c *Client) resolve(ctx context.Context, path string) (target, error) {
	ts := c.resolved
	key := strings.ToLower(path)
	ts.mu.Lock()
	t, ok := ts.m[key]
	ts.mu.Unlock()
	if ok && c.now().Sub(t.at) < targetTTL {
		return t, nil
	}
	var p struct {
		ID                int64  `json:"id"`
		PathWithNamespace string `json:"path_with_namespace"`
	}
	_, err := c.do(ctx, http.MethodGet, "projects/"+gl.PathEscape(path), nil, &p, "read project "+path)
	switch {
	case err == nil:
		t = target{id: p.ID, path: p.PathWithNamespace}
	case statusOf(err) == http.StatusNotFound:
		var g struct {
			ID       int64  `json:"id"`
			FullPath string `json:"full_path"`
		}
		opt := struct {
			WithProjects bool `url:"with_projects"`
		}{}
		if _, gerr := c.do(ctx, http.MethodGet, "groups/"+gl.PathEscape(path), &opt, &g, "read group "+path); gerr != nil {
			if statusOf(gerr) == http.StatusNotFound {
				return target{}, httpx.Errorf(provider, session.CodeNotFound,
					"no project or group %q on %s, or the token cannot see it", path, c.site)
			}
			return target{}, gerr
		}
		t = target{group: true, id: g.ID, path: g.FullPath}
	default:
		return target{}, err
	}
	if t.path == "" {
		t.path = path
	}
	t.at = c.now()
	ts.mu.Lock()
	if len(ts.m) > 1000 {
		ts.m = map[string]target{}
	}
	ts.m[key] = t
	ts.mu.Unlock()
	return t, nil
}

// listOptions are the documented query parameters of GET /projects/:id/issues and
// GET /groups/:id/issues that Pokor uses. The official client's option structs lack
// iteration_title, so the parameters are spelled here, in its url-tag encoding.
type listOptions struct {
	gl.ListOptions
	State          string           `url:"state,omitempty"`
	Labels         *gl.LabelOptions `url:"labels,comma,omitempty"`
	Milestone      string           `url:"milestone,omitempty"`
	IterationID    string           `url:"iteration_id,omitempty"`
	IterationTitle string           `url:"iteration_title,omitempty"`
	Search         string           `url:"search,omitempty"`
	IssueType      string           `url:"issue_type,omitempty"`
	Scope          string           `url:"scope,omitempty"`
	OrderBy        string           `url:"order_by,omitempty"`
	Sort           string           `url:"sort,omitempty"`
}

// List returns one page of the issues a query in QueryGrammar selects, in the order the team
// gave them by hand in GitLab (relative position), the cursor being the next page number.
// It returns KindInvalid for a query it cannot read and KindNotFound for an unknown project or
// group.
func (c *Client) List(ctx context.Context, query string, cursor string) (session.ExternalPage, error) {
	q, err := parseQuery(query, c.web)
	if err != nil {
		return session.ExternalPage{}, err
	}
	page := int64(1)
	if cursor = strings.TrimSpace(cursor); cursor != "" {
		page, err = strconv.ParseInt(cursor, 10, 64)
		if err != nil || page < 1 {
			return session.ExternalPage{}, httpx.Errorf(provider, session.CodeInvalid, "the page cursor %q is not a page number", cursor)
		}
	}
	t, err := c.resolve(ctx, q.path)
	if err != nil {
		return session.ExternalPage{}, err
	}
	opt := listOptions{
		ListOptions: gl.ListOptions{Page: page, PerPage: pageSize},
		State:       q.state, Milestone: q.milestone, Search: q.search, IssueType: q.typ,
		Scope: "all", OrderBy: "relative_position", Sort: "asc",
	}
	if q.state == "all" {
		opt.State = ""
	}
	if len(q.labels) > 0 {
		l := gl.LabelOptions(q.labels)
		opt.Labels = &l
	}
	if q.iteration != "" {
		if err := c.iterationFilter(ctx, t, q.iteration, &opt); err != nil {
			return session.ExternalPage{}, err
		}
	}
	var issues []issue
	resp, err := c.do(ctx, http.MethodGet, t.api()+"/issues", &opt, &issues, "list the issues of "+t.kind()+" "+t.path)
	if err != nil {
		return session.ExternalPage{}, err
	}
	out := session.ExternalPage{Stories: make([]session.ExternalStory, 0, len(issues)), Total: -1}
	for _, is := range issues {
		out.Stories = append(out.Stories, c.item(is, t))
	}
	if resp.NextPage > 0 {
		out.Next = strconv.FormatInt(resp.NextPage, 10)
	}
	// GitLab leaves X-Total out beyond 10,000 matches; the count is then unknown.
	if resp.Header.Get("X-Total") != "" {
		out.Total = int(resp.TotalItems)
	}
	return out, nil
}

// item maps an issue to a story. The key is the issue's full reference ("acme/api#42"), which
// stays valid when the list came from a group.
func (c *Client) item(is issue, t target) session.ExternalStory {
	key := is.References.Full
	if _, err := parseKey(key); err != nil {
		key = fmt.Sprintf("%s#%d", t.path, is.IID)
	}
	it := session.ExternalStory{Key: key, Title: is.Title, Description: is.Description, URL: is.WebURL}
	if is.IssueType != "" && is.IssueType != "issue" {
		it.Type = is.IssueType
	}
	if w, ok := is.weight(); ok {
		it.Estimate = strconv.FormatInt(w, 10)
	} else if v, ok := labelValue(is.Labels, DefaultLabelPrefix); ok {
		it.Estimate = v
	}
	return it
}

// iteration is the part of GitLab's iteration payload Pokor reads.
type iteration struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	State int    `json:"state"`
}

// iterationFilter sets the iteration parameters: a number is an id, "None" and "Any" pass
// through, "current" is looked up, anything else is a title.
func (c *Client) iterationFilter(ctx context.Context, t target, it string, opt *listOptions) error {
	switch {
	case it == "None" || it == "Any":
		opt.IterationID = it
		return nil
	case it != "current":
		if _, err := strconv.ParseInt(it, 10, 64); err == nil {
			opt.IterationID = it
		} else {
			opt.IterationTitle = it
		}
		return nil
	}
	var its []iteration
	o := struct {
		State string `url:"state"`
	}{"current"}
	_, err := c.do(ctx, http.MethodGet, t.api()+"/iterations", &o, &its, "find the current iteration of "+t.path)
	if err != nil {
		if s := statusOf(err); s == http.StatusNotFound || s == http.StatusForbidden {
			return httpx.Errorf(provider, session.CodeInvalid,
				"iterations are not available for %s on %s (they need GitLab Premium); filter by milestone or label instead", t.path, c.site)
		}
		return err
	}
	switch len(its) {
	case 0:
		return httpx.Errorf(provider, session.CodeInvalid, "%s has no current iteration; name one with iteration:\"Title\" or iteration:ID", t.path)
	case 1:
		opt.IterationID = strconv.FormatInt(its[0].ID, 10)
		return nil
	}
	names := make([]string, 0, len(its))
	for _, i := range its {
		names = append(names, fmt.Sprintf("%q (iteration:%d)", i.Title, i.ID))
	}
	return httpx.Errorf(provider, session.CodeInvalid,
		"%s has several current iterations (one per cadence): %s; name one", t.path, strings.Join(names, ", "))
}
