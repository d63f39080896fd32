package notion

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Database is a Notion database the integration can see.
type Database struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// EstimateTarget is the database property estimates are written to, and why it was chosen.
type EstimateTarget struct {
	// Property is the property's name as shown in Notion.
	Property string `json:"property"`
	// ID is Notion's stable property ID, which survives a rename.
	ID string `json:"id"`
	// Type is "number" or "select".
	Type string `json:"type"`
	// Options are the select's option names, in Notion's order; empty for a number.
	Options []string `json:"options,omitempty"`
	// Reason says in words why this property was chosen.
	Reason string `json:"reason"`
}

// Property types this package reads or writes, as Notion names them.
const (
	typeTitle       = "title"
	typeRichText    = "rich_text"
	typeNumber      = "number"
	typeSelect      = "select"
	typeStatus      = "status"
	typeMultiSelect = "multi_select"
)

// estimateNames are the names an estimate property goes by, best first; each entry is the
// lower-case words of a name ("Story points" and "story-points" both give story, points).
var estimateNames = [][]string{
	{"estimate"}, {"estimates"}, {"estimation"},
	{"story", "points"}, {"story", "point"}, {"storypoints"}, {"sp"},
	{"points"}, {"point"}, {"pts"},
	{"size"},
	{"effort"},
}

// descriptionNames are the names of a rich-text property worth showing as a story's
// description, best first.
var descriptionNames = [][]string{
	{"description"}, {"details"}, {"notes"}, {"summary"}, {"acceptance", "criteria"},
	{"user", "story"}, {"body"}, {"context"},
}

// schema is what this package needs to know about a database, read from its properties.
type schema struct {
	Database
	props       map[string]propertyConfig
	title       string // name of the title property; every database has exactly one
	description string // name of the description-like rich-text property, "" when none
}

func newSchema(db *database) schema {
	s := schema{
		Database: Database{ID: db.ID, Title: plainText(db.Title), URL: db.URL},
		props:    db.Properties,
	}
	best := -1
	for _, name := range s.names() {
		switch s.props[name].Type {
		case typeTitle:
			s.title = name
		case typeRichText:
			// Names are visited in sorted order, so equally good candidates resolve the same
			// way every time.
			if score, ok := nameScore(name, descriptionNames); ok && (best < 0 || score < best) {
				s.description, best = name, score
			}
		}
	}
	return s
}

// names returns the property names in a stable order (Notion sends a JSON object).
func (s schema) names() []string {
	names := make([]string, 0, len(s.props))
	for name := range s.props {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// lookup finds a property by exact name, then by name without regard to case, then by its ID.
func (s schema) lookup(name string) (string, propertyConfig, bool) {
	if p, ok := s.props[name]; ok {
		return name, p, true
	}
	for _, n := range s.names() {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return n, s.props[n], true
		}
	}
	for _, n := range s.names() {
		if s.props[n].ID == name {
			return n, s.props[n], true
		}
	}
	return "", propertyConfig{}, false
}

// namesOfType lists the properties of the given types, sorted, for messages.
func (s schema) namesOfType(types ...string) []string {
	var out []string
	for _, name := range s.names() {
		if slices.Contains(types, s.props[name].Type) {
			out = append(out, name)
		}
	}
	return out
}

// estimate decides which property estimates go to: the override when the organizer named one,
// else a Number property named like an estimate, else a Select property named like one. Among
// equally good candidates it does not guess: it returns a CodeConflict error listing them as Choices.
func (s schema) estimate(override string) (EstimateTarget, error) {
	if override = strings.TrimSpace(override); override != "" {
		name, p, ok := s.lookup(override)
		if !ok {
			return EstimateTarget{}, httpx.Errorf(provider, session.CodeInvalid,
				"database %q has no property %q; its Number and Select properties are: %s",
				s.Title, override, listOrNone(s.namesOfType(typeNumber, typeSelect)))
		}
		t := p.Type
		if t != typeNumber && t != typeSelect {
			return EstimateTarget{}, httpx.Errorf(provider, session.CodeInvalid,
				"property %q of database %q is a %s property; Pokor writes estimates to a Number or Select property",
				name, s.Title, typeLabel(t))
		}
		return s.target(name, "chosen by the organizer"), nil
	}

	for _, t := range []string{typeNumber, typeSelect} {
		best, bestScore := []string(nil), -1
		for _, name := range s.namesOfType(t) {
			score, ok := nameScore(name, estimateNames)
			switch {
			case !ok:
			case best == nil || score < bestScore:
				best, bestScore = []string{name}, score
			case score == bestScore:
				best = append(best, name)
			}
		}
		switch {
		case len(best) == 1:
			reason := fmt.Sprintf("%s property named like an estimate", typeLabel(t))
			if t == typeSelect {
				reason += " (no Number property is)"
			}
			return s.target(best[0], reason), nil
		case len(best) > 1:
			e := httpx.Errorf(provider, session.CodeConflict,
				"database %q has several %s properties that could hold the estimate (%s): choose one with the \"property\" option",
				s.Title, typeLabel(t), strings.Join(best, ", "))
			for _, name := range best {
				e.Choices = append(e.Choices, session.Choice{
					ID: s.props[name].ID, Name: name,
					Reason: typeLabel(t) + " property named like an estimate",
				})
			}
			return EstimateTarget{}, e
		}
	}

	msg := fmt.Sprintf("database %q has no estimate property: in Notion, add a Number property named "+
		"\"Estimate\" to it (and keep the database shared with the integration)", s.Title)
	if others := s.namesOfType(typeNumber, typeSelect); len(others) > 0 {
		msg += fmt.Sprintf(", or choose one of its Number or Select properties (%s) with the \"property\" option",
			strings.Join(others, ", "))
	}
	return EstimateTarget{}, httpx.Errorf(provider, session.CodeInvalid, "%s", msg)
}

// target describes property name as the estimate target.
func (s schema) target(name, reason string) EstimateTarget {
	p := s.props[name]
	t := EstimateTarget{Property: name, ID: p.ID, Type: p.Type, Reason: reason}
	if p.Type == typeSelect {
		t.Options = p.options()
	}
	return t
}

// filter turns a query's conditions into a Notion filter, checking each property and value
// against the schema so that a typo is reported with the options instead of importing nothing.
func (s schema) filter(conds []condition) (map[string]any, error) {
	var filters []map[string]any
	for _, c := range conds {
		name, p, ok := s.lookup(c.property)
		if !ok {
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"database %q has no property %q; properties you can filter on: %s",
				s.Title, c.property, listOrNone(s.namesOfType(typeSelect, typeStatus, typeMultiSelect)))
		}
		switch p.Type {
		case typeSelect, typeStatus, typeMultiSelect:
		default:
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"property %q is a %s property; a query can filter on Select, Status and Multi-select properties: %s",
				name, typeLabel(p.Type), listOrNone(s.namesOfType(typeSelect, typeStatus, typeMultiSelect)))
		}
		names := p.options()
		value, ok := matchOption(names, c.value)
		if !ok {
			return nil, httpx.Errorf(provider, session.CodeInvalid,
				"property %q has no option %q; its options are: %s", name, c.value, listOrNone(names))
		}
		// Notion's property filters: select and status match with equals, multi-select with
		// contains.
		cond := map[string]string{"equals": value}
		if p.Type == typeMultiSelect {
			cond = map[string]string{"contains": value}
		}
		filters = append(filters, map[string]any{"property": name, p.Type: cond})
	}
	switch len(filters) {
	case 0:
		return nil, nil
	case 1:
		return filters[0], nil
	}
	return map[string]any{"and": filters}, nil
}

// item turns a database page into a story, reading the estimate from est when it is set.
func (s schema) item(p *page, est *EstimateTarget) session.ExternalStory {
	it := session.ExternalStory{Key: p.ID, URL: p.URL, Title: propertyText(p.Properties[s.title])}
	if s.description != "" {
		it.Description = propertyText(p.Properties[s.description])
	}
	if est != nil {
		it.Estimate, _ = currentValue(p.Properties[est.Property])
	}
	if it.Title == "" {
		it.Title = "Untitled" // what Notion itself shows for a page without a title
	}
	return it
}

// currentValue is the estimate a page holds in an estimate property; false when it holds none
// (an empty number, no option chosen).
func currentValue(p propertyValue) (string, bool) {
	switch {
	case p.Type == typeNumber && p.Number != nil:
		return strconv.FormatFloat(*p.Number, 'f', -1, 64), true
	case p.Type == typeSelect && p.Select != nil:
		return p.Select.Name, true
	}
	return "", false
}

// propertyText is the plain text of a title or rich-text property value.
func propertyText(p propertyValue) string {
	switch p.Type {
	case typeTitle:
		return strings.TrimSpace(plainText(p.Title))
	case typeRichText:
		return strings.TrimSpace(plainText(p.RichText))
	}
	return ""
}

// matchOption finds the option a card or a query value means: the same name, the same name
// in another case, or the same number ("5" and "5.0", "½" and "0.5").
func matchOption(options []string, value string) (string, bool) {
	value = strings.TrimSpace(value)
	for _, o := range options {
		if o == value {
			return o, true
		}
	}
	for _, o := range options {
		if strings.EqualFold(strings.TrimSpace(o), value) {
			return o, true
		}
	}
	if v, ok := (session.WriteBack{Value: value}).Numeric(); ok {
		for _, o := range options {
			if n, ok := (session.WriteBack{Value: o}).Numeric(); ok && n == v {
				return o, true
			}
		}
	}
	return "", false
}

// nameScore ranks a property name against candidates (lower is better): an exact match of a
// candidate's words beats a name that merely contains them ("Estimate (days)"), and earlier
// candidates beat later ones.
func nameScore(name string, candidates [][]string) (int, bool) {
	w := words(name)
	for i, c := range candidates {
		if slices.Equal(w, c) {
			return i, true
		}
	}
	for i, c := range candidates {
		if containsRun(w, c) {
			return len(candidates) + i, true
		}
	}
	return 0, false
}

// words splits a name into lower-case words at anything that is not a letter or digit.
func words(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// containsRun reports whether run occurs in w as consecutive words.
func containsRun(w, run []string) bool {
	for i := 0; i+len(run) <= len(w); i++ {
		if slices.Equal(w[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// typeLabel is a property type as Notion's interface names it.
func typeLabel(t string) string {
	switch t {
	case typeNumber:
		return "Number"
	case typeSelect:
		return "Select"
	case typeStatus:
		return "Status"
	case typeMultiSelect:
		return "Multi-select"
	case typeRichText:
		return "Text"
	case typeTitle:
		return "Title"
	}
	return strings.ReplaceAll(t, "_", " ")
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// EstimateProperty returns the property of database ref (ID, URL or title) that estimates are
// written to and why; override names a property the organizer chose (est.Options["property"]).
// It returns CodeInvalid when the database has no suitable property and CodeConflict (with Choices) when
// several are equally good.
func (c *Client) EstimateProperty(ctx context.Context, ref, override string) (EstimateTarget, error) {
	s, err := c.database(ctx, ref)
	if err != nil {
		return EstimateTarget{}, err
	}
	return s.estimate(override)
}
