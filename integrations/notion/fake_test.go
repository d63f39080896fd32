package notion

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake serves Notion's documented 2022-06-28 shapes (developers.notion.com: search, database,
// database query, page, page update, users/me, error object) from in-memory databases, checks
// the headers Notion requires, and records every request so tests can assert on bodies.

const (
	testToken   = "ntn_test_secret_never_shown"
	testBotName = "Pokor"
	timestamp   = "2024-05-01T10:00:00.000Z"
)

type fakeProp struct {
	name, id, typ string
	options       []string // select, status, multi_select
}

type fakeDB struct {
	id, title string
	shared    bool
	props     []fakeProp
}

type fakePage struct {
	id, db   string
	archived bool
	// values by property name: string for title, rich_text, select and status; []string for
	// multi_select; float64 or nil for number.
	values map[string]any
}

type recorded struct {
	method, path string
	body         string
	header       http.Header
}

type fakeNotion struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	dbs        []*fakeDB
	pages      []*fakePage
	queryPage  int // results per database query page, to exercise next_cursor
	searchPage int
	limits     []string       // Retry-After values of 429s to answer before serving anything else
	status     map[string]int // "METHOD /path" → status answered with a fitting error object
	requests   []recorded
}

func newFake(t *testing.T) *fakeNotion {
	t.Helper()
	f := &fakeNotion{t: t, queryPage: 100, searchPage: 100, status: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNotion) addDB(db *fakeDB) *fakeDB {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dbs = append(f.dbs, db)
	return db
}

func (f *fakeNotion) addPage(p *fakePage) *fakePage {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages = append(f.pages, p)
	return p
}

// rateLimit makes the next requests answer 429 with the given Retry-After values.
func (f *fakeNotion) rateLimit(retryAfter ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits = append(f.limits, retryAfter...)
}

func (f *fakeNotion) fail(method, path string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[method+" "+path] = status
}

// calls returns the recorded requests matching method and path ("" matches all).
func (f *fakeNotion) calls(method, path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if (method == "" || r.method == method) && (path == "" || r.path == path) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeNotion) value(pageID, prop string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.pages {
		if p.id == pageID {
			return p.values[prop]
		}
	}
	return nil
}

func (f *fakeNotion) serve(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, recorded{method: r.Method, path: r.URL.Path, body: body, header: r.Header.Clone()})

	if len(f.limits) > 0 {
		w.Header().Set("Retry-After", f.limits[0])
		f.limits = f.limits[1:]
		writeError(w, http.StatusTooManyRequests, "rate_limited", "You have been rate limited. Please try again in a few minutes.")
		return
	}
	if r.Header.Get("Notion-Version") == "" {
		writeError(w, http.StatusBadRequest, "missing_version", "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeError(w, http.StatusUnauthorized, "unauthorized", "API token is invalid.")
		return
	}
	if st, ok := f.status[r.Method+" "+r.URL.Path]; ok {
		switch st {
		case http.StatusForbidden:
			writeError(w, st, "restricted_resource", "Insufficient permissions for this endpoint.")
		case http.StatusBadGateway:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(st)
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		default:
			writeError(w, st, "internal_server_error", "Unexpected error occurred.")
		}
		return
	}

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/users/me":
		writeJSON(w, map[string]any{
			"object": "user", "id": "16d84278-ab0e-484c-9bdd-b35da3bd8905", "name": testBotName,
			"avatar_url": nil, "type": "bot",
			"bot": map[string]any{"owner": map[string]any{"type": "workspace", "workspace": true}, "workspace_name": "Acme"},
		})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/search":
		f.search(w, body)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "databases":
		db := f.db(parts[2])
		if db == nil {
			notFound(w, "database", parts[2])
			return
		}
		writeJSON(w, databaseJSON(db))
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "databases" && parts[3] == "query":
		f.query(w, parts[2], body)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "pages":
		p := f.page(parts[2])
		if p == nil {
			notFound(w, "page", parts[2])
			return
		}
		writeJSON(w, pageJSON(p, f.dbByID(p.db)))
	case r.Method == http.MethodPatch && len(parts) == 3 && parts[1] == "pages":
		f.update(w, parts[2], body)
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_url", "Invalid request URL.")
	}
}

// db returns a database shared with the integration; Notion hides the others behind a 404.
func (f *fakeNotion) db(id string) *fakeDB {
	db := f.dbByID(id)
	if db == nil || !db.shared {
		return nil
	}
	return db
}

func (f *fakeNotion) dbByID(id string) *fakeDB {
	for _, db := range f.dbs {
		if strings.ReplaceAll(db.id, "-", "") == strings.ReplaceAll(id, "-", "") {
			return db
		}
	}
	return nil
}

func (f *fakeNotion) page(id string) *fakePage {
	for _, p := range f.pages {
		if strings.ReplaceAll(p.id, "-", "") == strings.ReplaceAll(id, "-", "") {
			if db := f.db(p.db); db != nil {
				return p
			}
		}
	}
	return nil
}

func (f *fakeNotion) search(w http.ResponseWriter, body string) {
	var req struct {
		Query       string            `json:"query"`
		Filter      map[string]string `json:"filter"`
		StartCursor string            `json:"start_cursor"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Error parsing JSON body.")
		return
	}
	if req.Filter["property"] != "object" || (req.Filter["value"] != "page" && req.Filter["value"] != "database") {
		writeError(w, http.StatusBadRequest, "validation_error", "body failed validation: body.filter.value should be `\"page\"` or `\"database\"`.")
		return
	}
	var results []any
	for _, db := range f.dbs {
		if db.shared && strings.Contains(strings.ToLower(db.title), strings.ToLower(req.Query)) {
			results = append(results, databaseJSON(db))
		}
	}
	writeJSON(w, listJSON(results, req.StartCursor, f.searchPage))
}

func (f *fakeNotion) query(w http.ResponseWriter, id, body string) {
	db := f.db(id)
	if db == nil {
		notFound(w, "database", id)
		return
	}
	var req struct {
		Filter      map[string]any `json:"filter"`
		StartCursor string         `json:"start_cursor"`
		PageSize    int            `json:"page_size"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Error parsing JSON body.")
		return
	}
	if req.PageSize > 100 {
		writeError(w, http.StatusBadRequest, "validation_error", "body.page_size should be ≤ 100.")
		return
	}
	var results []any
	for _, p := range f.pages {
		if p.db == db.id && !p.archived && matches(p, req.Filter) {
			results = append(results, pageJSON(p, db))
		}
	}
	writeJSON(w, listJSON(results, req.StartCursor, f.queryPage))
}

// matches applies the filters Pokor sends: select/status equals, multi_select contains, and.
func matches(p *fakePage, filter map[string]any) bool {
	if filter == nil {
		return true
	}
	if and, ok := filter["and"].([]any); ok {
		for _, sub := range and {
			if !matches(p, sub.(map[string]any)) {
				return false
			}
		}
		return true
	}
	prop, _ := filter["property"].(string)
	for _, typ := range []string{"select", "status"} {
		if cond, ok := filter[typ].(map[string]any); ok {
			return p.values[prop] == cond["equals"]
		}
	}
	if cond, ok := filter["multi_select"].(map[string]any); ok {
		tags, _ := p.values[prop].([]string)
		return slices.Contains(tags, cond["contains"].(string))
	}
	return false
}

func (f *fakeNotion) update(w http.ResponseWriter, id, body string) {
	p := f.page(id)
	if p == nil {
		notFound(w, "page", id)
		return
	}
	db := f.dbByID(p.db)
	var req struct {
		Properties map[string]map[string]any `json:"properties"`
		Archived   *bool                     `json:"archived"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Error parsing JSON body.")
		return
	}
	for name, v := range req.Properties {
		prop := db.prop(name)
		if prop == nil {
			writeError(w, http.StatusBadRequest, "validation_error", name+" is not a property that exists.")
			return
		}
		switch prop.typ {
		case "number":
			n, ok := v["number"]
			if !ok {
				writeError(w, http.StatusBadRequest, "validation_error", name+" is expected to be number.")
				return
			}
			p.values[prop.name] = n
		case "select":
			sel, ok := v["select"].(map[string]any)
			if !ok {
				writeError(w, http.StatusBadRequest, "validation_error", name+" is expected to be select.")
				return
			}
			option := sel["name"].(string)
			if !slices.Contains(prop.options, option) {
				prop.options = append(prop.options, option) // what Notion does: a new option appears
			}
			p.values[prop.name] = option
		default:
			writeError(w, http.StatusBadRequest, "validation_error", name+" cannot be updated by this fake.")
			return
		}
	}
	if req.Archived != nil {
		p.archived = *req.Archived
	}
	writeJSON(w, pageJSON(p, db))
}

func (db *fakeDB) prop(nameOrID string) *fakeProp {
	for i := range db.props {
		if db.props[i].name == nameOrID || db.props[i].id == nameOrID {
			return &db.props[i]
		}
	}
	return nil
}

// listJSON pages results with opaque cursors, as Notion's list responses do.
func listJSON(results []any, cursor string, size int) map[string]any {
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(cursor, "cursor-"))
	}
	end := min(start+size, len(results))
	var next any
	if end < len(results) {
		next = "cursor-" + strconv.Itoa(end)
	}
	page := results[min(start, len(results)):end]
	if page == nil {
		page = []any{}
	}
	return map[string]any{
		"object": "list", "results": page, "next_cursor": next, "has_more": next != nil,
		"type": "page_or_database", "page_or_database": map[string]any{},
	}
}

func databaseJSON(db *fakeDB) map[string]any {
	props := map[string]any{}
	for _, p := range db.props {
		var config any = map[string]any{}
		switch p.typ {
		case "number":
			config = map[string]any{"format": "number"}
		case "select", "multi_select":
			config = map[string]any{"options": optionsJSON(p.options)}
		case "status":
			config = map[string]any{"options": optionsJSON(p.options), "groups": []any{}}
		}
		props[p.name] = map[string]any{"id": p.id, "name": p.name, "type": p.typ, p.typ: config}
	}
	return map[string]any{
		"object": "database", "id": db.id,
		"created_time": timestamp, "last_edited_time": timestamp,
		"created_by":     map[string]any{"object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c"},
		"last_edited_by": map[string]any{"object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c"},
		"title":          richTextJSON(db.title), "description": []any{},
		"icon": nil, "cover": nil,
		"properties": props,
		"parent":     map[string]any{"type": "page_id", "page_id": "48f8fee9-cd79-4180-bc2f-ec0398253067"},
		"url":        "https://www.notion.so/" + strings.ReplaceAll(db.id, "-", ""),
		"public_url": nil, "archived": false, "in_trash": false, "is_inline": false,
	}
}

func pageJSON(p *fakePage, db *fakeDB) map[string]any {
	props := map[string]any{}
	for _, prop := range db.props {
		v := p.values[prop.name]
		var value any
		switch prop.typ {
		case "title", "rich_text":
			s, _ := v.(string)
			value = richTextJSON(s)
		case "number":
			value = v // a float64, or nil for an empty cell
		case "select", "status":
			if s, ok := v.(string); ok && s != "" {
				value = optionJSON(s)
			}
		case "multi_select":
			tags, _ := v.([]string)
			value = optionsJSON(tags)
		case "date": // [start] or [start, end]
			if d, ok := v.([]string); ok && len(d) > 0 {
				end := any(nil)
				if len(d) > 1 {
					end = d[1]
				}
				value = map[string]any{"start": d[0], "end": end, "time_zone": nil}
			}
		}
		props[prop.name] = map[string]any{"id": prop.id, "type": prop.typ, prop.typ: value}
	}
	return map[string]any{
		"object": "page", "id": p.id,
		"created_time": timestamp, "last_edited_time": timestamp,
		"created_by":     map[string]any{"object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c"},
		"last_edited_by": map[string]any{"object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c"},
		"cover":          nil, "icon": nil,
		"parent":   map[string]any{"type": "database_id", "database_id": p.db},
		"archived": p.archived, "in_trash": p.archived,
		"properties": props,
		"url":        "https://www.notion.so/Page-" + strings.ReplaceAll(p.id, "-", ""),
		"public_url": nil,
	}
}

func richTextJSON(s string) []any {
	if s == "" {
		return []any{}
	}
	return []any{map[string]any{
		"type": "text",
		"text": map[string]any{"content": s, "link": nil},
		"annotations": map[string]any{
			"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default",
		},
		"plain_text": s, "href": nil,
	}}
}

func optionJSON(name string) map[string]any {
	return map[string]any{"id": "opt-" + strings.ToLower(name), "name": name, "color": "blue"}
}

func optionsJSON(names []string) []any {
	out := []any{}
	for _, n := range names {
		out = append(out, optionJSON(n))
	}
	return out
}

func notFound(w http.ResponseWriter, noun, id string) {
	writeError(w, http.StatusNotFound, "object_not_found",
		fmt.Sprintf("Could not find %s with ID: %s. Make sure the relevant pages and databases are shared with your integration.", noun, id))
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"object": "error", "status": status, "code": code, "message": message,
		"request_id": "a6d3f6b6-1f4e-4b53-9d1a-6b9f2b8a0c11",
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func readBody(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// newClient returns a client of the fake with pacing shortened so tests run fast.
func newClient(t *testing.T, f *fakeNotion) *Client {
	t.Helper()
	c, err := New(Config{Token: testToken, BaseURL: f.srv.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.pace.interval = time.Millisecond
	return c
}

// Database and page IDs of the standard fixture.
const (
	backlogID = "8f2a0c7d-1b3e-4f5a-9c6d-7e8f9a0b1c2d"
	sizesID   = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	plainID   = "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901"
	hiddenID  = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a12"
	page1ID   = "a1b2c3d4-0001-4000-8000-000000000001"
	page2ID   = "a1b2c3d4-0002-4000-8000-000000000002"
	page3ID   = "a1b2c3d4-0003-4000-8000-000000000003"
	sizePage  = "b1b2c3d4-0001-4000-8000-000000000001"
	plainPage = "c1b2c3d4-0001-4000-8000-000000000001"
	hiddenPg  = "d1b2c3d4-0001-4000-8000-000000000001"
	trashPage = "e1b2c3d4-0001-4000-8000-000000000001"
)

// standard fills the fake with four databases: a backlog estimated in a Number property, a
// board sized with a Select property, a database with no estimate property, and one that was
// never shared with the integration.
func (f *fakeNotion) standard() {
	f.addDB(&fakeDB{id: backlogID, title: "Sprint Backlog", shared: true, props: []fakeProp{
		{name: "Name", id: "title", typ: "title"},
		{name: "Description", id: "J%40cS", typ: "rich_text"},
		{name: "Comments", id: "c0m", typ: "rich_text"},
		{name: "Story points", id: "sp%3D", typ: "number"},
		{name: "Priority", id: "pr1", typ: "number"},
		{name: "Status", id: "st%3F", typ: "status", options: []string{"Not started", "Ready", "Done"}},
		{name: "Sprint", id: "spr", typ: "select", options: []string{"Sprint 41", "Sprint 42"}},
		{name: "Tags", id: "tg", typ: "multi_select", options: []string{"web", "api"}},
	}})
	f.addPage(&fakePage{id: page1ID, db: backlogID, values: map[string]any{
		"Name": "Login with SSO", "Description": "As a user I sign in with my company account.",
		"Story points": 5.0, "Status": "Ready", "Sprint": "Sprint 42", "Tags": []string{"web"},
	}})
	f.addPage(&fakePage{id: page2ID, db: backlogID, values: map[string]any{
		"Name": "Export CSV", "Status": "Ready", "Sprint": "Sprint 41", "Tags": []string{"api", "web"},
	}})
	f.addPage(&fakePage{id: page3ID, db: backlogID, values: map[string]any{
		"Name": "Dark mode", "Story points": 0.5, "Status": "Done", "Sprint": "Sprint 42",
	}})
	f.addPage(&fakePage{id: trashPage, db: backlogID, archived: true, values: map[string]any{"Name": "Old idea"}})

	f.addDB(&fakeDB{id: sizesID, title: "Roadmap", shared: true, props: []fakeProp{
		{name: "Feature", id: "title", typ: "title"},
		{name: "Size", id: "sz", typ: "select", options: []string{"XS", "S", "M", "L", "XL"}},
	}})
	f.addPage(&fakePage{id: sizePage, db: sizesID, values: map[string]any{"Feature": "Billing"}})

	f.addDB(&fakeDB{id: plainID, title: "Ideas", shared: true, props: []fakeProp{
		{name: "Idea", id: "title", typ: "title"},
		{name: "Votes", id: "vt", typ: "number"},
	}})
	f.addPage(&fakePage{id: plainPage, db: plainID, values: map[string]any{"Idea": "Offline mode"}})

	f.addDB(&fakeDB{id: hiddenID, title: "Secret plans", shared: false, props: []fakeProp{
		{name: "Name", id: "title", typ: "title"},
		{name: "Estimate", id: "es", typ: "number"},
	}})
	f.addPage(&fakePage{id: hiddenPg, db: hiddenID, values: map[string]any{"Name": "Hidden"}})
}
