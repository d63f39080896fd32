package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func testTeams(t *testing.T, s *Store) {
	ctx := t.Context()
	team := &session.Team{ID: newID(), Name: "Payments", CreatedAt: t0}
	if err := s.CreateTeam(ctx, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	got, err := s.Team(ctx, team.ID)
	if err != nil {
		t.Fatalf("Team: %v", err)
	}
	if got.Name != "Payments" || got.Platform != "" || got.Settings.VoterAccuracy || !got.CreatedAt.Equal(t0) || got.LinkEpoch != 0 {
		t.Errorf("Team = %+v", got)
	}
	_, err = s.Team(ctx, "nope")
	wantNotFound(t, "Team", err)

	got.Name, got.Settings.VoterAccuracy = "Payments squad", true
	if err := s.UpdateTeam(ctx, got); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	if again, _ := s.Team(ctx, team.ID); again.Name != "Payments squad" || !again.Settings.VoterAccuracy {
		t.Errorf("after UpdateTeam: %+v", again)
	}
	wantNotFound(t, "UpdateTeam", s.UpdateTeam(ctx, &session.Team{ID: "nope", Name: "x"}))
	for want := 1; want <= 2; want++ {
		if epoch, err := s.RotateTeamLink(ctx, team.ID); err != nil || epoch != want {
			t.Errorf("RotateTeamLink = %d, %v; want %d", epoch, err, want)
		}
	}
	_, err = s.RotateTeamLink(ctx, "nope")
	wantNotFound(t, "RotateTeamLink", err)

	// Sessions join and leave; a session without a team is unchanged and in no team's list.
	a, _ := createSession(t, s, func(x *session.Session) { x.TeamID = team.ID })
	b, _ := createSession(t, s, func(x *session.Session) { x.CreatedAt = t0.Add(time.Hour); x.UpdatedAt = x.CreatedAt })
	if sess, _ := s.Session(ctx, a.ID); sess.TeamID != team.ID {
		t.Errorf("created session's TeamID = %q", sess.TeamID)
	}
	if sess, _ := s.Session(ctx, b.ID); sess.TeamID != "" {
		t.Errorf("session without a team has TeamID %q", sess.TeamID)
	}
	if err := s.SetSessionTeam(ctx, b.ID, team.ID); err != nil {
		t.Fatalf("SetSessionTeam: %v", err)
	}
	// The cached session must show the change at once.
	if sess, _ := s.Session(ctx, b.ID); sess.TeamID != team.ID {
		t.Errorf("after SetSessionTeam, TeamID = %q", sess.TeamID)
	}
	list, err := s.TeamSessions(ctx, team.ID)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("TeamSessions = %v, %v; want [a b] oldest first", ids(list, func(x *session.Session) string { return x.ID }), err)
	}
	if err := s.SetSessionTeam(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.TeamSessions(ctx, team.ID); len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("after leaving, TeamSessions has %d sessions", len(list))
	}
	if list, _ := s.TeamSessions(ctx, ""); len(list) != 0 {
		t.Errorf("TeamSessions(\"\") = %d sessions; sessions without a team are no team", len(list))
	}
	wantNotFound(t, "SetSessionTeam", s.SetSessionTeam(ctx, "nope", team.ID))

	// A channel's team is made once and found again; another channel gets its own.
	ch := &session.Team{ID: newID(), Name: "Slack channel C1", Platform: "slack", ChatTeam: "T1", Channel: "C1", CreatedAt: t0}
	first, err := s.ChannelTeam(ctx, ch)
	if err != nil || first.ID != ch.ID || first.ChatTeam != "T1" || first.Channel != "C1" {
		t.Fatalf("ChannelTeam = %+v, %v", first, err)
	}
	again, err := s.ChannelTeam(ctx, &session.Team{ID: newID(), Name: "other", Platform: "slack", ChatTeam: "T1", Channel: "C1", CreatedAt: t0})
	if err != nil || again.ID != ch.ID || again.Name != "Slack channel C1" {
		t.Errorf("second ChannelTeam = %+v, %v; want the first team", again, err)
	}
	other, err := s.ChannelTeam(ctx, &session.Team{ID: newID(), Name: "x", Platform: "discord", ChatTeam: "T1", Channel: "C1", CreatedAt: t0})
	if err != nil || other.ID == ch.ID {
		t.Errorf("a Discord channel with the same ids got the Slack team: %+v, %v", other, err)
	}
	// Web teams never collide, whatever their names.
	for range 2 {
		if err := s.CreateTeam(ctx, &session.Team{ID: newID(), Name: "Same", CreatedAt: t0}); err != nil {
			t.Errorf("CreateTeam of a second web team: %v", err)
		}
	}
}

// testChannelTeamRace starts a channel's first sessions at the same moment: one team.
func testChannelTeamRace(t *testing.T, s *Store) {
	const n = 8
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			team, err := s.ChannelTeam(t.Context(), &session.Team{ID: newID(), Name: "Mattermost channel ch", Platform: "mattermost",
				ChatTeam: "tm", Channel: "ch", CreatedAt: t0})
			errs[i] = err
			if err == nil {
				got[i] = team.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("caller %d: %q, %v; want every caller to get %q", i, got[i], errs[i], got[0])
		}
	}
	if c := count(t, s, `SELECT COUNT(*) FROM teams WHERE platform = 'mattermost'`); c != 1 {
		t.Errorf("%d teams for one channel", c)
	}
}

// testTeamHistory reads a team's stories, rounds and votes across its sessions, and nothing of
// sessions outside it.
func testTeamHistory(t *testing.T, s *Store) {
	ctx := t.Context()
	team := &session.Team{ID: newID(), Name: "Core", CreatedAt: t0}
	if err := s.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	in1, _ := createSession(t, s, func(x *session.Session) { x.TeamID = team.ID })
	in2, _ := createSession(t, s, func(x *session.Session) { x.TeamID = team.ID; x.CreatedAt = t0.Add(time.Hour) })
	out, _ := createSession(t, s, nil)
	a := addStories(t, s, in1.ID, "Login", "Logout")
	b := addStories(t, s, in2.ID, "Billing")
	c := addStories(t, s, out.ID, "Elsewhere")
	vs := voters(t, s, in1.ID, 2)
	ws := voters(t, s, in2.ID, 1)
	xs := voters(t, s, out.ID, 1)
	castVote(t, s, a[0].ID, 1, vs[0], "3")
	castVote(t, s, a[0].ID, 1, vs[1], "5")
	reveal(t, s, a[0].ID, 1)
	if ok, err := s.StartRound(ctx, a[0].ID, 1, t0.Add(11*time.Minute)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	castVote(t, s, a[0].ID, 2, vs[0], "5")
	reveal(t, s, a[0].ID, 2)
	accept(t, s, a[0], 2, "5", nil)
	castVote(t, s, b[0].ID, 1, ws[0], "8")
	castVote(t, s, c[0].ID, 1, xs[0], "13")

	stories, err := s.TeamStories(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := storyIDs(stories), []string{a[0].ID, a[1].ID, b[0].ID}; !equalStrings(got, want) {
		t.Errorf("TeamStories = %v, want %v", got, want)
	}
	if stories[0].Estimate != "5" || stories[0].Status != session.StoryEstimated || stories[0].SessionID != in1.ID {
		t.Errorf("first story = %+v", stories[0])
	}
	rounds, err := s.TeamRounds(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	perStory := map[string]int{}
	for _, r := range rounds {
		perStory[r.StoryID]++
	}
	if len(rounds) != 4 || perStory[a[0].ID] != 2 || perStory[c[0].ID] != 0 {
		t.Errorf("TeamRounds = %+v", rounds)
	}
	votes, err := s.TeamVotes(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(votes) != 4 {
		t.Errorf("TeamVotes = %d votes, want 4 (nothing of the session outside the team)", len(votes))
	}
	for _, v := range votes {
		if v.StoryID == c[0].ID {
			t.Errorf("a vote of a session outside the team: %+v", v)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testOutcomes queues outcome checks for a team's estimated imported stories only, once, and
// keeps outcomes apart from the stories' write-back state.
func testOutcomes(t *testing.T, s *Store) {
	ctx := t.Context()
	team := &session.Team{ID: newID(), Name: "Core", CreatedAt: t0}
	if err := s.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	in, _ := createSession(t, s, func(x *session.Session) { x.TeamID = team.ID })
	out, _ := createSession(t, s, nil)
	v := voters(t, s, in.ID, 1)[0]
	w := voters(t, s, out.ID, 1)[0]
	est := func(sessionID string, p *session.Participant, source, key string) *session.Story {
		st := importStory(t, s, sessionID, source, key)
		castVote(t, s, st.ID, 1, p, "5")
		reveal(t, s, st.ID, 1)
		accept(t, s, st, 1, "5", nil)
		return st
	}
	a := est(in.ID, v, "github", "acme/api#1")
	est(in.ID, v, "jira", "API-1")         // a tracker not asked for
	est(out.ID, w, "github", "acme/api#2") // no team
	importStory(t, s, in.ID, "github", "acme/api#3")
	addStories(t, s, in.ID, "Typed in the room")

	n, err := s.QueueOutcomeChecks(ctx, []string{"github", "notion"}, t0)
	if err != nil || n != 1 {
		t.Fatalf("QueueOutcomeChecks = %d, %v; want 1", n, err)
	}
	if n, _ := s.QueueOutcomeChecks(ctx, []string{"github"}, t0); n != 0 {
		t.Errorf("queued again: %d", n)
	}
	got, err := s.ClaimOutbox(ctx, "me", 10, t0, time.Minute)
	if err != nil || len(got) != 1 || got[0].Kind != session.OutboxOutcome || got[0].StoryID != a.ID || got[0].ExternalKey != "acme/api#1" {
		t.Fatalf("ClaimOutbox = %+v, %v", got, err)
	}
	got[0].State, got[0].LastError, got[0].Attempts = session.OutboxFailed, "github: gone", 12
	if err := s.FinishOutbox(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if st := getStory(t, s, in.ID, a.ID); st.SyncState != session.SyncNone || st.SyncError != "" {
		t.Errorf("an outcome check changed the story's sync state: %q %q", st.SyncState, st.SyncError)
	}
	if ok, _ := s.RequeueOutbox(ctx, in.ID, a.ID, t0); ok {
		t.Error("retrying the write-back requeued an outcome check")
	}

	h, sp := 36.5, 12.0
	o := &session.Outcome{StoryID: a.ID, StartedAt: &t0, DoneAt: t0.Add(36*time.Hour + 30*time.Minute), CycleHours: &h, SpentHours: &sp,
		Detail: "resolved", FetchedAt: t0}
	if err := s.SaveOutcome(ctx, o); err != nil {
		t.Fatal(err)
	}
	h2 := 40.0
	o.CycleHours = &h2
	if err := s.SaveOutcome(ctx, o); err != nil {
		t.Fatalf("replacing an outcome: %v", err)
	}
	os, err := s.TeamOutcomes(ctx, team.ID)
	if err != nil || len(os) != 1 {
		t.Fatalf("TeamOutcomes = %v, %v", os, err)
	}
	if g := os[0]; g.StoryID != a.ID || *g.CycleHours != 40 || *g.SpentHours != 12 || !g.StartedAt.Equal(t0) || g.Detail != "resolved" {
		t.Errorf("outcome = %+v", g)
	}
	if os, _ := s.TeamOutcomes(ctx, ""); len(os) != 0 {
		t.Error("outcomes of no team")
	}
}
