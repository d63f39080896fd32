package jira

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		in      string
		jql     string
		project string
		board   int
		invalid bool
	}{
		{in: "API", jql: `project = "API" ORDER BY Rank ASC`, project: "API"},
		{in: " api ", jql: `project = "API" ORDER BY Rank ASC`, project: "API"},
		{in: "IN", jql: `project = "IN" ORDER BY Rank ASC`, project: "IN"},
		{in: "board:42", board: 42},
		{in: "board 42", board: 42},
		{in: "Board: 7", board: 7},
		{in: "project = API AND sprint in openSprints()", jql: "project = API AND sprint in openSprints()"},
		{in: `labels = ready ORDER BY key`, jql: `labels = ready ORDER BY key`},
		{in: "", invalid: true},
		{in: "   ", invalid: true},
		{in: "board:0", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			q, err := parseQuery(tc.in)
			if tc.invalid {
				asError(t, err, session.CodeInvalid)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.jql != tc.jql || q.project != tc.project || q.board != tc.board {
				t.Errorf("parseQuery(%q) = %+v", tc.in, q)
			}
		})
	}
}

func TestSplitOrderBy(t *testing.T) {
	cases := []struct{ in, where, order string }{
		{"project = API ORDER BY Rank ASC", "project = API", " ORDER BY Rank ASC"},
		{"project = API", "project = API", ""},
		{`summary ~ "order by" order by created`, `summary ~ "order by"`, " order by created"},
		{`summary ~ "x order by y"`, `summary ~ "x order by y"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			w, o := splitOrderBy(tc.in)
			if w != tc.where || o != tc.order {
				t.Errorf("splitOrderBy(%q) = %q, %q", tc.in, w, o)
			}
		})
	}
}

// serveEnhancedSearch serves /rest/api/3/search/jql from the two page fixtures, recording the
// queries it was asked.
func serveEnhancedSearch(t *testing.T, f *fakeJira, seen *[]url.Values) {
	t.Helper()
	page1, last := fixture(t, "search_jql_enhanced_page1.json"), fixture(t, "search_jql_enhanced_last_page.json")
	f.handle("GET", "/rest/api/3/search/jql", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		*seen = append(*seen, r.URL.Query())
		f.mu.Unlock()
		switch r.URL.Query().Get("nextPageToken") {
		case "":
			writeJSON(w, 200, page1)
		case "CAEaAggD":
			writeJSON(w, 200, last)
		default:
			writeJSON(w, 400, `{"errorMessages":["The provided next page token is invalid or expired."],"errors":{}}`)
		}
	})
}

func TestListCloudAllPages(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
	var seen []url.Values
	serveEnhancedSearch(t, f, &seen)
	c := f.client(t)
	ctx := context.Background()

	var items []session.ExternalStory
	cursor, pages := "", 0
	for {
		p, err := c.List(ctx, "project = API AND sprint in openSprints()", cursor)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if p.Total != -1 {
			t.Errorf("Total = %d, want -1 (the enhanced search does not count)", p.Total)
		}
		items = append(items, p.Stories...)
		pages++
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if pages != 2 || len(items) != 3 {
		t.Fatalf("pages = %d, items = %d, want 2 and 3", pages, len(items))
	}
	q := seen[0]
	if q.Get("jql") != "project = API AND sprint in openSprints()" {
		t.Errorf("jql = %q", q.Get("jql"))
	}
	if got := q.Get("fields"); got != "summary,description,issuetype,project,customfield_10016,customfield_10026" {
		t.Errorf("fields = %q", got)
	}
	if seen[1].Get("nextPageToken") != "CAEaAggD" {
		t.Errorf("second page token = %q", seen[1].Get("nextPageToken"))
	}

	want := []session.ExternalStory{
		{Key: "API-12", Title: "Export invoices as CSV", URL: f.srv.URL + "/browse/API-12", Type: "Story", Estimate: "5",
			Description: "Goal\n\nLet @Mia Krystof export invoices as CSV (https://en.wikipedia.org/wiki/Comma-separated_values).\nSecond line.\n\n- one column per field\n- UTF-8\n\ncurl -o out.csv /invoices\necho done"},
		{Key: "API-13", Title: "Fix rounding", URL: f.srv.URL + "/browse/API-13", Type: "Bug"},
		{Key: "API-14", Title: "Speed up search", URL: f.srv.URL + "/browse/API-14", Type: "Story", Estimate: "0.5", Description: "It is slow."},
	}
	for i, w := range want {
		if !reflect.DeepEqual(items[i], w) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, items[i], w)
		}
	}
}

func TestListProjectKey(t *testing.T) {
	f := newFake(t)
	f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
	f.json("GET", "/rest/api/2/project/API", 200, `{"id":"10000","key":"API","name":"API","projectTypeKey":"software","simplified":false,"style":"classic"}`)
	var seen []url.Values
	serveEnhancedSearch(t, f, &seen)
	p, err := f.client(t).List(context.Background(), "api", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := seen[0].Get("jql"); got != `project = "API" ORDER BY Rank ASC` {
		t.Errorf("jql = %q", got)
	}
	if len(p.Stories) != 2 || p.Next != "CAEaAggD" {
		t.Errorf("page = %+v", p)
	}
}

func TestListErrors(t *testing.T) {
	cases := []struct {
		name, query string
		setup       func(f *fakeJira)
		kind        session.Code
		wantMsg     string
	}{
		{
			name: "empty query", query: "",
			kind: session.CodeInvalid, wantMsg: "the query is empty",
		},
		{
			name: "unknown project", query: "NOPE",
			setup: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/project/NOPE", 404, `{"errorMessages":["No project could be found with key 'NOPE'."],"errors":{}}`)
			},
			kind: session.CodeNotFound, wantMsg: "jira: project NOPE does not exist on",
		},
		{
			name: "unknown board", query: "board:99",
			setup: func(f *fakeJira) {
				f.json("GET", "/rest/agile/1.0/board/99/configuration", 404, `{"errorMessages":["The requested board cannot be viewed because it either does not exist or you do not have permission to view it."],"errors":{}}`)
			},
			kind: session.CodeNotFound, wantMsg: "The requested board cannot be viewed",
		},
		{
			name: "JQL Jira rejects", query: "priority = ",
			setup: func(f *fakeJira) {
				f.file("GET", "/rest/api/2/field", "fields_docs_example.json")
				f.json("GET", "/rest/api/3/search/jql", 400, fixture(f.t, "error_message_docs_example.json"))
			},
			kind: session.CodeInvalid, wantMsg: "jira: could not search issues (Jira says: Field 'priority' is required)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			_, err := f.client(t).List(context.Background(), tc.query, "")
			e := asError(t, err, tc.kind)
			if !strings.Contains(e.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", e.Error(), tc.wantMsg)
			}
		})
	}
}

// TestListBoard checks that a board lists its filter's issues, narrowed by the kanban
// sub-filter, and that the write-back then uses the board's estimation field.
func TestListBoard(t *testing.T) {
	board := strings.Replace(fixture(t, "board_configuration_docs_example.json"), `"ranking"`,
		`"subQuery":{"query":"fixVersion in unreleasedVersions() OR fixVersion is EMPTY"},"ranking"`, 1)
	board = strings.Replace(board, "customfield_10002", "customfield_10026", 1)
	cases := []struct {
		name    string
		filter  func(f *fakeJira)
		wantJQL string
	}{
		{
			name: "filter readable",
			filter: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/filter/1001", 200, `{"self":"x","id":"1001","name":"Filter for API board","jql":"project = API ORDER BY Rank ASC"}`)
			},
			wantJQL: "(project = API) AND (fixVersion in unreleasedVersions() OR fixVersion is EMPTY) ORDER BY Rank ASC",
		},
		{
			name: "filter hidden from these credentials",
			filter: func(f *fakeJira) {
				f.json("GET", "/rest/api/2/filter/1001", 404, `{"errorMessages":["The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."],"errors":{}}`)
			},
			wantJQL: "(filter = 1001) AND (fixVersion in unreleasedVersions() OR fixVersion is EMPTY) ORDER BY Rank ASC",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.file("GET", "/rest/api/2/field", "fields_cloud_site_both_story_point_fields.json")
			f.json("GET", "/rest/agile/1.0/board/84/configuration", 200, board)
			tc.filter(f)
			var seen []url.Values
			serveEnhancedSearch(t, f, &seen)
			c := f.client(t)
			ctx := context.Background()
			p, err := c.List(ctx, "board 84", "")
			if err != nil {
				t.Fatal(err)
			}
			if got := seen[0].Get("jql"); got != tc.wantJQL {
				t.Errorf("jql = %q, want %q", got, tc.wantJQL)
			}
			if got := seen[0].Get("fields"); !strings.HasPrefix(got, "summary,description,issuetype,project,customfield_10026,") {
				t.Errorf("fields = %q, want the board's estimation field first", got)
			}
			if p.Stories[0].Estimate != "5" {
				t.Errorf("estimate = %q", p.Stories[0].Estimate)
			}

			// The story keeps the board it came from.
			if got := p.Stories[0].Target; !reflect.DeepEqual(got, session.WriteTarget{"board": "84"}) {
				t.Fatalf("target = %v, want the board", got)
			}

			// Both fields are editable; Jira Software's own field would win without the board.
			f.editmeta("API-12", "fields_cloud_site_both_story_point_fields.json", "summary", "customfield_10016", "customfield_10026")
			res, err := c.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "8", Target: p.Stories[0].Target})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.putsFor("API-12"); len(got) != 1 || got[0]["fields"].(map[string]any)["customfield_10026"] != 8.0 {
				t.Errorf("puts = %v (%s)", got, res.Detail)
			}
			if n := f.count("GET /rest/api/2/issue/API-12?"); n != 0 {
				t.Errorf("the imported issue was read again %d times", n)
			}
			want := session.WriteTarget{"board": "84", "field": "customfield_10026", "project": "API", "issue_type": "Story"}
			if !reflect.DeepEqual(res.Target, want) {
				t.Errorf("result target = %v, want %v", res.Target, want)
			}

			// After a restart (a new client, nothing in memory) the stored target still decides.
			f.issue("API-12", "API", "Story", "false")
			again := f.client(t)
			if _, err := again.WriteEstimate(ctx, "API-12", session.WriteBack{Value: "13", Target: res.Target}); err != nil {
				t.Fatal(err)
			}
			if got := f.putsFor("API-12"); len(got) != 2 || got[1]["fields"].(map[string]any)["customfield_10026"] != 13.0 {
				t.Errorf("after a restart puts = %v", got)
			}
		})
	}
}

// TestListDataCenter checks the v2 search with startAt paging under a context path, with a
// personal access token.
func TestListDataCenter(t *testing.T) {
	f := newFake(t)
	f.prefix = "/jira"
	f.wantAuth = "Bearer " + testPAT
	f.file("GET", "/rest/api/2/field", "fields_legacy_story_points_10002.json")
	f.json("GET", "/rest/api/2/project/OPS", 200, `{"id":"10000","key":"OPS","name":"Operations","projectTypeKey":"software"}`)
	page1, last := fixture(t, "search_v2_legacy_page1.json"), fixture(t, "search_v2_legacy_last_page.json")
	var starts []string
	f.handle("GET", "/rest/api/2/search", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		starts = append(starts, r.URL.Query().Get("startAt"))
		f.mu.Unlock()
		if r.URL.Query().Get("startAt") == "2" {
			writeJSON(w, 200, last)
			return
		}
		writeJSON(w, 200, page1)
	})
	c, err := New(Config{BaseURL: f.srv.URL + "/jira/", PAT: testPAT})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.List(ctx, "OPS", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 3 || p.Next != "2" || len(p.Stories) != 2 {
		t.Fatalf("page 1 = %+v", p)
	}
	want := session.ExternalStory{Key: "OPS-1", Title: "Rotate certificates", Description: "Rotate the *TLS* certificates before May.",
		URL: f.srv.URL + "/jira/browse/OPS-1", Type: "Story", Estimate: "8"}
	if !reflect.DeepEqual(p.Stories[0], want) {
		t.Errorf("item:\n got %+v\nwant %+v", p.Stories[0], want)
	}
	p, err = c.List(ctx, "OPS", p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if p.Next != "" || len(p.Stories) != 1 || p.Stories[0].Estimate != "2" {
		t.Errorf("page 2 = %+v", p)
	}
	f.mu.Lock()
	gotStarts := strings.Join(starts, ",")
	f.mu.Unlock()
	if gotStarts != "0,2" {
		t.Errorf("startAt = %v", gotStarts)
	}
	_, err = c.List(ctx, "OPS", "not-a-number")
	asError(t, err, session.CodeInvalid)

	// A Data Center project has no "simplified" flag: it is company-managed.
	f.issue("OPS-1", "OPS", "Story", "")
	f.file("GET", "/rest/api/2/issue/OPS-1/editmeta", "editmeta_without_story_points.json")
	_, err = c.WriteEstimate(ctx, "OPS-1", session.WriteBack{Value: "3"})
	e := asError(t, err, session.CodeInvalid)
	if !strings.Contains(e.Message, "OPS is a company-managed project: a Jira admin must add the field Story Points (customfield_10002)") {
		t.Errorf("guidance = %q", e.Message)
	}
}
