package notion

import (
	"context"
	"regexp"
	"sort"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

var _ session.OutcomeSource = (*Client)(nil)

// doneStatus recognises the options of the "Complete" group of a Notion status property as
// teams name them.
var doneStatus = regexp.MustCompile(`(?i)^(done|complete|completed|shipped|released|closed|finished)\b`)

// doneDate recognises a date property that records when a page was done.
var doneDate = regexp.MustCompile(`(?i)(done|complet|finish|closed|shipped|resolved|end)`)

// Outcome reads what happened to a page: done when its status property is a done option. Notion
// keeps no history of a property, so the dates come from the page itself: a date property with a
// range (start → end) gives when the work started and ended; otherwise a date property named for
// it ("Done on", "Completed") gives the end, and the page's last edit (when the status was set)
// stands in for it. The start is then unknown and the cycle time runs from the page's creation.
func (c *Client) Outcome(ctx context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	id, ok := parseID(key)
	if !ok {
		return session.OutcomeReport{}, httpx.Errorf(provider, session.CodeInvalid, "%q is not a Notion page ID", key)
	}
	p, err := c.page(ctx, id)
	if err != nil {
		return session.OutcomeReport{}, err
	}
	rep := session.OutcomeReport{}
	rep.CreatedAt, _ = notionTime(p.CreatedTime)
	names := make([]string, 0, len(p.Properties))
	for n := range p.Properties {
		names = append(names, n)
	}
	sort.Strings(names) // the same property wins every time
	status := ""
	for _, n := range names {
		if v := p.Properties[n]; v.Type == "status" && v.Status != nil {
			status = v.Status.Name
			break
		}
	}
	if !doneStatus.MatchString(status) {
		return rep, nil
	}
	var start, end *time.Time
	for _, n := range names {
		v := p.Properties[n]
		if v.Type != "date" || v.Date == nil {
			continue
		}
		s, sok := notionTime(v.Date.Start)
		e, eok := notionTime(v.Date.End)
		switch {
		case sok && eok && end == nil:
			start, end = &s, &e
			rep.Detail = status + "; " + n + " " + s.Format(time.DateOnly) + " → " + e.Format(time.DateOnly)
		case sok && !eok && end == nil && doneDate.MatchString(n):
			end = &s
			rep.Detail = status + "; " + n + " " + s.Format(time.DateOnly)
		}
	}
	if end == nil {
		last, ok := notionTime(p.LastEditedTime)
		if !ok {
			return rep, nil
		}
		end = &last
		rep.Detail = status + "; last edited " + last.Format(time.DateOnly)
	}
	rep.Done, rep.Counted, rep.DoneAt, rep.StartedAt = true, true, *end, start
	return rep, nil
}

// notionTime reads Notion's dates: a day ("2025-03-05") or a moment in ISO 8601.
func notionTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
