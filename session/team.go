package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Team is a group of people whose sessions share a history: the team page's insight and the
// similar past stories a room shows after a reveal are computed from its sessions. A chat
// channel's sessions belong to the channel's team, made on its first session; a web session is
// put in a team by an organizer. A session without a team works as before.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Platform, ChatTeam and Channel name the chat channel the team is, when it is one ("slack",
	// workspace, channel); empty for a team made from the web.
	Platform  string       `json:"platform,omitempty"`
	ChatTeam  string       `json:"-"`
	Channel   string       `json:"-"`
	Settings  TeamSettings `json:"settings"`
	LinkEpoch int          `json:"-"`
	CreatedAt time.Time    `json:"created_at"`
}

// TeamSettings are the switches of a team page.
type TeamSettings struct {
	// VoterAccuracy shows, per voter, how their votes compared with the outcomes. Off by default:
	// a team decides together whether it wants to see it.
	VoterAccuracy bool `json:"voter_accuracy"`
}

// TeamStore keeps teams and reads a team's history. Part of Store.
type TeamStore interface {
	// CreateTeam stores a new team.
	CreateTeam(ctx context.Context, t *Team) error
	// ChannelTeam returns the team of t's chat channel (Platform, ChatTeam, Channel), storing t
	// when the channel has none yet; concurrent callers for one channel get the same team.
	ChannelTeam(ctx context.Context, t *Team) (*Team, error)
	// Team returns a team by id, or ErrNotFound.
	Team(ctx context.Context, id string) (*Team, error)
	// UpdateTeam saves a team's name and settings.
	UpdateTeam(ctx context.Context, t *Team) error
	// RotateTeamLink moves a team to its next link generation, which refuses every team link
	// and team cookie made before, and returns it.
	RotateTeamLink(ctx context.Context, teamID string) (int, error)
	// SetSessionTeam puts a session in a team; "" takes it out of any.
	SetSessionTeam(ctx context.Context, sessionID, teamID string) error
	// TeamSessions lists a team's sessions, oldest first.
	TeamSessions(ctx context.Context, teamID string) ([]*Session, error)
	// TeamStories, TeamRounds and TeamVotes return every story, round and vote of a team's
	// sessions (stories in session and position order, rounds and votes in round order).
	TeamStories(ctx context.Context, teamID string) ([]*Story, error)
	TeamRounds(ctx context.Context, teamID string) ([]Round, error)
	TeamVotes(ctx context.Context, teamID string) ([]Vote, error)
}

// MaxTeamNameLen bounds a team's name.
const MaxTeamNameLen = 80

// TeamLinkTTL is how long a team link works; the team page shows a fresh one on every visit.
const TeamLinkTTL = 90 * 24 * time.Hour

// Errors of the team links.
var (
	// ErrTeamAccess is a visit to a team page without (or with an outdated) team cookie.
	ErrTeamAccess = &Error{Code: CodeForbidden, Message: "open this team's page from its team link: an organizer of one of the team's sessions can copy it from the room"}
	// ErrTeamLinkRotated is a team link made before the team's links were replaced.
	ErrTeamLinkRotated = &Error{Code: CodeForbidden, Message: "this team link was replaced by a newer one: ask someone on the team for the current link"}
)

// teamLink is what a team link grants: the team's page, under one link generation.
type teamLink struct {
	TeamID  string `json:"t"`
	Epoch   int    `json:"g"`
	Expires int64  `json:"e"`
}

// Purposes of the team's signatures: a team link or cookie is never accepted as anything else.
const (
	purposeTeamLink   = "team link"
	purposeTeamCookie = "team cookie"
)

func (k *Keys) signTeamLink(l teamLink) string {
	payload, _ := json.Marshal(l)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + k.Sign(purposeTeamLink, p)
}

func (k *Keys) verifyTeamLink(token string, now time.Time) (teamLink, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || !k.Verify(purposeTeamLink, p, sig) {
		return teamLink{}, ErrLinkInvalid
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return teamLink{}, ErrLinkInvalid
	}
	var l teamLink
	if err := json.Unmarshal(payload, &l); err != nil || l.TeamID == "" {
		return teamLink{}, ErrLinkInvalid
	}
	if now.Unix() > l.Expires {
		return l, ErrLinkExpired
	}
	return l, nil
}

// teamCookieMsg is what a team cookie signs: the team and its link generation, so that rotating
// the links also signs everyone out.
func teamCookieMsg(t *Team) string { return t.ID + ":" + strconv.Itoa(t.LinkEpoch) }

// TeamPageURL returns the clean URL of a team's page.
func (s *Service) TeamPageURL(teamID string) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/t/" + teamID
}

// TeamLinkURL returns a fresh pre-signed link to a team's page.
func (s *Service) TeamLinkURL(t *Team) string {
	tok := s.cfg.Keys.signTeamLink(teamLink{TeamID: t.ID, Epoch: t.LinkEpoch, Expires: s.now().Add(TeamLinkTTL).Unix()})
	return s.TeamPageURL(t.ID) + "/enter?t=" + tok
}

// EnterTeam redeems a team link: it returns the team and the value of the cookie that lets the
// browser see the team's page from now on.
func (s *Service) EnterTeam(ctx context.Context, token string) (*Team, string, error) {
	l, err := s.cfg.Keys.verifyTeamLink(token, s.now())
	if err != nil {
		if err == ErrLinkExpired {
			return nil, "", Errorf(CodeForbidden, "this team link has expired: an organizer of one of the team's sessions can copy a fresh one from the room")
		}
		return nil, "", err
	}
	t, err := s.cfg.Store.Team(ctx, l.TeamID)
	if err != nil {
		return nil, "", lookupErr("team", err)
	}
	if l.Epoch != t.LinkEpoch {
		return nil, "", ErrTeamLinkRotated
	}
	return t, s.cfg.Keys.Sign(purposeTeamCookie, teamCookieMsg(t)), nil
}

// TeamAccess returns the team a browser's team cookie lets it see, or ErrTeamAccess.
func (s *Service) TeamAccess(ctx context.Context, teamID, cookie string) (*Team, error) {
	if cookie == "" {
		return nil, ErrTeamAccess
	}
	t, err := s.cfg.Store.Team(ctx, teamID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, ErrTeamAccess // the same answer as a wrong cookie: a team's id is not told
		}
		return nil, internal("loading the team", err)
	}
	if !s.cfg.Keys.Verify(purposeTeamCookie, teamCookieMsg(t), cookie) {
		return nil, ErrTeamAccess
	}
	return t, nil
}

// TeamView is a session's team as its organizers see it: with a fresh team link.
type TeamView struct {
	*Team
	PageURL string `json:"page_url"`
	LinkURL string `json:"team_url"`
}

func (s *Service) teamView(t *Team) *TeamView {
	return &TeamView{Team: t, PageURL: s.TeamPageURL(t.ID), LinkURL: s.TeamLinkURL(t)}
}

// SessionTeam returns the team of the actor's session, nil when it has none. Only organizers
// see it, since it carries the team link.
func (s *Service) SessionTeam(ctx context.Context, a Actor) (*TeamView, error) {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	if p.Role != RoleOrganizer {
		return nil, Errorf(CodeForbidden, "only an organizer can see the session's team")
	}
	if sess.TeamID == "" {
		return nil, nil
	}
	t, err := s.cfg.Store.Team(ctx, sess.TeamID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, nil
		}
		return nil, internal("loading the team", err)
	}
	return s.teamView(t), nil
}

// TeamInput says which team a session goes to: a new team with Name, or the existing team a
// team link (Link, the URL or its token) grants.
type TeamInput struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

// SetTeam puts the actor's session in a team: a new one made with a name, or an existing one
// whose team link the organizer holds. Only organizers may; a session of a chat channel stays in
// its channel's team.
func (s *Service) SetTeam(ctx context.Context, a Actor, in TeamInput) (*TeamView, error) {
	sess, _, err := s.organizer(ctx, a, "put the session in a team")
	if err != nil {
		return nil, err
	}
	if sess.Origin.Platform != "" && sess.TeamID != "" {
		return nil, Errorf(CodeConflict, "this session belongs to its chat channel's team; sessions started from that channel all go there")
	}
	var t *Team
	switch {
	case strings.TrimSpace(in.Link) != "" && strings.TrimSpace(in.Name) != "":
		return nil, invalid("link", "give either a name for a new team or the link of an existing team, not both")
	case strings.TrimSpace(in.Link) != "":
		tok := strings.TrimSpace(in.Link)
		if i := strings.Index(tok, "?t="); i >= 0 {
			tok = tok[i+3:]
		}
		if t, _, err = s.EnterTeam(ctx, tok); err != nil {
			if e, ok := err.(*Error); ok && e.Code == CodeForbidden {
				return nil, &Error{Code: CodeInvalid, Field: "link", Message: e.Message}
			}
			return nil, err
		}
	default:
		name, err := cleanName("name", in.Name, MaxTeamNameLen)
		if err != nil {
			return nil, err
		}
		t = &Team{ID: newID(), Name: name, CreatedAt: s.now().UTC()}
		if err := s.cfg.Store.CreateTeam(ctx, t); err != nil {
			return nil, internal("creating the team", err)
		}
	}
	if err := s.cfg.Store.SetSessionTeam(ctx, sess.ID, t.ID); err != nil {
		return nil, internal("putting the session in the team", err)
	}
	s.log.Info("session put in a team", "session", sess.ID, "team", t.ID)
	sess.TeamID = t.ID
	s.publish(ctx, Event{Type: EvSession, SessionID: sess.ID, Data: sess})
	return s.teamView(t), nil
}

// LeaveTeam takes the actor's web session out of its team; the team keeps its other sessions.
func (s *Service) LeaveTeam(ctx context.Context, a Actor) error {
	sess, _, err := s.organizer(ctx, a, "take the session out of its team")
	if err != nil {
		return err
	}
	if sess.Origin.Platform != "" && sess.TeamID != "" {
		return Errorf(CodeConflict, "this session belongs to its chat channel's team")
	}
	if err := s.cfg.Store.SetSessionTeam(ctx, sess.ID, ""); err != nil {
		return internal("taking the session out of its team", err)
	}
	sess.TeamID = ""
	s.publish(ctx, Event{Type: EvSession, SessionID: sess.ID, Data: sess})
	return nil
}

// TeamUpdate changes a team's name or settings; nil fields stay as they are.
type TeamUpdate struct {
	Name     *string       `json:"name"`
	Settings *TeamSettings `json:"settings"`
}

// UpdateTeam renames a team or changes its settings; anyone who may see the team page may.
func (s *Service) UpdateTeam(ctx context.Context, t *Team, in TeamUpdate) (*Team, error) {
	if in.Name != nil {
		name, err := cleanName("name", *in.Name, MaxTeamNameLen)
		if err != nil {
			return nil, err
		}
		t.Name = name
	}
	if in.Settings != nil {
		t.Settings = *in.Settings
	}
	if err := s.cfg.Store.UpdateTeam(ctx, t); err != nil {
		return nil, internal("saving the team", err)
	}
	return t, nil
}

// RotateTeamLink replaces the team's link: every older link and every browser that entered with
// one is refused from now on. It returns the new link.
func (s *Service) RotateTeamLink(ctx context.Context, t *Team) (string, error) {
	epoch, err := s.cfg.Store.RotateTeamLink(ctx, t.ID)
	if err != nil {
		return "", internal("replacing the team link", err)
	}
	t.LinkEpoch = epoch
	return s.TeamLinkURL(t), nil
}

// channelTeam returns the team of the chat channel a session is started from, making it on the
// channel's first session. A chat session's team is a convenience: when it cannot be had, the
// session starts without one rather than not at all.
func (s *Service) channelTeam(ctx context.Context, o Origin, channelName string) string {
	if o.Platform == "" || o.Team == "" || o.Channel == "" {
		return ""
	}
	label := strings.ToUpper(o.Platform[:1]) + o.Platform[1:]
	name := label + " channel " + o.Channel
	if n, err := cleanName("name", "#"+strings.TrimPrefix(strings.TrimSpace(channelName), "#"), MaxTeamNameLen); err == nil && n != "#" {
		name = label + " " + n
	}
	t, err := s.cfg.Store.ChannelTeam(ctx, &Team{ID: newID(), Name: name,
		Platform: o.Platform, ChatTeam: o.Team, Channel: o.Channel, CreatedAt: s.now().UTC()})
	if err != nil {
		s.log.Warn("finding the channel's team", "platform", o.Platform, "err", err)
		return ""
	}
	return t.ID
}
