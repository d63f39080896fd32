package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

const testToken = "ghp_s3cr3tT0kenValue0000000000000000000"

// newTestClient starts h as a fake GitHub and returns a client pointed at it.
func newTestClient(t *testing.T, h http.Handler) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{Token: testToken, BaseURL: srv.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv
}

// writeJSON answers with a JSON body the way GitHub does.
func writeJSON(t *testing.T, w http.ResponseWriter, status int, v any) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Errorf("encode: %v", err)
	}
}

// issueJSON builds an issue object with the fields of GitHub's documented example.
func issueJSON(base string, number int, title, body string, labels []string, pr bool) map[string]any {
	ls := make([]map[string]any, 0, len(labels))
	for i, name := range labels {
		ls = append(ls, labelJSON(int64(208045946+i), name))
	}
	is := map[string]any{
		"id":                 1000 + number,
		"node_id":            "MDU6SXNzdWUx",
		"url":                fmt.Sprintf("%s/repos/acme/api/issues/%d", base, number),
		"repository_url":     base + "/repos/acme/api",
		"html_url":           fmt.Sprintf("https://github.com/acme/api/issues/%d", number),
		"number":             number,
		"state":              "open",
		"title":              title,
		"body":               body,
		"user":               map[string]any{"login": "octocat", "id": 1, "type": "User"},
		"labels":             ls,
		"assignee":           nil,
		"assignees":          []any{},
		"milestone":          nil,
		"locked":             false,
		"comments":           0,
		"created_at":         "2011-04-22T13:33:48Z",
		"updated_at":         "2011-04-22T13:33:48Z",
		"closed_at":          nil,
		"author_association": "COLLABORATOR",
	}
	if pr {
		is["html_url"] = fmt.Sprintf("https://github.com/acme/api/pull/%d", number)
		is["pull_request"] = map[string]any{
			"url":       fmt.Sprintf("%s/repos/acme/api/pulls/%d", base, number),
			"html_url":  fmt.Sprintf("https://github.com/acme/api/pull/%d", number),
			"diff_url":  fmt.Sprintf("https://github.com/acme/api/pull/%d.diff", number),
			"patch_url": fmt.Sprintf("https://github.com/acme/api/pull/%d.patch", number),
			"merged_at": nil,
		}
		is["draft"] = false
	}
	return is
}

func labelJSON(id int64, name string) map[string]any {
	return map[string]any{
		"id":          id,
		"node_id":     "MDU6TGFiZWwyMDgwNDU5NDY=",
		"url":         "https://api.github.com/repos/acme/api/labels/" + url.PathEscape(name),
		"name":        name,
		"description": "",
		"color":       "f29513",
		"default":     false,
	}
}

// linkHeader builds a Link header pointing at the given pages of the same URL.
func linkHeader(r *http.Request, base string, rels map[string]int) string {
	var parts []string
	for _, rel := range []string{"next", "last", "first", "prev"} {
		page, ok := rels[rel]
		if !ok {
			continue
		}
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		parts = append(parts, fmt.Sprintf(`<%s%s?%s>; rel=%q`, base, r.URL.Path, q.Encode(), rel))
	}
	return strings.Join(parts, ", ")
}

func ghError(status int, message, doc string) map[string]any {
	return map[string]any{"message": message, "documentation_url": doc, "status": strconv.Itoa(status)}
}

func TestListFollowsLinkPages(t *testing.T) {
	var srvURL string
	var seen []url.Values
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/repos/acme/api/issues" {
			http.NotFound(w, r)
			return
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		mu.Lock()
		seen = append(seen, r.URL.Query())
		mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		rels := map[string]int{"last": 3, "first": 1}
		if page < 3 {
			rels["next"] = page + 1
		}
		w.Header().Set("Link", linkHeader(r, srvURL, rels))
		writeJSON(t, w, http.StatusOK, []any{
			issueJSON(srvURL, page*10+1, fmt.Sprintf("Issue %d", page*10+1), "body", nil, false),
			issueJSON(srvURL, page*10+2, fmt.Sprintf("Issue %d", page*10+2), "", []string{"bug", "estimate: 8"}, false),
		})
	})
	c, srv := newTestClient(t, h)
	srvURL = srv.URL

	var keys []string
	var cursors []string
	cursor := ""
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatal("paging does not end")
		}
		p, err := c.List(context.Background(), "acme/api", cursor)
		if err != nil {
			t.Fatalf("List(cursor %q): %v", cursor, err)
		}
		if p.Total != -1 {
			t.Errorf("Total = %d, want -1 (unknown)", p.Total)
		}
		for _, it := range p.Stories {
			keys = append(keys, it.Key)
		}
		cursors = append(cursors, p.Next)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	wantKeys := []string{"acme/api#11", "acme/api#12", "acme/api#21", "acme/api#22", "acme/api#31", "acme/api#32"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys = %v, want %v", keys, wantKeys)
	}
	if want := []string{"2", "3", ""}; !slices.Equal(cursors, want) {
		t.Errorf("cursors = %v, want %v", cursors, want)
	}
	for i, q := range seen {
		if q.Get("per_page") != "100" || q.Get("state") != "open" {
			t.Errorf("request %d query = %v, want per_page=100 and state=open", i, q)
		}
		if want := strconv.Itoa(i + 1); i > 0 && q.Get("page") != want {
			t.Errorf("request %d page = %q, want %q", i, q.Get("page"), want)
		}
	}
}

func TestListSkipsPullRequestsAndReadsItems(t *testing.T) {
	var srvURL string
	c, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusOK, []any{
			issueJSON(srvURL, 1347, "Found a bug", "I'm having a problem with this.", []string{"bug", "Estimate: 5"}, false),
			issueJSON(srvURL, 1348, "Amazing new feature", "Please pull these awesome changes", nil, true),
			issueJSON(srvURL, 1349, "Slow search", "", []string{"perf"}, false),
		})
	}))
	srvURL = srv.URL

	p, err := c.List(context.Background(), "acme/api", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []session.ExternalStory{
		{Key: "acme/api#1347", Title: "Found a bug", Description: "I'm having a problem with this.",
			URL: "https://github.com/acme/api/issues/1347", Estimate: "5"},
		{Key: "acme/api#1349", Title: "Slow search", URL: "https://github.com/acme/api/issues/1349"},
	}
	if !reflect.DeepEqual(p.Stories, want) {
		t.Errorf("items =\n%+v\nwant\n%+v", p.Stories, want)
	}
	if p.Next != "" {
		t.Errorf("Next = %q, want empty without a Link header", p.Next)
	}
}

func TestListQueryEncoding(t *testing.T) {
	milestones := []any{
		map[string]any{"number": 1, "title": "v1.0", "state": "closed"},
		map[string]any{"number": 7, "title": "v2 beta", "state": "open"},
		map[string]any{"number": 9, "title": "2025", "state": "open"},
	}
	tests := []struct {
		name  string
		query string
		want  url.Values // expected issues query, without per_page and page
	}{
		{"defaults", "acme/api", url.Values{"state": {"open"}}},
		{"labels are ANDed in one list", `acme/api label:ready label:"needs estimate"`,
			url.Values{"state": {"open"}, "labels": {"ready,needs estimate"}}},
		{"milestone by title", `acme/api milestone:"v2 beta"`, url.Values{"state": {"open"}, "milestone": {"7"}}},
		{"milestone by title ignoring case", `acme/api milestone:V1.0 state:closed`, url.Values{"state": {"closed"}, "milestone": {"1"}}},
		{"milestone title that looks like a number", `acme/api milestone:2025`, url.Values{"state": {"open"}, "milestone": {"9"}}},
		{"milestone by number", `acme/api milestone:7`, url.Values{"state": {"open"}, "milestone": {"7"}}},
		{"milestone none", `acme/api milestone:none`, url.Values{"state": {"open"}, "milestone": {"none"}}},
		{"curly quotes from a phone", "acme/api milestone:“v2 beta” assignee:octocat state:all",
			url.Values{"state": {"all"}, "milestone": {"7"}, "assignee": {"octocat"}}},
		{"quoted whole filter", `acme/api "label:needs estimate"`, url.Values{"state": {"open"}, "labels": {"needs estimate"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu  sync.Mutex
				got url.Values
			)
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/repos/acme/api/milestones":
					if s := r.URL.Query().Get("state"); s != "all" {
						t.Errorf("milestones state = %q, want all", s)
					}
					writeJSON(t, w, http.StatusOK, milestones)
				case "/repos/acme/api/issues":
					mu.Lock()
					got = r.URL.Query()
					mu.Unlock()
					writeJSON(t, w, http.StatusOK, []any{})
				default:
					http.NotFound(w, r)
				}
			}))
			p, err := c.List(context.Background(), tt.query, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Stories == nil {
				t.Error("Items is nil, want an empty list")
			}
			mu.Lock()
			defer mu.Unlock()
			got.Del("per_page")
			got.Del("page")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("query = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListUnknownMilestone(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/repos/acme/api/milestones" {
			t.Errorf("unexpected request %s", r.URL)
		}
		writeJSON(t, w, http.StatusOK, []any{map[string]any{"number": 1, "title": "v1"}})
	}))
	_, err := c.List(context.Background(), `acme/api milestone:"v3"`, "")
	assertError(t, err, session.CodeNotFound, `github: milestone "v3" was not found in acme/api; its milestones are "v1"`)
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		query, reason string
	}{
		{"", "the query is empty"},
		{"label:ready", `the query must start with a repository as OWNER/REPO, not "label:ready"`},
		{"acme", `the query must start with a repository as OWNER/REPO, not "acme"`},
		{"acme/api ready", `"ready" is not a filter`},
		{"acme/api milestone:", "milestone: needs a value"},
		{`acme/api milestone:"v2`, "a quote is not closed"},
		{"acme/api state:merged", "state:merged is not one of open, closed, all"},
		{"acme/api sort:updated", `unknown filter "sort:"`},
		{"acme/api assignee:a assignee:b", "assignee: is given twice"},
		{`acme/api label:"a,b"`, `label "a,b" contains a comma, which GitHub cannot filter on`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, err := parseQuery(tt.query)
			assertError(t, err, session.CodeInvalid, "github: "+tt.reason+"; write the query as "+QueryGrammar)
		})
	}
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(context.Background(), "acme/api", "two")
	assertError(t, err, session.CodeInvalid, `github: the page cursor "two" is not a page number`)
}

// assertError checks that err is an *session.Error of kind with the exact message.
func assertError(t *testing.T, err error, kind session.Code, msg string) *session.Error {
	t.Helper()
	var ie *session.Error
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *session.Error", err, err)
	}
	if !strings.HasPrefix(ie.Message, "github: ") && !strings.HasPrefix(ie.Message, "csv: ") {
		t.Errorf("the message does not name the provider: %q", ie.Message)
	}
	if ie.Code != kind {
		t.Errorf("Kind = %q, want %q (%v)", ie.Code, kind, err)
	}
	if msg != "" && err.Error() != msg {
		t.Errorf("message =\n%s\nwant\n%s", err.Error(), msg)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("message contains the token: %s", err)
	}
	return ie
}

// fakeRepo is a stateful fake of one repository's labels and issue comments, enough to watch
// WriteEstimate converge.
type fakeRepo struct {
	t  *testing.T
	mu sync.Mutex
	// labels per issue, in order; repoLabels is the repository's label list.
	labels     map[int][]string
	repoLabels []string
	comments   map[int][]fakeComment
	nextID     int64
	// commentPage is the page size the fake uses for comments, to exercise paging.
	commentPage int
	requests    []string
}

type fakeComment struct {
	ID   int64
	User string
	Body string
}

func newFakeRepo(t *testing.T) *fakeRepo {
	return &fakeRepo{t: t, labels: map[int][]string{}, comments: map[int][]fakeComment{}, nextID: 100, commentPage: 100}
}

// writes lists the requests that changed something.
func (f *fakeRepo) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

// do runs fn with the fake's state locked, for tests that read or seed it between calls.
func (f *fakeRepo) do(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeRepo) reset() {
	f.mu.Lock()
	f.requests = nil
	f.mu.Unlock()
}

func (f *fakeRepo) handler() http.Handler {
	mux := http.NewServeMux()
	issue := func(r *http.Request) int {
		n, err := strconv.Atoi(r.PathValue("number"))
		if err != nil {
			f.t.Errorf("bad issue number in %s", r.URL)
		}
		return n
	}
	labelObjects := func(names []string) []any {
		out := []any{}
		for i, n := range names {
			out = append(out, labelJSON(int64(i+1), n))
		}
		return out
	}
	hasFold := func(list []string, name string) int {
		for i, l := range list {
			if strings.EqualFold(l, name) {
				return i
			}
		}
		return -1
	}
	mux.HandleFunc("GET /repos/acme/api/issues/{number}", func(w http.ResponseWriter, r *http.Request) {
		n := issue(r)
		is := issueJSON("", n, "Login fails", "", nil, false)
		is["labels"] = labelObjects(f.labels[n])
		writeJSON(f.t, w, http.StatusOK, is)
	})
	mux.HandleFunc("GET /repos/acme/api/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		if hasFold(f.repoLabels, r.PathValue("name")) < 0 {
			writeJSON(f.t, w, http.StatusNotFound, ghError(404, "Not Found", "https://docs.github.com/rest/issues/labels#get-a-label"))
			return
		}
		writeJSON(f.t, w, http.StatusOK, labelJSON(1, r.PathValue("name")))
	})
	mux.HandleFunc("POST /repos/acme/api/labels", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Name, Color, Description string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" || body.Color == "" {
			f.t.Errorf("create label body: %+v, %v", body, err)
		}
		if hasFold(f.repoLabels, body.Name) >= 0 {
			writeJSON(f.t, w, http.StatusUnprocessableEntity, map[string]any{
				"message": "Validation Failed",
				"errors":  []any{map[string]any{"resource": "Label", "code": "already_exists", "field": "name"}},
			})
			return
		}
		f.repoLabels = append(f.repoLabels, body.Name)
		writeJSON(f.t, w, http.StatusCreated, labelJSON(9, body.Name))
	})
	mux.HandleFunc("POST /repos/acme/api/issues/{number}/labels", func(w http.ResponseWriter, r *http.Request) {
		n := issue(r)
		raw, _ := io.ReadAll(r.Body)
		// go-github sends a bare array; the documented form is {"labels": [...]}.
		var names []string
		if err := json.Unmarshal(raw, &names); err != nil {
			var obj struct{ Labels []string }
			if err := json.Unmarshal(raw, &obj); err != nil {
				f.t.Errorf("add labels body %s: %v", raw, err)
			}
			names = obj.Labels
		}
		for _, name := range names {
			if hasFold(f.labels[n], name) < 0 {
				f.labels[n] = append(f.labels[n], name)
			}
			if hasFold(f.repoLabels, name) < 0 {
				f.repoLabels = append(f.repoLabels, name)
			}
		}
		writeJSON(f.t, w, http.StatusOK, labelObjects(f.labels[n]))
	})
	mux.HandleFunc("DELETE /repos/acme/api/issues/{number}/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		n := issue(r)
		i := hasFold(f.labels[n], r.PathValue("name"))
		if i < 0 {
			writeJSON(f.t, w, http.StatusNotFound, ghError(404, "Label does not exist", "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"))
			return
		}
		f.labels[n] = slices.Delete(f.labels[n], i, i+1)
		writeJSON(f.t, w, http.StatusOK, labelObjects(f.labels[n]))
	})
	mux.HandleFunc("GET /repos/acme/api/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request) {
		n := issue(r)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 {
			page = 1
		}
		all := f.comments[n]
		start := min((page-1)*f.commentPage, len(all))
		end := min(start+f.commentPage, len(all))
		if end < len(all) {
			w.Header().Set("Link", linkHeader(r, "http://"+r.Host, map[string]int{"next": page + 1}))
		}
		out := []any{}
		for _, c := range all[start:end] {
			out = append(out, commentJSON(n, c))
		}
		writeJSON(f.t, w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /repos/acme/api/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request) {
		n := issue(r)
		var body struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("comment body: %v", err)
		}
		f.nextID++
		c := fakeComment{ID: f.nextID, User: "pokor-bot", Body: body.Body}
		f.comments[n] = append(f.comments[n], c)
		writeJSON(f.t, w, http.StatusCreated, commentJSON(n, c))
	})
	mux.HandleFunc("PATCH /repos/acme/api/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var body struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("comment body: %v", err)
		}
		for n, cs := range f.comments {
			for i := range cs {
				if cs[i].ID == id {
					cs[i].Body = body.Body
					writeJSON(f.t, w, http.StatusOK, commentJSON(n, cs[i]))
					return
				}
			}
		}
		writeJSON(f.t, w, http.StatusNotFound, ghError(404, "Not Found", ""))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		line := r.Method + " " + r.URL.EscapedPath()
		f.requests = append(f.requests, line)
		mux.ServeHTTP(w, r)
	})
}

func commentJSON(issue int, c fakeComment) map[string]any {
	return map[string]any{
		"id":                 c.ID,
		"node_id":            "MDEyOklzc3VlQ29tbWVudDE=",
		"url":                fmt.Sprintf("https://api.github.com/repos/acme/api/issues/comments/%d", c.ID),
		"html_url":           fmt.Sprintf("https://github.com/acme/api/issues/%d#issuecomment-%d", issue, c.ID),
		"body":               c.Body,
		"user":               map[string]any{"login": c.User, "id": 2, "type": "User"},
		"created_at":         "2011-04-14T16:00:49Z",
		"updated_at":         "2011-04-14T16:00:49Z",
		"issue_url":          fmt.Sprintf("https://api.github.com/repos/acme/api/issues/%d", issue),
		"author_association": "COLLABORATOR",
	}
}

func estimate(value, mode string) session.WriteBack {
	return session.WriteBack{
		Value:        value,
		SessionTitle: "Sprint 42",
		SessionURL:   "https://pokor.example.com/s/abc123",
		Options:      map[string]string{OptionMode: mode},
	}
}

func TestWriteLabelReplacesEarlierEstimate(t *testing.T) {
	f := newFakeRepo(t)
	f.labels[42] = []string{"bug", "estimate: 3", "priority: high"}
	f.repoLabels = []string{"bug", "estimate: 3", "priority: high"}
	c, _ := newTestClient(t, f.handler())

	res, err := c.WriteEstimate(context.Background(), "acme/api#42", estimate("5", ModeLabel))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := []string{"bug", "priority: high", "estimate: 5"}; !slices.Equal(f.labels[42], want) {
		t.Errorf("issue labels = %q, want %q", f.labels[42], want)
	}
	if !slices.Contains(f.repoLabels, "estimate: 5") {
		t.Errorf("label estimate: 5 was not created in the repository: %q", f.repoLabels)
	}
	wantReq := []string{
		"GET /repos/acme/api/issues/42",
		"DELETE /repos/acme/api/issues/42/labels/estimate:%203",
		"GET /repos/acme/api/labels/estimate:%205",
		"POST /repos/acme/api/labels",
		"POST /repos/acme/api/issues/42/labels",
	}
	if !slices.Equal(f.requests, wantReq) {
		t.Errorf("requests =\n%s\nwant\n%s", strings.Join(f.requests, "\n"), strings.Join(wantReq, "\n"))
	}
	if want := `label "estimate: 5" added (removed "estimate: 3")`; res.Detail != want {
		t.Errorf("Detail = %q, want %q", res.Detail, want)
	}
	if len(f.comments[42]) != 0 {
		t.Errorf("label mode posted a comment: %+v", f.comments[42])
	}
}

func TestWriteLabelEscapesNames(t *testing.T) {
	f := newFakeRepo(t)
	f.labels[7] = []string{"size/3?", "team/web"}
	f.repoLabels = []string{"size/3?", "size/5#", "team/web"}
	c, _ := newTestClient(t, f.handler())

	est := estimate("5#", ModeLabel)
	est.Options[OptionLabelPrefix] = "size/"
	if _, err := c.WriteEstimate(context.Background(), "acme/api#7", est); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := []string{"team/web", "size/5#"}; !slices.Equal(f.labels[7], want) {
		t.Errorf("labels = %q, want %q", f.labels[7], want)
	}
	wantReq := []string{
		"GET /repos/acme/api/issues/7",
		"DELETE /repos/acme/api/issues/7/labels/size%2F3%3F",
		"GET /repos/acme/api/labels/size%2F5%23",
		"POST /repos/acme/api/issues/7/labels",
	}
	if !slices.Equal(f.requests, wantReq) {
		t.Errorf("requests =\n%s\nwant\n%s", strings.Join(f.requests, "\n"), strings.Join(wantReq, "\n"))
	}
}

func TestWriteLabelToleratesConcurrentCreate(t *testing.T) {
	f := newFakeRepo(t)
	// The label exists but the GET misses it, as when another writer creates it in between.
	h := f.handler()
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/repos/acme/api/labels/") {
			f.mu.Lock()
			f.repoLabels = append(f.repoLabels, "estimate: 2")
			f.mu.Unlock()
			writeJSON(t, w, http.StatusNotFound, ghError(404, "Not Found", ""))
			return
		}
		h.ServeHTTP(w, r)
	}))
	if _, err := c.WriteEstimate(context.Background(), "acme/api#1", estimate("2", ModeLabel)); err != nil {
		t.Fatalf("a 422 already_exists must not fail the write: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := []string{"estimate: 2"}; !slices.Equal(f.labels[1], want) {
		t.Errorf("labels = %q, want %q", f.labels[1], want)
	}
}

func TestWriteCommentPostedThenEditedInPlace(t *testing.T) {
	f := newFakeRepo(t)
	f.commentPage = 2
	f.comments[42] = []fakeComment{
		{ID: 1, User: "ann", Body: "Looks big"},
		{ID: 2, User: "bob", Body: "Agreed"},
		{ID: 3, User: "cy", Body: "Let's poker it"},
	}
	c, _ := newTestClient(t, f.handler())
	ctx := context.Background()

	res, err := c.WriteEstimate(ctx, "acme/api#42", estimate("5", ModeComment))
	if err != nil {
		t.Fatal(err)
	}
	if res.Detail != "comment posted" {
		t.Errorf("Detail = %q", res.Detail)
	}
	// More comments arrive so that Pokor's lands on the second page.
	f.do(func() {
		f.comments[42] = append(f.comments[42], fakeComment{ID: 500, User: "dee", Body: "Thanks"})
	})

	f.reset()
	res, err = c.WriteEstimate(ctx, "acme/api#42", estimate("M", ModeComment))
	if err != nil {
		t.Fatal(err)
	}
	if res.Detail != "comment updated" {
		t.Errorf("Detail = %q", res.Detail)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.comments[42]
	if len(cs) != 5 {
		t.Fatalf("comments = %d, want 5 (edited in place, none added)", len(cs))
	}
	want := "Estimated M in Pokor: [Sprint 42](https://pokor.example.com/s/abc123)\n\n" + CommentMarker
	if cs[3].Body != want {
		t.Errorf("comment body =\n%s\nwant\n%s", cs[3].Body, want)
	}
	wantReq := []string{
		"GET /repos/acme/api/issues/42/comments",
		"GET /repos/acme/api/issues/42/comments",
		"PATCH /repos/acme/api/issues/comments/101",
	}
	if !slices.Equal(f.requests, wantReq) {
		t.Errorf("requests =\n%s\nwant\n%s", strings.Join(f.requests, "\n"), strings.Join(wantReq, "\n"))
	}
}

func TestWriteEstimateTwiceIsIdempotent(t *testing.T) {
	f := newFakeRepo(t)
	f.labels[9] = []string{"bug", "estimate: 3"}
	f.repoLabels = []string{"bug", "estimate: 3"}
	c, _ := newTestClient(t, f.handler())
	ctx := context.Background()
	est := estimate("8", "") // default mode: label+comment

	first, err := c.WriteEstimate(ctx, "acme/api#9", est)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	var comments []fakeComment
	f.do(func() {
		labels = slices.Clone(f.labels[9])
		comments = slices.Clone(f.comments[9])
	})

	f.reset()
	second, err := c.WriteEstimate(ctx, "acme/api#9", est)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("second write changed things: %q", w)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.labels[9], labels) || !reflect.DeepEqual(f.comments[9], comments) {
		t.Errorf("state changed: labels %q comments %+v", f.labels[9], f.comments[9])
	}
	if want := []string{"bug", "estimate: 8"}; !slices.Equal(labels, want) {
		t.Errorf("labels = %q, want %q", labels, want)
	}
	if len(comments) != 1 || comments[0].Body != "Estimated 8 points in Pokor: [Sprint 42](https://pokor.example.com/s/abc123)\n\n"+CommentMarker {
		t.Errorf("comments = %+v", comments)
	}
	if want := `label "estimate: 8" added (removed "estimate: 3"); comment posted`; first.Detail != want {
		t.Errorf("first Detail = %q, want %q", first.Detail, want)
	}
	if want := `label "estimate: 8" already set; comment already up to date`; second.Detail != want {
		t.Errorf("second Detail = %q, want %q", second.Detail, want)
	}
}

func TestWriteEstimateInvalidInput(t *testing.T) {
	c, err := New(Config{Token: testToken, BaseURL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key string
		est       session.WriteBack
		msg       string
	}{
		{"bad key", "acme/api/42", estimate("5", ""), `github: "acme/api/42" is not a GitHub issue key; expected OWNER/REPO#NUMBER, for example acme/api#42`},
		{"path in key", "acme/../x#1", estimate("5", ""), `github: "acme/../x#1" is not a GitHub issue key; expected OWNER/REPO#NUMBER, for example acme/api#42`},
		{"empty value", "acme/api#1", estimate(" ", ""), "github: the estimate for acme/api#1 is empty"},
		{"unknown mode", "acme/api#1", estimate("5", "field"), `github: unknown write-back mode "field"; use label, comment or label+comment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.WriteEstimate(context.Background(), tt.key, tt.est)
			assertError(t, err, session.CodeInvalid, tt.msg)
		})
	}
}

func TestCommentBody(t *testing.T) {
	tests := []struct {
		est  session.WriteBack
		want string
	}{
		{session.WriteBack{Value: "5", SessionURL: "https://p.example/s/1"}, "Estimated 5 points in Pokor: https://p.example/s/1"},
		{session.WriteBack{Value: "1", SessionURL: "https://p.example/s/1"}, "Estimated 1 point in Pokor: https://p.example/s/1"},
		{session.WriteBack{Value: "0.5", SessionURL: "https://p.example/s/1"}, "Estimated 0.5 points in Pokor: https://p.example/s/1"},
		{session.WriteBack{Value: "M", SessionURL: "https://p.example/s/1"}, "Estimated M in Pokor: https://p.example/s/1"},
		{session.WriteBack{Value: "13", SessionTitle: "Q3 [web]", SessionURL: "https://p.example/s/1"}, `Estimated 13 points in Pokor: [Q3 \[web\]](https://p.example/s/1)`},
		{session.WriteBack{Value: "XL"}, "Estimated XL in Pokor."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := commentBody(tt.est.Value, tt.est)
			if want := tt.want + "\n\n" + CommentMarker; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	reset := time.Now().Add(90 * time.Second).Truncate(time.Second)
	resetHeader := strconv.FormatInt(reset.Unix(), 10)
	tests := []struct {
		name      string
		status    int
		headers   map[string]string
		body      map[string]any
		write     bool
		kind      session.Code
		msg       string
		retryable bool
		// wantWait is the expected RetryAfter; approx allows a few seconds of test run time.
		wantWait time.Duration
		approx   bool
	}{
		{
			name: "primary rate limit on 403", status: 403,
			headers: map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000", "X-RateLimit-Reset": resetHeader, "X-RateLimit-Resource": "core"},
			body:    ghError(403, "API rate limit exceeded for user ID 1.", "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"),
			kind:    session.CodeUnavailable, retryable: true, wantWait: 90 * time.Second, approx: true,
			msg: "github: the GitHub API rate limit is used up until " + reset.UTC().Format("15:04 UTC") + "; Pokor will try again then",
		},
		{
			name: "primary rate limit on 429", status: 429,
			headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetHeader},
			body:    ghError(429, "API rate limit exceeded", ""),
			kind:    session.CodeUnavailable, retryable: true, wantWait: 90 * time.Second, approx: true,
		},
		{
			name: "secondary rate limit with Retry-After", status: 403,
			headers: map[string]string{"Retry-After": "30", "X-RateLimit-Remaining": "4000"},
			body:    ghError(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"),
			kind:    session.CodeUnavailable, retryable: true, wantWait: 30 * time.Second,
			msg: "github: GitHub's secondary rate limit was hit (too many requests at once); Pokor will try again in 30s",
		},
		{
			name: "secondary rate limit on 429 with Retry-After", status: 429,
			headers: map[string]string{"Retry-After": "45"},
			body:    ghError(429, "You have exceeded a secondary rate limit.", ""),
			kind:    session.CodeUnavailable, retryable: true, wantWait: 45 * time.Second,
		},
		{
			name: "secondary rate limit without a time", status: 403,
			body: ghError(403, "You have exceeded a secondary rate limit.", "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"),
			kind: session.CodeUnavailable, retryable: true, wantWait: time.Minute,
		},
		{
			name: "not found", status: 404,
			body: ghError(404, "Not Found", "https://docs.github.com/rest/issues/issues#get-an-issue"),
			kind: session.CodeNotFound, msg: "github: acme/api#42 was not found, or the token cannot see the repository",
		},
		{
			name: "bad credentials", status: 401,
			body: ghError(401, "Bad credentials", "https://docs.github.com/rest"),
			kind: session.CodeForbidden, msg: "github: the token is invalid or expired",
		},
		{
			name: "cannot write", status: 403, write: true,
			body: ghError(403, "Resource not accessible by personal access token", "https://docs.github.com/rest/issues/comments#create-an-issue-comment"),
			kind: session.CodeForbidden, msg: "github: the token cannot write issues in acme/api: it needs the Issues: write permission",
		},
		{
			name: "single sign-on", status: 403, write: true,
			headers: map[string]string{"X-GitHub-SSO": "required; url=https://github.com/orgs/acme/sso?authorization_request=x"},
			body:    ghError(403, "Resource protected by organization SAML enforcement.", ""),
			kind:    session.CodeForbidden,
			msg:     "github: the token is not authorized for single sign-on in the organization that owns acme/api; authorize it in the token settings on GitHub",
		},
		{
			name: "server error", status: 502, body: ghError(502, "Server Error", ""),
			kind: session.CodeUnavailable, retryable: true, msg: "github: %HOST% answered 502 Bad Gateway; try again later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh client per case: go-github remembers a primary rate limit and would
			// answer later calls locally.
			c, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.write && r.Method == http.MethodGet {
					// Reads succeed so that the write is what fails.
					writeJSON(t, w, http.StatusOK, []any{})
					return
				}
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				writeJSON(t, w, tt.status, tt.body)
			}))
			var err error
			if tt.write {
				_, err = c.WriteEstimate(context.Background(), "acme/api#42", estimate("5", ModeComment))
			} else {
				_, err = c.WriteEstimate(context.Background(), "acme/api#42", estimate("5", ModeLabel))
			}
			msg := strings.ReplaceAll(tt.msg, "%HOST%", strings.TrimPrefix(srv.URL, "http://"))
			ie := assertError(t, err, tt.kind, msg)
			if !strings.HasPrefix(err.Error(), "github: ") {
				t.Errorf("message %q lacks the github: prefix", err)
			}
			retry, wait := session.Retryable(err)
			if retry != tt.retryable {
				t.Errorf("Retryable = %v, want %v", retry, tt.retryable)
			}
			if tt.approx {
				if wait < tt.wantWait-5*time.Second || wait > tt.wantWait+time.Second {
					t.Errorf("RetryAfter = %v, want about %v", wait, tt.wantWait)
				}
			} else if wait != tt.wantWait {
				t.Errorf("RetryAfter = %v, want %v", wait, tt.wantWait)
			}
			if ie.Err == nil {
				t.Error("the cause is not kept in Err")
			}
		})
	}
}

func TestRateLimitRemembered(t *testing.T) {
	reset := time.Now().Add(time.Hour)
	var calls atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		writeJSON(t, w, http.StatusForbidden, ghError(403, "API rate limit exceeded", ""))
	}))
	for i := 0; i < 2; i++ {
		_, err := c.List(context.Background(), "acme/api", "")
		ie := assertError(t, err, session.CodeUnavailable, "")
		if ie.RetryAfter < 59*time.Minute {
			t.Errorf("call %d: RetryAfter = %v, want about an hour", i, ie.RetryAfter)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d calls, want 1: the client should wait for the reset locally", n)
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(Config{Token: testToken, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(context.Background(), "acme/api", "")
	ie := assertError(t, err, session.CodeUnavailable, "")
	if !strings.HasPrefix(ie.Message, "github: cannot reach "+strings.TrimPrefix(base, "http://")+": ") {
		t.Errorf("message = %q", ie.Message)
	}
	if retry, _ := session.Retryable(err); !retry {
		t.Error("a network error must be retryable")
	}
}

func TestListNotFoundAndNoToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			writeJSON(t, w, http.StatusNotFound, ghError(404, "Not Found", ""))
			return
		}
		writeJSON(t, w, http.StatusUnauthorized, ghError(401, "Requires authentication", ""))
	}))
	t.Cleanup(srv.Close)

	c, _ := New(Config{Token: testToken, BaseURL: srv.URL})
	_, err := c.List(context.Background(), "acme/secret", "")
	assertError(t, err, session.CodeNotFound, "github: acme/secret was not found, or the token cannot see the repository")

	anon, _ := New(Config{BaseURL: srv.URL})
	_, err = anon.List(context.Background(), "acme/secret", "")
	assertError(t, err, session.CodeForbidden, "github: no token is configured; set GITHUB_TOKEN to a token that can read and write issues")
}

func TestEnterpriseBaseURL(t *testing.T) {
	var paths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/api/v3/repos/acme/api/issues" {
			writeJSON(t, w, http.StatusNotFound, ghError(404, "Not Found", ""))
			return
		}
		next := ""
		if p := r.URL.Query().Get("page"); p == "" || p == "1" {
			// GitHub Enterprise Server's Link header keeps the /api/v3 prefix.
			next = "2"
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3/repositories/12/issues?per_page=100&page=2>; rel="next"`, r.Host))
		}
		writeJSON(t, w, http.StatusOK, []any{issueJSON("http://"+r.Host+"/api/v3", 5, "GHES issue "+next, "", nil, false)})
	}))
	t.Cleanup(srv.Close)

	for _, base := range []string{srv.URL + "/api/v3", srv.URL + "/api/v3/"} {
		t.Run(base, func(t *testing.T) {
			c, err := New(Config{Token: testToken, BaseURL: base})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.List(context.Background(), "acme/api", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Stories) != 1 || p.Stories[0].Key != "acme/api#5" || p.Next != "2" {
				t.Errorf("page = %+v", p)
			}
			if _, err := c.List(context.Background(), "acme/api", p.Next); err != nil {
				t.Fatal(err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if p != "/api/v3/repos/acme/api/issues" {
			t.Errorf("request path %q lacks the /api/v3/ prefix", p)
		}
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"ghe.example.com/api/v3", "ftp://ghe.example.com/", "http://"} {
		t.Run(base, func(t *testing.T) {
			_, err := New(Config{Token: testToken, BaseURL: base})
			assertError(t, err, session.CodeInvalid, "")
		})
	}
}

// checkServer fakes the three endpoints Check reads.
func checkServer(t *testing.T, perms map[string]bool, reset time.Time) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-OAuth-Scopes", "repo, read:org")
		writeJSON(t, w, http.StatusOK, map[string]any{"login": "octocat", "id": 1, "name": "The Octocat", "type": "User"})
	})
	mux.HandleFunc("GET /repos/acme/api", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusOK, map[string]any{
			"id": 1296269, "name": "api", "full_name": "acme/api", "private": true, "has_issues": true,
			"permissions": perms,
		})
	})
	mux.HandleFunc("GET /rate_limit", func(w http.ResponseWriter, r *http.Request) {
		core := map[string]any{"limit": 5000, "remaining": 4990, "reset": reset.Unix(), "used": 10}
		writeJSON(t, w, http.StatusOK, map[string]any{
			"resources": map[string]any{"core": core, "search": map[string]any{"limit": 30, "remaining": 30, "reset": reset.Unix(), "used": 0}},
			"rate":      core,
		})
	})
	return mux
}

func TestCheck(t *testing.T) {
	reset := time.Date(2030, 1, 2, 15, 4, 0, 0, time.UTC)
	common := []session.Fact{
		{Name: "token belongs to", Text: "octocat (The Octocat)", OK: true, Value: map[string]any{"login": "octocat", "id": int64(1), "name": "The Octocat"}},
		{Name: "token scopes", Text: "repo, read:org", OK: true, Value: []string{"repo", "read:org"}},
		{Name: "repository acme/api", Text: "found (private)", OK: true, Value: map[string]any{"repository": "acme/api", "found": true, "id": int64(1296269), "private": true}},
	}
	rate := session.Fact{Name: "rate limit", Text: "4990 of 5000 requests left, resets at 15:04 UTC", OK: true,
		Value: map[string]any{"enabled": true, "remaining": 4990, "limit": 5000, "reset": reset}}
	tests := []struct {
		name   string
		perms  map[string]bool
		facts  []session.Fact
		wantOK bool
	}{
		{"writer", map[string]bool{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
			[]session.Fact{
				{Name: "can read issues in acme/api", Text: "yes", OK: true, Value: true},
				{Name: "can write issues in acme/api", Text: "yes", OK: true, Value: true},
			}, true},
		{"triage is enough", map[string]bool{"triage": true, "pull": true},
			[]session.Fact{
				{Name: "can read issues in acme/api", Text: "yes", OK: true, Value: true},
				{Name: "can write issues in acme/api", Text: "yes", OK: true, Value: true},
			}, true},
		{"reader", map[string]bool{"admin": false, "maintain": false, "push": false, "triage": false, "pull": true},
			[]session.Fact{
				{Name: "can read issues in acme/api", Text: "yes", OK: true, Value: true},
				{Name: "can write issues in acme/api", Text: "no: it needs the Issues: write permission", OK: false, Value: false},
			}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newTestClient(t, checkServer(t, tt.perms, reset))
			ch, err := c.Check(context.Background(), "acme/api")
			if err != nil {
				t.Fatal(err)
			}
			want := session.CheckReport{
				Provider: "github", OK: tt.wantOK, Identity: "octocat", Site: strings.TrimPrefix(srv.URL, "http://"),
				Facts: append(append(slices.Clone(common), tt.facts...), rate),
			}
			if !reflect.DeepEqual(ch, want) {
				t.Errorf("Check =\n%+v\nwant\n%+v", ch, want)
			}
			// For machines the rate limit's numbers stay numbers.
			raw, _ := json.Marshal(ch)
			if !strings.Contains(string(raw), `"value":{"enabled":true,"limit":5000,"remaining":4990,"reset":"2030-01-02T15:04:00Z"}`) {
				t.Errorf("JSON of the rate limit: %s", raw)
			}
		})
	}
}

func TestCheckFailures(t *testing.T) {
	t.Run("bad token", func(t *testing.T) {
		c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(t, w, http.StatusUnauthorized, ghError(401, "Bad credentials", "https://docs.github.com/rest"))
		}))
		ch, err := c.Check(context.Background(), "acme/api")
		assertError(t, err, session.CodeForbidden, "github: the token is invalid or expired")
		want := []session.Fact{{Name: "token", Text: "the token is invalid or expired", OK: false, Value: map[string]any{"set": true, "valid": false}}}
		if ch.OK || !reflect.DeepEqual(ch.Facts, want) {
			t.Errorf("Check = %+v", ch)
		}
	})
	t.Run("repository hidden", func(t *testing.T) {
		h := checkServer(t, nil, time.Now().Add(time.Hour))
		c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/repos/acme/secret" {
				writeJSON(t, w, http.StatusNotFound, ghError(404, "Not Found", ""))
				return
			}
			h.ServeHTTP(w, r)
		}))
		ch, err := c.Check(context.Background(), "acme/secret")
		if err != nil {
			t.Fatal(err)
		}
		if ch.OK {
			t.Error("OK = true for a hidden repository")
		}
		want := session.Fact{Name: "repository acme/secret", Text: "acme/secret was not found, or the token cannot see the repository",
			Value: map[string]any{"repository": "acme/secret", "found": false}}
		if !slices.ContainsFunc(ch.Facts, func(f session.Fact) bool { return reflect.DeepEqual(f, want) }) {
			t.Errorf("facts %+v lack %+v", ch.Facts, want)
		}
	})
	t.Run("rate limiting disabled on GHES", func(t *testing.T) {
		h := checkServer(t, map[string]bool{"push": true, "pull": true}, time.Now())
		c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/rate_limit" {
				writeJSON(t, w, http.StatusNotFound, ghError(404, "Rate limiting is not enabled.", ""))
				return
			}
			h.ServeHTTP(w, r)
		}))
		ch, err := c.Check(context.Background(), "acme/api")
		if err != nil {
			t.Fatal(err)
		}
		last := ch.Facts[len(ch.Facts)-1]
		if !ch.OK || !reflect.DeepEqual(last, session.Fact{Name: "rate limit", Text: "not enabled on this server", OK: true, Value: map[string]any{"enabled": false}}) {
			t.Errorf("Check = %+v", ch)
		}
	})
	t.Run("bad repository name", func(t *testing.T) {
		c, _ := New(Config{Token: testToken})
		_, err := c.Check(context.Background(), "acme")
		assertError(t, err, session.CodeInvalid, `github: "acme" is not a repository; expected OWNER/REPO, for example acme/api`)
	})
}

// TestRateLimitWaitReachesTheReset: the wait before a retry never ends before the reset GitHub
// named, even when the reset is less than half a second away; go-github refuses a call made
// before it without sending it, and each such retry would spend an attempt.
func TestRateLimitWaitReachesTheReset(t *testing.T) {
	for _, until := range []time.Duration{300 * time.Millisecond, 1400 * time.Millisecond, 2600 * time.Millisecond} {
		reset := time.Now().Add(until)
		var ie *session.Error
		if !errors.As(primaryRateLimited(reset, errors.New("403")), &ie) {
			t.Fatal("not a session.Error")
		}
		if ie.RetryAfter <= 0 || time.Now().Add(ie.RetryAfter).Before(reset) {
			t.Errorf("reset in %v: RetryAfter = %v, which ends before it", until, ie.RetryAfter)
		}
		if ie.RetryAfter%time.Second != 0 {
			t.Errorf("reset in %v: RetryAfter = %v, want whole seconds", until, ie.RetryAfter)
		}
	}
}
