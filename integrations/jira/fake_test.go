package jira

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
)

const (
	testEmail = "mia@example.com"
	testToken = "s3cr3t-api-token-value"
	testPAT   = "pat-s3cr3t-value"
)

// fakeJira is an httptest Jira that serves the documented payloads of testdata/ and records
// the writes it receives.
type fakeJira struct {
	t      *testing.T
	srv    *httptest.Server
	prefix string // a Data Center context path such as "/jira"

	mu       sync.Mutex
	wantAuth string
	routes   map[string]http.HandlerFunc
	calls    []string
	puts     map[string][]map[string]any
	comments map[string][]string
}

// newFake starts a fake Jira that accepts the test's basic credentials.
func newFake(t *testing.T) *fakeJira {
	t.Helper()
	f := &fakeJira{
		t:        t,
		wantAuth: "Basic " + basic(testEmail, testToken),
		routes:   map[string]http.HandlerFunc{},
		puts:     map[string][]map[string]any{},
		comments: map[string][]string{},
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	f.file("GET", "/rest/api/2/myself", "myself_docs_example.json")
	return f
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// client returns a Jira Cloud client (email and API token) for the fake.
func (f *fakeJira) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: f.srv.URL + f.prefix, Email: testEmail, APIToken: testToken})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	want := f.wantAuth
	f.mu.Unlock()
	if r.Header.Get("Authorization") != want {
		writeJSON(w, http.StatusUnauthorized, `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}`)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if !ok {
		writeJSON(w, http.StatusNotFound, `{"errorMessages":["no such context path"],"errors":{}}`)
		return
	}
	f.mu.Lock()
	h := f.routes[r.Method+" "+path]
	f.mu.Unlock()
	switch {
	case h != nil:
		h(w, r)
	case r.Method == "PUT" && strings.HasPrefix(path, "/rest/api/2/issue/"):
		f.recordPut(w, r, strings.TrimPrefix(path, "/rest/api/2/issue/"))
	case strings.HasPrefix(path, "/rest/api/2/issue/") && strings.HasSuffix(path, "/comment"):
		f.serveComments(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/rest/api/2/issue/"), "/comment"))
	default:
		writeJSON(w, http.StatusNotFound, `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`)
	}
}

func (f *fakeJira) recordPut(w http.ResponseWriter, r *http.Request, key string) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, `{"errorMessages":["Unexpected character"],"errors":{}}`)
		return
	}
	f.mu.Lock()
	f.puts[key] = append(f.puts[key], body)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeJira) serveComments(w http.ResponseWriter, r *http.Request, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case "GET":
		type comment struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		}
		res := struct {
			StartAt    int       `json:"startAt"`
			MaxResults int       `json:"maxResults"`
			Total      int       `json:"total"`
			Comments   []comment `json:"comments"`
		}{MaxResults: 100, Total: len(f.comments[key]), Comments: []comment{}}
		for i, b := range f.comments[key] {
			res.Comments = append(res.Comments, comment{ID: strconv.Itoa(10000 + i), Body: b})
		}
		data, _ := json.Marshal(res)
		writeJSON(w, http.StatusOK, string(data))
	case "POST":
		var body struct {
			Body string `json:"body"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Body == "" {
			writeJSON(w, http.StatusBadRequest, `{"errorMessages":[],"errors":{"comment":"Comment body can not be empty!"}}`)
			return
		}
		f.comments[key] = append(f.comments[key], body.Body)
		writeJSON(w, http.StatusCreated, `{"id":"10000","body":`+quote(body.Body)+`}`)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// handle serves method and path (without the context path) with h.
func (f *fakeJira) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// json serves a fixed JSON body with a status.
func (f *fakeJira) json(method, path string, status int, body string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, status, body) })
}

// file serves a testdata file with status 200.
func (f *fakeJira) file(method, path, name string) {
	f.t.Helper()
	f.json(method, path, http.StatusOK, fixture(f.t, name))
}

// issue serves GET /rest/api/2/issue/{key} with the documented project and issue type shapes.
// simplified is "true", "false" or "" for a Data Center project that does not say.
func (f *fakeJira) issue(key, project, issueType, simplified string) {
	f.t.Helper()
	proj := map[string]any{"self": f.srv.URL + "/rest/api/2/project/10000", "id": "10000", "key": project,
		"name": project + " project", "projectTypeKey": "software"}
	if simplified != "" {
		proj["simplified"] = simplified == "true"
	}
	body := map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     "10042", "self": f.srv.URL + "/rest/api/2/issue/10042", "key": key,
		"fields": map[string]any{
			"project":   proj,
			"issuetype": map[string]any{"self": f.srv.URL + "/rest/api/2/issuetype/10001", "id": "10001", "name": issueType, "subtask": false},
		},
	}
	data, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	f.json("GET", "/rest/api/2/issue/"+key, http.StatusOK, string(data))
}

// editmeta serves the issue's editmeta listing the given fields of a fields fixture, in the
// documented FieldMetadata shape.
func (f *fakeJira) editmeta(key, fieldsFixture string, ids ...string) {
	f.t.Helper()
	var all []map[string]any
	if err := json.Unmarshal([]byte(fixture(f.t, fieldsFixture)), &all); err != nil {
		f.t.Fatal(err)
	}
	out := map[string]any{}
	for _, id := range ids {
		for _, fd := range all {
			if fd["id"] == id {
				out[id] = map[string]any{"required": id == "summary", "schema": fd["schema"], "name": fd["name"],
					"key": fd["key"], "operations": []string{"set"}}
			}
		}
		if _, ok := out[id]; !ok {
			f.t.Fatalf("field %s is not in %s", id, fieldsFixture)
		}
	}
	data, _ := json.Marshal(map[string]any{"fields": out})
	f.json("GET", "/rest/api/2/issue/"+key+"/editmeta", http.StatusOK, string(data))
}

func (f *fakeJira) putsFor(key string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.puts[key]...)
}

func (f *fakeJira) commentsFor(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.comments[key]...)
}

// count returns how many requests started with prefix ("GET /rest/api/2/field").
func (f *fakeJira) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return string(data)
}

// asError asserts that err is an *session.Error of the kind.
func asError(t *testing.T, err error, kind session.Code) *session.Error {
	t.Helper()
	var e *session.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *session.Error", err, err)
	}
	if e.Code != kind {
		t.Fatalf("kind = %s, want %s (error: %v)", e.Code, kind, err)
	}
	if !strings.HasPrefix(e.Error(), "jira: ") {
		t.Fatalf("error %q is not prefixed with jira:", e.Error())
	}
	return e
}
