package session_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/pokor/pokor/session"
)

func mustDeck(t *testing.T, kind session.DeckKind, cards ...string) session.Deck {
	t.Helper()
	d, err := session.NewDeck(kind, cards)
	if err != nil {
		t.Fatalf("NewDeck(%q, %q): %v", kind, cards, err)
	}
	return d
}

func votesOf(cards ...string) []session.Vote {
	out := make([]session.Vote, len(cards))
	for i, c := range cards {
		out[i] = session.Vote{StoryID: "st", Round: 1, ParticipantID: string(rune('a' + i)), Card: c}
	}
	return out
}

func ptr(f float64) *float64 { return &f }

func TestComputeStats(t *testing.T) {
	fib := mustDeck(t, session.DeckFibonacci)
	mod := mustDeck(t, session.DeckModifiedFibonacci)
	shirt := mustDeck(t, session.DeckTShirt)
	pow := mustDeck(t, session.DeckPowersOfTwo)
	words := mustDeck(t, session.DeckCustom, "tiny", "small", "big", "huge", "?")

	tests := []struct {
		name  string
		deck  session.Deck
		cards []string
		want  session.Stats
	}{
		{
			name: "no votes", deck: fib,
			want: session.Stats{Mode: []string{}, Distribution: []session.Bucket{}},
		},
		{
			name: "fibonacci with an abstention", deck: fib, cards: []string{"8", "5", "?", "3", "5"},
			want: session.Stats{
				Votes: 5, Estimating: 4, Abstained: 1, Average: ptr(5.25), Median: ptr(5), MedianCard: "5",
				Mode: []string{"5"}, Spread: 5, Min: "3", Max: "8", Suggestion: "5",
				Distribution: []session.Bucket{{"3", 1}, {"5", 2}, {"8", 1}, {"?", 1}},
			},
		},
		{
			name: "fibonacci consensus ignores abstentions", deck: fib, cards: []string{"5", "☕", "5", "?", "5"},
			want: session.Stats{
				Votes: 5, Estimating: 3, Abstained: 2, Average: ptr(5), Median: ptr(5), MedianCard: "5",
				Mode: []string{"5"}, Consensus: true, Spread: 0, Min: "5", Max: "5", Suggestion: "5",
				Distribution: []session.Bucket{{"5", 3}, {"?", 1}, {"☕", 1}},
			},
		},
		{
			name: "fibonacci tie in mode suggests the median card", deck: fib, cards: []string{"13", "3", "8", "3", "8"},
			want: session.Stats{
				Votes: 5, Estimating: 5, Average: ptr(7), Median: ptr(8), MedianCard: "8",
				Mode: []string{"3", "8"}, Spread: 10, Min: "3", Max: "13", Suggestion: "8",
				Distribution: []session.Bucket{{"3", 2}, {"8", 2}, {"13", 1}},
			},
		},
		{
			name: "fibonacci median halfway between two cards rounds up", deck: fib, cards: []string{"2", "3"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(2.5), Median: ptr(2.5), MedianCard: "3",
				Mode: []string{"2", "3"}, Spread: 1, Min: "2", Max: "3", Suggestion: "3",
				Distribution: []session.Bucket{{"2", 1}, {"3", 1}},
			},
		},
		{
			name: "fibonacci median that is not a card", deck: fib, cards: []string{"1", "5"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(3), Median: ptr(3), MedianCard: "3",
				Mode: []string{"1", "5"}, Spread: 4, Min: "1", Max: "5", Suggestion: "3",
				Distribution: []session.Bucket{{"1", 1}, {"5", 1}},
			},
		},
		{
			name: "modified fibonacci with halves", deck: mod, cards: []string{"1", "½", "½"},
			want: session.Stats{
				Votes: 3, Estimating: 3, Average: ptr(0.67), Median: ptr(0.5), MedianCard: "½",
				Mode: []string{"½"}, Spread: 0.5, Min: "½", Max: "1", Suggestion: "½",
				Distribution: []session.Bucket{{"½", 2}, {"1", 1}},
			},
		},
		{
			name: "modified fibonacci half and one", deck: mod, cards: []string{"½", "1"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(0.75), Median: ptr(0.75), MedianCard: "1",
				Mode: []string{"½", "1"}, Spread: 0.5, Min: "½", Max: "1", Suggestion: "1",
				Distribution: []session.Bucket{{"½", 1}, {"1", 1}},
			},
		},
		{
			name: "modified fibonacci nearest card", deck: mod, cards: []string{"40", "13"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(26.5), Median: ptr(26.5), MedianCard: "20",
				Mode: []string{"13", "40"}, Spread: 27, Min: "13", Max: "40", Suggestion: "20",
				Distribution: []session.Bucket{{"13", 1}, {"40", 1}},
			},
		},
		{
			name: "powers of two", deck: pow, cards: []string{"16", "4"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(10), Median: ptr(10), MedianCard: "8",
				Mode: []string{"4", "16"}, Spread: 12, Min: "4", Max: "16", Suggestion: "8",
				Distribution: []session.Bucket{{"4", 1}, {"16", 1}},
			},
		},
		{
			name: "t-shirt ordinal median, spread in steps and mode", deck: shirt, cards: []string{"XL", "M", "S", "M", "?"},
			want: session.Stats{
				Votes: 5, Estimating: 4, Abstained: 1, MedianCard: "M",
				Mode: []string{"M"}, Spread: 3, Min: "S", Max: "XL", Suggestion: "M",
				Distribution: []session.Bucket{{"S", 1}, {"M", 2}, {"XL", 1}, {"?", 1}},
			},
		},
		{
			name: "t-shirt tie in mode suggests the middle size", deck: shirt, cards: []string{"L", "S"},
			want: session.Stats{
				Votes: 2, Estimating: 2, MedianCard: "M",
				Mode: []string{"S", "L"}, Spread: 2, Min: "S", Max: "L", Suggestion: "M",
				Distribution: []session.Bucket{{"S", 1}, {"L", 1}},
			},
		},
		{
			name: "t-shirt halfway rounds up to the larger size", deck: shirt, cards: []string{"S", "M"},
			want: session.Stats{
				Votes: 2, Estimating: 2, MedianCard: "M",
				Mode: []string{"S", "M"}, Spread: 1, Min: "S", Max: "M", Suggestion: "M",
				Distribution: []session.Bucket{{"S", 1}, {"M", 1}},
			},
		},
		{
			name: "t-shirt consensus", deck: shirt, cards: []string{"XXL", "XXL"},
			want: session.Stats{
				Votes: 2, Estimating: 2, MedianCard: "XXL",
				Mode: []string{"XXL"}, Consensus: true, Spread: 0, Min: "XXL", Max: "XXL", Suggestion: "XXL",
				Distribution: []session.Bucket{{"XXL", 2}},
			},
		},
		{
			name: "only abstentions", deck: shirt, cards: []string{"?", "☕", "?"},
			want: session.Stats{
				Votes: 3, Estimating: 0, Abstained: 3, Mode: []string{},
				Distribution: []session.Bucket{{"?", 2}, {"☕", 1}},
			},
		},
		{
			// The case: one estimate beside a "?" and a coffee is not a consensus.
			name: "one estimate and two abstentions is no consensus", deck: fib, cards: []string{"3", "?", "☕"},
			want: session.Stats{
				Votes: 3, Estimating: 1, Abstained: 2, Average: ptr(3), Median: ptr(3), MedianCard: "3",
				Mode: []string{"3"}, Spread: 0, Min: "3", Max: "3", Suggestion: "3",
				Distribution: []session.Bucket{{"3", 1}, {"?", 1}, {"☕", 1}},
			},
		},
		{
			name: "a single vote is no consensus", deck: shirt, cards: []string{"M"},
			want: session.Stats{
				Votes: 1, Estimating: 1, MedianCard: "M",
				Mode: []string{"M"}, Min: "M", Max: "M", Suggestion: "M",
				Distribution: []session.Bucket{{"M", 1}},
			},
		},
		{
			name: "two equal estimates and an abstention are a consensus", deck: fib, cards: []string{"8", "?", "8"},
			want: session.Stats{
				Votes: 3, Estimating: 2, Abstained: 1, Average: ptr(8), Median: ptr(8), MedianCard: "8",
				Mode: []string{"8"}, Consensus: true, Min: "8", Max: "8", Suggestion: "8",
				Distribution: []session.Bucket{{"8", 2}, {"?", 1}},
			},
		},
		{
			name: "custom words are ordinal", deck: words, cards: []string{"huge", "tiny", "small"},
			want: session.Stats{
				Votes: 3, Estimating: 3, MedianCard: "small",
				Mode: []string{"tiny", "small", "huge"}, Spread: 3, Min: "tiny", Max: "huge", Suggestion: "small",
				Distribution: []session.Bucket{{"tiny", 1}, {"small", 1}, {"huge", 1}},
			},
		},
		{
			name: "a card no longer in the deck goes last", deck: fib, cards: []string{"5", "4"},
			want: session.Stats{
				Votes: 2, Estimating: 2, Average: ptr(4.5), Median: ptr(4.5), MedianCard: "5",
				Mode: []string{"5", "4"}, Spread: 1, Min: "4", Max: "5", Suggestion: "5",
				Distribution: []session.Bucket{{"5", 1}, {"4", 1}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := session.ComputeStats(tt.deck, votesOf(tt.cards...))
			want, _ := json.Marshal(tt.want)
			gotJSON, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("stats do not encode: %v", err)
			}
			if string(gotJSON) != string(want) {
				t.Errorf("ComputeStats(%s, %q)\n got %s\nwant %s", tt.deck.Kind, tt.cards, gotJSON, want)
			}
			if got.Mode == nil || got.Distribution == nil {
				t.Error("Mode and Distribution must be empty lists, not null, for the browser")
			}
		})
	}
}

// A custom deck may hold cards that Go could parse as special floats; the statistics of any
// deck must still encode as JSON, or the revealed event and the API answer would fail.
func TestComputeStatsEncodesForAnyCustomDeck(t *testing.T) {
	decks := [][]string{
		{"1", "2", "inf"},
		{"1", "NaN", "3"},
		{"-Inf", "0", "+Inf"},
	}
	for _, cards := range decks {
		d := mustDeck(t, session.DeckCustom, cards...)
		st := session.ComputeStats(d, votesOf(cards...))
		if _, err := json.Marshal(st); err != nil {
			t.Errorf("stats of deck %q votes %q do not encode: %v", cards, cards, err)
		}
		if !slices.Contains(cards, st.Suggestion) {
			t.Errorf("deck %q: suggestion %q is not a card", cards, st.Suggestion)
		}
	}
}
