package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// The team page's charts are SVG drawn here, on the server: no charting script to load, nothing
// to break in a browser, and the same picture on a phone (the SVG scales to the width it has)
// and in dark mode (colours come from the stylesheet's classes, never from the markup). Their
// texts come from the page's catalog (chart.*) and their numbers are written for its language.

// barChart is a vertical bar chart with its geometry computed, for the template.
type barChart struct {
	// Alt is the chart's text alternative: its title and every bar's label and value. NoData is
	// what an empty chart says instead.
	Title, Caption, Alt, NoData string
	Width, Height               int
	Bars                        []bar
	// BaseY is the y of the axis line.
	BaseY int
	Empty bool
}

// bar is one bar of a chart: its label under it and its value above it.
type bar struct {
	Label, Value string
	X, Y, W, H   int
	// LabelX is the centre of the bar, where both texts are anchored.
	LabelX, ValueY, LabelY int
}

const (
	chartHeight = 180
	chartTop    = 22 // room for the value above the tallest bar
	chartBottom = 28 // room for the labels
)

// newBarChart lays out bars of the given values; format writes a value above its bar.
func newBarChart(l *i18n.Catalog, title, caption string, labels []string, values []float64, format func(float64) string) barChart {
	ch := barChart{Title: title, Caption: caption, Height: chartHeight, BaseY: chartHeight - chartBottom}
	slot := 56
	if len(labels) > 10 {
		slot = 40
	}
	ch.Width = max(len(labels)*slot+16, 240)
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	ch.Empty = top == 0
	plot := float64(ch.BaseY - chartTop)
	for i, l := range labels {
		h := 0
		if top > 0 {
			h = int(math.Round(values[i] / top * plot))
		}
		x := 8 + i*slot + slot/8
		w := slot - slot/4
		ch.Bars = append(ch.Bars, bar{Label: l, Value: format(values[i]), X: x, W: w, Y: ch.BaseY - h, H: h,
			LabelX: x + w/2, ValueY: ch.BaseY - h - 6, LabelY: ch.BaseY + 18})
	}
	parts := make([]string, len(ch.Bars))
	for i, b := range ch.Bars {
		parts[i] = l.T("chart.bar", "label", b.Label, "value", b.Value)
	}
	ch.NoData = l.T("chart.empty")
	ch.Alt = l.T("chart.alt", "title", title, "bars", strings.Join(parts, l.T("chart.list_separator")))
	return ch
}

// rangeChart draws, per estimate, the spread of the outcome (25th to 75th percentile) as a band
// with the median as a tick, on one horizontal scale in hours.
type rangeChart struct {
	Width, Height int
	Rows          []rangeRow
	AxisX         int
	Ticks         []tick
}

type rangeRow struct {
	Label, Text         string
	Y, X1, W, MX, Count int
}

// tick is a label of the horizontal scale; the outer ones are anchored inwards, so that a long
// label ("2,5 Tg.") stays inside the picture.
type tick struct {
	X            int
	Label, Align string
}

func newRangeChart(l *i18n.Catalog, est []session.EstimateSummary) (rangeChart, bool) {
	var rows []session.EstimateSummary
	top := 0.0
	for _, e := range est {
		if e.Median != nil {
			rows = append(rows, e)
			top = math.Max(top, *e.High)
		}
	}
	if len(rows) == 0 {
		return rangeChart{}, false
	}
	const left, right, rowH = 56, 16, 30
	rc := rangeChart{Width: 480, AxisX: left, Height: len(rows)*rowH + 30}
	scale := func(h float64) int { return left + int(math.Round(h/top*float64(rc.Width-left-right))) }
	if top == 0 {
		scale = func(float64) int { return left }
	}
	for i, e := range rows {
		y := 8 + i*rowH
		rc.Rows = append(rc.Rows, rangeRow{Label: e.Value, Y: y, X1: scale(*e.Low), W: max(scale(*e.High)-scale(*e.Low), 2),
			MX: scale(*e.Median), Count: e.Outcomes,
			Text: l.T("chart.cycle.row", "estimate", e.Value, "median", hours(l, *e.Median), "low", hours(l, *e.Low),
				"high", hours(l, *e.High), "stories", l.Count("chart.stories", e.Outcomes))})
	}
	for i, f := range []float64{0, 0.5, 1} {
		rc.Ticks = append(rc.Ticks, tick{X: scale(top * f), Label: hours(l, top*f), Align: []string{"start", "middle", "end"}[i]})
	}
	return rc, true
}

// hours writes a duration in hours the way people say it: "5 h", "2.5 d" (working days are not
// assumed: a day is 24 hours, as the trackers' timestamps count).
func hours(l *i18n.Catalog, h float64) string {
	switch {
	case h >= 48:
		return l.T("chart.days", "n", l.Number(h/24, 1))
	case h >= 1:
		return l.T("chart.hours", "n", l.Number(h, 1))
	default:
		return l.T("chart.minutes", "n", l.Number(h*60, 0))
	}
}

// duration writes seconds in the room: "45 s", "3 min", "1 h 5 min".
func duration(l *i18n.Catalog, sec float64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return l.T("chart.seconds", "n", l.Number(d.Seconds(), 0))
	case d < time.Hour:
		return l.T("chart.minutes", "n", l.Number(d.Minutes(), 0))
	default:
		return l.T("chart.hours_minutes", "h", strconv.Itoa(int(d.Hours())), "m", strconv.Itoa(int(d.Minutes())%60))
	}
}

// teamPage is what team.html renders (as pageData.Team).
type teamPage struct {
	In      *session.Insight
	TeamURL string
	// Figures are the headline numbers, already written for people.
	Consensus, RoundsPerStory, MedianTime string
	NSessions, Estimated, Points          string
	WithOutcome                           string
	Charts                                []barChart
	Outcomes                              rangeChart
	HasOutcomes                           bool
	Stories                               []storyRow
	Sessions                              []sessionRow
	Sprints                               []sprintRow
	FarOff                                []farOffRow
}

type storyRow struct {
	session.StoryInsight
	Time, Cycle, Spent string
}

type sessionRow struct {
	session.SessionSummary
	Sprint, Date, Points string
}

type sprintRow struct {
	session.SprintSummary
	Name, Points string
}

// farOffRow is a story whose outcome was far from the team's usual for its estimate, with the
// factor written for the page's language (the insight's own FarOff sentence is English).
type farOffRow struct {
	session.StoryInsight
	Ratio string
}

func newTeamPage(l *i18n.Catalog, in *session.Insight, teamURL string) teamPage {
	p := teamPage{In: in, TeamURL: teamURL, Consensus: "–", RoundsPerStory: "–", MedianTime: "–",
		NSessions: l.Int(in.Totals.Sessions), Estimated: l.Int(in.Totals.Estimated), Points: l.Number(in.Totals.Points, 2),
		WithOutcome: l.Count("team.outcomes.count", in.Totals.WithOutcome, "estimated", l.Int(in.Totals.Estimated))}
	if r := in.Totals.ConsensusRate; r != nil {
		p.Consensus = l.T("chart.percent", "n", l.Number(*r*100, 0))
	}
	if r := in.Totals.RoundsPerStory; r != nil {
		p.RoundsPerStory = l.Number(*r, 1)
	}
	if m := in.Totals.MedianSeconds; m != nil {
		p.MedianTime = duration(l, *m)
	}
	points := func(v float64) string { return l.Number(v, 2) }
	count := func(v float64) string { return l.Number(v, 0) }
	// Sprints oldest first, as a velocity chart reads; the last twelve.
	var sl []string
	var sv []float64
	for i := min(len(in.Sprints), 12) - 1; i >= 0; i-- {
		sl, sv = append(sl, sprintLabel(l, in.Sprints[i].Name)), append(sv, in.Sprints[i].Points)
	}
	p.Charts = append(p.Charts, newBarChart(l, l.T("chart.points.title"), l.T("chart.points.caption"), sl, sv, points))
	var el []string
	var ev []float64
	for _, e := range in.Estimates {
		el, ev = append(el, e.Value), append(ev, float64(e.Stories))
	}
	p.Charts = append(p.Charts, newBarChart(l, l.T("chart.estimates.title"), l.T("chart.estimates.caption"), el, ev, count))
	p.Charts = append(p.Charts, countChart(l, l.T("chart.rounds.title"), l.T("chart.rounds.caption"), in.Rounds))
	p.Charts = append(p.Charts, countChart(l, l.T("chart.spread.title"), l.T("chart.spread.caption"), in.Spread))
	p.Outcomes, p.HasOutcomes = newRangeChart(l, in.Estimates)
	for _, st := range in.Stories {
		r := storyRow{StoryInsight: st, Time: duration(l, st.Seconds)}
		if o := st.Outcome; o != nil {
			if o.CycleHours != nil {
				r.Cycle = hours(l, *o.CycleHours)
			}
			if o.SpentHours != nil {
				r.Spent = hours(l, *o.SpentHours)
			}
		}
		p.Stories = append(p.Stories, r)
	}
	for _, se := range in.Sessions {
		p.Sessions = append(p.Sessions, sessionRow{SessionSummary: se, Sprint: sprintName(l, se.Sprint), Date: date(l, se.CreatedAt), Points: l.Number(se.Points, 2)})
	}
	for _, sp := range in.Sprints {
		p.Sprints = append(p.Sprints, sprintRow{SprintSummary: sp, Name: sprintName(l, sp.Name), Points: l.Number(sp.Points, 2)})
	}
	medians := map[string]float64{}
	for _, e := range in.Estimates {
		if e.Median != nil {
			medians[e.Value] = *e.Median
		}
	}
	for _, st := range in.FarOff {
		r := farOffRow{StoryInsight: st}
		if m := medians[st.Estimate]; m > 0 && st.Outcome != nil && st.Outcome.CycleHours != nil {
			r.Ratio = l.Number(*st.Outcome.CycleHours/m, 1)
		}
		p.FarOff = append(p.FarOff, r)
	}
	return p
}

// sprintLabel shortens "Sprint 42" to "S42" and "Week 2025-W09" to "W09" (in German "KW09") to
// fit under a bar.
func sprintLabel(l *i18n.Catalog, name string) string {
	var num, y, w int
	switch {
	case sscan(name, "Sprint %d", &num):
		return l.T("chart.sprint.short", "n", strconv.Itoa(num))
	case sscan(name, "Week %d-W%d", &y, &w):
		return l.T("chart.week.short", "week", fmt.Sprintf("%02d", w))
	}
	return name
}

// sprintName writes the name session.SprintOf gives a session without a sprint in its title
// ("Week 2025-W09") for the page's language; a sprint's own name stays as it is.
func sprintName(l *i18n.Catalog, name string) string {
	var y, w int
	if sscan(name, "Week %d-W%d", &y, &w) {
		return l.T("chart.week", "week", strconv.Itoa(w), "year", strconv.Itoa(y))
	}
	return name
}

// date writes a day as the page's language does: "3 Dec 2026", "3. Dez. 2026". The month names
// are one catalog text (chart.months), so a translator sees the twelve together.
func date(l *i18n.Catalog, t time.Time) string {
	months := strings.Split(l.T("chart.months"), ",")
	month := t.Month().String()[:3]
	if len(months) == 12 {
		month = strings.TrimSpace(months[t.Month()-1])
	}
	return l.T("chart.date", "day", strconv.Itoa(t.Day()), "month", month, "year", strconv.Itoa(t.Year()))
}

func sscan(s, format string, args ...any) bool {
	n, err := fmt.Sscanf(s, format, args...)
	return err == nil && n == len(args)
}

func countChart(l *i18n.Catalog, title, caption string, cs []session.Count) barChart {
	labels := make([]string, len(cs))
	values := make([]float64, len(cs))
	for i, c := range cs {
		labels[i], values[i] = c.Label, float64(c.Count)
	}
	return newBarChart(l, title, caption, labels, values, func(v float64) string { return l.Number(v, 0) })
}
