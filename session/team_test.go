package session_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// teamToken is the token of a team link URL.
func teamToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("t") == "" {
		t.Fatalf("not a team link: %q", link)
	}
	return u.Query().Get("t")
}

func TestChatSessionsBelongToTheirChannelsTeam(t *testing.T) {
	e := newEnv(t)
	slack := session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}
	s1, _ := e.create(t, session.CreateInput{Title: "Sprint 1", Origin: slack, ChannelName: "planning"})
	s2, _ := e.create(t, session.CreateInput{Title: "Sprint 2", Origin: slack, ChannelName: "renamed"})
	other, _ := e.create(t, session.CreateInput{Title: "Other", Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C2"}})
	discord, _ := e.create(t, session.CreateInput{Title: "D", Origin: session.Origin{Platform: "discord", Team: "G1", Channel: "C1"}})
	mm, _ := e.create(t, session.CreateInput{Title: "M", Origin: session.Origin{Platform: "mattermost", Team: "tm", Channel: "ch"}})
	web, _ := e.create(t, session.CreateInput{Title: "Web"})

	if s1.TeamID == "" || s1.TeamID != s2.TeamID {
		t.Fatalf("two sessions of one channel: teams %q and %q; want one", s1.TeamID, s2.TeamID)
	}
	if e.session(t, s1.ID).TeamID != s1.TeamID {
		t.Errorf("the stored session lost its team")
	}
	seen := map[string]bool{s1.TeamID: true}
	for _, s := range []*session.Session{other, discord, mm} {
		if s.TeamID == "" || seen[s.TeamID] {
			t.Errorf("session %q: team %q; want a team of its own channel", s.Title, s.TeamID)
		}
		seen[s.TeamID] = true
	}
	if web.TeamID != "" {
		t.Errorf("a web session got team %q; nothing changes for a session without a team", web.TeamID)
	}
	if team, err := e.store.Team(t.Context(), s1.TeamID); err != nil || team.Name != "Slack #planning" {
		t.Errorf("Slack channel's team = %+v, %v; want it named after the channel's first name", team, err)
	}
	team, err := e.store.Team(t.Context(), discord.TeamID)
	if err != nil || team.Platform != "discord" || team.Name != "Discord channel C1" {
		t.Errorf("Discord channel's team = %+v, %v", team, err)
	}
}

func TestTeamLinks(t *testing.T) {
	e := newEnv(t)
	sess, org := e.create(t, session.CreateInput{Title: "Sprint 1"})
	voter := e.join(t, sess.ID, "Vic", session.RoleVoter)
	ctx := t.Context()

	if tv, err := e.svc.SessionTeam(ctx, org.Actor); err != nil || tv != nil {
		t.Fatalf("SessionTeam of a session without a team = %v, %v; want nil", tv, err)
	}
	if _, err := e.svc.SetTeam(ctx, voter.Actor, session.TeamInput{Name: "Core"}); session.ErrorCode(err) != session.CodeForbidden {
		t.Errorf("a voter put the session in a team: %v", err)
	}
	for _, bad := range []session.TeamInput{{Name: "  "}, {Name: strings.Repeat("x", session.MaxTeamNameLen+1)}, {Name: "a\nb"},
		{Name: "x", Link: "y"}, {Link: "https://poker.example.com/t/x/enter?t=forged.sig"}} {
		if _, err := e.svc.SetTeam(ctx, org.Actor, bad); session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("SetTeam(%+v) = %v; want invalid", bad, err)
		}
	}
	tv, err := e.svc.SetTeam(ctx, org.Actor, session.TeamInput{Name: " Core "})
	if err != nil {
		t.Fatalf("SetTeam: %v", err)
	}
	if tv.Name != "Core" || tv.PageURL != "https://poker.example.com/t/"+tv.ID || !strings.HasPrefix(tv.LinkURL, tv.PageURL+"/enter?t=") {
		t.Errorf("team view = %+v", tv)
	}
	if e.session(t, sess.ID).TeamID != tv.ID {
		t.Errorf("the session is not in the team")
	}
	if got, err := e.svc.SessionTeam(ctx, org.Actor); err != nil || got == nil || got.ID != tv.ID {
		t.Errorf("SessionTeam = %v, %v", got, err)
	}
	if _, err := e.svc.SessionTeam(ctx, voter.Actor); session.ErrorCode(err) != session.CodeForbidden {
		t.Errorf("a voter saw the team link: %v", err)
	}

	// The link lets a browser in; the cookie it gets is for this team only.
	team, cookie, err := e.svc.EnterTeam(ctx, teamToken(t, tv.LinkURL))
	if err != nil || team.ID != tv.ID || cookie == "" {
		t.Fatalf("EnterTeam = %v, %q, %v", team, cookie, err)
	}
	if _, err := e.svc.TeamAccess(ctx, tv.ID, cookie); err != nil {
		t.Errorf("TeamAccess with the cookie: %v", err)
	}
	for _, c := range []string{"", cookie[:len(cookie)-2] + "AA", e.keys.Sign("team cookie", "other:0")} {
		if _, err := e.svc.TeamAccess(ctx, tv.ID, c); err != session.ErrTeamAccess {
			t.Errorf("TeamAccess(%q) = %v; want ErrTeamAccess", c, err)
		}
	}
	if _, err := e.svc.TeamAccess(ctx, "no-such-team", cookie); err != session.ErrTeamAccess {
		t.Errorf("TeamAccess of an unknown team = %v; want the same answer as a wrong cookie", err)
	}
	// A session link's signature is no team link, and a team link no session link.
	if _, _, err := e.svc.EnterTeam(ctx, e.keys.SignLink(session.Link{SessionID: sess.ID, Role: session.RoleOrganizer, Expires: 1 << 40})); err == nil {
		t.Error("a session link opened a team page")
	}
	if _, _, err := e.svc.JoinWithLink(ctx, teamToken(t, tv.LinkURL)); err == nil {
		t.Error("a team link joined a session")
	}
	// An expired link says so.
	e.clock.Add(session.TeamLinkTTL + time.Minute)
	if _, _, err := e.svc.EnterTeam(ctx, teamToken(t, tv.LinkURL)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired team link: %v", err)
	}

	// Another session joins the same team with the link.
	sess2, org2 := e.create(t, session.CreateInput{Title: "Sprint 2"})
	fresh := e.svc.TeamLinkURL(team)
	if got, err := e.svc.SetTeam(ctx, org2.Actor, session.TeamInput{Link: fresh}); err != nil || got.ID != tv.ID {
		t.Fatalf("SetTeam by link = %v, %v", got, err)
	}
	if list, _ := e.store.TeamSessions(ctx, tv.ID); len(list) != 2 {
		t.Errorf("the team has %d sessions, want 2", len(list))
	}

	// Rotating refuses the old link and the old cookie.
	newLink, err := e.svc.RotateTeamLink(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.EnterTeam(ctx, teamToken(t, fresh)); err != session.ErrTeamLinkRotated {
		t.Errorf("the old link after rotation: %v", err)
	}
	if _, err := e.svc.TeamAccess(ctx, tv.ID, cookie); err != session.ErrTeamAccess {
		t.Errorf("the old cookie after rotation: %v", err)
	}
	if _, c2, err := e.svc.EnterTeam(ctx, teamToken(t, newLink)); err != nil || c2 == cookie {
		t.Errorf("the new link: %q, %v", c2, err)
	}

	if err := e.svc.LeaveTeam(ctx, org2.Actor); err != nil {
		t.Fatal(err)
	}
	if e.session(t, sess2.ID).TeamID != "" {
		t.Error("the session is still in the team")
	}
}

func TestChatSessionStaysInItsChannelsTeam(t *testing.T) {
	e := newEnv(t)
	_, org := e.create(t, session.CreateInput{Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}})
	if _, err := e.svc.SetTeam(t.Context(), org.Actor, session.TeamInput{Name: "Elsewhere"}); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("SetTeam of a chat session = %v; want conflict", err)
	}
	if err := e.svc.LeaveTeam(t.Context(), org.Actor); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("LeaveTeam of a chat session = %v; want conflict", err)
	}
	if tv, err := e.svc.SessionTeam(t.Context(), org.Actor); err != nil || tv == nil || tv.Platform != "slack" {
		t.Errorf("SessionTeam = %+v, %v", tv, err)
	}
}
