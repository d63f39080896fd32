package webui

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// get fetches a page (following redirects) and returns its status, body and final URL.
func (c *client) get(path string) (int, string, string) {
	c.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = c.ts.http.URL + path
	}
	res, err := c.http.Get(u)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Request.URL.String()
}

type teamAnswer struct {
	Team *struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Platform string `json:"platform"`
		PageURL  string `json:"page_url"`
		TeamURL  string `json:"team_url"`
	} `json:"team"`
}

// teamSession creates a session organized by org and puts it in a new team.
func teamSession(t *testing.T, org *client, title, team string) (string, teamAnswer) {
	t.Helper()
	sid := org.create(map[string]any{"title": title})
	var ta teamAnswer
	if st := org.do("PUT", "/api/v1/sessions/"+sid+"/team", map[string]any{"name": team}, &ta); st != http.StatusOK || ta.Team == nil {
		t.Fatalf("set team: %d %+v", st, ta)
	}
	return sid, ta
}

// estimateStory adds a story to the organizer's session, votes it, reveals and accepts value.
func estimateStory(t *testing.T, org *client, sid, title, desc, value string) string {
	t.Helper()
	var sts []session.Story
	if st := org.do("POST", "/api/v1/sessions/"+sid+"/stories", map[string]any{"title": title, "description": desc}, &sts); st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("add story: %d", st)
	}
	id := sts[0].ID
	for _, step := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/select", nil},
		{"PUT", "/vote", map[string]any{"card": value}},
		{"POST", "/reveal", nil},
		{"POST", "/accept", map[string]any{"value": value}},
	} {
		if st := org.do(step.method, "/api/v1/sessions/"+sid+"/stories/"+id+step.path, step.body, nil); st != http.StatusOK {
			t.Fatalf("%s %s: %d", step.method, step.path, st)
		}
	}
	return id
}

func TestTeamPage(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{"title": "Sprint 7"})
	voter := ts.newClient("Vic")
	voter.join(sid, "voter")

	if st := voter.do("PUT", "/api/v1/sessions/"+sid+"/team", map[string]any{"name": "Core"}, nil); st != http.StatusForbidden {
		t.Errorf("a voter set the team: %d", st)
	}
	if st := org.do("PUT", "/api/v1/sessions/"+sid+"/team", map[string]any{"name": ""}, nil); st != http.StatusBadRequest {
		t.Errorf("an empty team name: %d", st)
	}
	var ta teamAnswer
	if st := org.do("PUT", "/api/v1/sessions/"+sid+"/team", map[string]any{"name": "Core <team>"}, &ta); st != http.StatusOK || ta.Team == nil {
		t.Fatalf("set team: %d %+v", st, ta)
	}
	teamID := ta.Team.ID
	var again teamAnswer
	if st := org.do("GET", "/api/v1/sessions/"+sid+"/team", nil, &again); st != http.StatusOK || again.Team.ID != teamID || again.Team.TeamURL == "" {
		t.Errorf("GET team: %d %+v", st, again)
	}
	estimateStory(t, org, sid, "Login page", "", "5")
	estimateStory(t, org, sid, "=HYPERLINK(\"x\")", "", "3")

	// A stranger sees nothing of the team, by page or by API.
	stranger := ts.newClient("Stan")
	if st, body, _ := stranger.get("/t/" + teamID); st != http.StatusForbidden || strings.Contains(body, "Core") {
		t.Errorf("team page without the link: %d", st)
	}
	for _, p := range []string{"", "/insight", "/export?format=csv"} {
		if st := stranger.do("GET", "/api/v1/teams/"+teamID+p, nil, nil); st != http.StatusForbidden {
			t.Errorf("GET /api/v1/teams/{id}%s without the link: %d", p, st)
		}
	}
	tampered := strings.Replace(ta.Team.TeamURL, "?t=", "?t=x", 1)
	if st, _, _ := stranger.get(tampered); st != http.StatusForbidden {
		t.Errorf("a tampered team link: %d", st)
	}
	// A session's organizer link is not a team link.
	var link struct {
		URL string `json:"organizer_url"`
	}
	org.do("GET", "/api/v1/sessions/"+sid+"/organizer-link", nil, &link)
	if st, _, _ := stranger.get("/t/" + teamID + "/enter?t=" + tokenOf(link.URL)); st != http.StatusForbidden {
		t.Errorf("an organizer link opened the team page: %d", st)
	}

	// The team link lets the browser in and leaves the clean URL.
	st, body, final := stranger.get(ta.Team.TeamURL)
	if st != http.StatusOK || final != ts.http.URL+"/t/"+teamID {
		t.Fatalf("team link: %d at %s", st, final)
	}
	for _, want := range []string{"Core &lt;team&gt;", "<svg", "Stories per estimate", "Login page", `id="fig-estimated">2<`, `id="fig-points">8<`, "Sprint 7"} {
		if !strings.Contains(body, want) {
			t.Errorf("the team page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("the team page has inline script or style, which the Content-Security-Policy refuses")
	}

	var in session.Insight
	if st := stranger.do("GET", "/api/v1/teams/"+teamID+"/insight", nil, &in); st != http.StatusOK || in.Totals.Estimated != 2 || in.Totals.Points != 8 {
		t.Errorf("insight: %d %+v", st, in.Totals)
	}
	res, err := stranger.http.Get(ts.http.URL + "/api/v1/teams/" + teamID + "/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 3 || rows[0][0] != "session" {
		t.Fatalf("CSV export: %v %q", err, raw)
	}
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[2], "=") {
			t.Errorf("a formula reached the CSV unguarded: %q", r[2])
		}
	}
	if st := stranger.do("GET", "/api/v1/teams/"+teamID+"/export?format=xml", nil, nil); st != http.StatusBadRequest {
		t.Errorf("export format xml: %d", st)
	}

	// Rename and turn per-voter accuracy on.
	if st := stranger.do("PATCH", "/api/v1/teams/"+teamID, map[string]any{"name": "Core team", "settings": map[string]any{"voter_accuracy": true}}, nil); st != http.StatusOK {
		t.Errorf("PATCH team: %d", st)
	}
	if st := stranger.do("PATCH", "/api/v1/teams/"+teamID, map[string]any{"name": "  "}, nil); st != http.StatusBadRequest {
		t.Errorf("PATCH with an empty name: %d", st)
	}
	if _, body, _ := stranger.get("/t/" + teamID); !strings.Contains(body, "Core team") || !strings.Contains(body, "checked") {
		t.Error("the rename or the setting did not stick")
	}

	// Replacing the link keeps the replacer in and turns everyone else out.
	other := ts.newClient("Otto")
	if st, _, _ := other.get(ta.Team.TeamURL); st != http.StatusOK {
		t.Fatal("second browser could not enter")
	}
	var rot struct {
		URL string `json:"team_url"`
	}
	if st := stranger.do("POST", "/api/v1/teams/"+teamID+"/link/rotate", nil, &rot); st != http.StatusOK || rot.URL == "" {
		t.Fatalf("rotate: %d", st)
	}
	if st, _, _ := stranger.get("/t/" + teamID); st != http.StatusOK {
		t.Errorf("the browser that replaced the link lost access: %d", st)
	}
	if st, _, _ := other.get("/t/" + teamID); st != http.StatusForbidden {
		t.Errorf("another browser kept access after the link was replaced: %d", st)
	}
	if st, body, _ := other.get(ta.Team.TeamURL); st != http.StatusForbidden || !strings.Contains(body, "replaced") {
		t.Errorf("the old link after rotation: %d", st)
	}
}

// TestSimilarOverTheWire checks at the byte level that the room's members receive the similar
// past stories with the reveal, never before, and that the API refuses them before it.
func TestSimilarOverTheWire(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	past, ta := teamSession(t, org, "Sprint 1", "Core")
	estimateStory(t, org, past, "Password reset by email", "Send a reset link to the user's email address.", "5")
	estimateStory(t, org, past, "Export invoices as PDF", "Monthly invoices as PDF files.", "8")

	sid := org.create(map[string]any{"title": "Sprint 2"})
	if st := org.do("PUT", "/api/v1/sessions/"+sid+"/team", map[string]any{"link": ta.Team.TeamURL}, nil); st != http.StatusOK {
		t.Fatal(st)
	}
	voter := ts.newClient("Vic")
	voter.join(sid, "voter")
	var sts []session.Story
	org.do("POST", "/api/v1/sessions/"+sid+"/stories", map[string]any{"title": "Reset a forgotten password"}, &sts)
	story := sts[0].ID
	org.connect(sid)
	snap := voter.connect(sid)
	if _, ok := snap["data"].(map[string]any)["similar"]; ok {
		t.Fatal("snapshot before reveal has similar stories")
	}
	voter.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "3"}})
	if st := voter.do("GET", "/api/v1/sessions/"+sid+"/stories/"+story+"/similar", nil, nil); st != http.StatusConflict {
		t.Errorf("similar before reveal: %d", st)
	}
	secret := []byte("Password reset by email")
	for _, c := range []*client{org, voter} {
		if b := c.received(); bytes.Contains(b, secret) || bytes.Contains(b, []byte(`"similar"`)) {
			t.Fatalf("%s received similar stories before the reveal: %s", c.name, b)
		}
	}
	if ev := org.request("reveal", map[string]any{"story_id": story}); ev["type"] != "ack" {
		t.Fatalf("reveal: %v", ev)
	}
	ev := voter.expect("similar")
	d := ev["data"].(map[string]any)
	list := d["stories"].([]any)
	if d["story_id"] != story || len(list) != 1 || list[0].(map[string]any)["title"] != string(secret) || list[0].(map[string]any)["estimate"] != "5" {
		t.Errorf("similar event = %v", d)
	}
	var v session.SimilarView
	if st := voter.do("GET", "/api/v1/sessions/"+sid+"/stories/"+story+"/similar", nil, &v); st != http.StatusOK || len(v.Stories) != 1 {
		t.Errorf("similar after reveal: %d %+v", st, v)
	}
	late := ts.newClient("Lea")
	late.join(sid, "voter")
	snap = late.connect(sid)
	if sim, ok := snap["data"].(map[string]any)["similar"].(map[string]any); !ok || len(sim["stories"].([]any)) != 1 {
		t.Errorf("snapshot after reveal: similar = %v", snap["data"].(map[string]any)["similar"])
	}
}

// TestTeamPageOutcomes: with outcomes known, the page shows per estimate the median and middle
// half of the cycle times, and the story that was far off.
func TestTeamPageOutcomes(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid, ta := teamSession(t, org, "Sprint 3", "Core")
	for i, hours := range []float64{8, 10, 12, 40} {
		id := estimateStory(t, org, sid, []string{"Alpha", "Beta", "Gamma", "Delta"}[i], "", "3")
		h := hours
		now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		if err := ts.store.SaveOutcome(t.Context(), &session.Outcome{StoryID: id, DoneAt: now, CycleHours: &h, FetchedAt: now, Detail: "closed"}); err != nil {
			t.Fatal(err)
		}
	}
	viewer := ts.newClient("Vera")
	st, body, _ := viewer.get(ta.Team.TeamURL)
	if st != http.StatusOK {
		t.Fatal(st)
	}
	for _, want := range []string{`aria-label="Cycle time per estimate"`, "estimate 3: median 11 h, middle half 9.5 h–19 h, 4 stories",
		`<ul id="far-off"><li>Delta: estimated 3, took 3.6× the median of the stories estimated 3.</li></ul>`, "4 of 4 estimated stories have an outcome"} {
		if !strings.Contains(body, want) {
			t.Errorf("the team page lacks %q in\n%s", want, body[strings.Index(body, "outcomes-title"):][:1500])
		}
	}
	if strings.Contains(body, `id="voters"`) {
		t.Error("per-voter accuracy shown while the team has not turned it on")
	}
}
