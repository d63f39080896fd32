package session

import (
	"math"
	"sort"
)

// Bucket is one bar of the distribution chart: a card and how many voted it.
type Bucket struct {
	Card  string `json:"card"`
	Count int    `json:"count"`
}

// Stats summarises a revealed round.
type Stats struct {
	// Votes counts every vote; Estimating those that estimate and Abstained the abstentions
	// ("?", "☕"), so that Votes = Estimating + Abstained.
	Votes      int `json:"votes"`
	Estimating int `json:"estimating"`
	Abstained  int `json:"abstained"`
	// Average and Median are set for numeric decks (Median may fall between two cards).
	Average *float64 `json:"average,omitempty"`
	Median  *float64 `json:"median,omitempty"`
	// MedianCard is the median card for ordinal decks (T-shirt sizes), and the card nearest the
	// median for numeric ones.
	MedianCard string `json:"median_card,omitempty"`
	// Mode lists the most common cards (several on a tie).
	Mode []string `json:"mode"`
	// Consensus is true when at least MinConsensus votes estimate and all of them are the same
	// card: one estimate beside abstentions is not an agreement.
	Consensus bool `json:"consensus"`
	// Spread is the distance between the lowest and highest estimate: a number for numeric decks,
	// a count of deck steps for ordinal ones.
	Spread float64 `json:"spread"`
	// Min and Max are the lowest and highest estimating cards in deck order.
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
	// Suggestion is the value pre-filled in the accept box: the nearest deck card to the median
	// when there is no single mode, else the mode.
	Suggestion string `json:"suggestion,omitempty"`
	// Distribution has one bucket per card that was voted, in deck order.
	Distribution []Bucket `json:"distribution"`
}

// MinConsensus is the number of estimating votes a consensus needs.
const MinConsensus = 2

// ComputeStats summarises votes cast with deck.
func ComputeStats(deck Deck, votes []Vote) Stats {
	st := Stats{Votes: len(votes), Mode: []string{}, Distribution: []Bucket{}}
	counts := map[string]int{}
	var est []string
	for _, v := range votes {
		counts[v.Card]++
		if !IsAbstention(v.Card) {
			est = append(est, v.Card)
		}
	}
	// Distribution in deck order; cards no longer in the deck (deck changed) go last.
	order := append([]string(nil), deck.Cards...)
	for c := range counts {
		if !deck.Has(c) {
			order = append(order, c)
		}
	}
	for _, c := range order {
		if n := counts[c]; n > 0 {
			st.Distribution = append(st.Distribution, Bucket{Card: c, Count: n})
		}
	}
	st.Estimating = len(est)
	st.Abstained = st.Votes - st.Estimating
	if len(est) == 0 {
		return st
	}
	best := 0
	for _, b := range st.Distribution {
		if IsAbstention(b.Card) {
			continue
		}
		switch {
		case b.Count > best:
			best, st.Mode = b.Count, []string{b.Card}
		case b.Count == best:
			st.Mode = append(st.Mode, b.Card)
		}
	}
	st.Consensus = len(est) >= MinConsensus && len(st.Mode) == 1 && best == len(est)

	rank := func(c string) float64 { return float64(deck.Index(c)) }
	numeric := deck.Numeric()
	if numeric {
		rank = func(c string) float64 { v, _ := CardValue(c); return v }
	}
	sort.SliceStable(est, func(i, j int) bool { return rank(est[i]) < rank(est[j]) })
	st.Min, st.Max = est[0], est[len(est)-1]
	st.Spread = rank(st.Max) - rank(st.Min)
	mid := len(est) / 2
	median := rank(est[mid])
	if len(est)%2 == 0 {
		median = (rank(est[mid-1]) + rank(est[mid])) / 2
	}
	if numeric {
		sum := 0.0
		for _, c := range est {
			sum += rank(c)
		}
		avg := math.Round(sum/float64(len(est))*100) / 100
		st.Average = &avg
		st.Median = &median
		st.MedianCard = nearestCard(deck, median, rank)
	} else {
		st.MedianCard = nearestCard(deck, median, rank)
	}
	if len(st.Mode) == 1 {
		st.Suggestion = st.Mode[0]
	} else {
		st.Suggestion = st.MedianCard
	}
	return st
}

// nearestCard returns the estimating deck card whose rank is closest to x, rounding up on a tie
// (teams prefer the safer, larger estimate).
func nearestCard(deck Deck, x float64, rank func(string) float64) string {
	best, bestD := "", math.Inf(1)
	for _, c := range deck.Cards {
		if IsAbstention(c) {
			continue
		}
		if _, ok := CardValue(c); !ok && deck.Numeric() {
			continue
		}
		d := math.Abs(rank(c) - x)
		if d < bestD || d == bestD && rank(c) > rank(best) {
			best, bestD = c, d
		}
	}
	return best
}
