package jira

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// The per-session write-back options Jira reads from Estimate.Options.
const (
	// OptionField is the id of the field an organizer picked ("customfield_10026"); it wins
	// over discovery and is remembered for the project and issue type.
	OptionField = "field"
	// OptionCommentFallback set to "true" adds a comment with the estimate when no field can be
	// written, instead of failing.
	OptionCommentFallback = "comment_fallback"
	// OptionValues maps word cards to numbers, e.g. "XS=1,S=2,M=3,L=5,XL=8".
	OptionValues = "values"
	// OptionBoard is the id of the board the story was imported from, when the client that
	// writes is not the one that listed it; the board's estimation field then wins.
	OptionBoard = "board"
)

// WriteEstimate sets the story-points field Discover chooses (or est.Options["field"]) on the
// issue with PUT /rest/api/2/issue/{key}. Writing the same value again leaves the issue as it
// was. Cards are mapped to numbers as estimatePoints documents; "?" and "☕" are refused.
//
// When no field can be written it returns KindInvalid (or KindPermission) with what an admin
// must do, unless est.Options["comment_fallback"] is "true": then it adds a comment holding
// the estimate, once. A tie between fields returns KindChoice with Choices; pass the pick as
// est.Options["field"].
func (c *Client) WriteEstimate(ctx context.Context, key string, est session.WriteBack) (session.WriteResult, error) {
	k, err := normalizeIssueKey(key)
	if err != nil {
		return session.WriteResult{}, err
	}
	points, shown, err := estimatePoints(est)
	if err != nil {
		return session.WriteResult{}, err
	}
	scope, err := c.scope(ctx, k)
	if err != nil {
		return session.WriteResult{}, err
	}
	board := scope.Board
	if b := strings.TrimSpace(est.Options[OptionBoard]); b != "" {
		if board, err = strconv.Atoi(b); err != nil || board < 0 {
			return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid, "board option %q is not a board id", b)
		}
	}
	if f := strings.TrimSpace(est.Options[OptionField]); f != "" {
		if err := c.rememberChoice(ctx, scope, f); err != nil {
			return session.WriteResult{}, err
		}
	}
	fallback := strings.EqualFold(strings.TrimSpace(est.Options[OptionCommentFallback]), "true")

	d, err := c.discover(ctx, k, scope, board)
	if err != nil {
		var e *session.Error
		if fallback && errors.As(err, &e) && (e.Code == session.CodeInvalid || e.Code == session.CodeForbidden) {
			return c.commentEstimate(ctx, k, est, shown, e.Message)
		}
		return session.WriteResult{}, err
	}

	body := map[string]any{"fields": map[string]any{d.Field.ID: points}}
	err = c.call(ctx, "PUT", "rest/api/2/issue/"+k, nil, body, nil, "set "+d.Field.Label()+" on "+k)
	if err == nil {
		return session.WriteResult{Detail: fmt.Sprintf("%s set to %s on %s", d.Field.Label(), shown, k)}, nil
	}
	var he *httpError
	if !errors.As(err, &he) || he.Status != 400 {
		return session.WriteResult{}, err
	}
	msg, about := he.Body.Errors[d.Field.ID]
	if !about {
		return session.WriteResult{}, err
	}
	// The screen changed since the decision was taken: forget it, so the next attempt looks
	// again instead of repeating the failure.
	c.decisions.forget(newScopeKey(c.site, scope.Project, scope.IssueType))
	c.forgetFields()
	var e *session.Error
	if notOnScreen(msg) {
		target := d.Field
		e = httpx.Errorf(provider, session.CodeInvalid, "field %s is not on the edit screen of %s (Jira says: %s). %s",
			d.Field.ID, k, msg, advice(scope.Project, scope.IssueType, scope.TeamManaged, &target))
	} else {
		e = httpx.Errorf(provider, session.CodeInvalid, "Jira refused %s for %s on %s (Jira says: %s)", shown, d.Field.Label(), k, msg)
	}
	e.Err = err
	if fallback {
		return c.commentEstimate(ctx, k, est, shown, e.Message)
	}
	return session.WriteResult{}, e
}

// notOnScreen recognizes Jira's message for a field missing from the edit screen: "Field
// 'customfield_10016' cannot be set. It is not on the appropriate screen, or unknown."
func notOnScreen(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "appropriate screen") || strings.Contains(m, "cannot be set")
}

// commentEstimate adds a comment holding the estimate, unless the same comment is already
// there, so a redelivered write-back adds nothing.
func (c *Client) commentEstimate(ctx context.Context, key string, est session.WriteBack, shown, why string) (session.WriteResult, error) {
	text := "Pokor estimate: " + shown + " story points"
	if est.SessionTitle != "" {
		text += fmt.Sprintf(", agreed in %q", est.SessionTitle)
	}
	if est.SessionURL != "" {
		text += " (" + est.SessionURL + ")"
	}
	text += "."

	var existing struct {
		Comments []struct {
			Body any `json:"body"`
		} `json:"comments"`
	}
	q := url.Values{"orderBy": {"-created"}, "maxResults": {"100"}}
	if err := c.call(ctx, "GET", "rest/api/2/issue/"+key+"/comment", q, nil, &existing, "read the comments of "+key); err != nil {
		return session.WriteResult{}, err
	}
	for _, cm := range existing.Comments {
		if s, ok := cm.Body.(string); ok && strings.TrimSpace(s) == text {
			return session.WriteResult{Detail: fmt.Sprintf("a comment with the estimate %s was already on %s (no field could be set: %s)", shown, key, why)}, nil
		}
	}
	if err := c.call(ctx, "POST", "rest/api/2/issue/"+key+"/comment", nil, map[string]string{"body": text}, nil, "comment on "+key); err != nil {
		return session.WriteResult{}, err
	}
	return session.WriteResult{Detail: fmt.Sprintf("comment with the estimate %s added to %s, because no field could be set: %s", shown, key, why)}, nil
}

// estimatePoints turns the accepted card into the number written to Jira, and how to show it.
// The rule:
//
//  1. "?" and "☕" are not estimates and are refused with a message.
//  2. A numeric card ("5", "0.5", "½") is written as that number; negative and infinite ones
//     are refused.
//  3. A word card listed in est.Options["values"] ("XS=1,S=2,M=3,L=5,XL=8") gets that number.
//  4. A word card of a deck whose cards, "?" and "☕" aside, are all words gets the number of
//     its position on the scale 1, 2, 3, 5, 8, 13, 21, ... (each the sum of the two before),
//     so T-shirt XS, S, M, L, XL become 1, 2, 3, 5, 8 and relative sizes survive.
//  5. Anything else (a word in a deck that mixes numbers and words, a card not in the deck, an
//     unknown deck) is refused: Pokor never writes a guess.
func estimatePoints(est session.WriteBack) (float64, string, error) {
	v := strings.TrimSpace(est.Value)
	switch v {
	case "":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid, "there is no accepted estimate to write")
	case "?":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid,
			`"?" means the team is unsure, which is not an estimate: re-vote or accept a number before writing to Jira`)
	case "☕":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid,
			`"☕" asks for a break, which is not an estimate: re-vote or accept a number before writing to Jira`)
	}
	if n, ok := est.Numeric(); ok {
		if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
			return 0, "", httpx.Errorf(provider, session.CodeInvalid, "%q cannot be written as story points: Jira needs a finite number of zero or more", v)
		}
		return n, strconv.FormatFloat(n, 'f', -1, 64), nil
	}
	if raw := est.Options[OptionValues]; strings.TrimSpace(raw) != "" {
		values, err := parseValues(raw)
		if err != nil {
			return 0, "", err
		}
		if n, ok := lookupCard(values, v); ok {
			return n, fmt.Sprintf("%s (card %s)", strconv.FormatFloat(n, 'f', -1, 64), v), nil
		}
	}
	var words []string
	for _, card := range est.Deck {
		card = strings.TrimSpace(card)
		if card == "?" || card == "☕" || card == "" {
			continue
		}
		if _, ok := (session.WriteBack{Value: card}).Numeric(); ok {
			return 0, "", httpx.Errorf(provider, session.CodeInvalid,
				"card %q has no number: the deck mixes numbers and words, so Pokor will not guess. Accept a number, or map the words in the session's Jira settings (values such as XS=1,S=2,M=3)", v)
		}
		words = append(words, card)
	}
	if len(words) == 0 {
		return 0, "", httpx.Errorf(provider, session.CodeInvalid,
			"card %q is not a number and the session's deck is unknown, so Pokor will not guess its story points", v)
	}
	a, b := 1.0, 2.0
	for _, w := range words {
		if w == v || strings.EqualFold(w, v) {
			return a, fmt.Sprintf("%s (card %s)", strconv.FormatFloat(a, 'f', -1, 64), v), nil
		}
		a, b = b, a+b
	}
	return 0, "", httpx.Errorf(provider, session.CodeInvalid, "card %q is not in the session's deck (%s)", v, strings.Join(est.Deck, ", "))
}

// parseValues reads "XS=1, S=2, M=3" into card → number.
func parseValues(raw string) (map[string]float64, error) {
	values := map[string]float64{}
	for _, pair := range strings.Split(raw, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		card, num, ok := strings.Cut(pair, "=")
		n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || err != nil || strings.TrimSpace(card) == "" || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"the Jira values %q are not a list such as XS=1,S=2,M=3: %q does not read as card=number", raw, strings.TrimSpace(pair))
		}
		values[strings.TrimSpace(card)] = n
	}
	return values, nil
}

func lookupCard(values map[string]float64, card string) (float64, bool) {
	if n, ok := values[card]; ok {
		return n, true
	}
	for k, n := range values {
		if strings.EqualFold(k, card) {
			return n, true
		}
	}
	return 0, false
}
