package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func kindOf(t *testing.T, err error) session.Code {
	t.Helper()
	var e *session.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *session.Error", err, err)
	}
	return e.Code
}

func listAll(t *testing.T, c *Client, query string) []session.ExternalStory {
	t.Helper()
	var items []session.ExternalStory
	cursor := ""
	for i := 0; i < 50; i++ {
		p, err := c.List(context.Background(), query, cursor)
		if err != nil {
			t.Fatalf("List(%q, %q): %v", query, cursor, err)
		}
		if p.Total < len(items)+len(p.Stories) {
			t.Fatalf("total %d below the items seen", p.Total)
		}
		items = append(items, p.Stories...)
		if p.Next == "" {
			return items
		}
		cursor = p.Next
	}
	t.Fatal("List never ended")
	return nil
}

// backlog builds an Agile project with 450 user stories in two areas and sprints, some done,
// and a few tasks that a backlog import leaves out.
func backlog(t *testing.T) *fakeAzure {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Agile")
	for i := int64(1); i <= 450; i++ {
		area, iter, state := `Fabrikam\Web`, `Fabrikam\Sprint 1`, "New"
		if i%3 == 0 {
			area = `Fabrikam\Mobile`
		}
		if i%5 == 0 {
			iter = `Fabrikam\Sprint 2`
		}
		if i%10 == 0 {
			state = "Closed"
		}
		extra := map[string]any{}
		if i == 2 {
			extra[FieldStoryPoints] = 3.0
		}
		f.addItem(i, "Fabrikam", "User Story", fmt.Sprintf("Story %d", i), state, area, iter, extra)
	}
	for i := int64(1001); i <= 1005; i++ {
		f.addItem(i, "Fabrikam", "Task", "Task", "New", `Fabrikam\Web`, `Fabrikam\Sprint 1`, nil)
	}
	return f
}

func TestListByProjectAreaIterationAndWIQL(t *testing.T) {
	f := backlog(t)
	c := f.client(t)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"Fabrikam", 405},               // 450 stories less 45 closed; tasks are not backlog items
		{`Fabrikam\Mobile`, 135},        // area path given bare
		{`area:"Fabrikam\Mobile"`, 135}, // the same with the filter
		{`iteration:"Fabrikam\Sprint 2"`, 45},
		{`Fabrikam state:all`, 450},
		{`Fabrikam type:Task`, 5},
		{`Fabrikam type:all state:all`, 455},
		{`SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Fabrikam' AND [System.State] = 'Closed'`, 45},
	} {
		t.Run(tc.query, func(t *testing.T) {
			items := listAll(t, c, tc.query)
			if len(items) != tc.want {
				t.Fatalf("%q imported %d, want %d", tc.query, len(items), tc.want)
			}
		})
	}
	items := listAll(t, c, `Fabrikam iteration:current`)
	if len(items) != 45 { // Sprint 2, the default team's current sprint: 90 stories, 45 of them closed
		t.Fatalf("iteration:current imported %d, want 45", len(items))
	}
	if _, err := c.List(context.Background(), `Fabrikam iteration:current team:"Ghosts"`, ""); kindOf(t, err) != session.CodeNotFound || !strings.Contains(err.Error(), `no team "Ghosts"`) {
		t.Fatalf("unknown team: %v", err)
	}

	p, err := c.List(context.Background(), "Fabrikam", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stories) != 200 || p.Next != "200" || p.Total != 405 {
		t.Fatalf("first page: %d items, next %q, total %d", len(p.Stories), p.Next, p.Total)
	}
	it := p.Stories[1]
	if it.Key != "2" || it.Title != "Story 2" || it.Type != "User Story" || it.Estimate != "3" ||
		it.URL != f.srv.URL+"/fabrikam/Fabrikam/_workitems/edit/2" || it.Description != "As a user I want Story 2\nso that it works" {
		t.Fatalf("item = %+v", it)
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"", "empty"},
		{`Fabrikam colour:red`, `unknown filter "colour:"`},
		{`Fabrikam area:"Contoso\Web"`, `not in project "Fabrikam"`},
		{`SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project`, "cannot use @project"},
		{`area:"Fabrikam\Web`, "quote is not closed"},
		{`state:New`, "name a project"},
	} {
		if _, err := parseQuery(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parseQuery(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
	q, err := parseQuery(`"Fabrikam Fiber\O'Brien" iteration:"Fabrikam Fiber\Sprint 5" type:Bug state:Active`)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Fabrikam Fiber' AND [System.AreaPath] UNDER 'Fabrikam Fiber\O''Brien' AND [System.IterationPath] UNDER 'Fabrikam Fiber\Sprint 5' AND [System.WorkItemType] = 'Bug' AND [System.State] = 'Active' ORDER BY [System.Id]`
	if q.wiql != want || q.project != "Fabrikam Fiber" {
		t.Fatalf("wiql = %s", q.wiql)
	}
}

func TestWriteFieldOfEachProcess(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Agile", "Agile")
	f.addProject("Scrum", "Scrum")
	f.addProject("CMMI", "CMMI")
	f.addItem(1, "Agile", "User Story", "a", "New", "Agile", "Agile", nil)
	f.addItem(2, "Scrum", "Product Backlog Item", "b", "New", "Scrum", "Scrum", nil)
	f.addItem(3, "CMMI", "Requirement", "c", "Proposed", "CMMI", "CMMI", nil)
	f.addItem(4, "Scrum", "Bug", "d", "New", "Scrum", "Scrum", nil)
	c := f.client(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id    int64
		field string
		label string
	}{
		{1, FieldStoryPoints, "Story Points"}, {2, FieldEffort, "Effort"}, {3, FieldSize, "Size"}, {4, FieldEffort, "Effort"},
	} {
		res, err := c.WriteEstimate(ctx, fmt.Sprint(tc.id), session.WriteBack{Value: "5"})
		if err != nil {
			t.Fatalf("work item %d: %v", tc.id, err)
		}
		if got := f.field(tc.id, tc.field); got != 5.0 {
			t.Fatalf("work item %d: %s = %v, want 5", tc.id, tc.field, got)
		}
		if !strings.Contains(res.Detail, tc.label+" ("+tc.field+") set to 5 on work item") {
			t.Fatalf("detail = %q", res.Detail)
		}
	}
	// Written again after a crash: no second update.
	if _, err := c.WriteEstimate(ctx, "AB#1", session.WriteBack{Value: "5"}); err != nil {
		t.Fatal(err)
	}
	if n := f.patchCount(); n != 4 {
		t.Fatalf("%d patches for four estimates, want 4", n)
	}
	// Half points and word cards through values.
	if _, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: "½"}); err != nil || f.field(1, FieldStoryPoints) != 0.5 {
		t.Fatalf("½: %v, field %v", err, f.field(1, FieldStoryPoints))
	}
	_, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: "XL"})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "values such as XS=1") {
		t.Fatalf("XL without values: %v", err)
	}
	if _, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: "XL", Options: map[string]string{OptionValues: "S=1,M=2,XL=8"}}); err != nil || f.field(1, FieldStoryPoints) != 8.0 {
		t.Fatalf("XL with values: %v, field %v", err, f.field(1, FieldStoryPoints))
	}
}

func TestWriteOverrideAndNothingToWrite(t *testing.T) {
	f := newFakeAzure(t)
	p := f.addProject("Fabrikam", "Basic")
	f.addItem(7, "Fabrikam", "Issue", "no estimate field", "To Do", "Fabrikam", "Fabrikam", nil)
	c := f.client(t)
	ctx := context.Background()

	_, err := c.WriteEstimate(ctx, "7", session.WriteBack{Value: "3"})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "work item type Issue in Fabrikam has no Story Points, Effort or Size field") {
		t.Fatalf("Basic process: %v", err)
	}
	_, err = c.WriteEstimate(ctx, "7", session.WriteBack{Value: "3", Options: map[string]string{OptionField: "Custom.Points"}})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), `"Custom.Points" chosen in the session's Azure DevOps settings is not a field`) {
		t.Fatalf("override not on the type: %v", err)
	}
	// The organizer adds a custom field to the type and picks it.
	f.mu.Lock()
	p.types["Issue"] = append(p.types["Issue"], "Custom.Points")
	p.extraFields["Custom.Points"] = "Points"
	f.mu.Unlock()
	c = f.client(t) // a fresh client: the type's fields were remembered by the old one
	res, err := c.WriteEstimate(ctx, "7", session.WriteBack{Value: "3", Options: map[string]string{OptionField: "Custom.Points"}})
	if err != nil || f.field(7, "Custom.Points") != 3.0 || !strings.Contains(res.Detail, "Points (Custom.Points) set to 3") {
		t.Fatalf("override: %v %q", err, res.Detail)
	}

	// A type carrying two estimate fields asks the organizer to pick.
	f.mu.Lock()
	p.types["Issue"] = append(p.types["Issue"], FieldStoryPoints, FieldEffort)
	f.mu.Unlock()
	c = f.client(t)
	_, err = c.WriteEstimate(ctx, "7", session.WriteBack{Value: "3"})
	var e *session.Error
	if !errors.As(err, &e) || e.Code != session.CodeConflict || len(e.Choices) != 2 || e.Choices[0].ID != FieldStoryPoints {
		t.Fatalf("two fields: %v", err)
	}
}

func TestWriteErrorsInWords(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Agile")
	f.addItem(1, "Fabrikam", "User Story", "a", "Active", "Fabrikam", "Fabrikam", nil)
	c := f.client(t)
	ctx := context.Background()

	f.readOnly[FieldStoryPoints] = true
	_, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "TF401320: Rule Error for field Story Points") {
		t.Fatalf("read-only rule: %v", err)
	}
	f.readOnly[FieldStoryPoints] = false
	f.cleared[FieldStoryPoints] = true
	_, err = c.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "the field now reads empty") {
		t.Fatalf("a rule that clears the field: %v", err)
	}
	f.cleared[FieldStoryPoints] = false

	f.failNext("PATCH _apis/wit/workitems/1", 503, "", 1)
	_, err = c.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"})
	if retry, _ := session.Retryable(err); !retry {
		t.Fatalf("503 not retryable: %v", err)
	}
	f.failNext("GET _apis/wit/workitems/1", 429, "17", 1)
	_, err = c.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"})
	if retry, after := session.Retryable(err); !retry || after != 17*time.Second {
		t.Fatalf("429: %v retry %v after %s", err, retry, after)
	}
	if _, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"}); err != nil || f.field(1, FieldStoryPoints) != 5.0 {
		t.Fatalf("after the outage: %v", err)
	}
	if n := f.patchCount(); n != 3 { // the refused one, the cleared one and the last; the 503 never reached the item
		t.Fatalf("%d patches", n)
	}

	bad, _ := New(Config{OrgURL: f.srv.URL + f.org, Token: "wrong"})
	_, err = bad.WriteEstimate(ctx, "1", session.WriteBack{Value: "5"})
	if kindOf(t, err) != session.CodeForbidden || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := c.WriteEstimate(ctx, "99", session.WriteBack{Value: "5"}); kindOf(t, err) != session.CodeNotFound {
		t.Fatalf("missing item: %v", err)
	}
	for _, v := range []string{"?", "☕", "-1"} {
		if _, err := c.WriteEstimate(ctx, "1", session.WriteBack{Value: v}); kindOf(t, err) != session.CodeInvalid {
			t.Fatalf("card %q: %v", v, err)
		}
	}
}

// TestSignInPageIsAnAuthError: without X-TFS-FedAuthRedirect a refused token gets a 203 sign-in
// page; the client asks for a 401, and treats a sign-in page as refused credentials anyway.
func TestSignInPageIsAnAuthError(t *testing.T) {
	f := newFakeAzure(t)
	req, _ := http.NewRequest("GET", f.srv.URL+f.org+"/_apis/projects?api-version=7.0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNonAuthoritativeInfo {
		t.Fatalf("fake answered %d", resp.StatusCode)
	}
	bad, _ := New(Config{OrgURL: f.srv.URL + f.org, Token: "wrong"})
	if _, err := bad.List(context.Background(), "Fabrikam", ""); kindOf(t, err) != session.CodeForbidden {
		t.Fatalf("bad token: %v", err)
	}
	none, _ := New(Config{OrgURL: f.srv.URL + f.org})
	if _, err := none.List(context.Background(), "Fabrikam", ""); kindOf(t, err) != session.CodeForbidden || !strings.Contains(err.Error(), "AZURE_DEVOPS_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	if _, err := New(Config{OrgURL: "dev.azure.com/fabrikam"}); err == nil {
		t.Fatal("an org URL without scheme was accepted")
	}
}

func TestCheckNamesTheFieldPerBacklogType(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Scrum")
	f.addProject("Basic", "Basic")
	c := f.client(t)
	facts := func(ch session.CheckReport) string {
		var b strings.Builder
		for _, f := range ch.Facts {
			fmt.Fprintf(&b, "%s: %s [%v]\n", f.Name, f.Text, f.OK)
		}
		return b.String()
	}
	ch, err := c.Check(context.Background(), "Fabrikam")
	if err != nil || !ch.OK || ch.Identity != "Jamal Hartnett" {
		t.Fatalf("check: %v %+v", err, ch)
	}
	got := facts(ch)
	for _, want := range []string{"project: Fabrikam (process Scrum) [true]", "Product Backlog Item: Pokor writes Effort (Microsoft.VSTS.Scheduling.Effort)", "Bug: Pokor writes Effort"} {
		if !strings.Contains(got, want) {
			t.Errorf("check lacks %q:\n%s", want, got)
		}
	}
	ch, err = c.Check(context.Background(), "Basic")
	if err != nil || ch.OK || !strings.Contains(facts(ch), "Issue: work item type Issue in Basic has no Story Points, Effort or Size field") {
		t.Fatalf("Basic check: %v\n%s", err, facts(ch))
	}
	ch, err = c.Check(context.Background(), "")
	if err != nil || !strings.Contains(facts(ch), "projects: 2 visible: Basic, Fabrikam") {
		t.Fatalf("org check: %v\n%s", err, facts(ch))
	}
	if _, err := c.Check(context.Background(), "Nope"); kindOf(t, err) != session.CodeNotFound {
		t.Fatalf("unknown project: %v", err)
	}
}
