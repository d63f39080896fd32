package webui

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/pokor/pokor/session"
)

// The team page's charts are SVG drawn here, on the server: no charting script to load, nothing
// to break in a browser, and the same picture on a phone (the SVG scales to the width it has)
// and in dark mode (colours come from the stylesheet's classes, never from the markup).

// barChart is a vertical bar chart with its geometry computed, for the template.
type barChart struct {
	Title, Caption string
	Width, Height  int
	Bars           []bar
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
func newBarChart(title, caption string, labels []string, values []float64, format func(float64) string) barChart {
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

type tick struct {
	X     int
	Label string
}

func newRangeChart(est []session.EstimateSummary) (rangeChart, bool) {
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
			Text: fmt.Sprintf("estimate %s: median %s, middle half %s–%s, %d stories", e.Value, hours(*e.Median), hours(*e.Low), hours(*e.High), e.Outcomes)})
	}
	for _, f := range []float64{0, 0.5, 1} {
		rc.Ticks = append(rc.Ticks, tick{X: scale(top * f), Label: hours(top * f)})
	}
	return rc, true
}

// hours writes a duration in hours the way people say it: "5 h", "2.5 d" (working days are not
// assumed: a day is 24 hours, as the trackers' timestamps count).
func hours(h float64) string {
	switch {
	case h >= 48:
		return strconv.FormatFloat(math.Round(h/24*10)/10, 'f', -1, 64) + " d"
	case h >= 1:
		return strconv.FormatFloat(math.Round(h*10)/10, 'f', -1, 64) + " h"
	default:
		return strconv.FormatFloat(math.Round(h*60), 'f', -1, 64) + " min"
	}
}

// duration writes seconds in the room: "45 s", "3 min", "1 h 5 min".
func duration(sec float64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(math.Round(d.Minutes()))) + " min"
	default:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

// teamPage is what team.html renders (as pageData.Team).
type teamPage struct {
	In      *session.Insight
	TeamURL string
	// Figures are the headline numbers, already written for people.
	Consensus, RoundsPerStory, MedianTime string
	Charts                                []barChart
	Outcomes                              rangeChart
	HasOutcomes                           bool
	Stories                               []storyRow
}

type storyRow struct {
	session.StoryInsight
	Time, Cycle, Spent string
}

func newTeamPage(in *session.Insight, teamURL string) teamPage {
	p := teamPage{In: in, TeamURL: teamURL, Consensus: "–", RoundsPerStory: "–", MedianTime: "–"}
	if r := in.Totals.ConsensusRate; r != nil {
		p.Consensus = strconv.Itoa(int(math.Round(*r*100))) + " %"
	}
	if r := in.Totals.RoundsPerStory; r != nil {
		p.RoundsPerStory = strconv.FormatFloat(math.Round(*r*10)/10, 'f', -1, 64)
	}
	if m := in.Totals.MedianSeconds; m != nil {
		p.MedianTime = duration(*m)
	}
	points := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	count := func(v float64) string { return strconv.Itoa(int(v)) }
	// Sprints oldest first, as a velocity chart reads; the last twelve.
	var sl []string
	var sv []float64
	for i := min(len(in.Sprints), 12) - 1; i >= 0; i-- {
		sl, sv = append(sl, in.Sprints[i].Name), append(sv, in.Sprints[i].Points)
	}
	p.Charts = append(p.Charts, newBarChart("Points accepted per sprint", "Numeric estimates accepted in the sprint's sessions.", sprintLabels(sl), sv, points))
	var el []string
	var ev []float64
	for _, e := range in.Estimates {
		el, ev = append(el, e.Value), append(ev, float64(e.Stories))
	}
	p.Charts = append(p.Charts, newBarChart("Stories per estimate", "How many stories were accepted at each value.", el, ev, count))
	p.Charts = append(p.Charts, countChart("Rounds per story", "How many rounds of voting a story took before its estimate was accepted.", in.Rounds))
	p.Charts = append(p.Charts, countChart("Spread of votes", "Cards between the lowest and the highest vote of a story's last round (0: everyone agreed).", in.Spread))
	p.Outcomes, p.HasOutcomes = newRangeChart(in.Estimates)
	for _, st := range in.Stories {
		r := storyRow{StoryInsight: st, Time: duration(st.Seconds)}
		if o := st.Outcome; o != nil {
			if o.CycleHours != nil {
				r.Cycle = hours(*o.CycleHours)
			}
			if o.SpentHours != nil {
				r.Spent = hours(*o.SpentHours)
			}
		}
		p.Stories = append(p.Stories, r)
	}
	return p
}

// sprintLabels shortens "Sprint 42" to "S42" and "Week 2025-W09" to "W09" to fit under a bar.
func sprintLabels(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		var num int
		var y, w int
		switch {
		case sscan(n, "Sprint %d", &num):
			out[i] = "S" + strconv.Itoa(num)
		case sscan(n, "Week %d-W%d", &y, &w):
			out[i] = fmt.Sprintf("W%02d", w)
		default:
			out[i] = n
		}
	}
	return out
}

func sscan(s, format string, args ...any) bool {
	n, err := fmt.Sscanf(s, format, args...)
	return err == nil && n == len(args)
}

func countChart(title, caption string, cs []session.Count) barChart {
	labels := make([]string, len(cs))
	values := make([]float64, len(cs))
	for i, c := range cs {
		labels[i], values[i] = c.Label, float64(c.Count)
	}
	return newBarChart(title, caption, labels, values, func(v float64) string { return strconv.Itoa(int(v)) })
}
