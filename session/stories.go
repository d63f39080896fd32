package session

import (
	"context"
	"strings"
)

// StoryInput describes a story to add or change.
type StoryInput struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	// Source and Key identify an imported story; importing the same key again updates it.
	Source string `json:"source,omitempty"`
	Key    string `json:"key,omitempty"`
	// Estimate is the estimate the tracker or file already held (the story's imported
	// estimate): shown in the room, never written back.
	Estimate string `json:"estimate,omitempty"`
	// Target is what the tracker needs to write the estimate back to the right place (the
	// preview's story target, e.g. Jira's board); see WriteTarget.
	Target WriteTarget `json:"target,omitempty"`
}

// Limits on a story's write target, which comes from a tracker or a preview.
const (
	maxTargetKeys     = 8
	maxTargetKeyLen   = 32
	maxTargetValueLen = 200
)

func (in StoryInput) story(sessionID string) (*Story, error) {
	title, err := cleanName("title", strings.ReplaceAll(in.Title, "\n", " "), MaxTitleLen)
	if err != nil {
		return nil, err
	}
	desc, err := cleanText("description", in.Description, MaxDescriptionLen, false)
	if err != nil {
		return nil, err
	}
	u, err := cleanURL(in.URL)
	if err != nil {
		return nil, err
	}
	if in.Key != "" && in.Source == "" {
		return nil, invalid("source", "a story with a key needs its source: the tracker it was imported from")
	}
	if len(in.Key) > MaxKeyLen {
		return nil, invalid("key", "key is %d bytes long; the limit is %d", len(in.Key), MaxKeyLen)
	}
	if len(in.Source) > MaxSourceLen {
		return nil, invalid("source", "source is %d bytes long; the limit is %d", len(in.Source), MaxSourceLen)
	}
	est, err := cleanText("estimate", in.Estimate, MaxCardLen, false)
	if err != nil {
		return nil, err
	}
	if len(in.Target) > maxTargetKeys {
		return nil, invalid("target", "the target has more than %d entries", maxTargetKeys)
	}
	for k, v := range in.Target {
		if len(k) > maxTargetKeyLen || len(v) > maxTargetValueLen {
			return nil, invalid("target", "the target entry %q is too long", k)
		}
	}
	if in.Key == "" && len(in.Target) > 0 {
		return nil, invalid("target", "only an imported story (with a source and key) has a write target")
	}
	return &Story{SessionID: sessionID, Title: title, Description: desc, URL: u, Source: in.Source, ExternalKey: in.Key,
		ImportedEstimate: est, Target: in.Target}, nil
}

// AddStories appends stories (or updates imported ones already there, matched by source and key).
// Only organizers may. If the session has no current story yet, the first added becomes current.
func (s *Service) AddStories(ctx context.Context, a Actor, in []StoryInput) ([]*Story, error) {
	sess, _, err := s.organizer(ctx, a, "add stories")
	if err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, invalid("stories", "no stories to add")
	}
	if len(in) > MaxStories {
		return nil, invalid("stories", "a session holds at most %d stories; this request adds %d", MaxStories, len(in))
	}
	stories := make([]*Story, 0, len(in))
	for i, si := range in {
		st, err := si.story(sess.ID)
		if err != nil {
			if len(in) > 1 {
				e := err.(*Error)
				return nil, invalid(e.Field, "story %d: %s", i+1, e.Message)
			}
			return nil, err
		}
		st.CreatedAt = s.now().UTC()
		stories = append(stories, st)
	}
	if err := s.cfg.Store.SaveStories(ctx, sess.ID, stories); err != nil {
		return nil, internal("saving stories", err)
	}
	for _, st := range stories {
		s.publish(ctx, Event{Type: EvStory, SessionID: sess.ID, Data: StoryView{Story: st, Voters: []string{}}})
	}
	if sess.CurrentStoryID == "" {
		s.moveCurrent(ctx, sess, "", stories[0].ID)
	}
	return stories, nil
}

// UpdateStory changes a story's title, description and link. Only organizers may.
func (s *Service) UpdateStory(ctx context.Context, a Actor, id string, in StoryInput) (*Story, error) {
	sess, _, err := s.organizer(ctx, a, "edit stories")
	if err != nil {
		return nil, err
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, id)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	upd, err := in.story(sess.ID)
	if err != nil {
		return nil, err
	}
	st.Title, st.Description, st.URL = upd.Title, upd.Description, upd.URL
	if err := s.cfg.Store.UpdateStory(ctx, st); err != nil {
		return nil, internal("saving the story", err)
	}
	s.publishStory(ctx, sess, st)
	return st, nil
}

// publishStory sends a story's public state: who voted, and the votes only once revealed.
func (s *Service) publishStory(ctx context.Context, sess *Session, st *Story) {
	view := StoryView{Story: st, Voters: []string{}}
	votes, err := s.cfg.Store.Votes(ctx, st.ID, st.Round)
	anonymous, aerr := s.roundAnonymous(ctx, st)
	if err == nil && aerr == nil {
		view = s.storyView(sess, st, votes, anonymous)
	}
	s.publish(ctx, Event{Type: EvStory, SessionID: sess.ID, Data: view})
}

// RemoveStory deletes a story with its history. Only organizers may.
func (s *Service) RemoveStory(ctx context.Context, a Actor, id string) error {
	sess, _, err := s.organizer(ctx, a, "remove stories")
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Story(ctx, sess.ID, id); err != nil {
		return lookupErr("story", err)
	}
	if err := s.cfg.Store.DeleteStory(ctx, sess.ID, id); err != nil {
		return internal("removing the story", err)
	}
	s.publish(ctx, Event{Type: EvStoryRm, SessionID: sess.ID, Data: map[string]string{"id": id}})
	if sess.CurrentStoryID == id {
		next := ""
		if stories, err := s.cfg.Store.Stories(ctx, sess.ID); err == nil {
			next = nextOpen(stories, "")
		}
		s.moveCurrent(ctx, sess, id, next)
	}
	return nil
}

// ReorderStories sets the order of the stories; ids must list every story once. Only organizers may.
func (s *Service) ReorderStories(ctx context.Context, a Actor, ids []string) error {
	sess, _, err := s.organizer(ctx, a, "reorder stories")
	if err != nil {
		return err
	}
	stories, err := s.cfg.Store.Stories(ctx, sess.ID)
	if err != nil {
		return internal("loading stories", err)
	}
	have := map[string]bool{}
	for _, st := range stories {
		have[st.ID] = true
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !have[id] {
			return invalid("ids", "story %q is not in this session", id)
		}
		if seen[id] {
			return invalid("ids", "story %q is listed twice", id)
		}
		seen[id] = true
	}
	if len(ids) != len(stories) {
		return invalid("ids", "list every story of the session once: %d listed, %d in the session", len(ids), len(stories))
	}
	if err := s.cfg.Store.ReorderStories(ctx, sess.ID, ids); err != nil {
		return internal("reordering stories", err)
	}
	s.publish(ctx, Event{Type: EvOrder, SessionID: sess.ID, Data: map[string][]string{"ids": ids}})
	return nil
}

// SelectStory makes a story the one the room estimates now. Only organizers may.
func (s *Service) SelectStory(ctx context.Context, a Actor, id string) (*Session, error) {
	sess, _, err := s.organizer(ctx, a, "pick the current story")
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Story(ctx, sess.ID, id); err != nil {
		return nil, lookupErr("story", err)
	}
	if _, err := s.cfg.Store.SetCurrentStory(ctx, sess.ID, id, nil, s.now().UTC()); err != nil {
		return nil, internal("saving the session", err)
	}
	sess.CurrentStoryID = id
	s.publish(ctx, Event{Type: EvSession, SessionID: sess.ID, Data: sess})
	return sess, nil
}

// moveCurrent makes to the current story if from still is, and tells the room. Losing the race
// to another organizer's pick is fine: theirs stands.
func (s *Service) moveCurrent(ctx context.Context, sess *Session, from, to string) {
	ok, err := s.cfg.Store.SetCurrentStory(ctx, sess.ID, to, &from, s.now().UTC())
	if err != nil {
		s.log.Warn("moving the current story", "session", sess.ID, "err", err)
		return
	}
	if !ok {
		return
	}
	if fresh, err := s.cfg.Store.Session(ctx, sess.ID); err == nil {
		*sess = *fresh
	}
	s.publish(ctx, Event{Type: EvSession, SessionID: sess.ID, Data: sess})
}

// nextOpen returns the first open story after the one with id after (wrapping around), or "".
func nextOpen(stories []*Story, after string) string {
	start := 0
	for i, st := range stories {
		if st.ID == after {
			start = i + 1
		}
	}
	for i := range stories {
		st := stories[(start+i)%len(stories)]
		if st.Status == StoryOpen && st.ID != after {
			return st.ID
		}
	}
	return ""
}
