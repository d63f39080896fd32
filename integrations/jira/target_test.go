package jira

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// sizeSite serves a company-managed site whose story-points number field is not on API-12's
// edit screen, while a single-select field "T-shirt size" is, with the given options.
func sizeSite(t *testing.T, options ...string) *fakeJira {
	t.Helper()
	f := newFake(t)
	var fields []map[string]any
	if err := json.Unmarshal([]byte(fixture(t, "fields_company_managed_story_points.json")), &fields); err != nil {
		t.Fatal(err)
	}
	size := map[string]any{"id": "customfield_10050", "key": "customfield_10050", "name": "T-shirt size", "custom": true,
		"schema": map[string]any{"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select", "customId": 10050}}
	fields = append(fields, size)
	raw, _ := json.Marshal(fields)
	f.json("GET", "/rest/api/2/field", 200, string(raw))
	f.issue("API-12", "API", "Story", "false")
	allowed := []map[string]any{}
	for i, o := range options {
		allowed = append(allowed, map[string]any{"self": f.srv.URL + "/rest/api/2/customFieldOption/1002" + string(rune('0'+i)), "value": o, "id": "1002" + string(rune('0'+i)), "disabled": false})
	}
	meta := map[string]any{"fields": map[string]any{
		"summary": map[string]any{"required": true, "schema": map[string]any{"type": "string", "system": "summary"}, "name": "Summary", "key": "summary", "operations": []string{"set"}},
		"customfield_10050": map[string]any{"required": false, "schema": size["schema"], "name": "T-shirt size", "key": "customfield_10050",
			"operations": []string{"set"}, "allowedValues": allowed},
	}}
	raw, _ = json.Marshal(meta)
	f.json("GET", "/rest/api/2/issue/API-12/editmeta", 200, string(raw))
	return f
}

// A T-shirt deck writes its card to a select field that has it as an option.
func TestWriteEstimateSelectField(t *testing.T) {
	f := sizeSite(t, "XS", "S", "M", "L", "XL")
	res, err := f.client(t).WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "m", Deck: tshirt})
	if err != nil {
		t.Fatal(err)
	}
	got := f.putsFor("API-12")
	if len(got) != 1 || !reflect.DeepEqual(got[0]["fields"], map[string]any{"customfield_10050": map[string]any{"value": "M"}}) {
		t.Errorf("puts = %v", got)
	}
	if res.Detail != "T-shirt size (customfield_10050) set to M on API-12" || res.Target[TargetField] != "customfield_10050" {
		t.Errorf("result = %+v", res)
	}
}

// Options named otherwise are reached through the values option; without it the message names
// the select field, its options and the values option, not a number field to add.
func TestWriteEstimateSelectFieldNeedsValues(t *testing.T) {
	f := sizeSite(t, "Small", "Medium", "Large")
	c := f.client(t)
	ctx := context.Background()
	_, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "M", Deck: tshirt})
	e := asError(t, err, session.CodeInvalid)
	for _, want := range []string{"select field T-shirt size (customfield_10050)", "Small, Medium, Large", "values", "M=Small"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	if strings.Contains(e.Message, "Story Points (customfield_10026)") || len(f.putsFor("API-12")) != 0 {
		t.Errorf("the message names the number field, or something was written: %q", e.Message)
	}
	res, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "M", Deck: tshirt,
		Options: map[string]string{OptionValues: "S=Small, M=Medium, L=Large"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.putsFor("API-12"); len(got) != 1 || !reflect.DeepEqual(got[0]["fields"], map[string]any{"customfield_10050": map[string]any{"value": "Medium"}}) {
		t.Errorf("puts = %v (%s)", got, res.Detail)
	}
}

// A board that estimates by Original time estimate refuses story points, naming the board
// setting, instead of writing them to a field the board does not show.
func TestWriteEstimateBoardEstimatesByTime(t *testing.T) {
	f := companySite(t)
	board := strings.Replace(fixture(t, "board_configuration_docs_example.json"), `"fieldId": "customfield_10002"`, `"fieldId": "timeoriginalestimate"`, 1)
	board = strings.Replace(board, `"displayName": "Story Points"`, `"displayName": "Original Time Estimate"`, 1)
	if !strings.Contains(board, "timeoriginalestimate") {
		t.Fatal("the fixture changed shape")
	}
	f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, board)
	c := f.client(t)
	_, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: session.WriteTarget{"board": "84"}})
	e := asError(t, err, session.CodeInvalid)
	for _, want := range []string{"board 84 (Board)", "Original estimate (timeoriginalestimate)", "Board settings → Estimation", "Story points"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	if len(f.putsFor("API-12")) != 0 {
		t.Error("story points were written although the board estimates by time")
	}
	if retry, _ := session.Retryable(err); retry {
		t.Error("a board setting is not worth a retry")
	}
	// The same issue written without the board works as before.
	if _, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5"}); err != nil {
		t.Errorf("without the board: %v", err)
	}
}

// The field written before for a story stays the field: when it leaves the edit screen the
// write fails, rather than writing another field and showing synced.
func TestWriteEstimateKeepsTheStoredField(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
	f.issue("API-12", "API", "Story", "false")
	f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016")
	c := f.client(t)
	stored := session.WriteTarget{"field": "customfield_10026", "project": "API", "issue_type": "Story"}
	_, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: stored})
	e := asError(t, err, session.CodeInvalid)
	if !strings.Contains(e.Message, "customfield_10026") || len(f.putsFor("API-12")) != 0 {
		t.Errorf("message %q, puts %v", e.Message, f.putsFor("API-12"))
	}
	// The organizer's pick still wins over what was stored.
	res, err := c.WriteEstimate(context.Background(), "API-12", session.WriteBack{Value: "5", Target: stored,
		Options: map[string]string{OptionField: "customfield_10016"}})
	if err != nil || res.Target[TargetField] != "customfield_10016" {
		t.Errorf("with the organizer's pick: %+v, %v", res, err)
	}
}

// pokor check jira board:84 says how the board estimates: by time it is a failed fact naming
// the board setting; by a field, the field is checked on one of the board's issues.
func TestCheckBoard(t *testing.T) {
	board := fixture(t, "board_configuration_docs_example.json")
	timeBoard := strings.Replace(board, `"fieldId": "customfield_10002"`, `"fieldId": "timeoriginalestimate"`, 1)
	cases := []struct {
		name, board string
		ok          bool
		fact        string
	}{
		{"by time", timeBoard, false, "Board settings → Estimation → Estimation statistic"},
		{"by a field", strings.Replace(board, "customfield_10002", "customfield_10026", 1), true, "Story Points (customfield_10026)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
			f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, tc.board)
			f.json("GET", "/rest/api/2/filter/1001", 200, `{"id":"1001","jql":"project = API ORDER BY Rank ASC"}`)
			var seen []url.Values
			serveEnhancedSearch(t, f, &seen)
			f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016", "customfield_10026")
			ch, err := f.client(t).Check(context.Background(), "board:84")
			if err != nil {
				t.Fatal(err)
			}
			got := facts(t, ch)
			if ch.OK != tc.ok || !strings.Contains(got["board"].Text+got["story-points field"].Text, tc.fact) {
				t.Errorf("check = %+v", ch)
			}
			if v, _ := got["board"].Value.(map[string]any); v["id"] != 84 {
				t.Errorf("the board fact's value = %#v", got["board"].Value)
			}
		})
	}
}
