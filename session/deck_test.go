package session_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// wantError checks that err is a *session.Error with code and a message containing each of parts.
func wantError(t *testing.T, err error, code session.Code, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s error mentioning %q", code, parts)
	}
	var e *session.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *session.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%q), want %s", e.Code, e.Message, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not mention %q", e.Message, p)
		}
	}
}

func numberedCards(n int) []string {
	cards := make([]string, n)
	for i := range cards {
		cards[i] = strconv.Itoa(i + 1)
	}
	return cards
}

func TestPresetDecks(t *testing.T) {
	tests := []struct {
		kind    session.DeckKind
		want    []string
		numeric bool
	}{
		{"", []string{"0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89", "?", "☕"}, true},
		{session.DeckFibonacci, []string{"0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89", "?", "☕"}, true},
		{session.DeckModifiedFibonacci, []string{"0", "½", "1", "2", "3", "5", "8", "13", "20", "40", "100", "?", "☕"}, true},
		{session.DeckTShirt, []string{"XS", "S", "M", "L", "XL", "XXL", "?", "☕"}, false},
		{session.DeckPowersOfTwo, []string{"0", "1", "2", "4", "8", "16", "32", "64", "?", "☕"}, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			d, err := session.NewDeck(tt.kind, []string{"ignored"})
			if err != nil {
				t.Fatal(err)
			}
			wantKind := tt.kind
			if wantKind == "" {
				wantKind = session.DeckFibonacci
			}
			if d.Kind != wantKind {
				t.Errorf("kind = %q, want %q", d.Kind, wantKind)
			}
			if !slices.Equal(d.Cards, tt.want) {
				t.Errorf("cards = %q, want %q", d.Cards, tt.want)
			}
			if d.Numeric() != tt.numeric {
				t.Errorf("Numeric() = %v, want %v", d.Numeric(), tt.numeric)
			}
			// A deck is a copy: changing it must not change the preset.
			d.Cards[0] = "changed"
			again, _ := session.NewDeck(tt.kind, nil)
			if again.Cards[0] != tt.want[0] {
				t.Errorf("changing a deck changed the preset: first card is now %q", again.Cards[0])
			}
		})
	}
	for _, k := range session.DeckKinds {
		if k == session.DeckCustom {
			continue
		}
		if _, err := session.NewDeck(k, nil); err != nil {
			t.Errorf("DeckKinds lists %q but NewDeck refuses it: %v", k, err)
		}
	}
}

func TestUnknownDeck(t *testing.T) {
	_, err := session.NewDeck("tarot", nil)
	wantError(t, err, session.CodeInvalid, `"tarot"`, "fibonacci", "custom")
}

func TestCustomDeck(t *testing.T) {
	tests := []struct {
		name  string
		cards []string
		want  []string // nil: an error is expected
		msg   []string
	}{
		{name: "nil", cards: nil, msg: []string{"at least one card"}},
		{name: "empty", cards: []string{}, msg: []string{"at least one card"}},
		{name: "one card", cards: []string{"yes"}, want: []string{"yes"}},
		{name: "30 cards", cards: numberedCards(30), want: numberedCards(30)},
		{name: "31 cards", cards: numberedCards(31), msg: []string{"at most 30 cards", "31"}},
		{name: "100 cards", cards: numberedCards(100), msg: []string{"at most 30 cards", "100"}},
		{name: "8 characters", cards: []string{"12345678"}, want: []string{"12345678"}},
		{name: "8 runes", cards: []string{"☕☕☕☕☕☕☕☕"}, want: []string{"☕☕☕☕☕☕☕☕"}},
		{name: "9 characters", cards: []string{"1", "123456789"}, msg: []string{`"123456789"`, "longer than 8"}},
		{name: "empty card", cards: []string{"1", " "}, msg: []string{"card 2 is empty"}},
		{name: "duplicate", cards: []string{"1", "2", "1"}, msg: []string{`"1" appears twice`}},
		{name: "duplicate after trimming", cards: []string{"1", " 1 "}, msg: []string{`"1" appears twice`}},
		{name: "control character", cards: []string{"a\x00b"}, msg: []string{"card 1", "cannot be shown"}},
		{name: "invalid UTF-8", cards: []string{"a\xffb"}, msg: []string{"card 1", "cannot be shown"}},
		{name: "question mark and coffee", cards: []string{"1", "2", "?", "☕"}, want: []string{"1", "2", "?", "☕"}},
		{name: "trimmed", cards: []string{" S ", "M\t"}, want: []string{"S", "M"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := session.NewDeck(session.DeckCustom, tt.cards)
			if tt.want == nil {
				wantError(t, err, session.CodeInvalid, tt.msg...)
				return
			}
			if err != nil {
				t.Fatalf("NewDeck: %v", err)
			}
			if d.Kind != session.DeckCustom || !slices.Equal(d.Cards, tt.want) {
				t.Errorf("got %q %q, want custom %q", d.Kind, d.Cards, tt.want)
			}
		})
	}
}

func TestDeckLookups(t *testing.T) {
	d, err := session.NewDeck(session.DeckTShirt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Has("XL") || d.Has("xl") || d.Has("") {
		t.Error("Has must match cards exactly")
	}
	if d.Index("XS") != 0 || d.Index("XXL") != 5 || d.Index("XXXL") != -1 {
		t.Errorf("Index: XS=%d XXL=%d XXXL=%d", d.Index("XS"), d.Index("XXL"), d.Index("XXXL"))
	}
	for _, c := range []string{"?", "☕"} {
		if !session.IsAbstention(c) {
			t.Errorf("%q is an abstention", c)
		}
	}
	if session.IsAbstention("0") {
		t.Error(`"0" is an estimate, not an abstention`)
	}
}

func TestCardValue(t *testing.T) {
	tests := []struct {
		card string
		want float64
		ok   bool
	}{
		{"0", 0, true},
		{"5", 5, true},
		{"100", 100, true},
		{"½", 0.5, true},
		{"0.5", 0.5, true},
		{"?", 0, false},
		{"☕", 0, false},
		{"XL", 0, false},
		{"", 0, false},
		// Go parses these as floats, but they are words on a card, not estimates: an infinite or
		// NaN value would also make the statistics impossible to encode as JSON.
		{"inf", 0, false},
		{"Infinity", 0, false},
		{"NaN", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			got, ok := session.CardValue(tt.card)
			if ok != tt.ok || got != tt.want {
				t.Errorf("CardValue(%q) = %v, %v; want %v, %v", tt.card, got, ok, tt.want, tt.ok)
			}
		})
	}
}
