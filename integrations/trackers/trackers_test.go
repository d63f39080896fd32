package trackers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/integrations"
	"github.com/pokor/pokor/integrations/github"
	"github.com/pokor/pokor/integrations/jira"
	"github.com/pokor/pokor/integrations/notion"
	"github.com/pokor/pokor/session"
)

const (
	defaultToken = "ghp_serverDefaultT0ken000000000000000000"
	sessionToken = "ghp_sessionOwnT0ken00000000000000000000"
)

func TestConvertMapsKindsToCodes(t *testing.T) {
	tests := []struct {
		kind  integrations.Kind
		code  session.Code
		retry bool
	}{
		{integrations.KindInvalid, session.CodeInvalid, false},
		{integrations.KindAuth, session.CodeForbidden, false},
		{integrations.KindPermission, session.CodeForbidden, false},
		{integrations.KindNotFound, session.CodeNotFound, false},
		{integrations.KindRateLimited, session.CodeUnavailable, true},
		{integrations.KindUnavailable, session.CodeUnavailable, true},
		{integrations.KindChoice, session.CodeConflict, false},
	}
	r := New(Defaults{})
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			orig := &integrations.Error{Provider: "github", Kind: tt.kind, Message: "something to say", RetryAfter: 3 * time.Second}
			err := error(convert(orig, false))
			var se *session.Error
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *session.Error", err)
			}
			if se.Code != tt.code {
				t.Errorf("code = %s, want %s", se.Code, tt.code)
			}
			if se.Message != "github: something to say" || session.ErrorMessage(err) != "github: something to say" {
				t.Errorf("message = %q, shown as %q", se.Message, session.ErrorMessage(err))
			}
			var ie *integrations.Error
			if !errors.As(err, &ie) || ie != orig {
				t.Error("the adapter error is not kept as the cause")
			}
			retry, after := r.Retry(err)
			if retry != tt.retry {
				t.Errorf("Retry = %v, want %v", retry, tt.retry)
			}
			if retry && after != 3*time.Second {
				t.Errorf("Retry wait = %v, want the tracker's 3s", after)
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	r := New(Defaults{})
	tests := []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"rate limit without a wait waits a second", convert(&integrations.Error{Provider: "github", Kind: integrations.KindRateLimited}, false), true, time.Second},
		{"network failure outside an adapter", convert(context.DeadlineExceeded, false), true, 0},
		{"credentials that cannot be decrypted", &session.Error{Code: session.CodeInvalid, Message: "enter them again"}, false, 0},
		{"missing token", func() error { _, err := r.client("github", nil, opWrite); return err }(), false, 0},
		{"internal error", errors.New("disk full"), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, after := r.Retry(tt.err)
			if retry != tt.retry || after != tt.after {
				t.Errorf("Retry(%v) = %v, %v; want %v, %v", tt.err, retry, after, tt.retry, tt.after)
			}
		})
	}
}

func TestConvertChoiceListsChoices(t *testing.T) {
	err := convert(&integrations.Error{Provider: "jira", Kind: integrations.KindChoice, Message: "two fields could hold story points",
		Choices: []integrations.Choice{{ID: "customfield_10016", Name: "Story point estimate"}, {ID: "customfield_10026", Name: "Story Points"}}}, false)
	want := "jira: two fields could hold story points; choices: Story point estimate (customfield_10016), Story Points (customfield_10026)"
	if err.Code != session.CodeConflict || err.Message != want {
		t.Errorf("got %s %q, want conflict %q", err.Code, err.Message, want)
	}
}

// authServer is a fake GitHub that records the Authorization header of each request and
// answers the issue list.
func authServer(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		fmt.Fprint(w, `[{"id":1042,"number":42,"title":"Login\r\nfails","body":"Steps:\r\n1. log in\u0007","html_url":"https://github.com/acme/api/issues/42","state":"open","labels":[{"id":1,"name":"estimate: 3"}]}]`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
}

func TestCredentialsMergeOverDefaults(t *testing.T) {
	srv, seen := authServer(t)
	ctx := context.Background()

	r := New(Defaults{GitHub: github.Config{Token: defaultToken, BaseURL: srv.URL}})
	page, err := r.List(ctx, "github", nil, "acme/api", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 1 || got[0] != "Bearer "+defaultToken {
		t.Errorf("without a session connection the server's token is used; sent %q", got)
	}
	want := session.ExternalStory{Key: "acme/api#42", Title: "Login fails", Description: "Steps:\n1. log in",
		URL: "https://github.com/acme/api/issues/42", Estimate: "3"}
	if len(page.Stories) != 1 || page.Stories[0] != want || page.Total != -1 {
		t.Errorf("page = %+v, want the one story cleaned as %+v", page, want)
	}

	if _, err := r.List(ctx, "github", session.Credentials{"token": sessionToken}, "acme/api", ""); err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 1 || got[0] != "Bearer "+sessionToken {
		t.Errorf("the session's token wins over the server's; sent %q", got)
	}

	if _, err := r.List(ctx, "github", session.Credentials{"token": "  ", "base_url": "http://evil.example"}, "acme/api", ""); err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 1 || got[0] != "Bearer "+defaultToken {
		t.Errorf("a blank session token keeps the server's and a session cannot move GitHub elsewhere; sent %q", got)
	}
}

func TestMissingCredentialsSayWhereToSetThem(t *testing.T) {
	srv, seen := authServer(t)
	ctx := context.Background()
	r := New(Defaults{GitHub: github.Config{BaseURL: srv.URL}, Notion: notion.Config{BaseURL: srv.URL}})

	_, err := r.Write(ctx, "github", nil, "acme/api#42", session.WriteBack{Value: "5"})
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "GITHUB_TOKEN") ||
		!strings.Contains(session.ErrorMessage(err), "Import → Connection to GitHub") {
		t.Errorf("writing without a token: %v", err)
	}
	if len(seen()) != 0 {
		t.Error("a write without a token reached GitHub")
	}

	// Public repositories can be listed without a token; a private one says what to set.
	_, err = r.List(ctx, "github", nil, "acme/secret", "")
	if session.ErrorCode(err) != session.CodeNotFound || !strings.Contains(session.ErrorMessage(err), "set GITHUB_TOKEN on the server") {
		t.Errorf("listing anonymously: %v", err)
	}

	_, err = r.List(ctx, "notion", nil, "Backlog", "")
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "NOTION_TOKEN") {
		t.Errorf("Notion without a token: %v", err)
	}
	ch, err := r.CheckTracker(ctx, "notion", nil, "")
	if err == nil || ch.Provider != "notion" || ch.OK || len(ch.Facts) != 1 || !strings.Contains(ch.Facts[0].Value, "NOTION_TOKEN") {
		t.Errorf("checking Notion without a token: %+v, %v", ch, err)
	}

	_, err = r.List(ctx, "trello", nil, "x", "")
	if session.ErrorCode(err) != session.CodeInvalid || !strings.Contains(session.ErrorMessage(err), "github, jira, notion") {
		t.Errorf("unknown tracker: %v", err)
	}
}

func TestInvalidQueryNamesTheField(t *testing.T) {
	r := New(Defaults{GitHub: github.Config{Token: defaultToken, BaseURL: "http://127.0.0.1:1/"}})
	_, err := r.List(context.Background(), "github", nil, "not a repository", "")
	var se *session.Error
	if !errors.As(err, &se) || se.Code != session.CodeInvalid || se.Field != "query" || !strings.Contains(se.Message, "OWNER/REPO") {
		t.Errorf("bad query: %#v", err)
	}
}

func TestClientCache(t *testing.T) {
	r := New(Defaults{GitHub: github.Config{Token: defaultToken, BaseURL: "http://127.0.0.1:1/"}})
	clock := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	get := func(creds session.Credentials) client {
		t.Helper()
		c, err := r.client("github", creds, opList)
		if err != nil {
			t.Fatal(err)
		}
		return c.c
	}
	a := get(nil)
	if get(nil) != a || get(session.Credentials{"token": defaultToken}) != a {
		t.Error("the same credentials must share one client, so that its rate-limit pacing holds")
	}
	b := get(session.Credentials{"token": sessionToken})
	if b == a {
		t.Error("different credentials must not share a client")
	}
	if get(session.Credentials{"token": sessionToken}) != b {
		t.Error("the session's client is built again on every call")
	}
	for key := range r.clients {
		if strings.Contains(key, defaultToken) || strings.Contains(key, sessionToken) {
			t.Errorf("a cache key holds a token: %q", key)
		}
	}

	get(nil) // a is now the most recently used
	// Filling the cache evicts exactly one client: b, the least recently used.
	for i := range maxClients - 1 {
		get(session.Credentials{"token": fmt.Sprintf("ghp_token%d", i)})
	}
	if len(r.clients) > maxClients {
		t.Errorf("the cache holds %d clients, more than %d", len(r.clients), maxClients)
	}
	if get(nil) != a {
		t.Error("a recently used client was evicted")
	}
	if get(session.Credentials{"token": sessionToken}) == b {
		t.Error("the least recently used client was not evicted")
	}
}

func TestCheckTrackerWithSessionCredentials(t *testing.T) {
	var auth []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/user":
			fmt.Fprint(w, `{"login":"octocat","id":1,"name":"The Octocat","type":"User"}`)
		case "/repos/acme/api":
			fmt.Fprint(w, `{"id":1,"name":"api","full_name":"acme/api","private":true,"has_issues":true,"permissions":{"pull":true,"push":true}}`)
		case "/rate_limit":
			fmt.Fprint(w, `{"resources":{"core":{"limit":5000,"remaining":4999,"reset":1893456000,"used":1}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	r := New(Defaults{GitHub: github.Config{Token: defaultToken, BaseURL: srv.URL}})
	res, err := r.Check(context.Background(), "github", session.Credentials{"token": sessionToken}, "acme/api")
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := res.(integrations.Check)
	if !ok || !ch.OK || ch.Identity != "octocat" {
		t.Fatalf("check = %#v", res)
	}
	if s := fmt.Sprintf("%+v", ch); strings.Contains(s, sessionToken) || strings.Contains(s, defaultToken) {
		t.Errorf("the report holds a token: %s", s)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range auth {
		if a != "Bearer "+sessionToken {
			t.Errorf("the check used %q, want the session's token", a)
		}
	}
}

func TestJiraCredentialsMerge(t *testing.T) {
	d := Defaults{Jira: jira.Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "server-token"}}
	tests := []struct {
		name  string
		creds session.Credentials
		want  jira.Config
		has   bool
	}{
		{"server defaults", nil,
			jira.Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "server-token"}, true},
		{"the session's own account on the server's site", session.Credentials{"email": "ann@acme.example", "api_token": "ann-token"},
			jira.Config{BaseURL: "https://acme.atlassian.net", Email: "ann@acme.example", APIToken: "ann-token"}, true},
		{"a token alone is not paired with the server's email", session.Credentials{"api_token": "pat-like"},
			jira.Config{BaseURL: "https://acme.atlassian.net", APIToken: "pat-like"}, true},
		{"the same site written differently keeps the defaults", session.Credentials{"base_url": "https://ACME.atlassian.net/ "},
			jira.Config{BaseURL: "https://ACME.atlassian.net/", Email: "bot@acme.example", APIToken: "server-token"}, true},
		{"another site never gets the server's credentials", session.Credentials{"base_url": "https://evil.example"},
			jira.Config{BaseURL: "https://evil.example"}, false},
		{"another site with its own token", session.Credentials{"base_url": "https://jira.corp.example", "pat": "dc-pat"},
			jira.Config{BaseURL: "https://jira.corp.example", PAT: "dc-pat"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, has := jiraConfig(d, tt.creds)
			got := cfg.(jira.Config)
			if got.BaseURL != tt.want.BaseURL || got.Email != tt.want.Email || got.APIToken != tt.want.APIToken || got.PAT != tt.want.PAT || has != tt.has {
				t.Errorf("got %s (api token %q, pat %q) has=%v, want %s (api token %q, pat %q) has=%v",
					got, got.APIToken, got.PAT, has, tt.want, tt.want.APIToken, tt.want.PAT, tt.has)
			}
		})
	}
	r := New(Defaults{})
	_, err := r.List(context.Background(), "jira", nil, "project = API", "")
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "JIRA_API_TOKEN") ||
		!strings.Contains(session.ErrorMessage(err), "Connection to Jira") {
		t.Errorf("Jira without credentials: %v", err)
	}
	shared := New(d)
	c1, _, _ := jiraConfig(shared.defaults, nil)
	c2, _, _ := jiraConfig(shared.defaults, session.Credentials{"base_url": "https://jira.corp.example", "pat": "dc-pat"})
	if dec := shared.defaults.Jira.Decisions; dec == nil || c1.(jira.Config).Decisions != dec || c2.(jira.Config).Decisions != dec {
		t.Error("every Jira client must share the registry's field decisions")
	}
}
