package webui

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// getIn fetches a page as a browser set to the language accept would (following redirects).
func (c *client) getIn(path, accept string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.ts.http.URL+path, nil)
	req.Header.Set("Accept-Language", accept)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestTeamPageInGerman: under Accept-Language: de the team page, its charts (titles, text
// alternatives, durations with a decimal comma), its tables and its error page are German, with
// the language menu; in English they stay as they were.
func TestTeamPageInGerman(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Olga")
	sid, ta := teamSession(t, org, "Sprint 3", "Kern")
	for i, hours := range []float64{8, 10, 12, 40} {
		id := estimateStory(t, org, sid, []string{"Alpha", "Beta", "Gamma", "Delta"}[i], "", "3")
		h := hours
		now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		if err := ts.store.SaveOutcome(t.Context(), &session.Outcome{StoryID: id, DoneAt: now, CycleHours: &h, FetchedAt: now, Detail: "closed"}); err != nil {
			t.Fatal(err)
		}
	}
	// Half a point makes the points a decimal number.
	other := org.create(map[string]any{"title": "Sprint 4", "deck": "modified_fibonacci"})
	if st := org.do("PUT", "/api/v1/sessions/"+other+"/team", map[string]any{"link": ta.Team.TeamURL}, nil); st != http.StatusOK {
		t.Fatalf("joining the team by its link: %d", st)
	}
	estimateStory(t, org, other, "Klein", "", "½")

	viewer := ts.newClient("Vera")
	if st, _, _ := viewer.get(ta.Team.TeamURL); st != http.StatusOK {
		t.Fatalf("team link: %d", st)
	}
	month := map[string]string{"en": time.Now().UTC().Format("Jan"), "de": []string{"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."}[time.Now().UTC().Month()-1]}
	for _, tt := range []struct {
		accept string
		want   []string
	}{
		{"de-DE,de;q=0.9", []string{`<html lang="de">`, `<option value="de" lang="de" selected>Deutsch</option>`,
			"Storys pro Schätzung", `aria-label="Storys pro Schätzung: ½: 1; 3: 4"`, `aria-label="Angenommene Punkte pro Sprint: S3: 12; S4: 0,5"`, "Runden pro Story",
			`aria-label="Durchlaufzeit pro Schätzung"`, "Schätzung 3: Median 11 Std., mittlere Hälfte 9,5 Std.–19 Std., 4 Storys",
			"<li>Delta: mit 3 geschätzt, dauerte 3,6-mal so lange wie der Median der Storys mit 3.",
			"4 von 5 geschätzten Storys haben ein Ergebnis.", `id="fig-points">12,5<`, "Storys geschätzt</span>",
			"<th>Durchlaufzeit</th>", "Teamlink kopieren", ". " + month["de"] + " ", "4 von 4", "Angenommene Punkte pro Sprint"}},
		{"en-US", []string{`<html lang="en">`, "Stories per estimate", `aria-label="Stories per estimate: ½: 1, 3: 4"`,
			"estimate 3: median 11 h, middle half 9.5 h–19 h, 4 stories", "estimated 3, took 3.6× the median of the stories estimated 3.",
			"4 of 5 estimated stories have an outcome.", `id="fig-points">12.5<`, "stories estimated</span>", " " + month["en"] + " ", "4 of 4"}},
	} {
		st, body := viewer.getIn("/t/"+ta.Team.ID, tt.accept)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", tt.accept, st)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the team page lacks %q", tt.accept, w)
			}
		}
	}
	_, body := viewer.getIn("/t/"+ta.Team.ID, "de")
	for _, english := range []string{"Stories per estimate", "rounds per story", "Copy team link", "Far off", "middle half"} {
		if strings.Contains(body, english) {
			t.Errorf("the German team page still says %q", english)
		}
	}

	// Without the team's cookie: the error page, in German too.
	stranger := ts.newClient("Sam")
	if st, body := stranger.getIn("/t/"+ta.Team.ID, "de"); st != http.StatusForbidden || !strings.Contains(body, "Teamseite") || !strings.Contains(body, "er gilt 90 Tage") {
		t.Errorf("the team page without access: %d\n%s", st, body)
	}
	if st, body := stranger.getIn("/t/"+ta.Team.ID+"/enter?t=nonsense", "de"); st != http.StatusForbidden || !strings.Contains(body, "Dieser Teamlink funktioniert nicht") {
		t.Errorf("a broken team link: %d\n%s", st, body)
	}
}

// TestChartTexts: durations, numbers, sprint labels and dates of the server-drawn charts in
// English and German.
func TestChartTexts(t *testing.T) {
	set, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	en, de := set.Get("en"), set.Get("de")
	day := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ got, want string }{
		{hours(en, 0.5), "30 min"},
		{hours(de, 0.5), "30 Min."},
		{hours(en, 9.5), "9.5 h"},
		{hours(de, 9.5), "9,5 Std."},
		{hours(en, 60), "2.5 d"},
		{hours(de, 60), "2,5 Tg."},
		{duration(en, 45), "45 s"},
		{duration(de, 45), "45 Sek."},
		{duration(de, 180), "3 Min."},
		{duration(en, 3900), "1 h 5 min"},
		{duration(de, 3900), "1 Std. 5 Min."},
		{sprintLabel(en, "Sprint 42"), "S42"},
		{sprintLabel(de, "Week 2025-W09"), "KW09"},
		{sprintLabel(en, "Week 2025-W09"), "W09"},
		{sprintLabel(de, "Release train"), "Release train"},
		{sprintName(de, "Week 2025-W09"), "KW 9/2025"},
		{sprintName(en, "Week 2025-W09"), "Week 9, 2025"},
		{sprintName(de, "Sprint 42"), "Sprint 42"},
		{date(en, day), "7 Mar 2026"},
		{date(de, day), "7. März 2026"},
		{date(de, day.AddDate(0, 9, 0)), "7. Dez. 2026"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
	ch := newBarChart(de, "Punkte", "", []string{"S1", "S2"}, []float64{2.5, 1234}, func(v float64) string { return de.Number(v, 2) })
	if ch.Alt != "Punkte: S1: 2,5; S2: 1.234" || ch.Bars[0].Value != "2,5" {
		t.Errorf("German bar chart: %q, %q", ch.Alt, ch.Bars[0].Value)
	}
	if empty := newBarChart(de, "Punkte", "", nil, nil, nil); !empty.Empty || empty.NoData != "Noch nichts zu zeigen." {
		t.Errorf("an empty German chart: %+v", empty)
	}
}
