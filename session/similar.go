package session

import (
	"context"
	"math"
	"sort"
	"strings"
	"unicode"
)

// MaxSimilar is how many similar past stories a room shows after a reveal.
const MaxSimilar = 3

// SimilarStory is one of a team's earlier estimated stories, as a room shows it after a reveal.
type SimilarStory struct {
	ID           string `json:"id"`
	SessionID    string `json:"session_id"`
	SessionTitle string `json:"session_title"`
	Title        string `json:"title"`
	URL          string `json:"url,omitempty"`
	Key          string `json:"external_key,omitempty"`
	Estimate     string `json:"estimate"`
	// Outcome is what happened to the story in its tracker, once known.
	Outcome *Outcome `json:"outcome,omitempty"`
	// Score is the BM25 score against the revealed story: higher is more similar.
	Score float64 `json:"score"`
}

// SimilarView is the similar past stories of a story whose votes were revealed: the payload of
// the "similar" event and of the snapshot's "similar" field.
type SimilarView struct {
	StoryID string         `json:"story_id"`
	Round   int            `json:"round"`
	Stories []SimilarStory `json:"stories"`
}

// EvSimilar carries the similar past stories of a story, sent right after its reveal and never
// before: shown during the vote they would anchor it.
const EvSimilar EventType = "similar"

// SimilarStories returns up to MaxSimilar of the team's earlier estimated stories most similar to a
// story of the actor's session. It refuses while the story's votes are hidden; a session without
// a team has none.
func (s *Service) SimilarStories(ctx context.Context, a Actor, storyID string) (*SimilarView, error) {
	sess, _, err := s.actor(ctx, a)
	if err != nil {
		return nil, err
	}
	st, err := s.cfg.Store.Story(ctx, sess.ID, storyID)
	if err != nil {
		return nil, lookupErr("story", err)
	}
	if st.RoundState != RoundRevealed && st.Status != StoryEstimated {
		return nil, Errorf(CodeConflict, "similar stories are shown once the votes are revealed, so that they cannot sway the vote")
	}
	return s.similarTo(ctx, sess, st)
}

// similarTo ranks the team's earlier estimated stories against st.
func (s *Service) similarTo(ctx context.Context, sess *Session, st *Story) (*SimilarView, error) {
	view := &SimilarView{StoryID: st.ID, Round: st.Round, Stories: []SimilarStory{}}
	if sess.TeamID == "" {
		return view, nil
	}
	h, err := s.loadHistory(ctx, sess.TeamID, false)
	if err != nil {
		return nil, err
	}
	var docs []*Story
	for _, c := range h.stories {
		if c.ID != st.ID && c.Status == StoryEstimated && c.Estimate != "" {
			docs = append(docs, c)
		}
	}
	titles := map[string]string{}
	for _, se := range h.sessions {
		titles[se.ID] = se.Title
	}
	for _, r := range RankSimilar(st.Title+"\n"+st.Description, docs, MaxSimilar) {
		c := docs[r.Index]
		view.Stories = append(view.Stories, SimilarStory{ID: c.ID, SessionID: c.SessionID, SessionTitle: titles[c.SessionID],
			Title: c.Title, URL: c.URL, Key: c.ExternalKey, Estimate: c.Estimate, Outcome: h.outcomes[c.ID], Score: r.Score})
	}
	return view, nil
}

// publishSimilar tells the room the similar past stories of a story just revealed. A failure
// costs only the suggestions.
func (s *Service) publishSimilar(ctx context.Context, sess *Session, st *Story) {
	if sess.TeamID == "" {
		return
	}
	view, err := s.similarTo(ctx, sess, st)
	if err != nil {
		s.log.Warn("finding similar stories", "session", sess.ID, "err", err)
		return
	}
	s.publish(ctx, Event{Type: EvSimilar, SessionID: sess.ID, Data: view})
}

// snapshotSimilar is the similar past stories of the session's current story when its votes are
// revealed, for a snapshot; nil otherwise, or when they cannot be read.
func (s *Service) snapshotSimilar(ctx context.Context, sess *Session, stories []*Story) *SimilarView {
	if sess.TeamID == "" || sess.CurrentStoryID == "" {
		return nil
	}
	for _, st := range stories {
		if st.ID != sess.CurrentStoryID {
			continue
		}
		if st.RoundState != RoundRevealed {
			return nil
		}
		view, err := s.similarTo(ctx, sess, st)
		if err != nil {
			s.log.Warn("finding similar stories", "session", sess.ID, "err", err)
			return nil
		}
		return view
	}
	return nil
}

// Ranked is a document's place in a ranking: its index in the list ranked and its score.
type Ranked struct {
	Index int
	Score float64
}

// BM25's parameters, the usual ones: k1 saturates repeated terms, b normalises by length.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// RankSimilar ranks stories by Okapi BM25 against query (their titles count twice, since a title
// says what a story is about more densely than its description), and returns at most n with a
// score above zero, best first; on a tie the later story (more recent) first.
func RankSimilar(query string, stories []*Story, n int) []Ranked {
	q := uniq(Tokenize(query))
	if len(q) == 0 || len(stories) == 0 {
		return nil
	}
	docs := make([]map[string]int, len(stories))
	lens := make([]int, len(stories))
	df := map[string]int{}
	total := 0
	for i, st := range stories {
		title := Tokenize(st.Title)
		terms := append(append(title, title...), Tokenize(st.Description)...)
		tf := map[string]int{}
		for _, t := range terms {
			tf[t]++
		}
		for t := range tf {
			df[t]++
		}
		docs[i], lens[i] = tf, len(terms)
		total += len(terms)
	}
	avg := float64(total) / float64(len(stories))
	if avg == 0 {
		return nil
	}
	N := float64(len(stories))
	var out []Ranked
	for i, tf := range docs {
		score := 0.0
		for _, t := range q {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (N-float64(df[t])+0.5)/(float64(df[t])+0.5))
			score += idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(lens[i])/avg))
		}
		if score > 0 {
			out = append(out, Ranked{Index: i, Score: score})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		return out[a].Index > out[b].Index
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// stopwords are English words too common in stories to tell them apart.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be by for from has have in into is it its of on or so
		that the this to was were will with we our you your i when then than should can could would
		must not no do does done new add make use using via per all any each some
		they their them own there what which who how up out`) {
		m[w] = true
	}
	return m
}()

// Tokenize splits text into the terms similarity is computed on: lower-case words and numbers,
// without English stop words, with a plural "s" taken off ("pages" matches "page").
func Tokenize(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if stopwords[w] || len([]rune(w)) < 2 && !unicode.IsDigit([]rune(w)[0]) {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	return out
}

func uniq(ts []string) []string {
	seen := map[string]bool{}
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
