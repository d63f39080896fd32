package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// facts indexes a Check's facts by name.
func facts(t *testing.T, ch session.CheckReport) map[string]session.Fact {
	t.Helper()
	m := map[string]session.Fact{}
	for _, f := range ch.Facts {
		m[f.Name] = f
	}
	return m
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name      string
		target    string
		setup     func(f *fakeJira)
		wantOK    bool
		wantFacts map[string]string // name → value (substring)
		wantField string
	}{
		{
			name: "identity only", target: "", wantOK: true,
			wantFacts: map[string]string{"credentials": "API token of Mia Krystof <mia@example.com>", "site": "(Jira Cloud)"},
		},
		{
			name: "issue with a writable field", target: "API-12", wantOK: true,
			setup: func(f *fakeJira) {
				f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
				f.issue("API-12", "API", "Story", "false")
				f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10026")
			},
			wantFacts: map[string]string{
				"issue checked":      "API-12 (Story in company-managed project API)",
				"story-points field": "Story Points (customfield_10026)",
				"writable on API-12": "yes",
				"why":                `its name "Story Points" is a story-points name (+50)`,
				"other candidates":   "Story point estimate (customfield_10016): score 151, not writable",
			},
			wantField: "customfield_10026",
		},
		{
			name: "project: its latest issue", target: "team", wantOK: true,
			setup: func(f *fakeJira) {
				f.file("GET", "/rest/api/2/field", "fields_team_managed_only.json")
				f.json("GET", "/rest/api/2/project/TEAM", 200, `{"id":"10001","key":"TEAM","name":"Team","projectTypeKey":"software","simplified":true,"style":"next-gen"}`)
				f.handle("GET", "/rest/api/3/search/jql", func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("jql") != `project = "TEAM" ORDER BY created DESC` || r.URL.Query().Get("maxResults") != "1" {
						writeJSON(w, 400, `{"errorMessages":["unexpected query"],"errors":{}}`)
						return
					}
					writeJSON(w, 200, `{"isLast":true,"issues":[{"id":"10100","key":"TEAM-9","self":"x","fields":{"project":{"key":"TEAM","simplified":true},"issuetype":{"name":"Story"}}}]}`)
				})
				f.file("GET", "/rest/api/2/issue/TEAM-9/editmeta", "editmeta_story_point_estimate.json")
			},
			wantFacts: map[string]string{
				"issue checked":      "TEAM-9 (Story in team-managed project TEAM)",
				"story-points field": "Story point estimate (customfield_10016)",
				"other candidates":   "none",
			},
			wantField: "customfield_10016",
		},
		{
			name: "project without issues", target: "EMPTY", wantOK: true,
			setup: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/project/EMPTY", 200, `{"id":"10002","key":"EMPTY","name":"Empty","simplified":false}`)
				f.json("GET", "/rest/api/3/search/jql", 200, `{"isLast":true,"issues":[]}`)
			},
			wantFacts: map[string]string{"issue checked": "none: project EMPTY has no issue yet"},
		},
		{
			name: "nothing writable is a finding", target: "TEAM-1", wantOK: false,
			setup: func(f *fakeJira) {
				f.file("GET", "/rest/api/2/field", "fields_team_managed_only.json")
				f.issue("TEAM-1", "TEAM", "Story", "true")
				f.file("GET", "/rest/api/2/issue/TEAM-1/editmeta", "editmeta_docs_example.json")
			},
			wantFacts: map[string]string{
				"story-points field": "none writable",
				"writable on TEAM-1": "no",
				"what to do":         "TEAM is a team-managed project: a project admin must turn on Estimation in Project settings → Features, then try again.",
				"other candidates":   "Story point estimate (customfield_10016): score 151, not writable",
			},
		},
		{
			name: "a tie is a finding", target: "API-12", wantOK: false,
			setup: func(f *fakeJira) {
				f.file("GET", "/rest/api/2/field", "fields_ambiguous_two_story_points.json")
				f.issue("API-12", "API", "Story", "false")
				f.editmeta("API-12", "fields_ambiguous_two_story_points.json", "summary", "customfield_10200", "customfield_10201")
			},
			wantFacts: map[string]string{
				"story-points field": "undecided: 2 fields tie",
				"what to do":         "Pick one for this session",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			ch, err := f.client(t).Check(context.Background(), tc.target)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if ch.OK != tc.wantOK || ch.Provider != "jira" || ch.Identity != "Mia Krystof <mia@example.com>" || ch.Site != strings.TrimPrefix(f.srv.URL, "http://") {
				t.Errorf("check = %+v", ch)
			}
			got := facts(t, ch)
			for name, want := range tc.wantFacts {
				if !strings.Contains(got[name].Text, want) {
					t.Errorf("fact %q = %q, want it to contain %q", name, got[name].Text, want)
				}
			}
			if tc.wantField != "" {
				field, ok := got["story-points field"].Value.(Candidate)
				if !ok || field.ID != tc.wantField {
					t.Errorf("the story-points field's value = %#v", got["story-points field"].Value)
				}
			}
			if _, err := json.Marshal(ch); err != nil {
				t.Errorf("the check does not encode for --json: %v", err)
			}
		})
	}
}

func TestCheckFailures(t *testing.T) {
	cases := []struct {
		name   string
		target string
		setup  func(f *fakeJira)
		kind   session.Code
		fact   string
	}{
		{
			name: "refused credentials", setup: func(f *fakeJira) { f.wantAuth = "Basic other" },
			kind: session.CodeForbidden, fact: "credentials",
		},
		{
			name: "unknown issue", target: "API-999", kind: session.CodeNotFound, fact: "issue checked",
			setup: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/issue/API-999", 404, fixture(f.t, "error_issue_not_found.json"))
			},
		},
		{
			name: "unknown project", target: "NOPE", kind: session.CodeNotFound, fact: "project",
			setup: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/project/NOPE", 404, `{"errorMessages":["No project could be found with key 'NOPE'."],"errors":{}}`)
			},
		},
		{name: "not a key", target: "what is this", kind: session.CodeInvalid, fact: "issue checked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			ch, err := f.client(t).Check(context.Background(), tc.target)
			asError(t, err, tc.kind)
			if ch.OK {
				t.Error("OK despite the failure")
			}
			if fact := facts(t, ch)[tc.fact]; fact.OK || fact.Text == "" {
				t.Errorf("fact %q = %+v", tc.fact, fact)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), basic(testEmail, testToken)) {
				t.Errorf("the token leaked: %v", err)
			}
		})
	}
}
