package bots

import (
	"strings"
	"unicode/utf8"

	"github.com/pokor/pokor/session"
)

// Bounds of a summary, whatever the platform: a long backlog or a crowd would make a wall of text.
const (
	// MaxListed is the most stories a summary lists; the rest are counted.
	MaxListed = 15
	// maxPeople is the most names a summary lists; the rest are counted.
	maxPeople = 20
	// maxStoryTitle is the longest story title shown, in characters.
	maxStoryTitle = 80
)

// Summary is what a channel is told about a session, the same on every platform: composed once by
// Summarize, written in a platform's markup by Render.
type Summary struct {
	// Kind is "estimated" (one story was accepted) or "closed" (the session ended).
	Kind  string
	Title string
	// Stories are the story estimated, or every estimated story of the session in order.
	Stories []SummaryStory
	// Estimated of Count stories are estimated ("closed").
	Estimated, Count int
	// Points adds up the numeric estimates; HasPoints is false when none is a number (T-shirt sizes).
	Points    float64
	HasPoints bool
	// Votes are the votes of the round an "estimated" story's estimate came from ("Ann 3", or
	// "3" alone when Anonymous: that round was revealed anonymously), written out by VotesLine.
	Votes     []string
	Anonymous bool
	// People are the names of those who voted in the session ("closed").
	People []string
	// URL is the room's clean URL, never a pre-signed link.
	URL string
}

// SummaryStory is an estimated story as a summary shows it.
type SummaryStory struct {
	Key, Title, URL, Estimate string
}

// Summarize composes the summary of a notice.
func Summarize(n session.Notice) Summary {
	s := Summary{Kind: n.Kind, Title: n.Session.Title, People: n.People, URL: n.URL}
	s.Votes, s.Anonymous = votes(n)
	add := func(st *session.Story) {
		s.Stories = append(s.Stories, SummaryStory{Key: st.ExternalKey, Title: st.Title, URL: st.URL, Estimate: st.Estimate})
		if v, ok := session.CardValue(st.Estimate); ok {
			s.Points, s.HasPoints = s.Points+v, true
		}
	}
	switch n.Kind {
	case "estimated":
		if n.Story != nil {
			add(n.Story)
			s.Estimated, s.Count = 1, 1
		}
	case "closed":
		s.Count = len(n.Stories)
		for _, st := range n.Stories {
			if st.Status == session.StoryEstimated {
				s.Estimated++
				add(st)
			}
		}
	}
	return s
}

// Render writes the summary in m's markup and language, within m.Limit.
func (s Summary) Render(m Markup) string {
	title := m.Bold(m.Escape(s.Title))
	var head string
	var lines []string
	switch {
	case s.Kind == "estimated" && len(s.Stories) == 1:
		st := s.Stories[0]
		head = m.T("bot.summary.estimated", "title", title, "story", storyName(m, st), "estimate", m.Bold(m.Escape(st.Estimate)))
	case s.Kind == "closed":
		pairs := []string{"title", title, "estimated", m.Number(float64(s.Estimated)), "stories", m.N("bot.stories", float64(s.Count))}
		if s.HasPoints {
			head = m.T("bot.summary.closed_points", append(pairs, "points", m.N("bot.points", s.Points))...)
		} else {
			head = m.T("bot.summary.closed", pairs...)
		}
		for _, st := range s.Stories {
			lines = append(lines, "• "+storyName(m, st)+": "+m.Bold(m.Escape(st.Estimate)))
		}
	default:
		head = m.T("bot.summary.changed", "title", title)
	}
	var people string
	switch {
	case s.Kind == "estimated" && len(s.Votes) > 0:
		people = m.Escape(votesLine(m, s.Votes, s.Anonymous))
	case s.Kind == "closed" && len(s.People) > 0:
		people = m.T("bot.summary.took_part", "names", m.Escape(names(m, s.People)))
	}
	// Lines that do not fit the limit, or past MaxListed, are counted instead.
	out := head
	budget := m.Limit - utf8.RuneCountInString(people) - 40
	for i, l := range lines {
		if i == MaxListed || (m.Limit > 0 && utf8.RuneCountInString(out)+1+utf8.RuneCountInString(l) > budget) {
			out += "\n" + m.N("bot.summary.more", float64(len(lines)-i))
			break
		}
		out += "\n" + l
	}
	if people != "" {
		out += "\n" + people
	}
	if m.Limit > 0 && utf8.RuneCountInString(out) > m.Limit {
		out = Truncate(out, m.Limit)
	}
	return out
}

// storyName is a story's key and title, linked to its tracker item when it has one, quoted the
// language's way when it has none.
func storyName(m Markup, st SummaryStory) string {
	name := Truncate(st.Title, maxStoryTitle)
	if st.Key != "" && !strings.Contains(st.Title, st.Key) {
		name = st.Key + " " + name
	}
	if st.URL != "" {
		return m.Link(st.URL, m.Escape(name))
	}
	return m.T("bot.quoted", "text", m.Escape(name))
}

// names lists names in words: "Ann, Bob and Carol", and how many more past maxPeople.
func names(m Markup, ns []string) string {
	if len(ns) > maxPeople {
		return m.N("bot.list.more", float64(len(ns)-maxPeople), "list", strings.Join(ns[:maxPeople], ", "))
	}
	if len(ns) == 1 {
		return ns[0]
	}
	return m.T("bot.list.and", "list", strings.Join(ns[:len(ns)-1], ", "), "last", ns[len(ns)-1])
}

// Truncate shortens s to at most n characters, marking the cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
