package gitlab

import (
	"context"
	"errors"
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

// listAll follows the cursor to the end, as an import does.
func listAll(t *testing.T, c *Client, query string) ([]session.ExternalStory, []session.ExternalPage) {
	t.Helper()
	var items []session.ExternalStory
	var pages []session.ExternalPage
	cursor := ""
	for i := 0; i < 50; i++ {
		p, err := c.List(context.Background(), query, cursor)
		if err != nil {
			t.Fatalf("List(%q, %q): %v", query, cursor, err)
		}
		pages = append(pages, p)
		items = append(items, p.Stories...)
		if p.Next == "" {
			return items, pages
		}
		cursor = p.Next
	}
	t.Fatal("List never ended")
	return nil, nil
}

func TestListProjectAllPagesWithFilters(t *testing.T) {
	f := newFakeGitLab(t, true)
	p := f.addProject("acme/platform/api", 130)
	for i, is := range p.issues {
		if i%2 == 0 {
			is.labels = []string{"ready"}
		}
		if i < 10 {
			is.labels = append(is.labels, "backend")
		}
		if i == 4 {
			w := int64(8)
			is.weight = &w
		}
		if i == 6 {
			is.labels = append(is.labels, "estimate::M")
		}
		if i >= 120 {
			is.state = "closed"
		}
	}
	c := f.client(t)

	items, pages := listAll(t, c, "acme/platform/api label:ready")
	if len(items) != 60 {
		t.Fatalf("label:ready imported %d issues, want 60 (the open half of 120)", len(items))
	}
	if len(pages) != 2 || pages[0].Total != 60 || pages[0].Next != "2" {
		t.Fatalf("pages = %d, first total %d next %q; want 2 pages of a total of 60", len(pages), pages[0].Total, pages[0].Next)
	}
	if items[0].Key != "acme/platform/api#1" || items[0].Title != "Issue 1" || !strings.HasSuffix(items[0].URL, "/acme/platform/api/-/issues/1") {
		t.Fatalf("first item = %+v", items[0])
	}
	if items[2].Estimate != "8" {
		t.Fatalf("issue 5 has weight 8, imported estimate %q", items[2].Estimate)
	}
	if items[3].Estimate != "M" {
		t.Fatalf("issue 7 has label estimate::M, imported estimate %q", items[3].Estimate)
	}

	all, _ := listAll(t, c, `acme/platform/api state:all`)
	if len(all) != 130 {
		t.Fatalf("state:all imported %d issues, want 130", len(all))
	}
	both, _ := listAll(t, c, `acme/platform/api label:ready label:backend`)
	if len(both) != 5 {
		t.Fatalf("two labels (all must match) imported %d, want 5", len(both))
	}
	if incidents, _ := listAll(t, c, `acme/platform/api type:incident`); len(incidents) != 0 {
		t.Fatalf("type:incident imported %d issues", len(incidents))
	}
	closed, _ := listAll(t, c, `acme/platform/api state:closed`)
	if len(closed) != 10 {
		t.Fatalf("state:closed imported %d, want 10", len(closed))
	}
}

func TestListGroupAndURLAndMilestone(t *testing.T) {
	f := newFakeGitLab(t, false)
	a := f.addProject("acme/api", 3)
	f.addProject("acme/web", 2)
	a.issues[1].milestone = "v2 beta"
	c := f.client(t)

	items, _ := listAll(t, c, "acme")
	if len(items) != 5 {
		t.Fatalf("group acme imported %d issues, want 5", len(items))
	}
	keys := map[string]bool{}
	for _, it := range items {
		keys[it.Key] = true
	}
	if !keys["acme/api#2"] || !keys["acme/web#2"] {
		t.Fatalf("group keys = %v; want full references", keys)
	}

	ms, _ := listAll(t, c, f.srv.URL+`/acme/api/-/issues?sort=x milestone:"v2 beta"`)
	if len(ms) != 1 || ms[0].Key != "acme/api#2" {
		t.Fatalf("milestone from a URL query = %+v", ms)
	}

	_, err := c.List(context.Background(), "acme/nope", "")
	if kindOf(t, err) != session.CodeNotFound || !strings.Contains(err.Error(), `no project or group "acme/nope"`) {
		t.Fatalf("unknown path: %v", err)
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want issueQuery
		err  string
	}{
		{in: "acme/api", want: issueQuery{path: "acme/api", state: "opened"}},
		{in: `acme/sub/api label:ready labels:"needs design",ux milestone:none iteration:current state:all search:"login page"`,
			want: issueQuery{path: "acme/sub/api", labels: []string{"ready", "needs design", "ux"}, milestone: "None", iteration: "current", state: "all", search: "login page"}},
		{in: "acme iteration:42 milestone:Any type:Task", want: issueQuery{path: "acme", iteration: "42", milestone: "Any", state: "opened", typ: "task"}},
		{in: "acme type:epic", err: "type:epic is not one of"},
		{in: "https://gitlab.example.com/groups/acme/-/issues", want: issueQuery{path: "acme", state: "opened"}},
		{in: "<https://gitlab.example.com/acme/api|acme/api> label:ready", want: issueQuery{path: "acme/api", labels: []string{"ready"}, state: "opened"}},
		{in: "", err: "empty"},
		{in: "acme/api colour:red", err: `unknown filter "colour:"`},
		{in: "acme/api state:done", err: "not one of opened"},
		{in: "../etc", err: "project or group path"},
		{in: `acme/api milestone:"v2`, err: "quote is not closed"},
		{in: "https://evil.example.net/acme/api", err: "not on this GitLab"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			q, err := parseQuery(tc.in, "https://gitlab.example.com")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.path != tc.want.path || q.state != tc.want.state || q.milestone != tc.want.milestone ||
				q.iteration != tc.want.iteration || q.search != tc.want.search || q.typ != tc.want.typ || strings.Join(q.labels, "|") != strings.Join(tc.want.labels, "|") {
				t.Fatalf("got %+v, want %+v", q, tc.want)
			}
		})
	}
}

func TestIterationCurrent(t *testing.T) {
	f := newFakeGitLab(t, true)
	p := f.addProject("acme/api", 4)
	p.issues[0].iteration, p.issues[3].iteration = 55, 55
	f.iterations = []iteration{{ID: 55, Title: "Sprint 9", State: 2}}
	c := f.client(t)
	items, _ := listAll(t, c, "acme/api iteration:current")
	if len(items) != 2 {
		t.Fatalf("iteration:current imported %d, want 2", len(items))
	}
	f.iterations = append(f.iterations, iteration{ID: 56, Title: "Design 3", State: 2})
	_, err := c.List(context.Background(), "acme/api iteration:current", "")
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), `"Design 3" (iteration:56)`) {
		t.Fatalf("two current iterations: %v", err)
	}

	free := newFakeGitLab(t, false)
	free.addProject("acme/api", 1)
	_, err = free.client(t).List(context.Background(), "acme/api iteration:current", "")
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "need GitLab Premium") {
		t.Fatalf("iterations on Free: %v", err)
	}
}

func TestWriteWeightWhereAvailable(t *testing.T) {
	f := newFakeGitLab(t, true)
	f.addProject("acme/api", 2)
	c := f.client(t)
	ctx := context.Background()

	res, err := c.WriteEstimate(ctx, "acme/api#2", session.WriteBack{Value: "5"})
	if err != nil {
		t.Fatal(err)
	}
	if is := f.issueOf("acme/api", 2); is.weight == nil || *is.weight != 5 || len(is.labels) != 0 {
		t.Fatalf("issue after write: weight %v labels %v", is.weight, is.labels)
	}
	if !strings.Contains(res.Detail, "weight set to 5 on acme/api#2") {
		t.Fatalf("detail = %q", res.Detail)
	}
	// Delivered again (a crash before the outbox recorded success): nothing changes.
	if _, err := c.WriteEstimate(ctx, "acme/api#2", session.WriteBack{Value: "5"}); err != nil {
		t.Fatal(err)
	}
	if puts, _, _ := f.counts(); puts != 1 {
		t.Fatalf("%d updates for one estimate written twice, want 1", puts)
	}
	// A word card in auto mode goes to the label and says why; with values it is a weight.
	res, err = c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "M", Deck: []string{"S", "M", "L"}})
	if err != nil || !strings.Contains(res.Detail, "label estimate::M set") || !strings.Contains(res.Detail, "not a whole-number weight") {
		t.Fatalf("T-shirt card in auto mode: %v %q", err, res.Detail)
	}
	_, err = c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "M", Options: map[string]string{OptionMode: ModeWeight}})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "values such as XS=1") {
		t.Fatalf("word card in weight mode: %v", err)
	}
	if _, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "M", Options: map[string]string{OptionMode: ModeWeight, OptionValues: "S=1, M=3, L=5"}}); err != nil {
		t.Fatal(err)
	}
	if is := f.issueOf("acme/api", 1); is.weight == nil || *is.weight != 3 {
		t.Fatalf("M with values M=3 wrote weight %v", is.weight)
	}
	_, err = c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "0.5", Options: map[string]string{OptionMode: ModeWeight}})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "whole number") {
		t.Fatalf("0.5 in weight mode: %v", err)
	}
}

func TestWriteLabelWithoutWeights(t *testing.T) {
	f := newFakeGitLab(t, false)
	p := f.addProject("acme/api", 1)
	p.issues[0].labels = []string{"backend", "estimate::3"}
	c := f.client(t)
	ctx := context.Background()

	res, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "5"})
	if err != nil {
		t.Fatal(err)
	}
	is := f.issueOf("acme/api", 1)
	if strings.Join(is.labels, ",") != "backend,estimate::5" || is.weight != nil {
		t.Fatalf("labels after write = %v (weight %v); want the old estimate label replaced", is.labels, is.weight)
	}
	if !strings.Contains(res.Detail, "label estimate::5 set on acme/api#1 (this GitLab has no issue weights)") {
		t.Fatalf("detail = %q", res.Detail)
	}
	if _, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "5"}); err != nil {
		t.Fatal(err)
	}
	if puts, _, _ := f.counts(); puts != 1 {
		t.Fatalf("%d updates, want 1", puts)
	}
	_, err = c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "5", Options: map[string]string{OptionMode: ModeWeight}})
	if kindOf(t, err) != session.CodeInvalid || !strings.Contains(err.Error(), "need GitLab Premium or Ultimate") {
		t.Fatalf("weight mode without weights: %v", err)
	}
	for _, v := range []string{"?", "☕", " "} {
		if _, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: v}); kindOf(t, err) != session.CodeInvalid {
			t.Fatalf("card %q: %v", v, err)
		}
	}
}

func TestWriteNoteEditedInPlace(t *testing.T) {
	f := newFakeGitLab(t, true)
	p := f.addProject("acme/api", 1)
	// Someone quoted an old Pokor note, marker and all: it is not Pokor's to edit.
	p.issues[0].notes = []fakeNote{{id: 1, body: "copied **Estimate: 1**\n\n" + NoteMarker, author: 99}, {id: 2, body: "changed the milestone", author: 1, system: true}}
	c := f.client(t)
	ctx := context.Background()
	opts := map[string]string{OptionMode: ModeLabelNote}
	est := session.WriteBack{Value: "8", SessionTitle: "Sprint 42", SessionURL: "https://pokor.example.com/s/abc", Options: opts}

	if _, err := c.WriteEstimate(ctx, "acme/api#1", est); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteEstimate(ctx, "acme/api#1", est); err != nil {
		t.Fatal(err)
	}
	est.Value = "13"
	res, err := c.WriteEstimate(ctx, "acme/api#1", est)
	if err != nil {
		t.Fatal(err)
	}
	_, posts, edits := f.counts()
	if posts != 1 || edits != 1 {
		t.Fatalf("notes posted %d, edited %d; want one note, edited once", posts, edits)
	}
	is := f.issueOf("acme/api", 1)
	last := is.notes[len(is.notes)-1]
	if len(is.notes) != 3 || !strings.Contains(last.body, "**Estimate: 13**") || !strings.Contains(last.body, "[Sprint 42](https://pokor.example.com/s/abc)") {
		t.Fatalf("notes = %+v", is.notes)
	}
	if is.notes[0].body != "copied **Estimate: 1**\n\n"+NoteMarker {
		t.Fatal("another user's note was edited")
	}
	if strings.Join(is.labels, ",") != "estimate::13" || !strings.Contains(res.Detail, "note updated") {
		t.Fatalf("labels %v, detail %q", is.labels, res.Detail)
	}
}

func TestWriteFailuresAreRetryableAndLandOnce(t *testing.T) {
	f := newFakeGitLab(t, false)
	f.addProject("acme/api", 1)
	c := f.client(t)
	ctx := context.Background()

	f.failNext("PUT projects/acme%2Fapi/issues/1", 502, "", 1)
	_, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "3"})
	if retry, _ := session.Retryable(err); !retry || kindOf(t, err) != session.CodeUnavailable {
		t.Fatalf("502: %v, want a retryable error", err)
	}
	f.failNext("GET projects/acme%2Fapi/issues/1", 429, "30", 1)
	_, err = c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "3"})
	retry, after := session.Retryable(err)
	if !retry || after != 30*time.Second || kindOf(t, err) != session.CodeUnavailable {
		t.Fatalf("429: %v (retry %v after %s)", err, retry, after)
	}
	if _, err := c.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "3"}); err != nil {
		t.Fatal(err)
	}
	if is := f.issueOf("acme/api", 1); strings.Join(is.labels, ",") != "estimate::3" {
		t.Fatalf("labels = %v", is.labels)
	}

	bad, _ := New(Config{BaseURL: f.srv.URL, Token: "wrong"})
	_, err = bad.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "3"})
	if kindOf(t, err) != session.CodeForbidden || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	// Without a token, public projects are read anonymously; writing says where to set one.
	f.public = true
	anon, _ := New(Config{BaseURL: f.srv.URL})
	if items, _ := listAll(t, anon, "acme/api"); len(items) != 1 {
		t.Fatalf("anonymous list: %d", len(items))
	}
	_, err = anon.WriteEstimate(ctx, "acme/api#1", session.WriteBack{Value: "5"})
	if kindOf(t, err) != session.CodeForbidden || !strings.Contains(err.Error(), "no GitLab token: set GITLAB_TOKEN") {
		t.Fatalf("anonymous write: %v", err)
	}
	if _, err := c.WriteEstimate(ctx, "acme/api#9", session.WriteBack{Value: "3"}); kindOf(t, err) != session.CodeNotFound {
		t.Fatalf("missing issue: %v", err)
	}
	if _, err := c.WriteEstimate(ctx, "API-9", session.WriteBack{Value: "3"}); kindOf(t, err) != session.CodeInvalid {
		t.Fatalf("bad key: %v", err)
	}
}

func TestCheckSaysWhatPokorWrites(t *testing.T) {
	facts := func(ch session.CheckReport) string {
		var b strings.Builder
		for _, f := range ch.Facts {
			b.WriteString(f.Name + ": " + f.Text + "\n")
		}
		return b.String()
	}
	premium := newFakeGitLab(t, true)
	premium.addProject("acme/api", 1)
	ch, err := premium.client(t).Check(context.Background(), "acme/api")
	if err != nil || !ch.OK {
		t.Fatalf("check: %v %+v", err, ch)
	}
	got := facts(ch)
	for _, want := range []string{"token: belongs to @pokor-bot (Pokor Bot)", "GitLab 17.5.0-ee (Enterprise Edition", "role: Developer", "weights: available", "write-back: mode auto writes the accepted card to the issue weight", "rate limit: 1999 of 2000"} {
		if !strings.Contains(got, want) {
			t.Errorf("premium check lacks %q:\n%s", want, got)
		}
	}

	free := newFakeGitLab(t, false)
	p := free.addProject("acme/api", 1)
	p.access = 10
	ch, err = free.client(t).Check(context.Background(), "acme/api")
	if err != nil {
		t.Fatal(err)
	}
	got = facts(ch)
	for _, want := range []string{"Community Edition", "weights: not available", "write-back: mode auto writes the label estimate::N", "role: Guest: can add notes only"} {
		if !strings.Contains(got, want) {
			t.Errorf("free check lacks %q:\n%s", want, got)
		}
	}
	if ch.OK {
		t.Error("a Guest token that cannot set labels reported OK")
	}

	ch, err = free.client(t).Check(context.Background(), "acme")
	if got := facts(ch); err != nil || !strings.Contains(got, "group: acme") || !strings.Contains(got, "weights: not available") || strings.Contains(got, "role:") {
		t.Errorf("group check: %v\n%s", err, got)
	}

	bad, _ := New(Config{BaseURL: free.srv.URL, Token: "nope"})
	ch, err = bad.Check(context.Background(), "")
	if kindOf(t, err) != session.CodeForbidden || ch.OK || len(ch.Facts) == 0 {
		t.Fatalf("bad token check: %v %+v", err, ch)
	}
}
