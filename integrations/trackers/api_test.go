package trackers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/integrations/csv"
	"github.com/pokor/pokor/integrations/github"
	"github.com/pokor/pokor/integrations/jira"
	"github.com/pokor/pokor/integrations/notion"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/webuitest"
)

// apiServer is Pokor as cmd/pokor wires it: SQLite store, service with the tracker registry and
// the write-back worker, and the web server, over a real HTTP listener.
type apiServer struct {
	t    *testing.T
	http *httptest.Server
}

func startAPI(t *testing.T, ghURL string) *apiServer {
	t.Helper()
	srv := webuitest.Start(t, webuitest.Options{Secret: testSecret, Service: func(c *session.Config) {
		c.Trackers = wired(ghURL)
		c.WriteBackPoll, c.Backoff = 10*time.Millisecond, func(int) time.Duration { return 20 * time.Millisecond }
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Service.RunWriteBack(ctx, "api-test") }()
	t.Cleanup(func() { cancel(); <-done })
	return &apiServer{t: t, http: srv.HTTP}
}

// wired is the trackers as cmd/pokor lists them, with GITHUB_TOKEN and GITHUB_API_URL set to the
// fake GitHub.
func wired(ghURL string) []session.Tracker {
	env := map[string]string{"GITHUB_TOKEN": fakeToken, "GITHUB_API_URL": ghURL}
	get := func(k string) string { return env[k] }
	return []session.Tracker{github.Tracker(get), jira.Tracker(get), notion.Tracker(get), csv.Tracker()}
}

// browser is one organizer's cookie jar and room socket.
type browser struct {
	t      *testing.T
	s      *apiServer
	c      *http.Client
	sid    string
	events chan map[string]any
}

func (s *apiServer) organizer(title string) *browser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: s.t, s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var out struct {
		Session struct{ ID string } `json:"session"`
	}
	if st, raw := b.do("POST", "/api/v1/sessions", map[string]any{"title": title, "name": "Ann"}, &out); st != http.StatusCreated {
		s.t.Fatalf("create session: %d %s", st, raw)
	}
	b.sid = out.Session.ID
	return b
}

// do sends a JSON request and decodes the answer into out; it returns the status and the body.
func (b *browser) do(method, path string, body, out any) (int, string) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.s.http.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return res.StatusCode, string(raw)
}

func (b *browser) api(path string) string { return "/api/v1/sessions/" + b.sid + path }

// connect opens the room socket and keeps its events.
func (b *browser) connect() {
	b.t.Helper()
	hdr := http.Header{}
	for _, ck := range b.c.Jar.Cookies(mustParse(b.s.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.s.http.URL, "http")+"/s/"+b.sid+"/ws", hdr)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { ws.Close() })
	b.events = make(chan map[string]any, 1024)
	go func() {
		defer close(b.events)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(msg, &ev) == nil {
				b.events <- ev
			}
		}
	}()
	b.expect(func(ev map[string]any) bool { return ev["type"] == "snapshot" }, "the snapshot")
}

// expect skips events until match holds and returns that event's data.
func (b *browser) expect(match func(ev map[string]any) bool, what string) map[string]any {
	b.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				b.t.Fatalf("the socket closed while waiting for %s", what)
			}
			if match(ev) {
				d, _ := ev["data"].(map[string]any)
				return d
			}
		case <-deadline:
			b.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// importDone waits for the "import" event that ends an import.
func (b *browser) importDone() map[string]any {
	b.t.Helper()
	return b.expect(func(ev map[string]any) bool {
		d, _ := ev["data"].(map[string]any)
		return ev["type"] == "import" && d["state"] != "running"
	}, "the end of the import")
}

type storyJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Source      string `json:"source"`
	ExternalKey string `json:"external_key"`
	Estimate    string `json:"estimate"`
	SyncState   string `json:"sync_state"`
	SyncError   string `json:"sync_error"`
}

func (b *browser) stories() []storyJSON {
	b.t.Helper()
	var snap struct {
		Stories []storyJSON `json:"stories"`
	}
	if st, raw := b.do("GET", b.api(""), nil, &snap); st != http.StatusOK {
		b.t.Fatalf("snapshot: %d %s", st, raw)
	}
	return snap.Stories
}

func keysOf(sts []storyJSON) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.Source+":"+st.ExternalKey)
	}
	return out
}

func mustParse(s string) *url.URL { u, _ := url.Parse(s); return u }

// TestImportEstimateWriteBackOverAPI is the issue's "done when": an organizer imports a
// repository's labelled issues, sees a preview and the progress, imports again without
// duplicates, estimates one, and the label and comment appear on GitHub.
func TestImportEstimateWriteBackOverAPI(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addIssue(1, "Login fails", "Steps:\r\n1. log in", "ready")
	gh.addIssue(2, "Export as PDF", "", "ready", "ui")
	gh.addIssue(3, "Not ready yet", "")
	gh.do(func() {
		gh.issues[4] = &fakeIssue{Number: 4, Title: "A pull request", Labels: []string{"ready"}, PR: true}
	})
	s := startAPI(t, gh.URL())
	ann := s.organizer("Sprint 42")
	ann.connect()

	// Preview: the first page with what matches; pull requests are left out.
	var page struct {
		Stories []struct{ Key, Title, Description, URL string } `json:"stories"`
		Total   int                                             `json:"total"`
	}
	if st, raw := ann.do("POST", ann.api("/import/preview"), map[string]string{"source": "github", "query": "acme/api label:ready"}, &page); st != http.StatusOK {
		t.Fatalf("preview: %d %s", st, raw)
	}
	if len(page.Stories) != 2 || page.Stories[0].Key != "acme/api#1" || page.Stories[0].Description != "Steps:\n1. log in" || page.Total != -1 {
		t.Errorf("preview = %+v", page)
	}
	st, raw := ann.do("POST", ann.api("/import/preview"), map[string]string{"source": "github", "query": "acme api"}, nil)
	if st != http.StatusBadRequest || !strings.Contains(raw, `"field":"query"`) || !strings.Contains(raw, "OWNER/REPO") {
		t.Errorf("preview of a bad query: %d %s", st, raw)
	}

	// Import all, followed through "import" events.
	var started map[string]string
	if st, raw := ann.do("POST", ann.api("/import"), map[string]string{"source": "github", "query": "acme/api label:ready"}, &started); st != http.StatusAccepted || started["state"] != "running" {
		t.Fatalf("import: %d %s", st, raw)
	}
	done := ann.importDone()
	if done["state"] != "done" || done["message"] != "imported 2 new and updated 0 stories from github" || done["done"] != float64(2) {
		t.Errorf("import ended with %v", done)
	}
	if got := keysOf(ann.stories()); !slices.Equal(got, []string{"github:acme/api#1", "github:acme/api#2"}) {
		t.Errorf("stories after import: %v", got)
	}

	// Importing again updates instead of duplicating.
	gh.do(func() { gh.issues[1].Title = "Login fails on Safari" })
	ann.do("POST", ann.api("/import"), map[string]string{"source": "github", "query": "acme/api label:ready"}, nil)
	if done := ann.importDone(); done["message"] != "imported 0 new and updated 2 stories from github" {
		t.Errorf("second import ended with %v", done)
	}
	sts := ann.stories()
	if len(sts) != 2 || sts[0].Title != "Login fails on Safari" {
		t.Errorf("stories after the second import: %+v", sts)
	}

	// A query that matches nothing says so; one that fails says why.
	ann.do("POST", ann.api("/import"), map[string]string{"source": "github", "query": "acme/api label:nothing"}, nil)
	if done := ann.importDone(); done["state"] != "done" || done["message"] != `github: no stories match "acme/api label:nothing"` {
		t.Errorf("empty import ended with %v", done)
	}
	ann.do("POST", ann.api("/import"), map[string]string{"source": "github", "query": "acme/missing"}, nil)
	if done := ann.importDone(); done["state"] != "failed" || !strings.Contains(done["message"].(string), "acme/missing was not found") {
		t.Errorf("failed import ended with %v", done)
	}

	// Import some: the selected preview items go through the stories endpoint, which upserts.
	ann.do("POST", ann.api("/import/preview"), map[string]string{"source": "github", "query": "acme/api"}, &page)
	var pick []map[string]string
	for _, p := range page.Stories {
		if p.Key == "acme/api#3" || p.Key == "acme/api#1" {
			pick = append(pick, map[string]string{"title": p.Title, "description": p.Description, "url": p.URL, "source": "github", "key": p.Key})
		}
	}
	for range 2 {
		if st, raw := ann.do("POST", ann.api("/stories"), map[string]any{"stories": pick}, nil); st != http.StatusOK {
			t.Fatalf("import selected: %d %s", st, raw)
		}
	}
	if got := keysOf(ann.stories()); !slices.Equal(got, []string{"github:acme/api#1", "github:acme/api#2", "github:acme/api#3"}) {
		t.Errorf("stories after importing some twice: %v", got)
	}

	// The session's own connection: write-only token, options, test.
	const roomToken = "ghp_roomT0ken0000000000000000000000000000"
	var conn map[string]any
	if st, raw := ann.do("PUT", ann.api("/connections/github"), map[string]any{
		"credentials": map[string]string{"token": roomToken}, "options": map[string]string{"mode": "label+comment", "label_prefix": "sp: "},
	}, &conn); st != http.StatusOK || strings.Contains(raw, roomToken) {
		t.Fatalf("set connection: %d %s", st, raw)
	}
	if conn["tracker"] != "github" || !slices.Equal(toStrings(conn["fields"]), []string{"token"}) {
		t.Errorf("connection = %v", conn)
	}
	if st, raw := ann.do("GET", ann.api("/connections"), nil, nil); st != http.StatusOK || strings.Contains(raw, roomToken) || !strings.Contains(raw, `"label_prefix":"sp: "`) {
		t.Errorf("connections: %d %s", st, raw)
	}
	var check struct {
		Provider string
		OK       bool
		Identity string
		Facts    []struct {
			Name, Text string
			OK         bool
			Value      any
		}
	}
	if st, raw := ann.do("POST", ann.api("/connections/github/check"), map[string]string{"target": "acme/api"}, &check); st != http.StatusOK || strings.Contains(raw, roomToken) || !check.OK || check.Identity != "octocat" {
		t.Errorf("check: %d %s", st, raw)
	}
	for _, f := range check.Facts {
		if f.Name == "can write issues in acme/api" && (f.Text != "yes" || f.Value != true) {
			t.Errorf("the write fact: %+v, want its text and its typed value", f)
		}
	}

	// Estimate #1: the label and the comment appear on GitHub, and the room hears "synced".
	one := ann.stories()[0]
	ann.do("POST", ann.api("/stories/"+one.ID+"/select"), nil, nil)
	if st, raw := ann.do("PUT", ann.api("/stories/"+one.ID+"/vote"), map[string]string{"card": "5"}, nil); st != http.StatusOK {
		t.Fatalf("vote: %d %s", st, raw)
	}
	ann.do("POST", ann.api("/stories/"+one.ID+"/reveal"), nil, nil)
	if st, raw := ann.do("POST", ann.api("/stories/"+one.ID+"/accept"), map[string]string{"value": "5"}, nil); st != http.StatusOK {
		t.Fatalf("accept: %d %s", st, raw)
	}
	ann.expect(func(ev map[string]any) bool {
		d, _ := ev["data"].(map[string]any)
		return ev["type"] == "story" && d["id"] == one.ID && d["sync_state"] == "synced"
	}, "the story to be synced")
	gh.do(func() {
		is := gh.issues[1]
		if !slices.Contains(is.Labels, "sp: 5") || len(is.Comments) != 1 || !strings.Contains(is.Comments[0].Body, "Estimated 5 points in Pokor") {
			t.Errorf("issue on GitHub: labels %v, comments %+v", is.Labels, is.Comments)
		}
	})
	if st, raw := ann.do("POST", ann.api("/stories/"+one.ID+"/retry-sync"), nil, nil); st != http.StatusConflict {
		t.Errorf("retrying a synced story: %d %s", st, raw)
	}
	if st, _ := ann.do("DELETE", ann.api("/connections/github"), nil, nil); st != http.StatusNoContent {
		t.Errorf("remove connection: %d", st)
	}
	if st, raw := ann.do("GET", ann.api("/connections"), nil, nil); st != http.StatusOK || raw != "[]" {
		t.Errorf("connections after removal: %d %s", st, raw)
	}

	// Exports never carry a credential.
	for _, format := range []string{"csv", "json"} {
		if _, raw := ann.do("GET", ann.api("/export?format="+format), nil, nil); strings.Contains(raw, roomToken) || strings.Contains(raw, fakeToken) {
			t.Errorf("the %s export holds a token", format)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestCSVRoundTripOverAPI imports a CSV file into a session, exports the session as CSV and
// imports that export into a second session: the stories match, and importing again updates.
func TestCSVRoundTripOverAPI(t *testing.T) {
	s := startAPI(t, "http://127.0.0.1:1/")
	ann := s.organizer("Planning")

	file := "Summary;Issue key;Description;Story Points\r\n" +
		"Login fails;API-1;\"Steps:\n1. log in\";3\r\n" +
		"=cmd|' /C calc'!A0;API-2;a formula-looking title;\r\n" +
		"Write docs;;no key;\r\n"
	var res struct{ Added, Updated, Total int }
	if st, raw := ann.do("POST", ann.api("/import/csv"), map[string]string{"csv": file}, &res); st != http.StatusOK || res.Added != 3 || res.Updated != 0 {
		t.Fatalf("CSV import: %d %s", st, raw)
	}
	if st, raw := ann.do("POST", ann.api("/import/csv"), map[string]string{"csv": file}, &res); st != http.StatusOK || res.Added != 1 || res.Updated != 2 {
		t.Errorf("importing the same file again: %d %s (keyed rows update, the row without a key is added)", st, raw)
	}
	if got := keysOf(ann.stories()); !slices.Equal(got, []string{"csv:API-1", "csv:API-2", ":", ":"}) {
		t.Errorf("stories = %v", got)
	}
	st, raw := ann.do("POST", ann.api("/import/csv"), map[string]string{"csv": "name,url\n\"Broken,https://x\n"}, nil)
	if st != http.StatusBadRequest || !strings.Contains(raw, "csv: line 2: a quoted field is never closed") {
		t.Errorf("bad CSV: %d %s", st, raw)
	}

	// Estimate the first story so the export has rounds and votes.
	first := ann.stories()[0]
	ann.do("PUT", ann.api("/stories/"+first.ID+"/vote"), map[string]string{"card": "8"}, nil)
	ann.do("POST", ann.api("/stories/"+first.ID+"/reveal"), nil, nil)
	ann.do("POST", ann.api("/stories/"+first.ID+"/accept"), map[string]string{"value": "8"}, nil)

	st, exported := ann.do("GET", ann.api("/export?format=csv"), nil, nil)
	if st != http.StatusOK {
		t.Fatalf("export: %d %s", st, exported)
	}
	lines := strings.Split(exported, "\n")
	if lines[0] != "key,title,description,url,estimate,status,rounds,votes,sync_state,sync_error" ||
		!strings.HasPrefix(lines[1], `API-1,Login fails,"Steps:`) || !strings.Contains(exported, ",8,estimated,1,Ann=8,,") ||
		!strings.Contains(exported, `API-2,'=cmd|' /C calc'!A0,`) {
		t.Errorf("export:\n%s", exported)
	}
	items, err := csv.Parse(strings.NewReader(exported))
	if err != nil {
		t.Fatal(err)
	}

	bob := s.organizer("Copy")
	if st, raw := bob.do("POST", bob.api("/import/csv"), map[string]string{"csv": exported}, &res); st != http.StatusOK || res.Added != 4 {
		t.Fatalf("importing the export: %d %s", st, raw)
	}
	copied := bob.stories()
	if len(copied) != len(items) {
		t.Fatalf("%d stories copied from %d rows", len(copied), len(items))
	}
	for i, it := range items {
		orig := ann.stories()[i]
		if copied[i].Title != orig.Title || copied[i].Title != it.Title || copied[i].Description != orig.Description || copied[i].ExternalKey != orig.ExternalKey {
			t.Errorf("story %d: copied %+v from %+v", i, copied[i], orig)
		}
	}
}

// TestConnectionFieldsAreWriteOnly: a connection keeps the fields an update leaves blank, never
// answers with a value, and only organizers may see or change it.
func TestConnectionFieldsAreWriteOnly(t *testing.T) {
	s := startAPI(t, "http://127.0.0.1:1/")
	ann := s.organizer("Planning")
	put := func(body map[string]any) string {
		t.Helper()
		st, raw := ann.do("PUT", ann.api("/connections/jira"), body, nil)
		if st != http.StatusOK {
			t.Fatalf("set connection: %d %s", st, raw)
		}
		return raw
	}
	put(map[string]any{"credentials": map[string]string{"base_url": "https://acme.atlassian.net", "email": "ann@acme.example", "api_token": "first-secret"}})
	raw := put(map[string]any{"credentials": map[string]string{"api_token": "second-secret", "email": " "}, "options": map[string]string{"comment_fallback": "true"}})
	var conn struct {
		Fields  []string          `json:"fields"`
		Options map[string]string `json:"options"`
	}
	json.Unmarshal([]byte(raw), &conn)
	slices.Sort(conn.Fields)
	if !slices.Equal(conn.Fields, []string{"api_token", "base_url", "email"}) || conn.Options["comment_fallback"] != "true" {
		t.Errorf("connection after changing the token alone: %s", raw)
	}
	if _, list := ann.do("GET", ann.api("/connections"), nil, nil); strings.Contains(list, "secret") || strings.Contains(list, "acme.example") {
		t.Errorf("the connection list shows credentials: %s", list)
	}

	// Another participant may neither read nor change it.
	jar, _ := cookiejar.New(nil)
	bob := &browser{t: t, s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, sid: ann.sid}
	if st, raw := bob.do("POST", bob.api("/participants"), map[string]string{"name": "Bob"}, nil); st != http.StatusCreated {
		t.Fatalf("join: %d %s", st, raw)
	}
	for _, r := range []struct{ method, path string }{{"GET", "/connections"}, {"PUT", "/connections/jira"}, {"DELETE", "/connections/jira"},
		{"POST", "/connections/jira/check"}, {"POST", "/import"}, {"POST", "/import/preview"}, {"POST", "/import/csv"}} {
		if st, raw := bob.do(r.method, bob.api(r.path), map[string]any{}, nil); st != http.StatusForbidden {
			t.Errorf("a voter's %s %s: %d %s", r.method, r.path, st, raw)
		}
	}
}
