package azuredevops

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/session"
)

var _ session.OutcomeSource = (*Client)(nil)

// The fields an outcome reads (https://learn.microsoft.com/azure/devops/boards/queries/query-by-date-or-current-iteration
// lists the date fields of the standard processes).
const (
	fieldState           = "System.State"
	fieldCreatedDate     = "System.CreatedDate"
	fieldStateChangeDate = "System.StateChangeDate"
	fieldActivatedDate   = "Microsoft.VSTS.Common.ActivatedDate"
	fieldResolvedDate    = "Microsoft.VSTS.Common.ResolvedDate"
	fieldClosedDate      = "Microsoft.VSTS.Common.ClosedDate"
	fieldCompletedWork   = "Microsoft.VSTS.Scheduling.CompletedWork" // hours
)

var outcomeFields = []string{fieldState, fieldCreatedDate, fieldStateChangeDate, fieldActivatedDate, fieldResolvedDate, fieldClosedDate, fieldCompletedWork}

// removedState is the completed state of an item dropped without the work being done.
const removedState = "Removed"

// date returns a date field and whether it holds one.
func (w workItem) date(name string) (time.Time, bool) {
	raw, ok := w.Fields[name]
	if !ok || string(raw) == "null" {
		return time.Time{}, false
	}
	var t time.Time
	if err := json.Unmarshal(raw, &t); err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// Outcome reads what happened to a work item: done when its state is one of the completed states
// of the standard processes (Closed, Done, Resolved; Removed has no cycle time), at its Closed
// Date (else its Resolved Date, else the last change of state); work started at its Activated
// Date; time spent from Completed Work (hours), when the process keeps it.
func (c *Client) Outcome(ctx context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	id, err := parseKey(key)
	if err != nil {
		return session.OutcomeReport{}, err
	}
	var w workItem
	err = c.call(ctx, request{method: http.MethodGet, path: "_apis/wit/workitems/" + strconv.FormatInt(id, 10),
		query: url.Values{"fields": {strings.Join(outcomeFields, ",")}}, what: "read work item " + key}, &w)
	if err != nil {
		return session.OutcomeReport{}, err
	}
	rep := session.OutcomeReport{}
	rep.CreatedAt, _ = w.date(fieldCreatedDate)
	state := w.str(fieldState)
	if !slices.ContainsFunc(completedStates, func(s string) bool { return strings.EqualFold(s, state) }) {
		return rep, nil
	}
	done, ok := w.date(fieldClosedDate)
	if !ok {
		done, ok = w.date(fieldResolvedDate)
	}
	if !ok {
		done, ok = w.date(fieldStateChangeDate)
	}
	if !ok {
		// A completed item that says nowhere when: nothing to compare yet.
		return rep, nil
	}
	rep.Done, rep.DoneAt = true, done
	rep.Detail = strings.ToLower(state) + " " + done.UTC().Format(time.DateOnly)
	if h, ok := w.num(fieldCompletedWork); ok && h > 0 {
		rep.SpentHours = &h
	}
	if strings.EqualFold(state, removedState) {
		return rep, nil
	}
	rep.Counted = true
	if at, ok := w.date(fieldActivatedDate); ok && !at.After(done) {
		rep.StartedAt = &at
		rep.Detail += "; active since " + at.UTC().Format(time.DateOnly)
	}
	return rep, nil
}
