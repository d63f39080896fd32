package azuredevops

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAzure serves the parts of the Azure DevOps 7.x REST API Pokor uses, with the payload
// shapes of Microsoft's REST reference and its examples (vsts-rest-api-specs): WIQL results
// with ids only, workitemsbatch, work item type fields, JSON Patch updates answering the
// updated work item, and {"message", "typeKey"} errors. It evaluates the WIQL clauses Pokor
// builds (project, area and iteration UNDER, @CurrentIteration, type IN GROUP, state).
type fakeAzure struct {
	t   *testing.T
	srv *httptest.Server
	org string // "/fabrikam"

	mu       sync.Mutex
	pat      string
	projects map[string]*fakeProject
	items    map[int64]*fakeItem
	fail     []fakeFailure
	patches  int
	wiqls    []string
	// readOnly fields refuse updates as a rule would; cleared ones are accepted and emptied.
	readOnly map[string]bool
	cleared  map[string]bool
}

type fakeFailure struct {
	prefix     string
	status     int
	retryAfter string
	times      int
}

type fakeProject struct {
	name        string
	process     string
	types       map[string][]string // type → field reference names
	backlog     []string            // the requirement category
	teams       map[string]string   // team → current iteration path
	extraFields map[string]string   // reference name → display name of custom fields
}

type fakeItem struct {
	id     int64
	rev    int
	fields map[string]any
}

var displayNames = map[string]string{
	FieldStoryPoints: "Story Points", FieldEffort: "Effort", FieldSize: "Size",
	"System.Title": "Title", "System.State": "State", "System.AreaPath": "Area Path", "System.IterationPath": "Iteration Path",
	"System.Description": "Description", "Microsoft.VSTS.Scheduling.RemainingWork": "Remaining Work", "Microsoft.VSTS.Scheduling.OriginalEstimate": "Original Estimate",
}

func newFakeAzure(t *testing.T) *fakeAzure {
	t.Helper()
	f := &fakeAzure{t: t, org: "/fabrikam", pat: "pat-secret", projects: map[string]*fakeProject{}, items: map[int64]*fakeItem{},
		readOnly: map[string]bool{}, cleared: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAzure) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{OrgURL: f.srv.URL + f.org, Token: f.pat})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addProject adds a project of a standard process with its types and fields.
func (f *fakeAzure) addProject(name, process string) *fakeProject {
	f.mu.Lock()
	defer f.mu.Unlock()
	common := []string{"System.Id", "System.Title", "System.State", "System.AreaPath", "System.IterationPath", "System.Description", "System.WorkItemType", "System.TeamProject"}
	with := func(extra ...string) []string { return append(append([]string{}, common...), extra...) }
	p := &fakeProject{name: name, process: process, teams: map[string]string{name + " Team": name + `\Sprint 2`}, extraFields: map[string]string{}}
	switch process {
	case "Agile":
		p.types = map[string][]string{"User Story": with(FieldStoryPoints), "Bug": with(FieldStoryPoints), "Task": with("Microsoft.VSTS.Scheduling.RemainingWork", "Microsoft.VSTS.Scheduling.OriginalEstimate")}
		p.backlog = []string{"User Story"}
	case "Scrum":
		p.types = map[string][]string{"Product Backlog Item": with(FieldEffort), "Bug": with(FieldEffort), "Task": with("Microsoft.VSTS.Scheduling.RemainingWork")}
		p.backlog = []string{"Product Backlog Item", "Bug"}
	case "CMMI":
		p.types = map[string][]string{"Requirement": with(FieldSize), "Task": with("Microsoft.VSTS.Scheduling.RemainingWork")}
		p.backlog = []string{"Requirement"}
	case "Basic":
		p.types = map[string][]string{"Issue": with(), "Task": with("Microsoft.VSTS.Scheduling.RemainingWork")}
		p.backlog = []string{"Issue"}
	}
	f.projects[name] = p
	return p
}

// addItem adds a work item; fields holds extra field values.
func (f *fakeAzure) addItem(id int64, project, typ, title, state, area, iteration string, extra map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fields := map[string]any{
		"System.Id": id, "System.TeamProject": project, "System.WorkItemType": typ, "System.Title": title, "System.State": state,
		"System.AreaPath": area, "System.IterationPath": iteration, "System.Description": "<div>As a user I want <b>" + title + "</b></div><div>so that it works</div>",
		"System.Rev": 1, "System.CreatedBy": map[string]any{"displayName": "Jamal Hartnett", "uniqueName": "fabrikamfiber4@hotmail.com"},
	}
	for k, v := range extra {
		fields[k] = v
	}
	f.items[id] = &fakeItem{id: id, rev: 1, fields: fields}
}

func (f *fakeAzure) failNext(prefix string, status int, retryAfter string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, fakeFailure{prefix: prefix, status: status, retryAfter: retryAfter, times: times})
}

func (f *fakeAzure) field(id int64, ref string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[id].fields[ref]
}

func (f *fakeAzure) patchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.patches
}

func (f *fakeAzure) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse writes Azure DevOps' error body.
func (f *fakeAzure) refuse(w http.ResponseWriter, status int, typeKey, msg string) {
	f.writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg,
		"typeName": "Microsoft.TeamFoundation.WorkItemTracking.Server." + typeKey + ", Microsoft.TeamFoundation.WorkItemTracking.Server",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3200})
}

func (f *fakeAzure) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+f.pat))
	if r.Header.Get("Authorization") != want {
		if r.Header.Get("X-TFS-FedAuthRedirect") != "Suppress" {
			// What a browser-minded server does: a sign-in page with 203.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
			_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>"))
			return
		}
		w.Header().Set("WWW-Authenticate", "Basic realm=\"https://dev.azure.com/\"")
		f.refuse(w, 401, "UnauthorizedRequestException", "TF400813: The user '' is not authorized to access this resource.")
		return
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), f.org+"/")
	if !ok {
		f.refuse(w, 404, "NotFound", "no such organization")
		return
	}
	if !strings.HasSuffix(path, "connectionData") && r.URL.Query().Get("api-version") != apiVersion {
		f.refuse(w, 400, "VssVersionOutOfRangeException", "The requested REST API version is out of range for this server.")
		return
	}
	for i := range f.fail {
		fl := &f.fail[i]
		if fl.times > 0 && strings.HasPrefix(r.Method+" "+path, fl.prefix) {
			fl.times--
			if fl.retryAfter != "" {
				w.Header().Set("Retry-After", fl.retryAfter)
			}
			f.refuse(w, fl.status, "Throttled", http.StatusText(fl.status))
			return
		}
	}
	var seg []string
	for _, s := range strings.Split(path, "/") {
		u, _ := url.PathUnescape(s)
		seg = append(seg, u)
	}
	// Split "[project/[team/]]_apis/rest..." into scope and API path.
	var scope []string
	for len(seg) > 0 && seg[0] != "_apis" {
		scope, seg = append(scope, seg[0]), seg[1:]
	}
	if len(seg) == 0 {
		f.refuse(w, 404, "NotFound", "not found")
		return
	}
	api := strings.Join(seg[1:], "/")
	switch {
	case api == "connectionData" && r.Method == "GET":
		f.writeJSON(w, 200, map[string]any{"authenticatedUser": map[string]any{"id": "d291b0c4-a05c-4ea6-8df1-4b41d5f39eff", "providerDisplayName": "Jamal Hartnett", "isActive": true}, "instanceId": "d81542e4-cdfa-4333-b082-1ae2d6c3ad16"})
	case api == "projects" && r.Method == "GET":
		var names []string
		for n := range f.projects {
			names = append(names, n)
		}
		sort.Strings(names)
		var v []map[string]any
		for _, n := range names {
			v = append(v, map[string]any{"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", "name": n, "state": "wellFormed", "visibility": "private"})
		}
		f.writeJSON(w, 200, map[string]any{"count": len(v), "value": v})
	case strings.HasPrefix(api, "projects/") && r.Method == "GET":
		p := f.projects[strings.TrimPrefix(api, "projects/")]
		if p == nil {
			f.refuse(w, 404, "ProjectDoesNotExistWithNameException", fmt.Sprintf("TF200016: The following project does not exist: %s.", strings.TrimPrefix(api, "projects/")))
			return
		}
		f.writeJSON(w, 200, map[string]any{"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", "name": p.name, "state": "wellFormed",
			"capabilities": map[string]any{"versioncontrol": map[string]any{"sourceControlType": "Git"}, "processTemplate": map[string]any{"templateName": p.process, "templateTypeId": "adcc42ab-9882-485e-a3ed-7678f01f66bc"}}})
	case api == "wit/wiql" && r.Method == "POST":
		f.serveWIQL(w, r, scope)
	case api == "wit/workitemsbatch" && r.Method == "POST":
		var body struct {
			IDs         []int64 `json:"ids"`
			ErrorPolicy string  `json:"errorPolicy"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if len(body.IDs) > 200 {
			f.refuse(w, 400, "ArgumentException", "The maximum number of work items that can be requested is 200.")
			return
		}
		var v []any
		for _, id := range body.IDs {
			it := f.items[id]
			if it == nil {
				if body.ErrorPolicy != "omit" {
					f.refuse(w, 404, "WorkItemUnauthorizedAccessException", fmt.Sprintf("TF401232: Work item %d does not exist, or you do not have permissions to read it.", id))
					return
				}
				v = append(v, nil)
				continue
			}
			v = append(v, f.itemJSON(it))
		}
		f.writeJSON(w, 200, map[string]any{"count": len(v), "value": v})
	case strings.HasPrefix(api, "wit/workitems/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(api, "wit/workitems/"), 10, 64)
		it := f.items[id]
		if it == nil {
			f.refuse(w, 404, "WorkItemUnauthorizedAccessException", fmt.Sprintf("TF401232: Work item %d does not exist, or you do not have permissions to read it.", id))
			return
		}
		switch r.Method {
		case "GET":
			v := f.itemJSON(it)
			if want := r.URL.Query().Get("fields"); want != "" {
				// Only the fields asked for, and of those only the ones that hold a value.
				all, some := v["fields"].(map[string]any), map[string]any{}
				for _, ref := range strings.Split(want, ",") {
					if x, ok := all[ref]; ok {
						some[ref] = x
					}
				}
				v["fields"] = some
			}
			f.writeJSON(w, 200, v)
		case "PATCH":
			f.patch(w, r, it)
		default:
			f.refuse(w, 405, "NotSupported", "method not allowed")
		}
	case len(scope) == 1 && strings.HasPrefix(api, "wit/workitemtypes/") && strings.HasSuffix(api, "/fields"):
		p := f.projects[scope[0]]
		typ := strings.TrimSuffix(strings.TrimPrefix(api, "wit/workitemtypes/"), "/fields")
		if p == nil || p.types[typ] == nil {
			f.refuse(w, 404, "WorkItemTypeNotFoundException", fmt.Sprintf("TF201036: You cannot find work item type %s.", typ))
			return
		}
		var v []map[string]any
		for _, ref := range p.types[typ] {
			name := displayNames[ref]
			if n, ok := p.extraFields[ref]; ok {
				name = n
			}
			if name == "" {
				name = ref
			}
			v = append(v, map[string]any{"alwaysRequired": ref == "System.Title", "defaultValue": nil, "allowedValues": []any{}, "dependentFields": []any{},
				"referenceName": ref, "name": name, "url": f.srv.URL + f.org + "/_apis/wit/fields/" + ref})
		}
		f.writeJSON(w, 200, map[string]any{"count": len(v), "value": v})
	case len(scope) == 1 && api == "wit/workitemtypecategories/Microsoft.RequirementCategory":
		p := f.projects[scope[0]]
		if p == nil {
			f.refuse(w, 404, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist.")
			return
		}
		var types []map[string]any
		for _, t := range p.backlog {
			types = append(types, map[string]any{"name": t, "url": "…"})
		}
		f.writeJSON(w, 200, map[string]any{"name": "Requirement Category", "referenceName": "Microsoft.RequirementCategory",
			"defaultWorkItemType": map[string]any{"name": p.backlog[0]}, "workItemTypes": types})
	default:
		f.refuse(w, 404, "NotFound", "The resource cannot be found.")
	}
}

func (f *fakeAzure) itemJSON(it *fakeItem) map[string]any {
	fields := map[string]any{}
	for k, v := range it.fields {
		if v != nil {
			fields[k] = v
		}
	}
	fields["System.Rev"] = it.rev
	return map[string]any{"id": it.id, "rev": it.rev, "fields": fields, "url": fmt.Sprintf("%s%s/_apis/wit/workItems/%d", f.srv.URL, f.org, it.id)}
}

func (f *fakeAzure) patch(w http.ResponseWriter, r *http.Request, it *fakeItem) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json-patch+json" {
		f.refuse(w, 415, "UnsupportedMediaType", "The request contains an entity body but no Content-Type header / wrong media type "+ct)
		return
	}
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ops); err != nil {
		f.refuse(w, 400, "VssPropertyValidationException", "You must pass a valid patch document in the body of the request.")
		return
	}
	f.patches++
	p := f.projects[it.fields["System.TeamProject"].(string)]
	typ := it.fields["System.WorkItemType"].(string)
	for _, op := range ops {
		ref := strings.TrimPrefix(op.Path, "/fields/")
		has := false
		for _, x := range p.types[typ] {
			has = has || x == ref
		}
		switch {
		case !has:
			f.refuse(w, 400, "WorkItemFieldInvalidException", fmt.Sprintf("TF51535: Cannot find field %s.", ref))
			return
		case f.readOnly[ref]:
			f.refuse(w, 400, "RuleValidationException", fmt.Sprintf("TF401320: Rule Error for field %s. Error code: ReadOnly, InvalidNotOldValue.", displayNames[ref]))
			return
		case f.cleared[ref]:
			it.fields[ref] = nil
		default:
			it.fields[ref] = op.Value
		}
	}
	it.rev++
	f.writeJSON(w, 200, f.itemJSON(it))
}

var (
	reProject = regexp.MustCompile(`\[System\.TeamProject\] = '((?:[^']|'')*)'`)
	reArea    = regexp.MustCompile(`\[System\.AreaPath\] UNDER '((?:[^']|'')*)'`)
	reIter    = regexp.MustCompile(`\[System\.IterationPath\] UNDER '((?:[^']|'')*)'`)
	reType    = regexp.MustCompile(`\[System\.WorkItemType\] = '((?:[^']|'')*)'`)
	reState   = regexp.MustCompile(`\[System\.State\] = '((?:[^']|'')*)'`)
	reNotIn   = regexp.MustCompile(`\[System\.State\] NOT IN \(([^)]*)\)`)
)

func under(path, parent string) bool {
	return strings.EqualFold(path, parent) || strings.HasPrefix(strings.ToLower(path), strings.ToLower(parent)+`\`)
}

func (f *fakeAzure) serveWIQL(w http.ResponseWriter, r *http.Request, scope []string) {
	var body struct {
		Query string `json:"query"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	q := body.Query
	f.wiqls = append(f.wiqls, q)
	if !strings.HasPrefix(strings.ToUpper(q), "SELECT") {
		f.refuse(w, 400, "SyntaxException", "TF51006: The query statement is missing a FROM clause.")
		return
	}
	var project *fakeProject
	if len(scope) > 0 {
		if project = f.projects[scope[0]]; project == nil {
			f.refuse(w, 404, "ProjectDoesNotExistWithNameException", fmt.Sprintf("TF200016: The following project does not exist: %s.", scope[0]))
			return
		}
	}
	current := ""
	if strings.Contains(q, "@CurrentIteration") {
		if len(scope) < 2 {
			f.refuse(w, 400, "WiqlTeamContextRequiredException", "TF51011: The specified iteration path does not exist. @CurrentIteration requires a team context.")
			return
		}
		var ok bool
		if current, ok = project.teams[scope[1]]; !ok {
			f.refuse(w, 404, "TeamNotFoundException", fmt.Sprintf("The team with id or name %s does not exist.", scope[1]))
			return
		}
	}
	unq := func(m []string) string { return strings.ReplaceAll(m[1], "''", "'") }
	var ids []int64
	for id, it := range f.items {
		fs := it.fields
		str := func(k string) string { s, _ := fs[k].(string); return s }
		if m := reProject.FindStringSubmatch(q); m != nil && !strings.EqualFold(str("System.TeamProject"), unq(m)) {
			continue
		}
		if m := reArea.FindStringSubmatch(q); m != nil && !under(str("System.AreaPath"), unq(m)) {
			continue
		}
		if m := reIter.FindStringSubmatch(q); m != nil && !under(str("System.IterationPath"), unq(m)) {
			continue
		}
		if current != "" && !strings.EqualFold(str("System.IterationPath"), current) {
			continue
		}
		if m := reType.FindStringSubmatch(q); m != nil && !strings.EqualFold(str("System.WorkItemType"), unq(m)) {
			continue
		}
		if strings.Contains(q, "IN GROUP 'Microsoft.RequirementCategory'") {
			p := f.projects[str("System.TeamProject")]
			in := false
			for _, t := range p.backlog {
				in = in || t == str("System.WorkItemType")
			}
			if !in {
				continue
			}
		}
		if m := reState.FindStringSubmatch(q); m != nil && !strings.EqualFold(str("System.State"), unq(m)) {
			continue
		}
		if m := reNotIn.FindStringSubmatch(q); m != nil && strings.Contains(m[1], "'"+str("System.State")+"'") {
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if top, _ := strconv.Atoi(r.URL.Query().Get("$top")); top > 0 && len(ids) > top {
		ids = ids[:top]
	}
	var refs []map[string]any
	for _, id := range ids {
		refs = append(refs, map[string]any{"id": id, "url": fmt.Sprintf("%s%s/_apis/wit/workItems/%d", f.srv.URL, f.org, id)})
	}
	if refs == nil {
		refs = []map[string]any{}
	}
	f.writeJSON(w, 200, map[string]any{"queryType": "flat", "queryResultType": "workItem", "asOf": "2026-12-03T10:00:00.000Z",
		"columns":     []any{map[string]any{"referenceName": "System.Id", "name": "ID", "url": f.srv.URL + f.org + "/_apis/wit/fields/System.Id"}},
		"sortColumns": []any{}, "workItems": refs})
}
