package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
)

// estimationEndpoint is Jira Software's PUT /rest/agile/1.0/issue/{key}/estimation as
// documented: it sets the board's estimation field whatever the edit screen holds, and answers
// the documented FieldValueBean {"fieldId": …, "value": "5.0"}.
type estimationEndpoint struct {
	mu     sync.Mutex
	field  string            // the field the board estimates with
	values map[string]string // issue key → value set
	calls  int
	fail   []int // statuses to answer first, one per call
	answer func(key, value string) string
}

func (e *estimationEndpoint) serve(f *fakeJira, key string) {
	f.handle("PUT", "/rest/agile/1.0/issue/"+key+"/estimation", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.calls++
		if len(e.fail) > 0 {
			status := e.fail[0]
			e.fail = e.fail[1:]
			writeJSON(w, status, `{"errorMessages":["Jira is temporarily unavailable"],"errors":{}}`)
			return
		}
		if r.URL.Query().Get("boardId") != "84" {
			writeJSON(w, http.StatusBadRequest, `{"errorMessages":["boardId is required"],"errors":{}}`)
			return
		}
		var body struct {
			Value string `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Value == "" {
			writeJSON(w, http.StatusBadRequest, `{"errorMessages":["The value is in a wrong format."],"errors":{}}`)
			return
		}
		if e.values == nil {
			e.values = map[string]string{}
		}
		e.values[key] = body.Value
		if e.answer != nil {
			writeJSON(w, http.StatusOK, e.answer(key, body.Value))
			return
		}
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"fieldId":%q,"value":"%s.0"}`, e.field, body.Value))
	})
}

func (e *estimationEndpoint) state() (int, map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]string{}
	for k, v := range e.values {
		out[k] = v
	}
	return e.calls, out
}

// boardSite is a Cloud site with both story-points fields, board 84 estimating with
// customfield_10026 (Story Points), and issue API-12 whose edit screen shows only
// customfield_10016 — the field the board reads is not on the screen.
func boardSite(t *testing.T, estimation string) (*fakeJira, *estimationEndpoint) {
	t.Helper()
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
	f.issue("API-12", "API", "Story", "false")
	f.json("GET", "/rest/api/2/project/API", 200, `{"id":"10000","key":"API","name":"API","projectTypeKey":"software","simplified":false,"style":"classic"}`)
	f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016")
	board := strings.Replace(fixture(t, "board_configuration_docs_example.json"), "customfield_10002", estimation, 1)
	f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, board)
	e := &estimationEndpoint{field: estimation}
	e.serve(f, "API-12")
	return f, e
}

var fromBoard = session.WriteTarget{TargetBoard: "84"}

// TestBoardEstimationWritesFieldNotOnScreen: Atlassian documents that the endpoint "changes the
// estimation field of the issue regardless of appearance the field on the screen". A story from
// board 84 gets its points in the board's field although PUT /issue could not set it.
func TestBoardEstimationWritesFieldNotOnScreen(t *testing.T) {
	f, e := boardSite(t, "customfield_10026")
	c := f.client(t)
	ctx := context.Background()

	res, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Target: fromBoard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Detail != "Story Points (customfield_10026) set to 5 on API-12" {
		t.Errorf("detail = %q", res.Detail)
	}
	if res.Target[TargetBoard] != "84" || res.Target[TargetField] != "customfield_10026" {
		t.Errorf("target = %v", res.Target)
	}
	calls, values := e.state()
	if calls != 1 || values["API-12"] != "5" {
		t.Fatalf("estimation endpoint: %d calls, values %v", calls, values)
	}
	if len(f.putsFor("API-12")) != 0 {
		t.Error("the issue was also written through its edit screen")
	}

	// After a restart: a new client, the story's stored target, the same board field.
	c2 := f.client(t)
	if _, err := c2.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "M", Deck: tshirt, Target: res.Target}); err != nil {
		t.Fatal(err)
	}
	if _, values = e.state(); values["API-12"] != "3" {
		t.Fatalf("after restart the board field holds %q, want 3 (card M)", values["API-12"])
	}
	if len(f.putsFor("API-12")) != 0 {
		t.Error("after restart the issue was written through its edit screen")
	}

	// A story not from a board never uses the endpoint: discovery picks the screen's field.
	before, _ := e.state()
	if _, err := c2.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "8"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := e.state(); after != before {
		t.Error("a story without a board went through the board endpoint")
	}
	if puts := f.putsFor("API-12"); len(puts) != 1 || puts[0]["fields"].(map[string]any)["customfield_10016"] != 8.0 {
		t.Errorf("puts = %v", puts)
	}
}

// TestBoardEstimationRetriedOnce: an outage of the endpoint is retryable, and the retry lands
// the value once.
func TestBoardEstimationRetriedOnce(t *testing.T) {
	f, e := boardSite(t, "customfield_10026")
	e.fail = []int{503}
	c := f.client(t)
	ctx := context.Background()
	_, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Target: fromBoard})
	if retry, _ := session.Retryable(err); !retry {
		t.Fatalf("503 from the endpoint: %v, want a retryable error", err)
	}
	if _, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "5", Target: fromBoard}); err != nil {
		t.Fatal(err)
	}
	calls, values := e.state()
	if calls != 2 || values["API-12"] != "5" || len(f.putsFor("API-12")) != 0 {
		t.Fatalf("calls %d, values %v, puts %v", calls, values, f.putsFor("API-12"))
	}
}

// TestBoardEstimationMissingEndpoint: Jira Data Center without the endpoint answers 404; the
// board's field is then set through the edit screen when it is there, and the failure names the
// screen when it is not.
func TestBoardEstimationMissingEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		onScreen bool
		wantErr  string
	}{
		{name: "field on the screen", onScreen: true},
		{name: "field not on the screen", wantErr: "jira: the board 84 estimates with Story Points (customfield_10026), which cannot be set on API-12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := boardSite(t, "customfield_10026")
			f.json("PUT", "/rest/agile/1.0/issue/API-12/estimation", 404, `{"errorMessages":["null for uri: /rest/agile/1.0/issue/API-12/estimation"],"errors":{}}`)
			if tc.onScreen {
				f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016", "customfield_10026")
			}
			c := f.client(t)
			res, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: fromBoard})
			if tc.wantErr != "" {
				e := asError(t, err, session.CodeInvalid)
				if !strings.HasPrefix(e.Error(), tc.wantErr) {
					t.Fatalf("error = %q, want %q…", e.Error(), tc.wantErr)
				}
				if len(f.putsFor("API-12")) != 0 {
					t.Error("a field was written")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			puts := f.putsFor("API-12")
			if len(puts) != 1 || puts[0]["fields"].(map[string]any)["customfield_10026"] != 5.0 {
				t.Fatalf("puts = %v", puts)
			}
			if res.Detail != "Story Points (customfield_10026) set to 5 on API-12" || res.Target[TargetField] != "customfield_10026" {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

// TestBoardEstimationNotUsed: a board estimating by time is refused before any write (the
// endpoint would take 5 as five minutes), and an organizer's other field wins over the board.
func TestBoardEstimationNotUsed(t *testing.T) {
	f, e := boardSite(t, "timeoriginalestimate")
	_, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: fromBoard})
	if e := asError(t, err, session.CodeInvalid); !strings.Contains(e.Error(), "a time-tracking field") {
		t.Fatalf("time board: %v", err)
	}
	if calls, _ := e.state(); calls != 0 || len(f.putsFor("API-12")) != 0 {
		t.Fatal("a board estimating by time was written")
	}

	f, e = boardSite(t, "customfield_10026")
	pick := session.WriteBack{Value: "5", Target: fromBoard, Options: map[string]string{OptionField: "customfield_10016"}}
	if _, err := f.client(t).WriteEstimate(context.Background(), "API-12", pick); err != nil {
		t.Fatal(err)
	}
	if calls, _ := e.state(); calls != 0 {
		t.Error("the organizer's field was bypassed by the board endpoint")
	}
	if puts := f.putsFor("API-12"); len(puts) != 1 || puts[0]["fields"].(map[string]any)["customfield_10016"] != 5.0 {
		t.Errorf("puts = %v", puts)
	}
}

// TestBoardEstimationAnswerChecked: an answer that does not show the value in the board's
// field is never a success.
func TestBoardEstimationAnswerChecked(t *testing.T) {
	for _, tc := range []struct {
		name, answer, want string
	}{
		{name: "another field", answer: `{"fieldId":"customfield_10016","value":"5.0"}`,
			want: "jira: Jira wrote the estimate of API-12 to customfield_10016, not to Story Points (customfield_10026)"},
		{name: "another value", answer: `{"fieldId":"customfield_10026","value":"3.0"}`,
			want: "jira: Jira accepted the estimate 5 for API-12 on board 84 but Story Points (customfield_10026) reads 3.0"},
		{name: "no value", answer: `{"fieldId":"customfield_10026","value":null}`,
			want: "jira: Jira accepted the estimate 5 for API-12 on board 84 but Story Points (customfield_10026) reads empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e := boardSite(t, "customfield_10026")
			e.answer = func(string, string) string { return tc.answer }
			_, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: fromBoard})
			if got := asError(t, err, session.CodeInvalid); !strings.HasPrefix(got.Error(), tc.want) {
				t.Fatalf("error = %q, want %q…", got.Error(), tc.want)
			}
		})
	}
	// Jira's own refusal (400) keeps its words.
	f, _ := boardSite(t, "customfield_10026")
	f.json("PUT", "/rest/agile/1.0/issue/API-12/estimation", 400, `{"errorMessages":["The value is in a wrong format."],"errors":{}}`)
	_, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: fromBoard})
	if got := asError(t, err, session.CodeInvalid); !strings.Contains(got.Error(), "The value is in a wrong format.") {
		t.Fatalf("400: %v", err)
	}
}

// TestCheckBoardEstimation: pokor check jira board:84 says that the board's stories are written
// through the endpoint, even with the field off the edit screen; without the endpoint it says
// so and checks the edit screen.
func TestCheckBoardEstimation(t *testing.T) {
	for _, withEndpoint := range []bool{true, false} {
		t.Run(fmt.Sprintf("endpoint %v", withEndpoint), func(t *testing.T) {
			f := newFake(t)
			f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
			f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, strings.Replace(fixture(t, "board_configuration_docs_example.json"), "customfield_10002", "customfield_10026", 1))
			f.json("GET", "/rest/api/2/filter/1001", 200, `{"id":"1001","jql":"project = API ORDER BY Rank ASC"}`)
			var seen []url.Values
			serveEnhancedSearch(t, f, &seen)
			f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016")
			if withEndpoint {
				f.json("GET", "/rest/agile/1.0/issue/API-12/estimation", 200, `{"fieldId":"customfield_10026","value":null}`)
			}
			ch, err := f.client(t).Check(context.Background(), "board:84")
			got := facts(t, ch)
			if withEndpoint {
				if err != nil || !ch.OK || !strings.Contains(got["write-back"].Text, "in Story Points (customfield_10026) through Jira Software's board estimation endpoint") {
					t.Fatalf("check: %v %+v", err, ch)
				}
				return
			}
			if !strings.Contains(got["board estimation endpoint"].Text, "not available here (404)") || ch.OK {
				t.Fatalf("check without the endpoint: %v %+v", err, ch)
			}
		})
	}
}
