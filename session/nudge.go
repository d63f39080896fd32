package session

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Nudge is a reminder to vote, for a participant who came from a chat (Participant.ChatID is
// set: "slack:T1:U2", "discord:G1:U2").
type Nudge struct {
	Session     *Session
	Story       *Story
	Participant *Participant
	// From is the name of the organizer who sent the reminder.
	From string
	// URL is the room's clean URL.
	URL string
}

// ChatNudger reminds a participant through the chat they came from: a direct message from the
// bot, or a mention in the session's channel when a direct message cannot be sent. The bots
// implement it beside their summaries (bots.Notifiers routes by the chat identity's platform).
type ChatNudger interface {
	Nudge(ctx context.Context, n Nudge) error
}

// nudgeGap is the least time between two reminders to the same person: a nudge is gentle.
const nudgeGap = 20 * time.Second

// Nudged is one participant an organizer reminded, and how.
type Nudged struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Chat is the platform the reminder was also sent through ("slack", "discord", "mattermost"), if any.
	Chat string `json:"chat,omitempty"`
}

// NudgeResult lists who was reminded.
type NudgeResult struct {
	Nudged []Nudged `json:"nudged"`
}

// nudges remembers when each participant was last reminded, on this instance.
type nudges struct {
	mu   sync.Mutex
	last map[string]time.Time // session id + participant id → time
}

// allow reports whether key may be reminded at now, and records it.
func (n *nudges) allow(key string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.last == nil {
		n.last = map[string]time.Time{}
	}
	if at, ok := n.last[key]; ok && now.Sub(at) < nudgeGap {
		return false
	}
	for k, at := range n.last {
		if now.Sub(at) >= nudgeGap {
			delete(n.last, k)
		}
	}
	n.last[key] = now
	return true
}

// NudgeVoters reminds participants who have not voted on a story's current round (the current
// story when storyID is empty): participantID names one, or, when empty, every voter still to
// vote. Each sees a gentle signal in the room; those who came from Slack or Discord also get a
// message from the bot. Only organizers may. A failed chat message is shown to the organizers.
func (s *Service) NudgeVoters(ctx context.Context, a Actor, storyID, participantID string) (*NudgeResult, error) {
	sess, me, err := s.organizer(ctx, a, "remind voters")
	if err != nil {
		return nil, err
	}
	if storyID == "" {
		storyID = sess.CurrentStoryID
	}
	if storyID == "" {
		return nil, Errorf(CodeConflict, "there is no story to vote on yet")
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	if st.Status != StoryOpen || st.RoundState != RoundVoting {
		return nil, Errorf(CodeConflict, "this round is not voting any more")
	}
	votes, err := s.cfg.Store.Votes(ctx, st.ID, st.Round)
	if err != nil {
		return nil, internal("loading votes", err)
	}
	voted := make(map[string]bool, len(votes))
	for _, v := range votes {
		voted[v.ParticipantID] = true
	}
	var targets []*Participant
	if participantID != "" {
		p, err := s.cfg.Store.Participant(ctx, sess.ID, participantID)
		if err != nil || p.Status != StatusActive {
			return nil, notFound("participant")
		}
		switch {
		case !p.Votes():
			return nil, Errorf(CodeConflict, "%s is a spectator and does not vote", p.Name)
		case voted[p.ID]:
			return nil, Errorf(CodeConflict, "%s has voted already", p.Name)
		case p.ID == me.ID:
			return nil, invalid("participant_id", "you cannot remind yourself")
		}
		if !s.nudged.allow(sess.ID+"/"+p.ID, s.now()) {
			return nil, Errorf(CodeConflict, "%s was reminded a moment ago; give them a few seconds", p.Name)
		}
		targets = append(targets, p)
	} else {
		ps, err := s.cfg.Store.Participants(ctx, sess.ID)
		if err != nil {
			return nil, internal("loading participants", err)
		}
		for _, p := range ps {
			if p.Role == RoleVoter && p.Status == StatusActive && !voted[p.ID] && p.ID != me.ID && s.nudged.allow(sess.ID+"/"+p.ID, s.now()) {
				targets = append(targets, p)
			}
		}
	}
	res := &NudgeResult{Nudged: []Nudged{}}
	for _, p := range targets {
		s.publish(ctx, Event{Type: EvNudge, SessionID: sess.ID, To: p.ID,
			Data: map[string]string{"from": me.ID, "from_name": me.Name, "story_id": st.ID}})
		n := Nudged{ID: p.ID, Name: p.Name}
		if platform := chatPlatform(p.ChatID); platform != "" && s.cfg.Nudger != nil {
			n.Chat = platform
			s.nudgeInChat(sess, Nudge{Session: sess, Story: st, Participant: p, From: me.Name, URL: s.RoomURL(sess.ID)})
		}
		res.Nudged = append(res.Nudged, n)
	}
	return res, nil
}

// nudgeInChat sends a reminder through the chat in the background, as notify does; a failure is
// shown to the organizers.
func (s *Service) nudgeInChat(sess *Session, n Nudge) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.cfg.Nudger.Nudge(ctx, n); err != nil {
			platform := chatPlatform(n.Participant.ChatID)
			s.log.Warn("reminding in chat failed", "session", sess.ID, "platform", platform, "err", err)
			s.publish(ctx, Event{Type: EvNotice, SessionID: sess.ID, OrganizersOnly: true,
				Data: map[string]string{"level": "warning", "message": "Could not remind " + n.Participant.Name + " on " + platform + ": " + err.Error()}})
		}
	}()
}

// chatPlatform returns the platform of a chat identity ("slack" of "slack:T1:U2"), or "".
func chatPlatform(chatID string) string {
	platform, _, ok := strings.Cut(chatID, ":")
	if !ok {
		return ""
	}
	return platform
}
