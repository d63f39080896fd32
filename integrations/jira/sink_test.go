package jira

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

var tshirt = []string{"XS", "S", "M", "L", "XL", "?", "☕"}

func TestEstimatePoints(t *testing.T) {
	cases := []struct {
		name    string
		est     session.WriteBack
		want    float64
		shown   string
		wantErr string // the exact error when refused
	}{
		{name: "integer", est: session.WriteBack{Value: "5"}, want: 5, shown: "5"},
		{name: "fraction", est: session.WriteBack{Value: "0.5"}, want: 0.5, shown: "0.5"},
		{name: "half card", est: session.WriteBack{Value: "½"}, want: 0.5, shown: "0.5"},
		{name: "zero", est: session.WriteBack{Value: "0"}, want: 0, shown: "0"},
		{name: "T-shirt XS", est: session.WriteBack{Value: "XS", Deck: tshirt}, want: 1, shown: "1 (card XS)"},
		{name: "T-shirt M", est: session.WriteBack{Value: "M", Deck: tshirt}, want: 3, shown: "3 (card M)"},
		{name: "T-shirt XL", est: session.WriteBack{Value: "XL", Deck: tshirt}, want: 8, shown: "8 (card XL)"},
		{name: "T-shirt case-insensitive", est: session.WriteBack{Value: "l", Deck: tshirt}, want: 5, shown: "5 (card l)"},
		{name: "explicit values win", est: session.WriteBack{Value: "M", Deck: tshirt, Options: map[string]string{"values": "XS=0.5, S=1, M=2, L=4, XL=8"}}, want: 2, shown: "2 (card M)"},
		{
			name: "question mark", est: session.WriteBack{Value: "?", Deck: tshirt},
			wantErr: `jira: "?" means the team is unsure, which is not an estimate: re-vote or accept a number before writing to Jira`,
		},
		{
			name: "coffee", est: session.WriteBack{Value: "☕"},
			wantErr: `jira: "☕" asks for a break, which is not an estimate: re-vote or accept a number before writing to Jira`,
		},
		{
			name: "word in a mixed deck", est: session.WriteBack{Value: "M", Deck: []string{"1", "2", "M"}},
			wantErr: `jira: card "M" has no number: the deck mixes numbers and words, so Pokor will not guess. Accept a number, or map the words in the session's Jira settings (values such as XS=1,S=2,M=3)`,
		},
		{
			name: "infinity", est: session.WriteBack{Value: "∞", Deck: []string{"1", "2", "∞"}},
			wantErr: `jira: card "∞" has no number: the deck mixes numbers and words, so Pokor will not guess. Accept a number, or map the words in the session's Jira settings (values such as XS=1,S=2,M=3)`,
		},
		{
			name: "card not in deck", est: session.WriteBack{Value: "XXL", Deck: tshirt},
			wantErr: `jira: card "XXL" is not in the session's deck (XS, S, M, L, XL, ?, ☕)`,
		},
		{
			name: "unknown deck", est: session.WriteBack{Value: "M"},
			wantErr: `jira: card "M" is not a number and the session's deck is unknown, so Pokor will not guess its story points`,
		},
		{
			name: "negative", est: session.WriteBack{Value: "-3"},
			wantErr: `jira: "-3" cannot be written as story points: Jira needs a finite number of zero or more`,
		},
		{
			name: "bad values option", est: session.WriteBack{Value: "M", Options: map[string]string{"values": "M=three"}},
			wantErr: `jira: the Jira values "M=three" are not a list such as XS=1,S=2,M=3: "M=three" does not read as card=number`,
		},
		{name: "empty", est: session.WriteBack{Value: " "}, wantErr: "jira: there is no accepted estimate to write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, shown, err := estimatePoints(tc.est)
			if tc.wantErr != "" {
				e := asError(t, err, session.CodeInvalid)
				if e.Error() != tc.wantErr {
					t.Errorf("error:\n got %q\nwant %q", e.Error(), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || shown != tc.shown {
				t.Errorf("= %v %q, want %v %q", got, shown, tc.want, tc.shown)
			}
		})
	}
}

// companySite serves a company-managed issue API-12 whose Story Points field is editable.
func companySite(t *testing.T) *fakeJira {
	t.Helper()
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_company_managed_story_points.json")
	f.issue("API-12", "API", "Story", "false")
	f.editmeta("API-12", "fields_company_managed_story_points.json", "summary", "customfield_10026")
	return f
}

func TestWriteEstimateSetsField(t *testing.T) {
	f := companySite(t)
	c := f.client(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		res, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "M", Deck: tshirt})
		if err != nil {
			t.Fatal(err)
		}
		if res.Detail != "Story Points (customfield_10026) set to 3 (card M) on API-12" {
			t.Errorf("detail = %q", res.Detail)
		}
	}
	puts := f.putsFor("API-12")
	if len(puts) != 2 {
		t.Fatalf("puts = %v", puts)
	}
	for _, p := range puts {
		fields, _ := p["fields"].(map[string]any)
		if len(p) != 1 || len(fields) != 1 || fields["customfield_10026"] != 3.0 {
			t.Errorf("body = %v, want {\"fields\":{\"customfield_10026\":3}}", p)
		}
	}
}

func TestWriteEstimateRefusesWithoutRequest(t *testing.T) {
	f := companySite(t)
	_, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "?", Deck: tshirt})
	asError(t, err, session.CodeInvalid)
	f.mu.Lock()
	n := len(f.calls)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d requests sent for a refused card", n)
	}
}

// TestWriteEstimateChoice checks that a tie asks the organizer, and that the pick passed as
// the "field" option is written and remembered.
func TestWriteEstimateChoice(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_ambiguous_two_story_points.json")
	for _, k := range []string{"API-12", "API-13"} {
		f.issue(k, "API", "Story", "false")
		f.editmeta(k, "fields_ambiguous_two_story_points.json", "summary", "customfield_10200", "customfield_10201")
	}
	c := f.client(t)
	ctx := context.Background()

	_, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Options: map[string]string{"comment_fallback": "true"}})
	e := asError(t, err, session.CodeConflict)
	if len(e.Choices) != 2 || len(f.putsFor("API-12")) != 0 || len(f.commentsFor("API-12")) != 0 {
		t.Fatalf("choices %v, puts %v, comments %v", e.Choices, f.putsFor("API-12"), f.commentsFor("API-12"))
	}
	if retry, _ := session.Retryable(err); retry {
		t.Error("a choice must not be retried")
	}

	res, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Options: map[string]string{"field": e.Choices[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Detail, "customfield_10201") {
		t.Errorf("detail = %q", res.Detail)
	}
	if _, err := c.WriteEstimate(ctx, "API-13", session.WriteBack{Value: "3"}); err != nil {
		t.Fatalf("the pick was not remembered: %v", err)
	}
	if p := f.putsFor("API-13"); len(p) != 1 || p[0]["fields"].(map[string]any)["customfield_10201"] != 3.0 {
		t.Errorf("puts = %v", p)
	}

	_, err = c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Options: map[string]string{"field": "customfield_404"}})
	asError(t, err, session.CodeInvalid)
}

// TestWriteEstimateNothingWritable checks the admin guidance, and the comment fallback that
// adds the estimate once however often the outbox delivers.
func TestWriteEstimateNothingWritable(t *testing.T) {
	cases := []struct {
		name       string
		fields     string
		project    string
		simplified string
		wantErr    string
	}{
		{
			name: "team-managed", fields: "fields_team_managed_only.json", project: "TEAM", simplified: "true",
			wantErr: "jira: no story-points field can be set on TEAM-1. TEAM is a team-managed project: a project admin must turn on Estimation in Project settings → Features, then try again.",
		},
		{
			name: "company-managed", fields: "fields_company_managed_story_points.json", project: "TEAM", simplified: "false",
			wantErr: "jira: no story-points field can be set on TEAM-1. TEAM is a company-managed project: a Jira admin must add the field Story Points (customfield_10026) to the project's edit screen for Story issues, then try again.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.file("GET", "/rest/api/2/field", tc.fields)
			f.issue("TEAM-1", tc.project, "Story", tc.simplified)
			f.file("GET", "/rest/api/2/issue/TEAM-1/editmeta", "editmeta_without_story_points.json")
			c := f.client(t)
			ctx := context.Background()

			_, err := c.WriteEstimate(ctx, "TEAM-1", session.WriteBack{Value: "5"})
			e := asError(t, err, session.CodeInvalid)
			if e.Error() != tc.wantErr {
				t.Errorf("error:\n got %q\nwant %q", e.Error(), tc.wantErr)
			}
			if retry, _ := session.Retryable(err); retry {
				t.Error("guidance must not be retried")
			}

			est := session.WriteBack{Value: "5", SessionTitle: "Sprint 42", SessionURL: "https://pokor.example.com/s/abc",
				Options: map[string]string{"comment_fallback": "true"}}
			for i := 0; i < 2; i++ {
				res, err := c.WriteEstimate(ctx, "TEAM-1", est)
				if err != nil {
					t.Fatalf("with fallback: %v", err)
				}
				if !strings.Contains(res.Detail, "TEAM-1") || !strings.Contains(res.Detail, "no field could be set") {
					t.Errorf("detail = %q", res.Detail)
				}
			}
			want := `Pokor estimate: 5 story points, agreed in "Sprint 42" (https://pokor.example.com/s/abc).`
			if got := f.commentsFor("TEAM-1"); len(got) != 1 || got[0] != want {
				t.Errorf("comments = %q, want one %q", got, want)
			}
			if len(f.putsFor("TEAM-1")) != 0 {
				t.Error("a field was written although none is writable")
			}
		})
	}
}

// TestWriteEstimateScreenChanged checks Jira's 400 for a field removed from the screen after
// the decision: the message names the field and the fix, and the next attempt looks again.
func TestWriteEstimateScreenChanged(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_team_managed_only.json")
	f.issue("API-12", "API", "Story", "false")
	f.file("GET", "/rest/api/2/issue/API-12/editmeta", "editmeta_story_point_estimate.json")
	f.json("PUT", "/rest/api/2/issue/API-12", 400, fixture(t, "error_field_not_on_screen.json"))
	c := f.client(t)
	ctx := context.Background()

	_, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5"})
	e := asError(t, err, session.CodeInvalid)
	want := "jira: field customfield_10016 is not on the edit screen of API-12 (Jira says: Field 'customfield_10016' cannot be set. It is not on the appropriate screen, or unknown.). " +
		"API is a company-managed project: a Jira admin must add the field Story point estimate (customfield_10016) to the project's edit screen for Story issues, then try again."
	if e.Error() != want {
		t.Errorf("error:\n got %q\nwant %q", e.Error(), want)
	}
	before := f.count("GET /rest/api/2/issue/API-12/editmeta")
	_, _ = c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5"})
	if f.count("GET /rest/api/2/issue/API-12/editmeta") != before+1 {
		t.Error("the failed decision was not forgotten")
	}
}

// TestWriteEstimateStatusMapping checks how each documented answer of the edit endpoint maps
// to a kind, and that Jira's messages reach the organizer.
func TestWriteEstimateStatusMapping(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       session.Code
		retry      bool
		retryAfter time.Duration
		contains   string
	}{
		{name: "400 with errorMessages", status: 400, body: fixture(t, "error_message_docs_example.json"),
			kind: session.CodeInvalid, contains: "jira: could not set Story Points (customfield_10026) on API-12 (Jira says: Field 'priority' is required)"},
		{name: "400 with field errors", status: 400, body: fixture(t, "error_field_errors_docs_example.json"),
			kind: session.CodeInvalid, contains: "(Jira says: title: 'title' is required.)"},
		{name: "400 with a value Jira refuses", status: 400, body: `{"errorMessages":[],"errors":{"customfield_10026":"Operation value must be a number"}}`,
			kind: session.CodeInvalid, contains: "jira: Jira refused 5 for Story Points (customfield_10026) on API-12 (Jira says: Operation value must be a number)"},
		{name: "401", status: 401, body: `{"errorMessages":["You are not authenticated."],"errors":{}}`,
			kind: session.CodeForbidden, contains: "Jira refused the API token (401): check the email and the API token"},
		{name: "403", status: 403, body: `{"errorMessages":["You do not have permission to edit issues in this project."],"errors":{}}`,
			kind: session.CodeForbidden, contains: "not allowed to (403) (Jira says: You do not have permission to edit issues in this project.)"},
		{name: "404", status: 404, body: fixture(t, "error_issue_not_found.json"),
			kind: session.CodeNotFound, contains: "(Jira says: Issue does not exist or you do not have permission to see it.)"},
		{name: "409", status: 409, body: `{"errorMessages":["Conflict"],"errors":{}}`,
			kind: session.CodeUnavailable, retry: true, contains: "(409)"},
		{name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "30"}, body: "",
			kind: session.CodeUnavailable, retry: true, retryAfter: 30 * time.Second, contains: "retry after 30s"},
		{name: "500", status: 500, body: "<html>Oops</html>",
			kind: session.CodeUnavailable, retry: true, contains: "Jira is unavailable (500)"},
		{name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "120"}, body: "",
			kind: session.CodeUnavailable, retry: true, retryAfter: 2 * time.Minute, contains: "(503)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := companySite(t)
			f.handle("PUT", "/rest/api/2/issue/API-12", func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tc.status, tc.body)
			})
			_, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5"})
			e := asError(t, err, tc.kind)
			if !strings.Contains(e.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", e.Error(), tc.contains)
			}
			retry, after := session.Retryable(err)
			if retry != tc.retry || after != tc.retryAfter {
				t.Errorf("Retryable = %v %v, want %v %v", retry, after, tc.retry, tc.retryAfter)
			}
			if strings.Contains(e.Error(), "<html>") {
				t.Errorf("an HTML body leaked into the message: %q", e.Error())
			}
		})
	}
}

func TestWriteEstimateUnreachable(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	f.srv.Close()
	_, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5"})
	e := asError(t, err, session.CodeUnavailable)
	if retry, _ := session.Retryable(err); !retry {
		t.Error("a network failure must be retried")
	}
	if !strings.Contains(e.Message, "cannot reach 127.0.0.1") {
		t.Errorf("message = %q", e.Message)
	}
}
