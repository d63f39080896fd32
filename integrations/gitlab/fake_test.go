package gitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitLab serves the parts of the GitLab v4 API Pokor uses, with the payload shapes of
// GitLab's documentation (docs/api/issues.md, notes.md, iterations): the issue's "weight"
// attribute only where the instance is licensed for weights, X-Total/X-Next-Page pagination
// headers and a Link header, "message" error bodies.
type fakeGitLab struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	premium    bool // weights (and scoped labels) are licensed
	public     bool // projects can be read without a token
	enterprise bool
	token      string
	userID     int64
	projects   map[string]*fakeProject // by full path
	groups     map[string]*fakeGroup
	iterations []iteration
	nextNoteID int64
	// fail makes the next requests whose "METHOD path" starts with the key fail with the
	// status (and Retry-After when set).
	fail    []fakeFailure
	puts    int // issue updates received
	posts   int // notes created
	edits   int // notes edited
	reqs    []string
	headers http.Header // extra headers on every answer
}

type fakeFailure struct {
	prefix     string
	status     int
	retryAfter string
	times      int
}

type fakeProject struct {
	id     int64
	path   string
	access int
	issues []*fakeIssue
}

type fakeGroup struct {
	id       int64
	path     string
	projects []string
}

type fakeIssue struct {
	id, iid     int64
	project     *fakeProject
	title       string
	description string
	state       string
	labels      []string
	milestone   string
	iteration   int64
	weight      *int64
	notes       []fakeNote
	// The history an outcome reads: closedAt and createdAt as RFC 3339 ("" for null and the
	// default), seconds spent, the issue it duplicates, and its resource label events.
	createdAt    string
	closedAt     string
	spent        int64
	duplicatedTo int64
	labelEvents  []fakeLabelEvent
}

// fakeLabelEvent is one resource label event: a label added or removed at a time.
type fakeLabelEvent struct {
	at, action, label string
}

type fakeNote struct {
	id     int64
	body   string
	author int64
	system bool
}

func newFakeGitLab(t *testing.T, premium bool) *fakeGitLab {
	t.Helper()
	f := &fakeGitLab{t: t, premium: premium, enterprise: premium, token: "glpat-secret", userID: 7,
		projects: map[string]*fakeProject{}, groups: map[string]*fakeGroup{}, nextNoteID: 1000, headers: http.Header{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitLab) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: f.srv.URL, Token: f.token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addProject adds a project with n issues titled "Issue 1".."Issue n" (iid = number).
func (f *fakeGitLab) addProject(path string, n int) *fakeProject {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakeProject{id: int64(len(f.projects) + 1), path: path, access: 30}
	for i := 1; i <= n; i++ {
		p.issues = append(p.issues, &fakeIssue{id: p.id*10000 + int64(i), iid: int64(i), project: p,
			title: fmt.Sprintf("Issue %d", i), description: "Body of issue " + strconv.Itoa(i), state: "opened"})
	}
	f.projects[path] = p
	if i := strings.LastIndex(path, "/"); i > 0 {
		gp := path[:i]
		g := f.groups[gp]
		if g == nil {
			g = &fakeGroup{id: int64(100 + len(f.groups)), path: gp}
			f.groups[gp] = g
		}
		g.projects = append(g.projects, path)
	}
	return p
}

func (f *fakeGitLab) failNext(prefix string, status int, retryAfter string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, fakeFailure{prefix: prefix, status: status, retryAfter: retryAfter, times: times})
}

func (f *fakeGitLab) issueOf(path string, iid int64) *fakeIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, is := range f.projects[path].issues {
		if is.iid == iid {
			return is
		}
	}
	return nil
}

func (f *fakeGitLab) counts() (puts, posts, edits int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts, f.posts, f.edits
}

func (f *fakeGitLab) writeJSON(w http.ResponseWriter, status int, v any) {
	for k, vs := range f.headers {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitLab) message(w http.ResponseWriter, status int, msg string) {
	f.writeJSON(w, status, map[string]any{"message": msg})
}

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/")
	f.reqs = append(f.reqs, r.Method+" "+raw)
	if _, sent := r.Header["Private-Token"]; sent && r.Header.Get("PRIVATE-TOKEN") != f.token {
		f.message(w, 401, "401 Unauthorized")
		return
	}
	if r.Header.Get("PRIVATE-TOKEN") != f.token && !(f.public && r.Method == "GET") {
		f.message(w, 401, "401 Unauthorized")
		return
	}
	for i := range f.fail {
		fl := &f.fail[i]
		if fl.times > 0 && strings.HasPrefix(r.Method+" "+raw, fl.prefix) {
			fl.times--
			if fl.retryAfter != "" {
				w.Header().Set("Retry-After", fl.retryAfter)
			}
			f.message(w, fl.status, http.StatusText(fl.status))
			return
		}
	}
	var seg []string
	for _, s := range strings.Split(raw, "/") {
		u, _ := url.PathUnescape(s)
		seg = append(seg, u)
	}
	switch {
	case r.Method == "GET" && raw == "user":
		w.Header().Set("RateLimit-Limit", "2000")
		w.Header().Set("RateLimit-Remaining", "1999")
		f.writeJSON(w, 200, map[string]any{"id": f.userID, "username": "pokor-bot", "name": "Pokor Bot", "state": "active", "bot": false})
	case r.Method == "GET" && raw == "metadata":
		f.writeJSON(w, 200, map[string]any{"version": "17.5.0-ee", "revision": "c9c6f3b", "kas": map[string]any{"enabled": false}, "enterprise": f.enterprise})
	case len(seg) >= 2 && seg[0] == "projects":
		p := f.project(seg[1])
		if p == nil {
			f.message(w, 404, "404 Project Not Found")
			return
		}
		f.serveProject(w, r, p, seg[2:])
	case len(seg) >= 2 && seg[0] == "groups":
		g := f.group(seg[1])
		if g == nil {
			f.message(w, 404, "404 Group Not Found")
			return
		}
		switch {
		case len(seg) == 2 && r.Method == "GET":
			f.writeJSON(w, 200, map[string]any{"id": g.id, "name": g.path, "path": g.path, "full_path": g.path, "web_url": f.srv.URL + "/groups/" + g.path})
		case len(seg) == 3 && seg[2] == "issues":
			var all []*fakeIssue
			for _, pp := range g.projects {
				all = append(all, f.projects[pp].issues...)
			}
			f.listIssues(w, r, all)
		case len(seg) == 3 && seg[2] == "iterations":
			f.serveIterations(w)
		default:
			f.message(w, 404, "404 Not Found")
		}
	default:
		f.message(w, 404, "404 Not Found")
	}
}

func (f *fakeGitLab) project(idOrPath string) *fakeProject {
	for _, p := range f.projects {
		if p.path == idOrPath || strconv.FormatInt(p.id, 10) == idOrPath {
			return p
		}
	}
	return nil
}

func (f *fakeGitLab) group(idOrPath string) *fakeGroup {
	for _, g := range f.groups {
		if g.path == idOrPath || strconv.FormatInt(g.id, 10) == idOrPath {
			return g
		}
	}
	return nil
}

func (f *fakeGitLab) serveIterations(w http.ResponseWriter) {
	if !f.premium {
		f.message(w, 404, "404 Not Found")
		return
	}
	f.writeJSON(w, 200, f.iterations)
}

func (f *fakeGitLab) serveProject(w http.ResponseWriter, r *http.Request, p *fakeProject, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == "GET":
		f.writeJSON(w, 200, map[string]any{
			"id": p.id, "path_with_namespace": p.path, "name": p.path, "web_url": f.srv.URL + "/" + p.path,
			"permissions": map[string]any{"project_access": map[string]any{"access_level": p.access, "notification_level": 3}, "group_access": nil},
		})
	case len(rest) == 1 && rest[0] == "issues" && r.Method == "GET":
		f.listIssues(w, r, p.issues)
	case len(rest) == 1 && rest[0] == "iterations":
		f.serveIterations(w)
	case len(rest) >= 2 && rest[0] == "issues":
		iid, _ := strconv.ParseInt(rest[1], 10, 64)
		var is *fakeIssue
		for _, x := range p.issues {
			if x.iid == iid {
				is = x
			}
		}
		if is == nil {
			f.message(w, 404, "404 Issue Not Found")
			return
		}
		switch {
		case len(rest) == 2 && r.Method == "GET":
			f.writeJSON(w, 200, f.issueJSON(is))
		case len(rest) == 2 && r.Method == "PUT":
			f.updateIssue(w, r, is)
		case len(rest) >= 3 && rest[2] == "notes":
			f.serveNotes(w, r, is, rest[3:])
		case len(rest) == 3 && rest[2] == "resource_label_events" && r.Method == "GET":
			// https://docs.gitlab.com/api/resource_label_events/#list-project-issue-label-events
			var out []map[string]any
			for i, ev := range is.labelEvents {
				out = append(out, map[string]any{
					"id": 142 + i, "created_at": ev.at, "resource_type": "Issue", "resource_id": is.id, "action": ev.action,
					"user":  map[string]any{"id": 1, "name": "Administrator", "username": "root", "state": "active", "web_url": f.srv.URL + "/root"},
					"label": map[string]any{"id": 73 + i, "name": ev.label, "color": "#34495E", "description": ""},
				})
			}
			f.paginate(w, r, len(out), func(from, to int) any { return out[from:to] })
		default:
			f.message(w, 405, "405 Method Not Allowed")
		}
	default:
		f.message(w, 404, "404 Not Found")
	}
}

func (f *fakeGitLab) updateIssue(w http.ResponseWriter, r *http.Request, is *fakeIssue) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.message(w, 400, "400 Bad request - body is not JSON")
		return
	}
	f.puts++
	if v, ok := body["weight"]; ok && f.premium {
		n, ok := v.(float64)
		if !ok || n < 0 {
			f.writeJSON(w, 400, map[string]any{"error": "weight is invalid"})
			return
		}
		wt := int64(n)
		is.weight = &wt
	}
	if v, ok := body["remove_labels"].(string); ok {
		for _, l := range strings.Split(v, ",") {
			for i, x := range is.labels {
				if x == l {
					is.labels = append(is.labels[:i], is.labels[i+1:]...)
					break
				}
			}
		}
	}
	if v, ok := body["add_labels"].(string); ok {
		for _, l := range strings.Split(v, ",") {
			if f.premium && strings.Contains(l, "::") {
				// Scoped labels: adding key::value removes the other key::* labels.
				scope := l[:strings.LastIndex(l, "::")+2]
				kept := is.labels[:0]
				for _, x := range is.labels {
					if !strings.HasPrefix(x, scope) {
						kept = append(kept, x)
					}
				}
				is.labels = kept
			}
			is.labels = append(is.labels, l)
		}
		sort.Strings(is.labels)
	}
	f.writeJSON(w, 200, f.issueJSON(is))
}

func (f *fakeGitLab) serveNotes(w http.ResponseWriter, r *http.Request, is *fakeIssue, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == "GET":
		var out []map[string]any
		for _, n := range is.notes {
			out = append(out, f.noteJSON(n))
		}
		f.paginate(w, r, len(out), func(from, to int) any { return out[from:to] })
	case len(rest) == 0 && r.Method == "POST":
		var body struct {
			Body string `json:"body"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.nextNoteID++
		n := fakeNote{id: f.nextNoteID, body: body.Body, author: f.userID}
		is.notes = append(is.notes, n)
		f.posts++
		f.writeJSON(w, 201, f.noteJSON(n))
	case len(rest) == 1 && r.Method == "PUT":
		var body struct {
			Body string `json:"body"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		id, _ := strconv.ParseInt(rest[0], 10, 64)
		for i := range is.notes {
			if is.notes[i].id == id {
				if is.notes[i].author != f.userID {
					f.message(w, 403, "403 Forbidden")
					return
				}
				is.notes[i].body = body.Body
				f.edits++
				f.writeJSON(w, 200, f.noteJSON(is.notes[i]))
				return
			}
		}
		f.message(w, 404, "404 Note Not Found")
	default:
		f.message(w, 405, "405 Method Not Allowed")
	}
}

func (f *fakeGitLab) noteJSON(n fakeNote) map[string]any {
	return map[string]any{
		"id": n.id, "body": n.body, "system": n.system, "noteable_type": "Issue",
		"author":     map[string]any{"id": n.author, "username": fmt.Sprintf("user%d", n.author), "name": "User", "state": "active"},
		"created_at": "2024-01-04T15:31:51.081Z", "updated_at": "2024-01-04T15:31:51.081Z",
	}
}

func (f *fakeGitLab) issueJSON(is *fakeIssue) map[string]any {
	labels := is.labels
	if labels == nil {
		labels = []string{}
	}
	m := map[string]any{
		"id": is.id, "iid": is.iid, "project_id": is.project.id, "title": is.title, "description": is.description,
		"state": is.state, "labels": labels, "issue_type": "issue", "type": "ISSUE",
		"web_url":    f.srv.URL + "/" + is.project.path + "/-/issues/" + strconv.FormatInt(is.iid, 10),
		"references": map[string]any{"short": fmt.Sprintf("#%d", is.iid), "relative": fmt.Sprintf("#%d", is.iid), "full": fmt.Sprintf("%s#%d", is.project.path, is.iid)},
		"milestone":  nil, "assignees": []any{}, "author": map[string]any{"id": 1, "username": "root"},
		"time_stats": map[string]any{"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": nil, "human_total_time_spent": nil},
		"created_at": "2016-01-04T15:31:51.081Z", "updated_at": "2016-01-04T15:31:51.081Z", "confidential": false,
	}
	if is.createdAt != "" {
		m["created_at"] = is.createdAt
	}
	m["closed_at"], m["moved_to_id"], m["duplicated_to_id"] = nil, nil, nil
	if is.closedAt != "" {
		m["closed_at"] = is.closedAt
		m["closed_by"] = map[string]any{"id": 1, "username": "root", "name": "Administrator", "state": "active"}
	}
	if is.duplicatedTo != 0 {
		m["duplicated_to_id"] = is.duplicatedTo
	}
	if is.spent != 0 {
		m["time_stats"] = map[string]any{"time_estimate": 0, "total_time_spent": is.spent, "human_time_estimate": nil, "human_total_time_spent": fmt.Sprintf("%dh", is.spent/3600)}
	}
	if is.milestone != "" {
		m["milestone"] = map[string]any{"id": 17, "iid": 2, "title": is.milestone, "state": "active"}
	}
	if f.premium {
		// Licensed instances expose the weight, null when unset; the others omit it.
		if is.weight != nil {
			m["weight"] = *is.weight
		} else {
			m["weight"] = nil
		}
		m["iteration"] = nil
		if is.iteration != 0 {
			m["iteration"] = map[string]any{"id": is.iteration, "title": "Sprint", "state": 2}
		}
	}
	return m
}

// listIssues filters like GitLab's issues endpoints and paginates.
func (f *fakeGitLab) listIssues(w http.ResponseWriter, r *http.Request, all []*fakeIssue) {
	q := r.URL.Query()
	var out []map[string]any
	for _, is := range all {
		if s := q.Get("state"); s != "" && s != is.state {
			continue
		}
		if ls := q.Get("labels"); ls != "" {
			ok := true
			for _, l := range strings.Split(ls, ",") {
				found := false
				for _, x := range is.labels {
					found = found || strings.EqualFold(x, l)
				}
				ok = ok && found
			}
			if !ok {
				continue
			}
		}
		if m := q.Get("milestone"); m != "" && m != is.milestone && !(m == "None" && is.milestone == "") {
			continue
		}
		if it := q.Get("iteration_id"); it != "" && it != strconv.FormatInt(is.iteration, 10) {
			continue
		}
		if ty := q.Get("issue_type"); ty != "" && ty != "issue" {
			continue // every fake issue is of type issue
		}
		if s := q.Get("search"); s != "" && !strings.Contains(strings.ToLower(is.title+" "+is.description), strings.ToLower(s)) {
			continue
		}
		out = append(out, f.issueJSON(is))
	}
	f.paginate(w, r, len(out), func(from, to int) any { return out[from:to] })
}

// paginate writes one page with GitLab's offset pagination headers.
func (f *fakeGitLab) paginate(w http.ResponseWriter, r *http.Request, total int, slice func(from, to int) any) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per < 1 {
		per = 20
	}
	from := (page - 1) * per
	if from > total {
		from = total
	}
	to := from + per
	if to > total {
		to = total
	}
	pages := (total + per - 1) / per
	if pages == 0 {
		pages = 1
	}
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Prev-Page", "")
	h.Set("X-Next-Page", "")
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		h.Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.String()))
	}
	res := slice(from, to)
	if total == 0 {
		res = []any{}
	}
	f.writeJSON(w, 200, res)
}
