package notion

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestListPagesThroughDatabase(t *testing.T) {
	f := newFake(t)
	f.standard()
	f.queryPage = 2
	c := newClient(t, f)
	ctx := context.Background()

	first, err := c.List(ctx, backlogID, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(first.Stories) != 2 || first.Next == "" || first.Total != -1 {
		t.Fatalf("first page = %+v, want 2 items, a cursor and Total -1", first)
	}
	second, err := c.List(ctx, backlogID, first.Next)
	if err != nil {
		t.Fatalf("List(cursor): %v", err)
	}
	if len(second.Stories) != 1 || second.Next != "" {
		t.Fatalf("second page = %+v, want 1 item and no cursor", second)
	}

	want := []session.ExternalStory{
		{Key: page1ID, Title: "Login with SSO", Description: "As a user I sign in with my company account.",
			URL: "https://www.notion.so/Page-a1b2c3d4000140008000000000000001", Estimate: "5"},
		{Key: page2ID, Title: "Export CSV", URL: "https://www.notion.so/Page-a1b2c3d4000240008000000000000002"},
		{Key: page3ID, Title: "Dark mode", URL: "https://www.notion.so/Page-a1b2c3d4000340008000000000000003", Estimate: "0.5"},
	}
	got := append(first.Stories, second.Stories...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("items:\n got %+v\nwant %+v", got, want)
	}

	queries := f.calls("POST", "/v1/databases/"+backlogID+"/query")
	if len(queries) != 2 {
		t.Fatalf("%d query requests, want 2", len(queries))
	}
	assertJSON(t, queries[0].body, `{"page_size":100}`)
	assertJSON(t, queries[1].body, `{"page_size":100,"start_cursor":"`+first.Next+`"}`)
	for _, r := range f.calls("", "") {
		if v := r.header.Get("Notion-Version"); v != "2022-06-28" {
			t.Errorf("%s %s sent Notion-Version %q", r.method, r.path, v)
		}
	}
}

func TestListQueries(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantKeys   []string
		wantFilter string // JSON of the filter sent, "" for none
	}{
		{name: "compact id", query: strings.ReplaceAll(backlogID, "-", ""), wantKeys: []string{page1ID, page2ID, page3ID}},
		{name: "url with view", query: "https://www.notion.so/acme/Sprint-Backlog-" + strings.ReplaceAll(backlogID, "-", "") + "?v=0123456789abcdef0123456789abcdef",
			wantKeys: []string{page1ID, page2ID, page3ID}},
		{name: "title", query: "sprint backlog", wantKeys: []string{page1ID, page2ID, page3ID}},
		{name: "status", query: backlogID + " [Status=Ready]", wantKeys: []string{page1ID, page2ID},
			wantFilter: `{"property":"Status","status":{"equals":"Ready"}}`},
		{name: "select quoted in other case", query: `Sprint Backlog [sprint:"sprint 42"]`, wantKeys: []string{page1ID, page3ID},
			wantFilter: `{"property":"Sprint","select":{"equals":"Sprint 42"}}`},
		{name: "multi-select and status", query: backlogID + " [Tags=api] [Status=Ready]", wantKeys: []string{page2ID},
			wantFilter: `{"and":[{"property":"Tags","multi_select":{"contains":"api"}},{"property":"Status","status":{"equals":"Ready"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.standard()
			c := newClient(t, f)
			page, err := c.List(context.Background(), tt.query, "")
			if err != nil {
				t.Fatalf("List(%q): %v", tt.query, err)
			}
			var keys []string
			for _, it := range page.Stories {
				keys = append(keys, it.Key)
			}
			if !reflect.DeepEqual(keys, tt.wantKeys) {
				t.Fatalf("keys = %v, want %v", keys, tt.wantKeys)
			}
			queries := f.calls("POST", "/v1/databases/"+backlogID+"/query")
			if len(queries) != 1 {
				t.Fatalf("%d query requests, want 1", len(queries))
			}
			var body struct {
				Filter json.RawMessage `json:"filter"`
			}
			if err := json.Unmarshal([]byte(queries[0].body), &body); err != nil {
				t.Fatal(err)
			}
			if tt.wantFilter == "" {
				if body.Filter != nil {
					t.Fatalf("sent filter %s, want none", body.Filter)
				}
				return
			}
			assertJSON(t, string(body.Filter), tt.wantFilter)
		})
	}
}

func TestListErrors(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		kind    session.Code
		wantMsg []string
	}{
		{name: "not shared", query: hiddenID, kind: session.CodeNotFound,
			wantMsg: []string{hiddenID, "not shared with the integration", "••• → Connections → add \"Pokor\""}},
		{name: "title not shared", query: "Secret plans", kind: session.CodeNotFound,
			wantMsg: []string{`no database titled "Secret plans"`, "Connections", `"Pokor"`}},
		{name: "partial title", query: "Back", kind: session.CodeConflict,
			wantMsg: []string{`no database is titled "Back"`}},
		{name: "unknown option", query: backlogID + " [Status=Redy]", kind: session.CodeInvalid,
			wantMsg: []string{`no option "Redy"`, "Not started, Ready, Done"}},
		{name: "unknown property", query: backlogID + " [Team=Web]", kind: session.CodeInvalid,
			wantMsg: []string{`no property "Team"`, "Sprint, Status, Tags"}},
		{name: "property not filterable", query: backlogID + " [Story points=5]", kind: session.CodeInvalid,
			wantMsg: []string{"Number property", "Select, Status and Multi-select"}},
		{name: "bad grammar", query: backlogID + " [Status]", kind: session.CodeInvalid,
			wantMsg: []string{"expected = or :"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.standard()
			c := newClient(t, f)
			_, err := c.List(context.Background(), tt.query, "")
			e := wantKind(t, err, tt.kind)
			for _, m := range tt.wantMsg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
			if tt.kind == session.CodeConflict && (len(e.Choices) != 1 || e.Choices[0].ID != backlogID) {
				t.Errorf("choices = %+v, want the backlog", e.Choices)
			}
		})
	}
}

func TestListWithoutEstimateProperty(t *testing.T) {
	f := newFake(t)
	f.standard()
	c := newClient(t, f)
	page, err := c.List(context.Background(), plainID, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []session.ExternalStory{{Key: plainPage, Title: "Offline mode", URL: "https://www.notion.so/Page-c1b2c3d4000140008000000000000001"}}
	if !reflect.DeepEqual(page.Stories, want) {
		t.Fatalf("items = %+v, want %+v", page.Stories, want)
	}
}

func TestDatabases(t *testing.T) {
	f := newFake(t)
	f.standard()
	f.searchPage = 2
	c := newClient(t, f)
	dbs, err := c.Databases(context.Background())
	if err != nil {
		t.Fatalf("Databases: %v", err)
	}
	want := []Database{
		{ID: backlogID, Title: "Sprint Backlog", URL: "https://www.notion.so/8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d"},
		{ID: sizesID, Title: "Roadmap", URL: "https://www.notion.so/1c2d3e4f5a6b4c7d8e9f0a1b2c3d4e5f"},
		{ID: plainID, Title: "Ideas", URL: "https://www.notion.so/2b3c4d5e6f70418293a4b5c6d7e8f901"},
	}
	if !reflect.DeepEqual(dbs, want) {
		t.Fatalf("databases:\n got %+v\nwant %+v", dbs, want)
	}
	searches := f.calls("POST", "/v1/search")
	if len(searches) != 2 {
		t.Fatalf("%d search requests, want 2 (two pages)", len(searches))
	}
	assertJSON(t, searches[0].body,
		`{"filter":{"value":"database","property":"object"},"sort":{"timestamp":"last_edited_time","direction":"descending"},"page_size":100}`)
	assertJSON(t, searches[1].body,
		`{"filter":{"value":"database","property":"object"},"sort":{"timestamp":"last_edited_time","direction":"descending"},"page_size":100,"start_cursor":"cursor-2"}`)
}

// assertJSON compares two JSON documents by value.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON differs:\n got %s\nwant %s", got, want)
	}
}
