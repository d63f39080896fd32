package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestNewConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		kind  session.Code // "" when New succeeds
		cloud bool
		site  string
	}{
		{name: "cloud API token", cfg: Config{BaseURL: "https://acme.atlassian.net/", Email: testEmail, APIToken: testToken},
			cloud: true, site: "https://acme.atlassian.net"},
		{name: "cloud PAT-style token on atlassian.net", cfg: Config{BaseURL: "https://acme.atlassian.net", PAT: testPAT},
			cloud: true, site: "https://acme.atlassian.net"},
		{name: "data center PAT", cfg: Config{BaseURL: "https://jira.example.com/jira/", PAT: testPAT},
			site: "https://jira.example.com/jira"},
		{name: "token alone is a PAT", cfg: Config{BaseURL: "https://jira.example.com", APIToken: testPAT},
			site: "https://jira.example.com"},
		{name: "no credentials", cfg: Config{BaseURL: "https://acme.atlassian.net"}, kind: session.CodeForbidden},
		{name: "email without token", cfg: Config{BaseURL: "https://acme.atlassian.net", Email: testEmail}, kind: session.CodeForbidden},
		{name: "both kinds", cfg: Config{BaseURL: "https://acme.atlassian.net", Email: testEmail, APIToken: testToken, PAT: testPAT}, kind: session.CodeInvalid},
		{name: "no base URL", cfg: Config{Email: testEmail, APIToken: testToken}, kind: session.CodeInvalid},
		{name: "not http", cfg: Config{BaseURL: "ftp://acme", Email: testEmail, APIToken: testToken}, kind: session.CodeInvalid},
		{name: "credentials in URL", cfg: Config{BaseURL: "https://mia:pw@acme.atlassian.net", Email: testEmail, APIToken: testToken}, kind: session.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.kind != "" {
				e := asError(t, err, tc.kind)
				for _, secret := range []string{testToken, testPAT, "pw@"} {
					if strings.Contains(e.Error(), secret) {
						t.Errorf("error %q shows a secret", e.Error())
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.cloud != tc.cloud || c.Site() != tc.site {
				t.Errorf("cloud = %v, site = %q; want %v, %q", c.cloud, c.Site(), tc.cloud, tc.site)
			}
			// Endpoints are joined to the base URL, which keeps a context path such as /jira.
			if base := c.api.Base.JoinPath("rest/api/2/myself"); base.String() != tc.site+"/rest/api/2/myself" {
				t.Errorf("an endpoint resolves to %q", base.String())
			}
		})
	}
}

// TestAuthHeaders checks the header each kind of credentials sends, and that a redirect to
// another host does not carry it.
func TestAuthHeaders(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
		writeJSON(w, 200, fixture(t, "myself_docs_example.json"))
	}))
	defer other.Close()

	cases := []struct {
		name string
		cfg  func(base string) Config
		want string
	}{
		{"basic", func(b string) Config { return Config{BaseURL: b, Email: testEmail, APIToken: testToken} }, "Basic " + basic(testEmail, testToken)},
		{"bearer", func(b string) Config { return Config{BaseURL: b, PAT: testPAT} }, "Bearer " + testPAT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.wantAuth = tc.want
			c, err := New(tc.cfg(f.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Check(context.Background(), ""); err != nil {
				t.Fatalf("Check with %s: %v", tc.name, err)
			}

			f.handle("GET", "/rest/api/2/myself", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/rest/api/2/myself", http.StatusFound)
			})
			if _, err := c.Check(context.Background(), ""); err != nil {
				t.Fatalf("Check through redirect: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range elsewhere {
				if h != "" {
					t.Errorf("credentials sent to another host: %q", h)
				}
			}
		})
	}
}

// TestConfigHidesSecrets checks every way a Config may be printed or logged.
func TestConfigHidesSecrets(t *testing.T) {
	cfg := Config{BaseURL: "https://acme.atlassian.net", Email: testEmail, APIToken: testToken, PAT: testPAT}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connect", "cfg", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("connect", "cfg", cfg)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", cfg), "json": string(data), "slog": logged.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, testToken) || strings.Contains(out, testPAT) {
				t.Errorf("%s shows a secret: %s", name, out)
			}
		})
	}
}

// TestConcurrentUse exercises the caches from many goroutines, for the race detector.
func TestConcurrentUse(t *testing.T) {
	f := companySite(t)
	f.issue("API-13", "API", "Story", "false")
	f.editmeta("API-13", "fields_company_managed_story_points.json", "summary", "customfield_10026")
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := []string{"API-12", "API-13"}[i%2]
			if _, err := c.WriteEstimate(context.Background(), key, session.WriteBack{Value: "3"}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
