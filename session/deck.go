package session

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DeckKind names a preset deck, or "custom".
type DeckKind string

// The decks Pokor knows.
const (
	DeckFibonacci         DeckKind = "fibonacci"
	DeckModifiedFibonacci DeckKind = "modified_fibonacci"
	DeckTShirt            DeckKind = "tshirt"
	DeckPowersOfTwo       DeckKind = "powers_of_two"
	DeckCustom            DeckKind = "custom"
)

// Limits of a custom deck.
const (
	MaxCards   = 30
	MaxCardLen = 8
)

var presetDecks = map[DeckKind][]string{
	DeckFibonacci:         {"0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89", "?", "☕"},
	DeckModifiedFibonacci: {"0", "½", "1", "2", "3", "5", "8", "13", "20", "40", "100", "?", "☕"},
	DeckTShirt:            {"XS", "S", "M", "L", "XL", "XXL", "?", "☕"},
	DeckPowersOfTwo:       {"0", "1", "2", "4", "8", "16", "32", "64", "?", "☕"},
}

// DeckKinds lists the presets in the order the landing page offers them.
var DeckKinds = []DeckKind{DeckFibonacci, DeckModifiedFibonacci, DeckTShirt, DeckPowersOfTwo, DeckCustom}

// Deck is the set of cards a session votes with.
type Deck struct {
	Kind  DeckKind `json:"kind"`
	Cards []string `json:"cards"`
}

// NewDeck returns the preset deck of kind, or a custom deck of cards after validating them.
func NewDeck(kind DeckKind, cards []string) (Deck, error) {
	if kind == "" {
		kind = DeckFibonacci
	}
	if preset, ok := presetDecks[kind]; ok {
		return Deck{Kind: kind, Cards: append([]string(nil), preset...)}, nil
	}
	if kind != DeckCustom {
		return Deck{}, invalid("deck", "unknown deck %q: choose fibonacci, modified_fibonacci, tshirt, powers_of_two or custom", kind)
	}
	if len(cards) == 0 {
		return Deck{}, invalid("cards", "a custom deck needs at least one card")
	}
	if len(cards) > MaxCards {
		return Deck{}, invalid("cards", "a custom deck has at most %d cards; this one has %d", MaxCards, len(cards))
	}
	seen := make(map[string]bool, len(cards))
	out := make([]string, 0, len(cards))
	for i, c := range cards {
		c = strings.TrimSpace(c)
		switch {
		case c == "":
			return Deck{}, invalid("cards", "card %d is empty", i+1)
		case utf8.RuneCountInString(c) > MaxCardLen:
			return Deck{}, invalid("cards", "card %q is longer than %d characters", c, MaxCardLen)
		case !utf8.ValidString(c) || strings.ContainsAny(c, "\x00\n\r\t"):
			return Deck{}, invalid("cards", "card %d contains characters that cannot be shown", i+1)
		case seen[c]:
			return Deck{}, invalid("cards", "card %q appears twice", c)
		}
		seen[c] = true
		out = append(out, c)
	}
	return Deck{Kind: DeckCustom, Cards: out}, nil
}

// Has reports whether card is in the deck.
func (d Deck) Has(card string) bool {
	for _, c := range d.Cards {
		if c == card {
			return true
		}
	}
	return false
}

// Index returns the position of card in the deck, or -1.
func (d Deck) Index(card string) int {
	for i, c := range d.Cards {
		if c == card {
			return i
		}
	}
	return -1
}

// CardValue returns the numeric value of a card ("5" → 5, "½" → 0.5) and whether it has one.
// "?" and "☕" have none: they are abstentions, not estimates.
func CardValue(card string) (float64, bool) {
	if card == "½" {
		return 0.5, true
	}
	f, err := strconv.ParseFloat(card, 64)
	// ParseFloat also reads "inf" and "NaN": on a card those are words, and their values would
	// make the statistics impossible to encode as JSON.
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// IsAbstention reports whether a card says "no estimate" ("?" or a coffee break).
func IsAbstention(card string) bool { return card == "?" || card == "☕" }

// Numeric reports whether every estimating card of the deck has a numeric value.
func (d Deck) Numeric() bool {
	for _, c := range d.Cards {
		if IsAbstention(c) {
			continue
		}
		if _, ok := CardValue(c); !ok {
			return false
		}
	}
	return true
}
