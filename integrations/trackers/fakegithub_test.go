package trackers_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const fakeToken = "ghp_fakeT0kenValue000000000000000000000"

// fakeGitHub is a stateful fake of one GitHub repository, acme/api, serving the documented
// payloads of the endpoints Pokor uses: list issues (paged by Link header), get an issue, get and
// create labels, add and remove an issue's labels, list, post and edit comments.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	issues     map[int]*fakeIssue
	repoLabels []string
	nextID     int64
	pageSize   int
	// intercept, when set, may answer a request instead of the fake (outages, rate limits,
	// errors); it returns false to let the request through.
	intercept func(w http.ResponseWriter, r *http.Request) bool
	// requests lists "METHOD path" of every request; labelAdds and commentPosts count the
	// writes that succeeded.
	requests     []fakeRequest
	labelAdds    int
	commentPosts int
	commentEdits int
}

type fakeRequest struct {
	line string
	at   time.Time
}

type fakeIssue struct {
	Number   int
	Title    string
	Body     string
	Labels   []string
	Comments []fakeComment
	PR       bool
}

type fakeComment struct {
	ID   int64
	Body string
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, issues: map[int]*fakeIssue{}, nextID: 100, pageSize: 100}
	f.srv = httptest.NewServer(f.handler())
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API root to give as GITHUB_API_URL.
func (f *fakeGitHub) URL() string { return f.srv.URL + "/" }

// addIssue adds an issue (or, with pr, a pull request) to the repository.
func (f *fakeGitHub) addIssue(n int, title, body string, labels ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issues[n] = &fakeIssue{Number: n, Title: title, Body: body, Labels: labels}
}

func (f *fakeGitHub) setIntercept(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.intercept = h
}

// do runs fn with the fake's state locked.
func (f *fakeGitHub) do(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// hits counts the requests whose "METHOD path" starts with prefix.
func (f *fakeGitHub) hits(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r.line, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("fake github: encode: %v", err)
	}
}

func ghError(status int, message string) map[string]any {
	return map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
}

func labelJSON(id int, name string) map[string]any {
	return map[string]any{
		"id": 208045946 + id, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": name, "description": "",
		"url": "https://api.github.com/repos/acme/api/labels/" + url.PathEscape(name), "color": "f29513", "default": false,
	}
}

func (f *fakeGitHub) issueJSON(is *fakeIssue) map[string]any {
	labels := []any{}
	for i, l := range is.Labels {
		labels = append(labels, labelJSON(i, l))
	}
	out := map[string]any{
		"id": 1000 + is.Number, "node_id": "MDU6SXNzdWUx", "number": is.Number, "state": "open",
		"url":            fmt.Sprintf("%s/repos/acme/api/issues/%d", f.srv.URL, is.Number),
		"repository_url": f.srv.URL + "/repos/acme/api",
		"html_url":       fmt.Sprintf("https://github.com/acme/api/issues/%d", is.Number),
		"title":          is.Title, "body": is.Body, "labels": labels,
		"user":      map[string]any{"login": "octocat", "id": 1, "type": "User"},
		"assignees": []any{}, "locked": false, "comments": len(is.Comments),
		"created_at": "2011-04-22T13:33:48Z", "updated_at": "2011-04-22T13:33:48Z", "author_association": "COLLABORATOR",
	}
	if is.PR {
		out["html_url"] = fmt.Sprintf("https://github.com/acme/api/pull/%d", is.Number)
		out["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/repos/acme/api/pulls/%d", f.srv.URL, is.Number),
			"html_url": fmt.Sprintf("https://github.com/acme/api/pull/%d", is.Number)}
	}
	return out
}

func commentJSON(n int, c fakeComment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": "MDEyOklzc3VlQ29tbWVudDE=", "body": c.Body,
		"url":        fmt.Sprintf("https://api.github.com/repos/acme/api/issues/comments/%d", c.ID),
		"html_url":   fmt.Sprintf("https://github.com/acme/api/issues/%d#issuecomment-%d", n, c.ID),
		"issue_url":  fmt.Sprintf("https://api.github.com/repos/acme/api/issues/%d", n),
		"user":       map[string]any{"login": "pokor-bot", "id": 2, "type": "User"},
		"created_at": "2011-04-14T16:00:49Z", "updated_at": "2011-04-14T16:00:49Z", "author_association": "COLLABORATOR",
	}
}

func hasFold(list []string, name string) int {
	for i, l := range list {
		if strings.EqualFold(l, name) {
			return i
		}
	}
	return -1
}

func (f *fakeGitHub) handler() http.Handler {
	mux := http.NewServeMux()
	issue := func(w http.ResponseWriter, r *http.Request) *fakeIssue {
		n, _ := strconv.Atoi(r.PathValue("number"))
		is := f.issues[n]
		if is == nil {
			f.writeJSON(w, http.StatusNotFound, ghError(404, "Not Found"))
		}
		return is
	}
	mux.HandleFunc("GET /repos/acme/api/issues", func(w http.ResponseWriter, r *http.Request) {
		want := map[string]bool{}
		if l := r.URL.Query().Get("labels"); l != "" {
			for _, name := range strings.Split(l, ",") {
				want[name] = true
			}
		}
		var numbers []int
		for n, is := range f.issues {
			ok := true
			for name := range want {
				if hasFold(is.Labels, name) < 0 {
					ok = false
				}
			}
			if ok {
				numbers = append(numbers, n)
			}
		}
		slices.Sort(numbers)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		start := min((page-1)*f.pageSize, len(numbers))
		end := min(start+f.pageSize, len(numbers))
		if end < len(numbers) {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page+1))
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, f.srv.URL, r.URL.Path, q.Encode()))
		}
		out := []any{}
		for _, n := range numbers[start:end] {
			out = append(out, f.issueJSON(f.issues[n]))
		}
		f.writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /repos/acme/api/issues/{number}", func(w http.ResponseWriter, r *http.Request) {
		if is := issue(w, r); is != nil {
			f.writeJSON(w, http.StatusOK, f.issueJSON(is))
		}
	})
	mux.HandleFunc("GET /repos/acme/api/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		if hasFold(f.repoLabels, r.PathValue("name")) < 0 {
			f.writeJSON(w, http.StatusNotFound, ghError(404, "Not Found"))
			return
		}
		f.writeJSON(w, http.StatusOK, labelJSON(1, r.PathValue("name")))
	})
	mux.HandleFunc("POST /repos/acme/api/labels", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Name, Color, Description string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" {
			f.t.Errorf("fake github: create label body %+v: %v", body, err)
		}
		if hasFold(f.repoLabels, body.Name) >= 0 {
			f.writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors": []any{map[string]any{"resource": "Label", "code": "already_exists", "field": "name"}}})
			return
		}
		f.repoLabels = append(f.repoLabels, body.Name)
		f.writeJSON(w, http.StatusCreated, labelJSON(9, body.Name))
	})
	mux.HandleFunc("POST /repos/acme/api/issues/{number}/labels", func(w http.ResponseWriter, r *http.Request) {
		is := issue(w, r)
		if is == nil {
			return
		}
		raw, _ := io.ReadAll(r.Body)
		// go-github sends a bare array; the documented form is {"labels": [...]}.
		var names []string
		if err := json.Unmarshal(raw, &names); err != nil {
			var obj struct{ Labels []string }
			if err := json.Unmarshal(raw, &obj); err != nil {
				f.t.Errorf("fake github: add labels body %s: %v", raw, err)
			}
			names = obj.Labels
		}
		for _, name := range names {
			if hasFold(is.Labels, name) < 0 {
				is.Labels = append(is.Labels, name)
			}
		}
		f.labelAdds++
		out := []any{}
		for i, l := range is.Labels {
			out = append(out, labelJSON(i, l))
		}
		f.writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("DELETE /repos/acme/api/issues/{number}/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		is := issue(w, r)
		if is == nil {
			return
		}
		i := hasFold(is.Labels, r.PathValue("name"))
		if i < 0 {
			f.writeJSON(w, http.StatusNotFound, ghError(404, "Label does not exist"))
			return
		}
		is.Labels = slices.Delete(is.Labels, i, i+1)
		f.writeJSON(w, http.StatusOK, []any{})
	})
	mux.HandleFunc("GET /repos/acme/api/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request) {
		is := issue(w, r)
		if is == nil {
			return
		}
		out := []any{}
		for _, c := range is.Comments {
			out = append(out, commentJSON(is.Number, c))
		}
		f.writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /repos/acme/api/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request) {
		is := issue(w, r)
		if is == nil {
			return
		}
		var body struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("fake github: comment body: %v", err)
		}
		f.nextID++
		c := fakeComment{ID: f.nextID, Body: body.Body}
		is.Comments = append(is.Comments, c)
		f.commentPosts++
		f.writeJSON(w, http.StatusCreated, commentJSON(is.Number, c))
	})
	mux.HandleFunc("PATCH /repos/acme/api/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var body struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("fake github: comment body: %v", err)
		}
		for _, is := range f.issues {
			for i := range is.Comments {
				if is.Comments[i].ID == id {
					is.Comments[i].Body = body.Body
					f.commentEdits++
					f.writeJSON(w, http.StatusOK, commentJSON(is.Number, is.Comments[i]))
					return
				}
			}
		}
		f.writeJSON(w, http.StatusNotFound, ghError(404, "Not Found"))
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			f.writeJSON(w, http.StatusUnauthorized, ghError(401, "Requires authentication"))
			return
		}
		w.Header().Set("X-OAuth-Scopes", "repo")
		f.writeJSON(w, http.StatusOK, map[string]any{"login": "octocat", "id": 1, "name": "The Octocat", "type": "User"})
	})
	mux.HandleFunc("GET /repos/acme/api", func(w http.ResponseWriter, r *http.Request) {
		f.writeJSON(w, http.StatusOK, map[string]any{"id": 1296269, "name": "api", "full_name": "acme/api", "private": false,
			"has_issues": true, "permissions": map[string]bool{"pull": true, "triage": true, "push": true}})
	})
	mux.HandleFunc("GET /rate_limit", func(w http.ResponseWriter, r *http.Request) {
		core := map[string]any{"limit": 5000, "remaining": 4999, "reset": time.Now().Add(time.Hour).Unix(), "used": 1}
		f.writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, fakeRequest{line: r.Method + " " + r.URL.EscapedPath(), at: time.Now()})
		if f.intercept != nil && f.intercept(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// hangUp answers like a server that is down: the connection closes without a response.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}
