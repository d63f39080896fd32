package session

import (
	"context"
	"time"
)

// Snapshot is the whole state of a room as one participant may see it: sent on connect and
// returned by the JSON API. Other participants' votes appear only for revealed rounds.
type Snapshot struct {
	Session      *Session          `json:"session"`
	Me           *Participant      `json:"me"`
	Participants []ParticipantView `json:"participants"`
	Stories      []StoryView       `json:"stories"`
	// MyVotes holds the viewer's own votes in the current round of each story, by story id.
	MyVotes map[string]Vote `json:"my_votes"`
	Emojis  []string        `json:"emojis"`
	// OrganizerURL is the viewer's own organizer link, for organizers of an open session: it is
	// in the snapshot of that viewer only.
	OrganizerURL string `json:"organizer_url,omitempty"`
	// Timer is the running round timer, if any; Now is the server's clock, for the countdown.
	Timer *TimerView `json:"timer,omitempty"`
	Now   time.Time  `json:"now"`
}

// Snapshot returns the room as the actor may see it. A participant waiting for admission sees
// only the session's title and itself.
func (s *Service) Snapshot(ctx context.Context, a Actor) (*Snapshot, error) {
	me, err := s.cfg.Store.Participant(ctx, a.SessionID, a.ParticipantID)
	if err != nil || me.Status == StatusRemoved {
		return nil, Errorf(CodeForbidden, "join the session first")
	}
	sess, err := s.Session(ctx, a.SessionID)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Session: sess, Me: me, Participants: []ParticipantView{}, Stories: []StoryView{}, MyVotes: map[string]Vote{}, Emojis: Emojis, Now: s.now().UTC()}
	if me.Status == StatusPending {
		return snap, nil
	}
	snap.Timer = s.currentTimer(ctx, sess.ID)
	ps, err := s.cfg.Store.Participants(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading participants", err)
	}
	online := s.online(sess.ID)
	for _, p := range ps {
		if p.Status == StatusPending && me.Role != RoleOrganizer {
			continue
		}
		snap.Participants = append(snap.Participants, s.participantView(p, online))
	}
	stories, err := s.cfg.Store.Stories(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading stories", err)
	}
	votes, err := s.cfg.Store.CurrentVotes(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading votes", err)
	}
	byStory := map[string][]Vote{}
	for _, v := range votes {
		byStory[v.StoryID] = append(byStory[v.StoryID], v)
		if v.ParticipantID == me.ID {
			snap.MyVotes[v.StoryID] = v
		}
	}
	rounds, err := s.cfg.Store.CurrentRounds(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading rounds", err)
	}
	anonymous := map[string]bool{}
	for _, r := range rounds {
		anonymous[r.StoryID] = r.Anonymous
	}
	for _, st := range stories {
		snap.Stories = append(snap.Stories, s.storyView(sess, st, byStory[st.ID], anonymous[st.ID]))
	}
	if me.Role == RoleOrganizer && !sess.Closed() {
		snap.OrganizerURL = s.organizerURL(sess, me)
	}
	return snap, nil
}

// RoundView is one round of a story's history.
type RoundView struct {
	Round
	Voters []string `json:"voters"`
	Votes  []Vote   `json:"votes,omitempty"`
	Stats  *Stats   `json:"stats,omitempty"`
}

// History returns every round of a story; votes are shown for revealed rounds only, each with the
// anonymity it was revealed with.
func (s *Service) History(ctx context.Context, a Actor, storyID string) ([]RoundView, error) {
	sess, _, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Story(ctx, sess.ID, storyID); err != nil {
		return nil, lookupErr("story", err)
	}
	rounds, err := s.cfg.Store.Rounds(ctx, storyID)
	if err != nil {
		return nil, internal("loading rounds", err)
	}
	votes, err := s.cfg.Store.StoryVotes(ctx, storyID)
	if err != nil {
		return nil, internal("loading votes", err)
	}
	return roundViews(sess, rounds, votes), nil
}

func roundViews(sess *Session, rounds []Round, votes []Vote) []RoundView {
	byRound := map[int][]Vote{}
	for _, v := range votes {
		byRound[v.Round] = append(byRound[v.Round], v)
	}
	out := make([]RoundView, 0, len(rounds))
	for _, r := range rounds {
		rv := RoundView{Round: r, Voters: []string{}}
		for _, v := range byRound[r.Number] {
			rv.Voters = append(rv.Voters, v.ParticipantID)
		}
		if r.State == RoundRevealed {
			rv.Votes = revealedVotes(sess.Deck, byRound[r.Number], r.Anonymous)
			st := ComputeStats(sess.Deck, byRound[r.Number])
			rv.Stats = &st
		}
		out = append(out, rv)
	}
	return out
}

// Export is a whole session for download: stories with every round, revealed votes by name.
type Export struct {
	Session      *Session       `json:"session"`
	ExportedAt   time.Time      `json:"exported_at"`
	Participants []*Participant `json:"participants"`
	Stories      []ExportStory  `json:"stories"`
}

// ExportStory is a story with its rounds in an export.
type ExportStory struct {
	*Story
	Rounds []ExportRound `json:"rounds"`
}

// ExportRound is one round in an export.
type ExportRound = RoundView

// ExportSession returns everything about a session that its participants may see. Votes of
// rounds still voting are not in it.
func (s *Service) ExportSession(ctx context.Context, a Actor) (*Export, error) {
	sess, _, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.export(ctx, sess)
}

// ExportByID exports a session for the command line, where the operator owns the database.
func (s *Service) ExportByID(ctx context.Context, sessionID string) (*Export, error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	return s.export(ctx, sess)
}

func (s *Service) export(ctx context.Context, sess *Session) (*Export, error) {
	ps, err := s.cfg.Store.Participants(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading participants", err)
	}
	stories, err := s.cfg.Store.Stories(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading stories", err)
	}
	votes, err := s.cfg.Store.SessionVotes(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading votes", err)
	}
	byStory := map[string][]Vote{}
	for _, v := range votes {
		byStory[v.StoryID] = append(byStory[v.StoryID], v)
	}
	ex := &Export{Session: sess, ExportedAt: s.now().UTC(), Participants: ps, Stories: make([]ExportStory, 0, len(stories))}
	for _, st := range stories {
		rounds, err := s.cfg.Store.Rounds(ctx, st.ID)
		if err != nil {
			return nil, internal("loading rounds", err)
		}
		es := ExportStory{Story: st}
		es.Rounds = roundViews(sess, rounds, byStory[st.ID])
		ex.Stories = append(ex.Stories, es)
	}
	return ex, nil
}
