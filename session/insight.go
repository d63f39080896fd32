package session

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Insight is what a team's history says about its estimates: the team page and its exports.
// Every figure is computed from the rounds, votes and estimates Pokor kept, and from the outcomes
// fetched from the trackers; nothing is sent anywhere.
type Insight struct {
	Team        *Team     `json:"team"`
	GeneratedAt time.Time `json:"generated_at"`
	Totals      Totals    `json:"totals"`
	// Sessions are the team's sessions, newest first; Sprints group them by sprint, newest first.
	Sessions []SessionSummary `json:"sessions"`
	Sprints  []SprintSummary  `json:"sprints"`
	// Estimates counts the estimated stories per accepted value, smallest first.
	Estimates []EstimateSummary `json:"estimates"`
	// Rounds counts stories by the rounds they took ("1", "2", "3+"); Spread by the distance
	// between the lowest and highest vote of their last revealed round, in deck steps.
	Rounds []Count `json:"rounds"`
	Spread []Count `json:"spread"`
	// Stories are the team's estimated stories, newest first.
	Stories []StoryInsight `json:"stories"`
	// FarOff are the estimated stories whose outcome was far from the team's usual for that
	// estimate (see Outcome.FarOff).
	FarOff []StoryInsight `json:"far_off"`
	// Voters is each voter's accuracy against the outcomes, only when the team turned it on.
	Voters []VoterAccuracy `json:"voters,omitempty"`
}

// Totals are the team's headline figures. A rate or mean is nil when nothing counts toward it.
type Totals struct {
	Sessions  int     `json:"sessions"`
	Stories   int     `json:"stories"`
	Estimated int     `json:"estimated"`
	Points    float64 `json:"points"`
	// ConsensusRate is the share of estimated stories (with at least two estimates) whose last
	// round had every estimate on the same card.
	ConsensusRate *float64 `json:"consensus_rate"`
	// RoundsPerStory is the mean number of rounds an estimated story took.
	RoundsPerStory *float64 `json:"rounds_per_story"`
	// MedianSeconds is the median time an estimated story spent in the room: from the start of
	// each of its rounds to that round's reveal, added up.
	MedianSeconds *float64 `json:"median_seconds"`
	// WithOutcome counts the estimated stories whose outcome is known.
	WithOutcome int `json:"with_outcome"`
}

// SessionSummary is one of the team's sessions on its page.
type SessionSummary struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Sprint    string     `json:"sprint"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Stories   int        `json:"stories"`
	Estimated int        `json:"estimated"`
	// Points adds up the numeric estimates accepted.
	Points float64 `json:"points"`
}

// SprintSummary is the points a team accepted for one sprint, over its sessions.
type SprintSummary struct {
	Name      string    `json:"name"`
	Start     time.Time `json:"start"`
	Sessions  int       `json:"sessions"`
	Estimated int       `json:"estimated"`
	Points    float64   `json:"points"`
}

// EstimateSummary is one accepted value: how many stories got it and, when outcomes are known,
// their cycle times in hours.
type EstimateSummary struct {
	Value   string `json:"value"`
	Stories int    `json:"stories"`
	// Outcomes counts the stories with a known cycle time; Median, Low and High (the 25th and 75th
	// percentiles) describe them, in hours.
	Outcomes int      `json:"outcomes"`
	Median   *float64 `json:"median_hours,omitempty"`
	Low      *float64 `json:"p25_hours,omitempty"`
	High     *float64 `json:"p75_hours,omitempty"`
}

// Count is one bar of a chart.
type Count struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// StoryInsight is an estimated story of the team with what its rounds showed.
type StoryInsight struct {
	ID           string     `json:"id"`
	SessionID    string     `json:"session_id"`
	SessionTitle string     `json:"session_title"`
	Title        string     `json:"title"`
	URL          string     `json:"url,omitempty"`
	Source       string     `json:"source,omitempty"`
	Key          string     `json:"external_key,omitempty"`
	Estimate     string     `json:"estimate"`
	EstimatedAt  *time.Time `json:"estimated_at,omitempty"`
	Rounds       int        `json:"rounds"`
	Seconds      float64    `json:"seconds"`
	Votes        int        `json:"votes"`
	Consensus    bool       `json:"consensus"`
	// Spread is the distance between the lowest and highest vote of the last round, in deck steps.
	Spread  int      `json:"spread"`
	Outcome *Outcome `json:"outcome,omitempty"`
	// FarOff says why the outcome was far from the team's usual for this estimate; empty when not.
	FarOff string `json:"far_off,omitempty"`
}

// VoterAccuracy is how one voter's last-round votes compared with the outcomes: Within counts the
// votes whose value's median cycle time lies within a factor of two of the story's cycle time.
type VoterAccuracy struct {
	Name   string `json:"name"`
	Votes  int    `json:"votes"`
	Within int    `json:"within"`
	// Higher and Lower count the votes of a value above or below the story's accepted estimate.
	Higher int `json:"higher"`
	Lower  int `json:"lower"`
}

// history is everything a team's insight is computed from.
type history struct {
	team     *Team
	sessions []*Session
	stories  []*Story
	rounds   []Round
	votes    []Vote
	outcomes map[string]*Outcome
	names    map[string]string // participant id → name, only when asked for
}

// loadHistory reads a team's sessions, stories and outcomes; withRounds also its rounds and votes.
func (s *Service) loadHistory(ctx context.Context, teamID string, withRounds bool) (*history, error) {
	h := &history{outcomes: map[string]*Outcome{}}
	var err error
	if h.sessions, err = s.cfg.Store.TeamSessions(ctx, teamID); err != nil {
		return nil, internal("loading the team's sessions", err)
	}
	if h.stories, err = s.cfg.Store.TeamStories(ctx, teamID); err != nil {
		return nil, internal("loading the team's stories", err)
	}
	outcomes, err := s.cfg.Store.TeamOutcomes(ctx, teamID)
	if err != nil {
		return nil, internal("loading the team's outcomes", err)
	}
	for _, o := range outcomes {
		h.outcomes[o.StoryID] = o
	}
	if !withRounds {
		return h, nil
	}
	if h.rounds, err = s.cfg.Store.TeamRounds(ctx, teamID); err != nil {
		return nil, internal("loading the team's rounds", err)
	}
	if h.votes, err = s.cfg.Store.TeamVotes(ctx, teamID); err != nil {
		return nil, internal("loading the team's votes", err)
	}
	return h, nil
}

// TeamInsight computes a team's insight. The caller has checked access (TeamAccess).
func (s *Service) TeamInsight(ctx context.Context, t *Team) (*Insight, error) {
	h, err := s.loadHistory(ctx, t.ID, true)
	if err != nil {
		return nil, err
	}
	h.team = t
	if t.Settings.VoterAccuracy {
		h.names = map[string]string{}
		for _, se := range h.sessions {
			ps, err := s.cfg.Store.Participants(ctx, se.ID)
			if err != nil {
				return nil, internal("loading the team's voters", err)
			}
			for _, p := range ps {
				h.names[p.ID] = p.Name
			}
		}
	}
	return computeInsight(h, s.now().UTC()), nil
}

// sprintRE finds a sprint's number in a session's title: "Sprint 42", "sprint-42", "Sprint #42".
var sprintRE = regexp.MustCompile(`(?i)\bsprint[\s#:_-]*(\d+)\b`)

// SprintOf names the sprint a session estimated: "Sprint 42" from its title, or, for a title
// without one, the ISO week it was held in ("Week 2025-W09").
func SprintOf(sess *Session) string {
	if m := sprintRE.FindStringSubmatch(sess.Title); m != nil {
		n, _ := strconv.Atoi(m[1])
		return "Sprint " + strconv.Itoa(n)
	}
	y, w := sess.CreatedAt.ISOWeek()
	return fmt.Sprintf("Week %d-W%02d", y, w)
}

func computeInsight(h *history, now time.Time) *Insight {
	in := &Insight{Team: h.team, GeneratedAt: now, Sessions: []SessionSummary{}, Sprints: []SprintSummary{},
		Estimates: []EstimateSummary{}, Stories: []StoryInsight{}, FarOff: []StoryInsight{}}
	decks := map[string]Deck{}
	bySession := map[string]*SessionSummary{}
	summaries := make([]SessionSummary, len(h.sessions))
	for i, se := range h.sessions {
		decks[se.ID] = se.Deck
		summaries[i] = SessionSummary{ID: se.ID, Title: se.Title, Sprint: SprintOf(se), CreatedAt: se.CreatedAt, ClosedAt: se.ClosedAt}
		bySession[se.ID] = &summaries[i]
	}
	sessionOf := map[string]string{}
	for _, st := range h.stories {
		sessionOf[st.ID] = st.SessionID
	}
	rounds := map[string][]Round{}
	reveals := map[string][]time.Time{} // per session, sorted
	for _, r := range h.rounds {
		rounds[r.StoryID] = append(rounds[r.StoryID], r)
		if r.RevealedAt != nil {
			reveals[sessionOf[r.StoryID]] = append(reveals[sessionOf[r.StoryID]], *r.RevealedAt)
		}
	}
	for _, ts := range reveals {
		sort.Slice(ts, func(a, b int) bool { return ts[a].Before(ts[b]) })
	}
	votes := map[string]map[int][]Vote{}
	for _, v := range h.votes {
		if votes[v.StoryID] == nil {
			votes[v.StoryID] = map[int][]Vote{}
		}
		votes[v.StoryID][v.Round] = append(votes[v.StoryID][v.Round], v)
	}

	values := map[string]*EstimateSummary{}
	lastRound := map[string]Round{} // the last revealed round of each estimated story
	cycles := map[string][]float64{}
	roundCounts, spreadCounts := map[string]int{}, map[string]int{}
	consensus, withTwo, roundSum := 0, 0, 0
	var seconds []float64
	for _, st := range h.stories {
		ss := bySession[st.SessionID]
		if ss == nil {
			continue
		}
		ss.Stories++
		in.Totals.Stories++
		if st.Status != StoryEstimated || st.Estimate == "" {
			continue
		}
		ss.Estimated++
		in.Totals.Estimated++
		if v, ok := CardValue(st.Estimate); ok {
			ss.Points += v
			in.Totals.Points += v
		}
		si := StoryInsight{ID: st.ID, SessionID: st.SessionID, SessionTitle: ss.Title, Title: st.Title, URL: st.URL,
			Source: st.Source, Key: st.ExternalKey, Estimate: st.Estimate, Outcome: h.outcomes[st.ID]}
		// The story's rounds: how many, how long in the room, and the last revealed one's votes.
		var last *Round
		for i, r := range rounds[st.ID] {
			si.Rounds++
			if r.RevealedAt != nil {
				si.Seconds += roomTime(r, reveals[st.SessionID]).Seconds()
				last = &rounds[st.ID][i]
				si.EstimatedAt = r.RevealedAt
			}
		}
		if si.Rounds == 0 {
			si.Rounds = st.Round
		}
		roundSum += si.Rounds
		roundCounts[bucket(si.Rounds, 1, 3)]++
		seconds = append(seconds, si.Seconds)
		if last != nil {
			lastRound[st.ID] = *last
			vs := votes[st.ID][last.Number]
			stats := ComputeStats(decks[st.SessionID], vs)
			si.Votes = stats.Votes
			if stats.Estimating >= 2 {
				withTwo++
				if stats.Consensus {
					consensus++
				}
			}
			si.Consensus = stats.Consensus && stats.Estimating >= 2
			if stats.Min != "" {
				si.Spread = deckSteps(decks[st.SessionID], stats.Min, stats.Max)
				spreadCounts[bucket(si.Spread, 0, 3)]++
			}
		}
		es := values[st.Estimate]
		if es == nil {
			es = &EstimateSummary{Value: st.Estimate}
			values[st.Estimate] = es
		}
		es.Stories++
		if o := si.Outcome; o != nil && o.CycleHours != nil {
			cycles[st.Estimate] = append(cycles[st.Estimate], *o.CycleHours)
			in.Totals.WithOutcome++
		}
		in.Stories = append(in.Stories, si)
	}
	in.Totals.Sessions = len(h.sessions)
	if withTwo > 0 {
		in.Totals.ConsensusRate = ptr(float64(consensus) / float64(withTwo))
	}
	if n := in.Totals.Estimated; n > 0 {
		in.Totals.RoundsPerStory = ptr(float64(roundSum) / float64(n))
		in.Totals.MedianSeconds = ptr(quantile(seconds, 0.5))
	}

	for _, es := range values {
		if c := cycles[es.Value]; len(c) > 0 {
			es.Outcomes = len(c)
			es.Median, es.Low, es.High = ptr(quantile(c, 0.5)), ptr(quantile(c, 0.25)), ptr(quantile(c, 0.75))
		}
		in.Estimates = append(in.Estimates, *es)
	}
	sort.Slice(in.Estimates, func(a, b int) bool { return lessCard(in.Estimates[a].Value, in.Estimates[b].Value) })
	// Far off: the cycle time is more than twice, or less than half, the median of its estimate
	// (with at least three outcomes for that estimate, so that one story is not its own yardstick).
	for i := range in.Stories {
		si := &in.Stories[i]
		es := values[si.Estimate]
		if si.Outcome == nil || si.Outcome.CycleHours == nil || es.Outcomes < 3 || *es.Median <= 0 {
			continue
		}
		ratio := *si.Outcome.CycleHours / *es.Median
		switch {
		case ratio >= 2:
			si.FarOff = fmt.Sprintf("took %.1f× the median of the stories estimated %s", ratio, si.Estimate)
		case ratio <= 0.5:
			si.FarOff = fmt.Sprintf("took %.1f× the median of the stories estimated %s", ratio, si.Estimate)
		}
		if si.FarOff != "" {
			in.FarOff = append(in.FarOff, *si)
		}
	}
	if h.names != nil {
		in.Voters = voterAccuracy(h, in, votes, lastRound, values)
	}
	in.Rounds = counts(roundCounts, []string{"1", "2", "3+"})
	in.Spread = counts(spreadCounts, []string{"0", "1", "2", "3+"})

	// Newest first on the page.
	for i := len(summaries) - 1; i >= 0; i-- {
		in.Sessions = append(in.Sessions, summaries[i])
	}
	sprints := map[string]*SprintSummary{}
	var order []string
	for _, ss := range summaries {
		sp := sprints[ss.Sprint]
		if sp == nil {
			sp = &SprintSummary{Name: ss.Sprint, Start: ss.CreatedAt}
			sprints[ss.Sprint] = sp
			order = append(order, ss.Sprint)
		}
		sp.Sessions++
		sp.Estimated += ss.Estimated
		sp.Points += ss.Points
	}
	for i := len(order) - 1; i >= 0; i-- {
		in.Sprints = append(in.Sprints, *sprints[order[i]])
	}
	for i, j := 0, len(in.Stories)-1; i < j; i, j = i+1, j-1 {
		in.Stories[i], in.Stories[j] = in.Stories[j], in.Stories[i]
	}
	return in
}

// roomTime is how long a revealed round was before the room: from its start, or from the
// session's previous reveal when that came later (stories are imported long before the meeting
// gets to them, and a meeting moves to the next story after a reveal), to its own reveal.
func roomTime(r Round, sessionReveals []time.Time) time.Duration {
	from := r.StartedAt
	i := sort.Search(len(sessionReveals), func(i int) bool { return !sessionReveals[i].Before(*r.RevealedAt) })
	if i > 0 && sessionReveals[i-1].After(from) {
		from = sessionReveals[i-1]
	}
	return max(r.RevealedAt.Sub(from), 0)
}

// voterAccuracy compares each voter's votes in the last revealed round of each story with the
// outcomes: a vote is "within" when the median cycle time of stories estimated at that vote's
// value is within a factor of two of the story's own cycle time. A round revealed anonymously
// is left out: its votes were shown without names, and this would put names on them.
func voterAccuracy(h *history, in *Insight, votes map[string]map[int][]Vote, lastRound map[string]Round, values map[string]*EstimateSummary) []VoterAccuracy {
	acc := map[string]*VoterAccuracy{}
	var order []string
	for _, si := range in.Stories {
		r, ok := lastRound[si.ID]
		if si.Outcome == nil || si.Outcome.CycleHours == nil || !ok || r.Anonymous {
			continue
		}
		for _, v := range votes[si.ID][r.Number] {
			if IsAbstention(v.Card) {
				continue
			}
			name := h.names[v.ParticipantID]
			if name == "" {
				continue
			}
			a := acc[name]
			if a == nil {
				a = &VoterAccuracy{Name: name}
				acc[name] = a
				order = append(order, name)
			}
			a.Votes++
			if es := values[v.Card]; es != nil && es.Median != nil && *es.Median > 0 {
				if r := *si.Outcome.CycleHours / *es.Median; r > 0.5 && r < 2 {
					a.Within++
				}
			}
			switch {
			case lessCard(si.Estimate, v.Card):
				a.Higher++
			case lessCard(v.Card, si.Estimate):
				a.Lower++
			}
		}
	}
	sort.Strings(order)
	out := make([]VoterAccuracy, 0, len(order))
	for _, n := range order {
		out = append(out, *acc[n])
	}
	return out
}

// deckSteps is how many cards of the deck lie between lo and hi (0 when they are the same); for
// values not in the deck (the deck changed) it falls back to counting numeric distance as 1.
func deckSteps(d Deck, lo, hi string) int {
	i, j := d.Index(lo), d.Index(hi)
	if i >= 0 && j >= 0 {
		if j < i {
			i, j = j, i
		}
		return j - i
	}
	if lo == hi {
		return 0
	}
	return 1
}

// bucket labels n for a chart whose first bar is from and whose last bar ("3+") gathers the rest.
func bucket(n, from, last int) string {
	if n >= last {
		return strconv.Itoa(last) + "+"
	}
	return strconv.Itoa(max(n, from))
}

func counts(m map[string]int, labels []string) []Count {
	out := make([]Count, len(labels))
	for i, l := range labels {
		out[i] = Count{Label: l, Count: m[l]}
	}
	return out
}

// tshirt orders the T-shirt deck's cards, which are not numbers.
var tshirt = map[string]int{"XXS": 1, "XS": 2, "S": 3, "M": 4, "L": 5, "XL": 6, "XXL": 7}

// lessCard orders estimates: numbers by value, then T-shirt sizes, then the rest by text.
func lessCard(a, b string) bool {
	va, na := CardValue(a)
	vb, nb := CardValue(b)
	switch {
	case na && nb:
		return va < vb
	case na != nb:
		return na
	}
	ta, tb := tshirt[strings.ToUpper(a)], tshirt[strings.ToUpper(b)]
	switch {
	case ta > 0 && tb > 0:
		return ta < tb
	case (ta > 0) != (tb > 0):
		return ta > 0
	}
	return a < b
}

// quantile is the q-quantile of xs by linear interpolation (xs is not changed).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (s[i+1]-s[i])*(pos-float64(i))
}

func ptr[T any](v T) *T { return &v }
