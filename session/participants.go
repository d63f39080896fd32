package session

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParticipantView is a participant as the room shows it.
type ParticipantView struct {
	*Participant
	Connected bool `json:"connected"`
	// Chat is the platform a participant came from ("slack", "discord", "mattermost"), so that organizers know
	// a nudge also reaches them there; the chat identity itself is never sent.
	Chat string `json:"chat,omitempty"`
}

func (s *Service) participantView(p *Participant, online map[string]bool) ParticipantView {
	if online == nil {
		online = s.online(p.SessionID)
	}
	return ParticipantView{Participant: p, Connected: online[p.ID], Chat: chatPlatform(p.ChatID)}
}

// ParticipantInput changes a participant; nil fields stay as they are.
type ParticipantInput struct {
	Name *string `json:"name,omitempty"`
	Role *Role   `json:"role,omitempty"`
}

// UpdateParticipant renames a participant or changes its role. Participants may rename
// themselves and switch between voter and spectator; organizers may change anyone. A session
// always keeps an organizer.
func (s *Service) UpdateParticipant(ctx context.Context, a Actor, id string, in ParticipantInput) (*Participant, error) {
	sess, me, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	if sess.Closed() {
		return nil, Errorf(CodeConflict, "this session has ended")
	}
	self := id == me.ID
	if !self && me.Role != RoleOrganizer {
		return nil, Errorf(CodeForbidden, "only an organizer can change other participants")
	}
	p, err := s.cfg.Store.Participant(ctx, sess.ID, id)
	if err != nil || p.Status == StatusRemoved {
		return nil, notFound("participant")
	}
	roleChanged := false
	if in.Name != nil {
		n, err := cleanName("name", *in.Name, MaxNameLen)
		if err != nil {
			return nil, err
		}
		if n, err = s.distinctName(ctx, sess.ID, n, p.ID); err != nil {
			return nil, err
		}
		p.Name = n
	}
	if in.Role != nil && *in.Role != p.Role {
		r := *in.Role
		if !r.valid() {
			return nil, invalid("role", "role must be organizer, voter or spectator")
		}
		if me.Role != RoleOrganizer && (r == RoleOrganizer || p.Role == RoleOrganizer) {
			return nil, Errorf(CodeForbidden, "only an organizer can promote or demote organizers")
		}
		if r == RoleSpectator && !sess.Settings.AllowSpectators && me.Role != RoleOrganizer {
			return nil, invalid("role", "this session does not allow spectators")
		}
		if p.Role == RoleOrganizer {
			if err := s.keepOrganizer(ctx, sess.ID, p.ID); err != nil {
				return nil, err
			}
		}
		roleChanged, p.Role = true, r
	}
	if err := s.cfg.Store.UpdateParticipant(ctx, p); err != nil {
		return nil, internal("saving the participant", err)
	}
	if roleChanged {
		// Votes go first, so that the snapshot the change makes connections reload has none.
		if p.Role == RoleSpectator {
			s.withdrawVotes(ctx, sess.ID, p.ID)
		}
		s.publishChange(ctx, p, "")
	}
	s.publish(ctx, Event{Type: EvParticipant, SessionID: sess.ID, OrganizersOnly: p.Status == StatusPending, Data: s.participantView(p, nil)})
	if sess.CurrentStoryID != "" {
		s.maybeAutoReveal(ctx, sess.ID, sess.CurrentStoryID)
	}
	return p, nil
}

// The reasons a participant's connections are closed, as the close frame carries them to the page.
// Each fits the 123 bytes a close frame leaves for its reason.
const (
	ReasonRemoved = "An organizer removed you from this session. Ask them if this is a mistake."
	ReasonLeft    = "You left this session."
	// ReasonGone is the reason when this instance learns late that a participant left.
	ReasonGone = "You are no longer in this session."
)

// withdrawVotes drops a participant's votes in rounds still voting, when it became a spectator:
// spectators do not vote, and the room must not count or show a vote it can no longer change.
func (s *Service) withdrawVotes(ctx context.Context, sessionID, participantID string) {
	votes, err := s.cfg.Store.CurrentVotes(ctx, sessionID)
	if err != nil {
		s.log.Warn("loading votes to withdraw", "session", sessionID, "err", err)
		return
	}
	for _, v := range votes {
		if v.ParticipantID != participantID {
			continue
		}
		st, err := s.cfg.Store.Story(ctx, sessionID, v.StoryID)
		if err != nil || st.RoundState != RoundVoting || st.Round != v.Round {
			continue
		}
		if err := s.cfg.Store.RetractVote(ctx, v.StoryID, v.Round, participantID); err != nil {
			s.log.Warn("withdrawing a spectator's vote", "session", sessionID, "err", err)
			continue
		}
		s.publish(ctx, Event{Type: EvVoted, SessionID: sessionID, Data: votedData{StoryID: v.StoryID, Round: v.Round, ParticipantID: participantID, Voted: false}})
	}
}

// keepOrganizer refuses to demote or remove the last active organizer.
func (s *Service) keepOrganizer(ctx context.Context, sessionID, leaving string) error {
	ps, err := s.cfg.Store.Participants(ctx, sessionID)
	if err != nil {
		return internal("loading participants", err)
	}
	for _, q := range ps {
		if q.ID != leaving && q.Role == RoleOrganizer && q.Status == StatusActive {
			return nil
		}
	}
	return Errorf(CodeConflict, "a session always keeps an organizer: promote someone else first")
}

// RemoveParticipant removes a participant from the session; its connections are closed. Only
// organizers may remove others; anyone may leave.
func (s *Service) RemoveParticipant(ctx context.Context, a Actor, id string) error {
	sess, me, err := s.actor(ctx, a)
	if err != nil {
		return err
	}
	if id != me.ID && me.Role != RoleOrganizer {
		return Errorf(CodeForbidden, "only an organizer can remove participants")
	}
	p, err := s.cfg.Store.Participant(ctx, sess.ID, id)
	if err != nil || p.Status == StatusRemoved {
		return notFound("participant")
	}
	if p.Role == RoleOrganizer {
		if err := s.keepOrganizer(ctx, sess.ID, p.ID); err != nil {
			return err
		}
	}
	if p.Status == StatusPending {
		if _, err := s.approvals.Remove(ctx, sess.ID, id); err != nil {
			s.log.Warn("removing a join request", "session", sess.ID, "err", err)
		}
	}
	if err := s.cfg.Store.RemoveParticipant(ctx, sess.ID, id); err != nil {
		return internal("removing the participant", err)
	}
	// The participant hears why, then its connections close everywhere, before the room hears it.
	p.Status = StatusRemoved
	s.publish(ctx, Event{Type: EvAdmission, SessionID: sess.ID, To: id, Data: map[string]any{"admitted": false, "removed": true}})
	reason := ReasonRemoved
	if id == me.ID {
		reason = ReasonLeft
	}
	s.publishChange(ctx, p, reason)
	s.publish(ctx, Event{Type: EvParticipantRm, SessionID: sess.ID, Data: map[string]string{"id": id}})
	if sess.CurrentStoryID != "" {
		s.maybeAutoReveal(ctx, sess.ID, sess.CurrentStoryID)
	}
	return nil
}

// Admit lets a waiting participant in (admit true) or turns it away. Only organizers may.
func (s *Service) Admit(ctx context.Context, a Actor, id string, admit bool) (*Participant, error) {
	sess, _, err := s.organizer(ctx, a, "admit participants")
	if err != nil {
		return nil, err
	}
	p, err := s.cfg.Store.Participant(ctx, sess.ID, id)
	if err != nil || p.Status == StatusRemoved {
		return nil, notFound("participant")
	}
	if p.Status != StatusPending {
		return nil, Errorf(CodeConflict, "%s is not waiting to be admitted", p.Name)
	}
	// The registry decides: an organizer on another instance may have answered first, or the
	// request may have run out.
	alive, err := s.approvals.Remove(ctx, sess.ID, id)
	if err != nil {
		return nil, &Error{Code: CodeUnavailable, Message: "could not reach the join requests; try again in a moment", Err: err}
	}
	if !admit || !alive {
		reason := turnedAwayDenied
		if !alive {
			reason = turnedAwayExpired
		}
		p, err := s.turnAway(ctx, sess.ID, id, reason)
		if err != nil {
			return nil, lookupErr("participant", err)
		}
		if admit {
			return nil, Errorf(CodeConflict, "%s's request to join expired; they can ask again with the room link", p.Name)
		}
		return p, nil
	}
	p.Status = StatusActive
	if err := s.cfg.Store.UpdateParticipant(ctx, p); err != nil {
		return nil, internal("admitting the participant", err)
	}
	s.publishChange(ctx, p, "")
	s.publish(ctx, Event{Type: EvParticipant, SessionID: sess.ID, Data: s.participantView(p, nil)})
	s.publish(ctx, Event{Type: EvAdmission, SessionID: sess.ID, To: id, Data: map[string]any{"admitted": true}})
	return p, nil
}

// PresenceChanged is told by the hub when a participant comes or goes; the room learns it and a
// voter leaving may complete an auto-reveal.
func (s *Service) PresenceChanged(sessionID, participantID string, connected bool) {
	ctx := context.Background()
	p, err := s.cfg.Store.Participant(ctx, sessionID, participantID)
	if err != nil {
		return
	}
	s.publish(ctx, Event{Type: EvPresence, SessionID: sessionID, OrganizersOnly: p.Status == StatusPending,
		Data: map[string]any{"id": participantID, "connected": connected}})
	if !connected {
		if sess, err := s.cfg.Store.Session(ctx, sessionID); err == nil && sess.CurrentStoryID != "" {
			s.maybeAutoReveal(ctx, sessionID, sess.CurrentStoryID)
		}
	}
}

// distinctName returns name, or name with a number ("Ann (2)") when another participant of the
// session already has it (in any case), so that votes and the table never mix two people up.
// except is the participant being renamed, whose own name does not count.
func (s *Service) distinctName(ctx context.Context, sessionID, name, except string) (string, error) {
	ps, err := s.cfg.Store.Participants(ctx, sessionID)
	if err != nil {
		return "", internal("loading participants", err)
	}
	taken := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p.ID != except {
			taken[strings.ToLower(p.Name)] = true
		}
	}
	if !taken[strings.ToLower(name)] {
		return name, nil
	}
	for n := 2; ; n++ {
		suffix := " (" + strconv.Itoa(n) + ")"
		base := []rune(name)
		if max := MaxNameLen - utf8.RuneCountInString(suffix); len(base) > max {
			base = base[:max]
		}
		candidate := strings.TrimSpace(string(base)) + suffix
		if !taken[strings.ToLower(candidate)] {
			return candidate, nil
		}
	}
}
