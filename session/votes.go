package session

import (
	"context"
	"errors"
	"sort"
	"time"
)

// StoryView is a story as the room shows it. Votes and Stats are set only once the current
// round is revealed; before that the room learns only who voted. Anonymous is set when the
// revealed round is anonymous.
type StoryView struct {
	*Story
	Voters    []string `json:"voters"`
	Votes     []Vote   `json:"votes,omitempty"`
	Stats     *Stats   `json:"stats,omitempty"`
	Anonymous bool     `json:"anonymous,omitempty"`
}

// storyView builds the public view of a story from the votes of its current round; anonymous is
// that round's, as fixed at its reveal. No vote value leaves here unless the round is revealed;
// the viewer's own vote travels separately.
func (s *Service) storyView(sess *Session, st *Story, votes []Vote, anonymous bool) StoryView {
	v := StoryView{Story: st, Voters: make([]string, 0, len(votes))}
	for _, vt := range votes {
		v.Voters = append(v.Voters, vt.ParticipantID)
	}
	sort.Strings(v.Voters)
	if st.RoundState == RoundRevealed {
		v.Votes = revealedVotes(sess.Deck, votes, anonymous)
		stats := ComputeStats(sess.Deck, votes)
		v.Stats, v.Anonymous = &stats, anonymous
	}
	return v
}

// roundAnonymous returns the anonymity of a story's current round once revealed.
func (s *Service) roundAnonymous(ctx context.Context, st *Story) (bool, error) {
	if st.RoundState != RoundRevealed {
		return false, nil
	}
	rounds, err := s.cfg.Store.Rounds(ctx, st.ID)
	if err != nil {
		return false, err
	}
	for _, r := range rounds {
		if r.Number == st.Round {
			return r.Anonymous, nil
		}
	}
	return false, nil
}

// revealedVotes returns the votes as shown at reveal: without who cast them in anonymous
// rounds, ordered by deck position so that anonymous order says nothing either.
func revealedVotes(deck Deck, votes []Vote, anonymous bool) []Vote {
	out := make([]Vote, len(votes))
	copy(out, votes)
	if anonymous {
		// The room saw who voted when; a vote's time would match it to its voter.
		for i := range out {
			out[i].ParticipantID = ""
			out[i].CastAt = time.Time{}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := deck.Index(out[i].Card), deck.Index(out[j].Card)
		if a != b {
			return a < b
		}
		return out[i].ParticipantID < out[j].ParticipantID
	})
	return out
}

// VoteInput is a vote as a participant casts it.
type VoteInput struct {
	Card       string     `json:"card"`
	Confidence Confidence `json:"confidence,omitempty"`
	Rationale  string     `json:"rationale,omitempty"`
}

// Vote casts or replaces the actor's vote on a story's current round. Spectators may not vote;
// outside async mode only the current story takes votes. The vote is stored durably before
// Vote returns; the room learns only that the actor voted.
func (s *Service) Vote(ctx context.Context, a Actor, storyID string, in VoteInput) (*Vote, error) {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	switch {
	case sess.Closed():
		return nil, Errorf(CodeConflict, "this session has ended")
	case p.Role == RoleSpectator:
		return nil, Errorf(CodeForbidden, "spectators do not vote; ask an organizer to make you a voter")
	case !sess.Deck.Has(in.Card):
		return nil, invalid("card", "%q is not a card of this deck; pick one of %v", in.Card, sess.Deck.Cards)
	}
	switch in.Confidence {
	case "", ConfidenceLow, ConfidenceMedium, ConfidenceHigh:
	default:
		return nil, invalid("confidence", "confidence must be low, medium or high")
	}
	rationale, err := cleanText("rationale", in.Rationale, MaxRationaleLen, false)
	if err != nil {
		return nil, err
	}
	if !sess.Settings.Async && storyID != sess.CurrentStoryID {
		return nil, Errorf(CodeConflict, "the room is estimating another story; vote on the current one")
	}
	// The store checks the round and the voter as it writes (no read of the story first: at
	// 1,900 votes a second that read was a sixth of the server's CPU, docs/performance.md).
	v := &Vote{StoryID: storyID, ParticipantID: p.ID, Card: in.Card, Confidence: in.Confidence, Rationale: rationale, CastAt: s.now().UTC()}
	if err := s.cfg.Store.CastCurrentVote(ctx, sess.ID, v); err != nil {
		if errors.Is(err, ErrRoundClosed) {
			return nil, s.voteRefused(ctx, sess.ID, storyID, p.ID)
		}
		if ErrorCode(err) == CodeConflict {
			return nil, err
		}
		return nil, internal("storing the vote", err)
	}
	s.publish(ctx, Event{Type: EvVoted, SessionID: sess.ID, Data: votedData{StoryID: v.StoryID, Round: v.Round, ParticipantID: p.ID, Voted: true}})
	if sess.Settings.AutoReveal && !sess.Settings.Async {
		s.maybeAutoReveal(ctx, sess.ID, v.StoryID)
	}
	return v, nil
}

// voteRefused says why the store refused a vote: the story is not in the session, its round is
// not voting, or the participant may no longer vote (its role changed since it was read).
func (s *Service) voteRefused(ctx context.Context, sessionID, storyID, participantID string) error {
	st, err := s.cfg.Store.Story(ctx, sessionID, storyID)
	if err != nil {
		return lookupErr("story", err)
	}
	if st.Status == StoryEstimated || st.RoundState != RoundVoting {
		return ErrRoundClosed
	}
	if p, err := s.cfg.Store.Participant(ctx, sessionID, participantID); err == nil && p.Status == StatusActive && p.Role != RoleSpectator {
		return ErrRoundClosed // the round moved on between the write and this read
	}
	return Errorf(CodeForbidden, "you may no longer vote in this session; ask an organizer to make you a voter")
}

type votedData struct {
	StoryID       string `json:"story_id"`
	Round         int    `json:"round"`
	ParticipantID string `json:"participant_id"`
	Voted         bool   `json:"voted"`
}

// RetractVote withdraws the actor's vote while the round is still voting.
func (s *Service) RetractVote(ctx context.Context, a Actor, storyID string) error {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return err
	}
	if sess.Closed() {
		return Errorf(CodeConflict, "this session has ended")
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return lookupErr("story", err)
	}
	if st.RoundState != RoundVoting {
		return ErrRoundClosed
	}
	if err := s.cfg.Store.RetractVote(ctx, st.ID, st.Round, p.ID); err != nil {
		return internal("withdrawing the vote", err)
	}
	s.publish(ctx, Event{Type: EvVoted, SessionID: sess.ID, Data: votedData{StoryID: st.ID, Round: st.Round, ParticipantID: p.ID, Voted: false}})
	return nil
}

// Reveal shows the votes of a story's current round. Only organizers may, unless the session's
// Reveal setting lets everyone. Concurrent reveals produce one: the store decides, and the losers
// get the same result without a second event.
func (s *Service) Reveal(ctx context.Context, a Actor, storyID string) (StoryView, error) {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return StoryView{}, err
	}
	if p.Role != RoleOrganizer && sess.Settings.Reveal != RevealEveryone {
		return StoryView{}, Errorf(CodeForbidden, "only an organizer can reveal the votes (an organizer can let everyone reveal in the settings)")
	}
	if sess.Closed() {
		return StoryView{}, Errorf(CodeConflict, "this session has ended")
	}
	return s.reveal(ctx, sess, storyID)
}

func (s *Service) reveal(ctx context.Context, sess *Session, storyID string) (StoryView, error) {
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return StoryView{}, lookupErr("story", err)
	}
	won := false
	if st.RoundState == RoundVoting {
		// The round's anonymity is fixed now, from the setting as it is at the reveal.
		won, err = s.cfg.Store.Reveal(ctx, st.ID, st.Round, s.now().UTC(), sess.Settings.Anonymous)
		if err != nil {
			return StoryView{}, internal("revealing", err)
		}
		if !won {
			// Someone else's reveal or re-vote came first: show the story as it is now.
			if st, err = s.cfg.Store.Story(ctx, sess.ID, storyID); err != nil {
				return StoryView{}, lookupErr("story", err)
			}
		}
	}
	votes, err := s.cfg.Store.Votes(ctx, st.ID, st.Round)
	if err != nil {
		return StoryView{}, internal("loading votes", err)
	}
	// The winning reveal knows its round's state and anonymity, as it wrote them: on PostgreSQL
	// reading them back cost two round trips a reveal.
	anonymous := sess.Settings.Anonymous
	if won {
		st.RoundState = RoundRevealed
	} else if anonymous, err = s.roundAnonymous(ctx, st); err != nil {
		return StoryView{}, internal("loading the round", err)
	}
	view := s.storyView(sess, st, votes, anonymous)
	if won {
		s.publish(ctx, Event{Type: EvRevealed, SessionID: sess.ID, Data: view})
		s.publishSimilar(ctx, sess, st)
	}
	return view, nil
}

// maybeAutoReveal reveals the story's round when auto-reveal is on and every connected voter
// has voted. Organizers are waited for only if they voted; spectators never.
func (s *Service) maybeAutoReveal(ctx context.Context, sessionID, storyID string) {
	sess, err := s.cfg.Store.Session(ctx, sessionID)
	if err != nil || !sess.Settings.AutoReveal || sess.Settings.Async || sess.Closed() || sess.CurrentStoryID != storyID {
		return
	}
	st, err := s.cfg.Store.Story(ctx, sessionID, storyID)
	if err != nil || st.RoundState != RoundVoting || st.Status != StoryOpen {
		return
	}
	votes, err := s.cfg.Store.Votes(ctx, st.ID, st.Round)
	if err != nil || len(votes) == 0 {
		return
	}
	ps, err := s.cfg.Store.Participants(ctx, sessionID)
	if err != nil {
		return
	}
	voted := make(map[string]bool, len(votes))
	for _, v := range votes {
		voted[v.ParticipantID] = true
	}
	online := s.online(sessionID)
	for _, p := range ps {
		if p.Role == RoleVoter && p.Status == StatusActive && online[p.ID] && !voted[p.ID] {
			return
		}
	}
	if _, err := s.reveal(ctx, sess, storyID); err != nil {
		s.log.Warn("auto-reveal failed", "session", sessionID, "err", err)
	}
}

// Revote opens a new round for a story; the previous rounds stay in its history. It also
// reopens an estimated story. Only organizers may.
func (s *Service) Revote(ctx context.Context, a Actor, storyID string) (*Story, error) {
	sess, _, err := s.organizer(ctx, a, "start a re-vote")
	if err != nil {
		return nil, err
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	if st.RoundState == RoundVoting && st.Status == StoryOpen {
		return nil, Errorf(CodeConflict, "this round is still open; reveal it before starting a re-vote")
	}
	ok, err := s.cfg.Store.StartRound(ctx, st.ID, st.Round, s.now().UTC())
	if err != nil {
		return nil, internal("starting a re-vote", err)
	}
	if ok {
		// The new round is what StartRound wrote; only a lost race needs the story read again.
		st.Round, st.RoundState, st.Status = st.Round+1, RoundVoting, StoryOpen
	} else if st, err = s.cfg.Store.Story(ctx, sess.ID, storyID); err != nil {
		return nil, lookupErr("story", err)
	}
	if ok {
		s.publish(ctx, Event{Type: EvRound, SessionID: sess.ID, Data: StoryView{Story: st, Voters: []string{}}})
	}
	return st, nil
}

// Accept records the estimate of a story whose votes are revealed, queues its write-back when
// it was imported from a tracker, and, outside async mode, moves the room to the next open
// story. Only organizers may.
func (s *Service) Accept(ctx context.Context, a Actor, storyID, value string) (*Story, error) {
	sess, _, err := s.organizer(ctx, a, "accept an estimate")
	if err != nil {
		return nil, err
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	if st.RoundState != RoundRevealed {
		return nil, Errorf(CodeConflict, "reveal the votes before accepting an estimate")
	}
	value, err = cleanName("value", value, MaxCardLen)
	if err != nil {
		return nil, err
	}
	if _, numeric := CardValue(value); !numeric && !sess.Deck.Has(value) || IsAbstention(value) {
		return nil, invalid("value", "%q is not an estimate: use a card of the deck or a number", value)
	}
	var wb *Outbox
	if st.Source != "" && st.ExternalKey != "" && s.writesBack(st.Source) {
		now := s.now().UTC()
		wb = &Outbox{ID: newID(), SessionID: sess.ID, StoryID: st.ID, Source: st.Source, ExternalKey: st.ExternalKey,
			Value: value, State: OutboxPending, NextAttempt: now, CreatedAt: now}
	}
	ok, err := s.cfg.Store.Accept(ctx, st.ID, st.Round, value, wb)
	if err != nil {
		return nil, internal("accepting the estimate", err)
	}
	if !ok {
		return nil, Errorf(CodeConflict, "the story changed while you were accepting; look again")
	}
	if wb != nil {
		s.wake()
	}
	s.wakeWebhooks()
	if st, err = s.cfg.Store.Story(ctx, sess.ID, storyID); err != nil {
		return nil, lookupErr("story", err)
	}
	s.publish(ctx, Event{Type: EvAccepted, SessionID: sess.ID, Data: st})
	if !sess.Settings.Async && sess.CurrentStoryID == st.ID {
		if stories, err := s.cfg.Store.Stories(ctx, sess.ID); err == nil {
			if next := nextOpen(stories, st.ID); next != "" {
				s.moveCurrent(ctx, sess, st.ID, next)
			}
		}
	}
	n := Notice{Kind: "estimated", Session: sess, Story: st}
	if sess.Origin.Platform != "" {
		n.Round, n.Names = s.summaryRound(ctx, sess, st)
	}
	s.notify(sess, n)
	return st, nil
}

// summaryRound returns the current round of a story as a chat summary may show it, with the
// names of the voters it names; nil when it cannot be read (the summary goes without it).
func (s *Service) summaryRound(ctx context.Context, sess *Session, st *Story) (*RoundView, map[string]string) {
	rounds, err := s.cfg.Store.Rounds(ctx, st.ID)
	if err != nil {
		return nil, nil
	}
	votes, err := s.cfg.Store.Votes(ctx, st.ID, st.Round)
	if err != nil {
		return nil, nil
	}
	for _, rv := range roundViews(sess, rounds, votes) {
		if rv.Number != st.Round {
			continue
		}
		all := map[string]string{}
		if ps, err := s.cfg.Store.Participants(ctx, sess.ID); err == nil {
			for _, p := range ps {
				all[p.ID] = p.Name
			}
		}
		names := map[string]string{}
		for _, v := range rv.Votes {
			if v.ParticipantID == "" {
				continue
			}
			if names[v.ParticipantID] = all[v.ParticipantID]; names[v.ParticipantID] == "" {
				names[v.ParticipantID] = "(removed)"
			}
		}
		return &rv, names
	}
	return nil, nil
}
