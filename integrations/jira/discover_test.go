package jira

import (
	"context"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// TestDiscoverSites runs the field discovery against the kinds of sites Pokor meets. Each case
// asserts the chosen field and a reason, or the exact guidance given.
func TestDiscoverSites(t *testing.T) {
	cases := []struct {
		name       string
		fields     string   // fixture served at /rest/api/2/field
		editable   []string // fields editmeta lists for the issue
		metaFile   string   // a verbatim editmeta fixture instead of editable
		key        string
		project    string
		simplified string
		board      int
		boardBody  string

		wantField  string
		wantReason string // a substring of Decision.Reason
		wantKind   session.Code
		wantError  string // the exact error
		wantChoice []string
	}{
		{
			name: "team-managed only: Story point estimate", fields: "fields_team_managed_only.json",
			metaFile: "editmeta_story_point_estimate.json", key: "TEAM-1", project: "TEAM", simplified: "true",
			wantField: "customfield_10016", wantReason: "jsw-story-points",
		},
		{
			name: "company-managed Story Points float", fields: "fields_company_managed_story_points.json",
			editable: []string{"summary", "customfield_10026", "customfield_10027", "customfield_10037"},
			key:      "API-12", project: "API", simplified: "false",
			wantField: "customfield_10026", wantReason: `its name "Story Points" is a story-points name (+50)`,
		},
		{
			name: "both present, only Story Points editable", fields: "fields_cloud_site_both_story_point_fields.json",
			editable: []string{"summary", "customfield_10026"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10026", wantReason: "editable on API-12",
		},
		{
			name: "both present, only Story point estimate editable", fields: "fields_cloud_site_both_story_point_fields.json",
			editable: []string{"summary", "customfield_10016"}, key: "TEAM-3", project: "TEAM", simplified: "true",
			wantField: "customfield_10016", wantReason: "jsw-story-points",
		},
		{
			name: "both present and editable: Jira Software's own field wins", fields: "fields_cloud_site_both_story_point_fields.json",
			editable: []string{"summary", "customfield_10016", "customfield_10026"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10016", wantReason: "score (151)",
		},
		{
			name: "two fields named Story Points: the organizer picks", fields: "fields_ambiguous_two_story_points.json",
			editable: []string{"summary", "customfield_10200", "customfield_10201"}, key: "API-12", project: "API", simplified: "false",
			wantKind:   session.CodeConflict,
			wantError:  "jira: 2 fields could hold the story points of API-12 and nothing tells them apart: Story Points (customfield_10200), Story Points (customfield_10201). Pick one for this session; Pokor will remember it for Story issues of API.",
			wantChoice: []string{"customfield_10200", "customfield_10201"},
		},
		{
			name: "two fields named Story Points, one editable", fields: "fields_ambiguous_two_story_points.json",
			editable: []string{"summary", "customfield_10201"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10201", wantReason: "editable on API-12",
		},
		{
			name: "two fields named Story Points, a well-known id breaks the tie", fields: "fields_ambiguous_one_known_id.json",
			editable: []string{"summary", "customfield_10026", "customfield_10201"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10026", wantReason: "a tie-break only",
		},
		{
			name: "translated name: the untranslated name wins", fields: "fields_translated.json",
			editable: []string{"summary", "customfield_10300", "customfield_10301", "customfield_10302"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10300", wantReason: `its name "Story Points" is a story-points name`,
		},
		{
			name: "renamed field found by its type", fields: "fields_renamed.json",
			editable: []string{"summary", "customfield_10400", "customfield_10401"}, key: "API-12", project: "API", simplified: "false",
			wantField: "customfield_10400", wantReason: "jsw-story-points",
		},
		{
			name: "board estimation field wins", fields: "fields_legacy_story_points_10002.json",
			editable: []string{"summary", "customfield_10002"}, key: "PROJ-7", project: "PROJ", simplified: "false",
			board: 84, boardBody: fixture(t, "board_configuration_docs_example.json"),
			wantField: "customfield_10002", wantReason: "the board 84 estimates with it (+1000)",
		},
		{
			name: "board estimation field over Jira Software's field", fields: "fields_cloud_site_both_story_point_fields.json",
			editable: []string{"summary", "customfield_10016", "customfield_10026"}, key: "API-12", project: "API", simplified: "false",
			board: 84, boardBody: strings.Replace(fixture(t, "board_configuration_docs_example.json"), "customfield_10002", "customfield_10026", 1),
			wantField: "customfield_10026", wantReason: "the board 84 estimates with it",
		},
		{
			name: "board estimation field not on the screen", fields: "fields_cloud_site_both_story_point_fields.json",
			editable: []string{"summary", "customfield_10016"}, key: "API-12", project: "API", simplified: "false",
			board: 84, boardBody: strings.Replace(fixture(t, "board_configuration_docs_example.json"), "customfield_10002", "customfield_10026", 1),
			wantKind:  session.CodeInvalid,
			wantError: "jira: the board 84 estimates with Story Points (customfield_10026), which cannot be set on API-12. API is a company-managed project: a Jira admin must add the field Story Points (customfield_10026) to the project's edit screen for Story issues, then try again.",
		},
		{
			name: "none editable, team-managed", fields: "fields_team_managed_only.json",
			metaFile: "editmeta_docs_example.json", key: "TEAM-1", project: "TEAM", simplified: "true",
			wantKind:  session.CodeInvalid,
			wantError: "jira: no story-points field can be set on TEAM-1. TEAM is a team-managed project: a project admin must turn on Estimation in Project settings → Features, then try again.",
		},
		{
			name: "none editable, company-managed", fields: "fields_company_managed_story_points.json",
			metaFile: "editmeta_without_story_points.json", key: "API-12", project: "API", simplified: "false",
			wantKind:  session.CodeInvalid,
			wantError: "jira: no story-points field can be set on API-12. API is a company-managed project: a Jira admin must add the field Story Points (customfield_10026) to the project's edit screen for Story issues, then try again.",
		},
		{
			name: "company-managed site without any number field for story points", fields: "fields_story_points_text_only.json",
			editable: []string{"summary", "customfield_10500"}, key: "API-12", project: "API", simplified: "false",
			wantKind:  session.CodeInvalid,
			wantError: "jira: no story-points field can be set on API-12. API is a company-managed project: a Jira admin must add the field Story Points to the project's edit screen for Story issues (this site has no number field for story points yet: create one of type Number first), then try again.",
		},
		{
			name: "credentials that may not edit the issue", fields: "fields_company_managed_story_points.json",
			editable: []string{}, key: "API-12", project: "API", simplified: "false",
			wantKind:  session.CodeForbidden,
			wantError: "jira: these credentials cannot edit API-12: Jira lists no editable field on it. A Jira admin must give these credentials the Edit Issues permission in project API.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.file("GET", "/rest/api/2/field", tc.fields)
			f.issue(tc.key, tc.project, "Story", tc.simplified)
			if tc.metaFile != "" {
				f.file("GET", "/rest/api/2/issue/"+tc.key+"/editmeta", tc.metaFile)
			} else {
				f.editmeta(tc.key, tc.fields, tc.editable...)
			}
			if tc.board != 0 {
				f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, tc.boardBody)
			}
			c := f.client(t)

			d, err := c.Discover(context.Background(), tc.key, tc.board)
			if tc.wantKind != "" {
				e := asError(t, err, tc.wantKind)
				if e.Error() != tc.wantError {
					t.Errorf("error:\n got %q\nwant %q", e.Error(), tc.wantError)
				}
				var got []string
				for _, ch := range e.Choices {
					got = append(got, ch.ID)
					if ch.Reason == "" {
						t.Errorf("choice %s has no reason", ch.ID)
					}
				}
				if strings.Join(got, ",") != strings.Join(tc.wantChoice, ",") {
					t.Errorf("choices = %v, want %v", got, tc.wantChoice)
				}
				if d.Field.ID != "" {
					t.Errorf("a field was chosen despite the error: %s", d.Field.ID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if d.Field.ID != tc.wantField || !d.Field.Writable {
				t.Fatalf("chose %s (writable %v), want %s; candidates: %+v", d.Field.ID, d.Field.Writable, tc.wantField, d.Candidates)
			}
			if !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.wantReason)
			}
			if d.Candidates[0].ID != d.Field.ID {
				t.Errorf("candidates not best first: %+v", d.Candidates)
			}
		})
	}
}

// TestDiscoverExcludesAggregateAndTimeTracking checks that number fields that are not story
// points never become candidates.
func TestDiscoverExcludesAggregateAndTimeTracking(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_company_managed_story_points.json")
	f.issue("API-12", "API", "Story", "false")
	f.editmeta("API-12", "fields_company_managed_story_points.json", "summary", "timeoriginalestimate", "customfield_10026", "customfield_10037")
	d, err := f.client(t).Discover(context.Background(), "API-12", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Candidates {
		switch c.ID {
		case "timeoriginalestimate", "aggregatetimeoriginalestimate", "workratio", "customfield_10037", "customfield_10027":
			t.Errorf("%s (%s) should not be a candidate", c.ID, c.Name)
		}
	}
	if len(d.Candidates) != 1 {
		t.Errorf("candidates = %+v, want only Story Points", d.Candidates)
	}
}

// TestDiscoverCachesPerProjectAndType checks that a second issue of the same project and type
// reuses the decision, and another type decides again.
func TestDiscoverCachesPerProjectAndType(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_company_managed_story_points.json")
	f.issue("API-12", "API", "Story", "false")
	f.issue("API-13", "API", "Story", "false")
	f.issue("API-14", "API", "Bug", "false")
	for _, k := range []string{"API-12", "API-13", "API-14"} {
		f.editmeta(k, "fields_company_managed_story_points.json", "summary", "customfield_10026")
	}
	c := f.client(t)
	ctx := context.Background()
	if d, err := c.Discover(ctx, "API-12", 0); err != nil || d.Cached {
		t.Fatalf("first: cached=%v err=%v", d.Cached, err)
	}
	d, err := c.Discover(ctx, "API-13", 0)
	if err != nil || !d.Cached || d.Issue != "API-13" || d.Field.ID != "customfield_10026" {
		t.Fatalf("second: %+v err=%v", d, err)
	}
	if n := f.count("GET /rest/api/2/issue/API-13/editmeta"); n != 0 {
		t.Errorf("editmeta of API-13 asked %d times, want 0", n)
	}
	if d, err := c.Discover(ctx, "API-14", 0); err != nil || d.Cached {
		t.Fatalf("other type: cached=%v err=%v", d.Cached, err)
	}
	if n := f.count("GET /rest/api/2/field"); n != 1 {
		t.Errorf("fields asked %d times, want 1", n)
	}
}

// TestRememberChoice checks that the organizer's pick settles a tie for the whole project and
// type, and that a pick must be a number field of the site.
func TestRememberChoice(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_ambiguous_two_story_points.json")
	for _, k := range []string{"API-12", "API-13"} {
		f.issue(k, "API", "Story", "false")
		f.editmeta(k, "fields_ambiguous_two_story_points.json", "summary", "customfield_10200", "customfield_10201")
	}
	c := f.client(t)
	ctx := context.Background()
	_, err := c.Discover(ctx, "API-12", 0)
	asError(t, err, session.CodeConflict)

	for _, bad := range []string{"customfield_99999", "summary"} {
		asError(t, c.RememberChoice(ctx, "API-12", bad), session.CodeInvalid)
	}
	if err := c.RememberChoice(ctx, "API-12", "customfield_10201"); err != nil {
		t.Fatalf("RememberChoice: %v", err)
	}
	d, err := c.Discover(ctx, "API-13", 0)
	if err != nil {
		t.Fatalf("after choice: %v", err)
	}
	if d.Field.ID != "customfield_10201" || !strings.Contains(d.Reason, "picked by the organizer") {
		t.Errorf("chose %s because %q", d.Field.ID, d.Reason)
	}
}

// TestDecisionsShared checks that clients sharing a Decisions cache share the organizer's pick.
func TestDecisionsShared(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_ambiguous_two_story_points.json")
	f.issue("API-12", "API", "Story", "false")
	f.editmeta("API-12", "fields_ambiguous_two_story_points.json", "summary", "customfield_10200", "customfield_10201")
	shared := NewDecisions()
	cfg := Config{BaseURL: f.srv.URL, Email: testEmail, APIToken: testToken, Decisions: shared}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.RememberChoice(ctx, "API-12", "customfield_10200"); err != nil {
		t.Fatal(err)
	}
	d, err := b.Discover(ctx, "API-12", 0)
	if err != nil || d.Field.ID != "customfield_10200" {
		t.Fatalf("other client chose %s, err %v", d.Field.ID, err)
	}
}

func TestDiscoverRejectsBadKeys(t *testing.T) {
	c := newFake(t).client(t)
	for _, key := range []string{"", "API", "API-12/../../x", "a b-1"} {
		t.Run(key, func(t *testing.T) {
			_, err := c.Discover(context.Background(), key, 0)
			asError(t, err, session.CodeInvalid)
		})
	}
}

func TestNormalizeName(t *testing.T) {
	cases := map[string]string{
		"Story Points":         "story points",
		"Story-Points":         "story points",
		"  story_points ":      "story points",
		"Story point estimate": "story point estimate",
		"SP":                   "sp",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := normalizeName(in); got != want {
				t.Errorf("normalizeName(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestNameScoreVariants(t *testing.T) {
	cases := []struct {
		name, untranslated string
		want               int
	}{
		{"Story Points", "Story Points", scoreName},
		{"Story point estimate", "", scoreName},
		{"Story-Punkte", "Story Points", scoreName},
		{"Story Points", "Risk Points", scoreTranslatedName},
		{"Story-Points", "", scoreName},
		{"Story Point", "", scoreVariant},
		{"SP", "SP", scoreVariant},
		{"Points", "", scoreVariant},
		{"Estimate", "", scoreVariant},
		{"Schätzung", "Estimate", scoreVariant},
		{"Business Value", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.untranslated, func(t *testing.T) {
			got, _ := nameScore(fieldInfo{Name: tc.name, UntranslatedName: tc.untranslated})
			if got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}
