package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Jira Software's board estimation endpoint:
// https://developer.atlassian.com/cloud/jira/software/rest/api-group-issue/#api-rest-agile-1-0-issue-issueidorkey-estimation-put
//
// PUT /rest/agile/1.0/issue/{key}/estimation?boardId=N with {"value": "5"} sets the field the
// board estimates with and answers it, {"fieldId": "customfield_10016", "value": "5.0"}. As
// Atlassian documents, it "changes the estimation field of the issue regardless of appearance
// the field on the screen": a story imported from a board gets its estimate where the board
// reads it even when no admin put that field on the edit screen, which PUT /rest/api/2/issue
// refuses.
//
// A board that estimates by time would take "5" as five minutes, so the endpoint is used only
// for boards that estimate with a number field; discovery refuses the others with the board
// setting to change. Where the endpoint is missing (Jira Data Center without it answers 404) or
// refused (403: no Jira Software licence), and for an issue no longer on the board (404), the
// estimate is written like a story without the endpoint: discovery, then PUT /rest/api/2/issue.

// errNoEstimationEndpoint says the endpoint is not there or not for these credentials.
var errNoEstimationEndpoint = errors.New("jira: the board estimation endpoint is not available")

// estimationAnswer is the endpoint's documented FieldValueBean; the value comes as a string
// ("5.0") or a number.
type estimationAnswer struct {
	FieldID string          `json:"fieldId"`
	Value   json.RawMessage `json:"value"`
}

func (a estimationAnswer) number() (float64, bool) {
	if v := strings.TrimSpace(string(a.Value)); v == "" || v == "null" {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(a.Value, &f); err == nil {
		return f, true
	}
	var s string
	if err := json.Unmarshal(a.Value, &s); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// boardPlan is chooseWrite's plan for a story imported from a board whose estimation field is
// a number field: write through the board's estimation endpoint. ok is false when the story
// has no board, the board estimates otherwise (time, issue count: discovery says what to do),
// or an organizer's pick or the story's stored field names another field: discovery decides
// then.
func (c *Client) boardPlan(ctx context.Context, key string, scope issueScope, board int, wb session.WriteBack) (writePlan, bool, error) {
	if board <= 0 {
		return writePlan{}, false, nil
	}
	b, err := c.board(ctx, board)
	if err != nil {
		// Discovery reads the board too and words the failure.
		return writePlan{}, false, nil
	}
	id := b.estimationField()
	if id == "" || timeFields[id] || !strings.HasPrefix(id, "customfield_") {
		return writePlan{}, false, nil
	}
	pick := strings.TrimSpace(wb.Options[OptionField])
	if pick == "" {
		pick = c.decisions.choice(newScopeKey(c.site, scope.Project, scope.IssueType))
	}
	if stored := strings.TrimSpace(wb.Target[TargetField]); (pick != "" && pick != id) || (pick == "" && stored != "" && stored != id) {
		return writePlan{}, false, nil
	}
	points, shown, err := estimatePoints(wb)
	if err != nil {
		return writePlan{}, false, err
	}
	field := Candidate{ID: id, Name: b.Estimation.Field.DisplayName, Numeric: true}
	if field.Name == "" {
		field.Name = id
	}
	plan := writePlan{Board: board, Field: field, Value: points, Shown: shown}
	plan.Write = func(ctx context.Context) error {
		err := c.putEstimation(ctx, key, board, field, points)
		if !errors.Is(err, errNoEstimationEndpoint) {
			return err
		}
		// No endpoint: the board's field through the edit screen, as discovery allows it.
		d, err := c.discover(ctx, key, scope, board, strings.TrimSpace(wb.Target[TargetField]))
		if err != nil {
			return err
		}
		if d.Field.ID != field.ID || !d.Field.Numeric {
			return httpx.Errorf(provider, session.CodeInvalid,
				"board %d estimates with %s, but that field cannot be set on %s through its edit screen and this Jira has no board estimation endpoint", board, field.Label(), key)
		}
		body := map[string]any{"fields": map[string]any{field.ID: points}}
		return c.call(ctx, "PUT", "rest/api/2/issue/"+key, nil, body, nil, "set "+field.Label()+" on "+key)
	}
	return plan, true, nil
}

// putEstimation sets points through the board's estimation endpoint and checks Jira's answer:
// the field the board is expected to estimate with, holding the value. It returns
// errNoEstimationEndpoint on 404 and 403.
func (c *Client) putEstimation(ctx context.Context, key string, board int, field Candidate, points float64) error {
	value := strconv.FormatFloat(points, 'f', -1, 64)
	var ans estimationAnswer
	err := c.call(ctx, "PUT", "rest/agile/1.0/issue/"+key+"/estimation", url.Values{"boardId": {strconv.Itoa(board)}},
		map[string]string{"value": value}, &ans, fmt.Sprintf("set the estimation of %s on board %d", key, board))
	var he *httpError
	if errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusForbidden) {
		return errNoEstimationEndpoint
	}
	if err != nil {
		return err
	}
	got, ok := ans.number()
	switch {
	case ans.FieldID != "" && ans.FieldID != field.ID:
		// The board's setting changed since it was read: read it again next time.
		c.forgetBoard(board)
		return httpx.Errorf(provider, session.CodeInvalid,
			"Jira wrote the estimate of %s to %s, not to %s, the estimation field board %d had; check Board settings → Estimation, then retry", key, ans.FieldID, field.Label(), board)
	case !ok || got != points:
		shown := strings.Trim(string(ans.Value), `"`)
		if !ok {
			shown = "empty"
		}
		return httpx.Errorf(provider, session.CodeInvalid,
			"Jira accepted the estimate %s for %s on board %d but %s reads %s", value, key, board, field.Label(), shown)
	}
	return nil
}

// forgetBoard drops a board's remembered configuration.
func (c *Client) forgetBoard(id int) {
	c.mu.Lock()
	delete(c.boards, id)
	c.mu.Unlock()
}

// checkBoardEstimation tells `pokor check jira board:N` how the board's stories are written:
// it asks the endpoint for the estimation of one of the board's issues (GET, documented beside
// the PUT). When the endpoint answers with the board's field, that is what Pokor writes, whatever
// the edit screen, and done is true; otherwise the check goes on with field discovery.
func (c *Client) checkBoardEstimation(ctx context.Context, ch *session.CheckReport, key string, board int) (done bool) {
	b, err := c.board(ctx, board)
	id := b.estimationField()
	if err != nil || id == "" || timeFields[id] || !strings.HasPrefix(id, "customfield_") {
		return false
	}
	var ans estimationAnswer
	err = c.call(ctx, "GET", "rest/agile/1.0/issue/"+key+"/estimation", url.Values{"boardId": {strconv.Itoa(board)}}, nil, &ans,
		fmt.Sprintf("read the estimation of %s on board %d", key, board))
	var he *httpError
	switch {
	case errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusForbidden):
		ch.Add("board estimation endpoint", true, fmt.Sprintf("not available here (%d): Pokor sets the board's field through the issue's edit screen, as below", he.Status),
			map[string]any{"available": false, "board": board})
		return false
	case err != nil || (ans.FieldID != "" && ans.FieldID != id):
		return false
	}
	name := b.Estimation.Field.DisplayName
	if name == "" {
		name = id
	}
	field := Candidate{ID: id, Name: name}
	ch.Add("write-back", true, fmt.Sprintf("stories imported from board:%d get their estimate in %s through Jira Software's board estimation endpoint, "+
		"which sets it whether or not it is on the edit screen (checked on %s)", board, field.Label(), key),
		map[string]any{"available": true, "board": board, "field": id, "issue": key})
	return true
}
