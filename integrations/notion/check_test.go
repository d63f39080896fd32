package notion

import (
	"context"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		ref       string
		token     string
		shareNone bool
		wantOK    bool
		wantErr   session.Code
		wantFacts map[string]string // fact name → part of its value; facts not listed must be OK
		failed    []string          // names of facts expected to fail
	}{
		{name: "no database", wantOK: true, wantFacts: map[string]string{
			"token":                                 `bot "Pokor" in workspace "Acme"`,
			"databases shared with the integration": `3: "Sprint Backlog", "Roadmap", "Ideas"`,
		}},
		{name: "number estimate", ref: backlogID, wantOK: true, wantFacts: map[string]string{
			"database":             `"Sprint Backlog"`,
			"title property":       "Name (title)",
			"description property": "Description (rich_text)",
			"estimate property":    "Story points (number): Number property named like an estimate",
		}},
		{name: "select estimate by title", ref: "roadmap", wantOK: true, wantFacts: map[string]string{
			"database":             `"Roadmap"`,
			"title property":       "Feature (title)",
			"description property": "none",
			"estimate property":    "Size (select)",
		}},
		{name: "no estimate property", ref: plainID, wantFacts: map[string]string{
			"estimate property": `add a Number property named "Estimate"`,
		}, failed: []string{"estimate property"}},
		{name: "database not shared", ref: hiddenID, wantFacts: map[string]string{
			"database": `Connections → add "Pokor"`,
		}, failed: []string{"database"}},
		{name: "nothing shared", shareNone: true, wantFacts: map[string]string{
			"databases shared with the integration": `none: open a database in Notion → ••• → Connections → add "Pokor"`,
		}, failed: []string{"databases shared with the integration"}},
		{name: "invalid token", token: "ntn_revoked", wantErr: session.CodeForbidden, wantFacts: map[string]string{
			"token": "token is invalid",
		}, failed: []string{"token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if !tt.shareNone {
				f.standard()
			}
			token := testToken
			if tt.token != "" {
				token = tt.token
			}
			c, err := New(Config{Token: token, BaseURL: f.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			c.pace.interval = 0
			got, err := c.Check(context.Background(), tt.ref)
			if tt.wantErr != "" {
				wantKind(t, err, tt.wantErr)
			} else if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got.OK != tt.wantOK || got.Provider != "notion" {
				t.Errorf("OK = %v provider %q, want %v notion; facts %+v", got.OK, got.Provider, tt.wantOK, got.Facts)
			}
			if tt.wantErr == "" && (got.Identity != "Pokor" || got.Site != "Acme") {
				t.Errorf("identity %q site %q, want Pokor at Acme", got.Identity, got.Site)
			}
			facts := map[string]session.Fact{}
			for _, fact := range got.Facts {
				facts[fact.Name] = fact
				if strings.Contains(fact.Text, token) {
					t.Errorf("fact %q shows the token", fact.Name)
				}
			}
			for name, part := range tt.wantFacts {
				fact, ok := facts[name]
				if !ok || !strings.Contains(fact.Text, part) {
					t.Errorf("fact %q = %q, want it to contain %q (facts %+v)", name, fact.Text, part, got.Facts)
				}
			}
			for _, fact := range got.Facts {
				wantOK := true
				for _, name := range tt.failed {
					wantOK = wantOK && fact.Name != name
				}
				if fact.OK != wantOK {
					t.Errorf("fact %q OK = %v, want %v", fact.Name, fact.OK, wantOK)
				}
			}
			if tt.ref == backlogID {
				values := map[string]any{}
				for _, f := range got.Facts {
					values[f.Name] = f.Value
				}
				est, ok := values["estimate property"].(EstimateTarget)
				title, _ := values["title property"].(map[string]any)
				if !ok || est.Type != "number" || title["property"] != "Name" {
					t.Errorf("typed facts = %+v, want the number estimate and the title property", values)
				}
			}
		})
	}
}
