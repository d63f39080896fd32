package jira

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// The per-session write-back options Jira reads from WriteBack.Options.
const (
	// OptionField is the id of the field an organizer picked ("customfield_10026"); it wins
	// over discovery and over the field stored with a story, and is remembered for the project
	// and issue type.
	OptionField = "field"
	// OptionCommentFallback set to "true" adds a comment with the estimate when no field can be
	// written, instead of failing.
	OptionCommentFallback = "comment_fallback"
	// OptionValues maps word cards to what is written: numbers for a number field
	// ("XS=1,S=2,M=3"), option names for a select field ("M=Medium").
	OptionValues = "values"
)

// The keys of the write target Jira keeps with each story (session.WriteTarget).
const (
	// TargetBoard is the board the story was imported from (board:42): its estimation field
	// wins, and a board that estimates by time refuses story points.
	TargetBoard = "board"
	// TargetField is the field the estimate was last written to; later writes go there too.
	TargetField = "field"
	// TargetProject and TargetIssueType record where the issue lived when the field was chosen.
	TargetProject   = "project"
	TargetIssueType = "issue_type"
)

// writePlan is how an estimate reaches an issue: the field, the value in the field's type, and
// the words for the room. chooseWrite makes it; WriteEstimate carries it out.
type writePlan struct {
	Board int
	Field Candidate
	// Value is what the field is set to: a number for a number field, {"value": option} for a
	// select field.
	Value any
	// Shown is the value as the room says it: "3 (card M)", "Medium (card M)".
	Shown string
	// Write, when set, writes the estimate another way than setting Field on the issue's edit
	// screen (a board's own estimation endpoint); nil uses PUT /rest/api/2/issue/{key}.
	Write func(ctx context.Context) error
}

// target is what to keep with the story after the plan was carried out.
func (p writePlan) target(scope issueScope) session.WriteTarget {
	t := session.WriteTarget{TargetField: p.Field.ID, TargetProject: scope.Project, TargetIssueType: scope.IssueType}
	if p.Board > 0 {
		t[TargetBoard] = strconv.Itoa(p.Board)
	}
	return t
}

// WriteEstimate writes the accepted card to the issue key, where chooseWrite decides: the
// organizer's field, else the field written before for this story, else the board's estimation
// field (for a story imported from a board), else the story-points field Discover finds.
// Writing the same value again leaves the issue as it was. "?" and "☕" are refused before any
// request.
//
// When no field can be written it returns CodeInvalid (or CodeForbidden) with what an admin
// must do, unless wb.Options["comment_fallback"] is "true": then it adds a comment holding the
// estimate, once. A tie between fields returns CodeConflict with Choices; pass the pick as
// wb.Options["field"]. The result's Target records board, field, project and issue type, for
// the next write of the same story.
func (c *Client) WriteEstimate(ctx context.Context, key string, wb session.WriteBack) (session.WriteResult, error) {
	k, err := normalizeIssueKey(key)
	if err != nil {
		return session.WriteResult{}, err
	}
	if err := notAnEstimate(wb.Value); err != nil {
		return session.WriteResult{}, err
	}
	scope, err := c.scope(ctx, k)
	if err != nil {
		return session.WriteResult{}, err
	}
	fallback := strings.EqualFold(strings.TrimSpace(wb.Options[OptionCommentFallback]), "true")
	// A comment instead of a field decides nothing: the story keeps the target it had.
	keep := maps.Clone(wb.Target)

	plan, err := c.chooseWrite(ctx, k, scope, wb)
	if err != nil {
		var e *session.Error
		if fallback && errors.As(err, &e) && (e.Code == session.CodeInvalid || e.Code == session.CodeForbidden) {
			res, cerr := c.commentEstimate(ctx, k, wb, shownValue(wb), strings.TrimPrefix(e.Message, provider+": "))
			res.Target = keep
			return res, cerr
		}
		return session.WriteResult{}, err
	}
	write := plan.Write
	if write == nil {
		write = func(ctx context.Context) error {
			body := map[string]any{"fields": map[string]any{plan.Field.ID: plan.Value}}
			return c.call(ctx, "PUT", "rest/api/2/issue/"+k, nil, body, nil, "set "+plan.Field.Label()+" on "+k)
		}
	}
	err = write(ctx)
	if err == nil {
		return session.WriteResult{Detail: fmt.Sprintf("%s set to %s on %s", plan.Field.Label(), plan.Shown, k),
			Target: plan.target(scope)}, nil
	}
	var he *httpError
	if !errors.As(err, &he) || he.Status != 400 {
		return session.WriteResult{}, err
	}
	msg, about := he.Body.Errors[plan.Field.ID]
	if !about {
		return session.WriteResult{}, err
	}
	// The screen changed since the decision was taken: forget it, so the next attempt looks
	// again instead of repeating the failure.
	c.decisions.forget(newScopeKey(c.site, scope.Project, scope.IssueType))
	c.forgetFields()
	var e *session.Error
	if notOnScreen(msg) {
		target := plan.Field
		e = httpx.Errorf(provider, session.CodeInvalid, "field %s is not on the edit screen of %s (Jira says: %s). %s",
			plan.Field.ID, k, msg, advice(scope.Project, scope.IssueType, scope.TeamManaged, &target))
	} else {
		e = httpx.Errorf(provider, session.CodeInvalid, "Jira refused %s for %s on %s (Jira says: %s)", plan.Shown, plan.Field.Label(), k, msg)
	}
	e.Err = err
	if fallback {
		res, cerr := c.commentEstimate(ctx, k, wb, plan.Shown, strings.TrimPrefix(e.Message, provider+": "))
		res.Target = keep
		return res, cerr
	}
	return session.WriteResult{}, e
}

// chooseWrite decides how wb reaches issue key: which field, and the value in that field's
// type. It is the one place that decides; a new way of writing (a board's estimation endpoint)
// hooks in here by returning a plan with Write set.
//
// The field is the organizer's pick (the field option), else the one stored with the story
// (wb.Target's field), else the estimation field of the board the story came from (wb.Target's
// board), else the best story-points field (Discover). A board that estimates by time fails
// with the board setting to change. The card becomes a number for a number field
// (estimatePoints) or an option for a select field (selectOption); a card the field cannot take
// fails with the field and the values option named.
func (c *Client) chooseWrite(ctx context.Context, key string, scope issueScope, wb session.WriteBack) (writePlan, error) {
	board := 0
	if b := strings.TrimSpace(wb.Target[TargetBoard]); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil || n < 0 {
			return writePlan{}, httpx.Errorf(provider, session.CodeInvalid, "the story's board %q is not a board id; import it again", b)
		}
		board = n
	}
	if f := strings.TrimSpace(wb.Options[OptionField]); f != "" {
		if err := c.rememberChoice(ctx, scope, f); err != nil {
			return writePlan{}, err
		}
	}
	// A board's number field is written through the board's estimation endpoint (estimation.go).
	if plan, ok, err := c.boardPlan(ctx, key, scope, board, wb); err != nil || ok {
		return plan, err
	}
	d, err := c.discover(ctx, key, scope, board, strings.TrimSpace(wb.Target[TargetField]))
	if err != nil {
		return writePlan{}, err
	}
	plan := writePlan{Board: board, Field: d.Field}
	if d.Field.Select {
		option, shown, err := selectOption(wb, d.Field, key)
		if err != nil {
			return writePlan{}, err
		}
		plan.Value, plan.Shown = map[string]string{"value": option}, shown
		return plan, nil
	}
	points, shown, err := estimatePoints(wb)
	if err != nil {
		return writePlan{}, err
	}
	plan.Value, plan.Shown = points, shown
	return plan, nil
}

// notAnEstimate refuses the cards that are not estimates, before any request.
func notAnEstimate(v string) error {
	switch strings.TrimSpace(v) {
	case "":
		return httpx.Errorf(provider, session.CodeInvalid, "there is no accepted estimate to write")
	case "?":
		return httpx.Errorf(provider, session.CodeInvalid,
			`"?" means the team is unsure, which is not an estimate: re-vote or accept a number before writing to Jira`)
	case "☕":
		return httpx.Errorf(provider, session.CodeInvalid,
			`"☕" asks for a break, which is not an estimate: re-vote or accept a number before writing to Jira`)
	}
	return nil
}

// shownValue is the card as a comment shows it: as a number of points when it maps to one.
func shownValue(wb session.WriteBack) string {
	if _, shown, err := estimatePoints(wb); err == nil {
		return shown
	}
	return strings.TrimSpace(wb.Value)
}

// selectOption picks the option of a select field for the card: the values option's mapping
// (M=Medium) first, else the option named like the card, matched without regard to case. A
// card with no option fails with the field, its options and the values option named.
func selectOption(wb session.WriteBack, field Candidate, key string) (option, shown string, err error) {
	card := strings.TrimSpace(wb.Value)
	want := card
	if raw := strings.TrimSpace(wb.Options[OptionValues]); raw != "" {
		if m, ok := lookupWord(raw, card); ok {
			want = m
		}
	}
	for _, o := range field.Options {
		if strings.EqualFold(strings.TrimSpace(o), want) {
			if strings.EqualFold(o, card) {
				return o, o, nil
			}
			return o, fmt.Sprintf("%s (card %s)", o, card), nil
		}
	}
	return "", "", httpx.Errorf(provider, session.CodeInvalid,
		"card %q is not an option of the select field %s on %s (options: %s): map the cards to its options in the Jira connection's "+
			"“Word cards as values” option (values, e.g. %s=%s), or add the option %q to the field in Jira",
		card, field.Label(), key, strings.Join(field.Options, ", "), card, firstOr(field.Options, "Medium"), card)
}

// lookupWord reads "XS=Extra small, M=Medium" and returns the right side for card.
func lookupWord(raw, card string) (string, bool) {
	for _, pair := range strings.Split(raw, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), card) && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
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
//  3. A word card listed in the values option ("XS=1,S=2,M=3,L=5,XL=8") gets that number.
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
