package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// jswStoryPoints is the schema of the field Jira Software itself manages for estimation: "Story
// point estimate" on team-managed projects and on newer company-managed boards.
const jswStoryPoints = "com.pyxis.greenhopper.jira:jsw-story-points"

// The weights of the evidence that a field holds story points. Each kind of evidence outweighs
// every weaker kind put together, so the order of the rules, not their sum, decides: the
// organizer's pick, then the board's estimation field, then Jira Software's story-points type,
// then the name, and a well-known id only when all else is equal.
const (
	scoreChoice            = 10000
	scoreBoard             = 1000
	scoreSchema            = 100
	scoreName              = 50 // "Story Points", "Story point estimate" as the untranslated name
	scoreTranslatedName    = 40 // the same, matched only on the name in the caller's language
	scoreVariant           = 20 // "SP", "Points", "Estimate", ... as the untranslated name
	scoreTranslatedVariant = 15
	scoreKnownID           = 1
)

// storyPointNames and variantNames are normalized (see normalizeName).
var (
	storyPointNames = map[string]bool{"story point estimate": true, "story points": true}
	variantNames    = map[string]bool{
		"story point": true, "storypoints": true, "storypoint": true, "sp": true, "points": true,
		"point": true, "estimate": true, "story estimate": true, "story points estimate": true,
		"story point estimation": true, "estimation": true, "t shirt size": true, "tshirt size": true,
		"t shirt": true, "size": true, "story size": true,
	}
	// excludedWords mark aggregate and time-tracking fields, which are numbers but not story
	// points: "Original estimate", "Remaining Estimate", "Total points"; a Σ marks them too.
	excludedWords = map[string]bool{"aggregate": true, "sum": true, "total": true, "original": true,
		"remaining": true, "time": true, "spent": true, "logged": true, "rollup": true}
	// knownIDs are ids story-points fields got on many sites. Ids are assigned per site, so they
	// only break ties.
	knownIDs = map[string]bool{
		"customfield_10016": true, "customfield_10026": true, "customfield_10028": true,
		"customfield_10002": true, "customfield_10004": true, "customfield_10106": true,
	}
)

// Candidate is a field that may hold story points, with the evidence for and against it.
type Candidate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// UntranslatedName is the field's name in the site's default language, when Jira gives it.
	UntranslatedName string `json:"untranslated_name,omitempty"`
	// Schema is the custom field type, or the JSON type when there is none.
	Schema string `json:"schema,omitempty"`
	// Score sums the weights of the evidence (see the score constants).
	Score int `json:"score"`
	// Editable is true when the issue's editmeta lists the field: it is on the edit screen and
	// these credentials may change it.
	Editable bool `json:"editable"`
	// Numeric is true for a number field; Select for a single-select field, written with one of
	// its Options (the deck's cards, or the values option's mapping). No other kind is written.
	Numeric bool     `json:"numeric"`
	Select  bool     `json:"select,omitempty"`
	Options []string `json:"options,omitempty"`
	// Writable is Editable and Numeric or Select; only a writable field is ever written.
	Writable bool `json:"writable"`
	// Reasons lists the evidence in words, with the points each gave.
	Reasons []string `json:"reasons"`
}

// Label returns the field as organizers and admins see it: "Story Points (customfield_10026)".
func (c Candidate) Label() string { return c.Name + " (" + c.ID + ")" }

// kind names what the field holds, for messages: "number field", "select field".
func (c Candidate) kind() string {
	if c.Select {
		return "select field"
	}
	return "number field"
}

// Decision is which field Discover chose for an issue's story points, and why.
type Decision struct {
	Site      string `json:"site"`
	Issue     string `json:"issue"`
	Project   string `json:"project"`
	IssueType string `json:"issue_type"`
	// TeamManaged reports a team-managed (simplified) project, whose fields an admin configures
	// differently from a company-managed one.
	TeamManaged bool `json:"team_managed"`
	// Board is the board whose estimation field was consulted, 0 for none.
	Board int `json:"board,omitempty"`
	// Field is the chosen field; its ID is empty when no field is writable or several tie.
	Field Candidate `json:"field"`
	// Reason says in one sentence why Field was chosen.
	Reason string `json:"reason,omitempty"`
	// Candidates are all the fields considered, the chosen one included: writable ones first,
	// then by score.
	Candidates []Candidate `json:"candidates"`
	// Guidance says what an admin must do when no field is writable.
	Guidance string `json:"guidance,omitempty"`
	// Cached is true when the decision was taken for another issue of the same project and type.
	Cached bool `json:"cached"`
}

// fieldInfo is one entry of GET /rest/api/2/field.
type fieldInfo struct {
	ID               string      `json:"id"`
	Key              string      `json:"key"`
	Name             string      `json:"name"`
	UntranslatedName string      `json:"untranslatedName"`
	Custom           bool        `json:"custom"`
	Schema           fieldSchema `json:"schema"`
}

type fieldSchema struct {
	Type     string `json:"type"`
	Items    string `json:"items,omitempty"`
	System   string `json:"system,omitempty"`
	Custom   string `json:"custom,omitempty"`
	CustomID int64  `json:"customId,omitempty"`
}

func (f fieldInfo) isCustom() bool {
	return f.Custom || f.Schema.Custom != "" || strings.HasPrefix(f.ID, "customfield_")
}

// editMeta is GET /rest/api/2/issue/{key}/editmeta: the fields on the issue's edit screen that
// the caller may edit.
type editMeta struct {
	Fields map[string]editField `json:"fields"`
}

type editField struct {
	Name       string      `json:"name"`
	Key        string      `json:"key"`
	Required   bool        `json:"required"`
	Schema     fieldSchema `json:"schema"`
	Operations []string    `json:"operations"`
	// AllowedValues are a select field's options: objects {"id", "value"} in Jira's answers,
	// plain strings in the documentation's example.
	AllowedValues []json.RawMessage `json:"allowedValues"`
}

// options returns the names of a select field's enabled options.
func (f editField) options() []string {
	var out []string
	for _, raw := range f.AllowedValues {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var o struct {
			Value    string `json:"value"`
			Name     string `json:"name"`
			Disabled bool   `json:"disabled"`
		}
		if json.Unmarshal(raw, &o) == nil && !o.Disabled {
			if o.Value == "" {
				o.Value = o.Name
			}
			if o.Value != "" {
				out = append(out, o.Value)
			}
		}
	}
	return out
}

// isSelect reports a single-select field (schema type "option").
func (s fieldSchema) isSelect() bool { return s.Type == "option" }

// settable reports whether the field can be given a value; a missing operations list is taken
// as settable because editmeta only lists editable fields.
func (f editField) settable() bool {
	if len(f.Operations) == 0 {
		return true
	}
	for _, op := range f.Operations {
		if op == "set" {
			return true
		}
	}
	return false
}

// boardConfig is the part of GET /rest/agile/1.0/board/{id}/configuration Pokor uses.
type boardConfig struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Filter struct {
		ID string `json:"id"`
	} `json:"filter"`
	SubQuery struct {
		Query string `json:"query"`
	} `json:"subQuery"`
	Estimation struct {
		Type  string `json:"type"`
		Field struct {
			FieldID     string `json:"fieldId"`
			DisplayName string `json:"displayName"`
		} `json:"field"`
	} `json:"estimation"`
}

// estimationField returns the board's estimation field id, "" when it estimates by issue count
// or not at all.
func (b boardConfig) estimationField() string {
	if b.Estimation.Type != "" && b.Estimation.Type != "field" {
		return ""
	}
	return b.Estimation.Field.FieldID
}

// projectInfo is the part of GET /rest/api/2/project/{key} Pokor uses.
type projectInfo struct {
	Key        string `json:"key"`
	Name       string `json:"name"`
	Simplified *bool  `json:"simplified"`
	Style      string `json:"style"`
}

// teamManaged reads Cloud's "simplified" flag, or the older "style"; Data Center has neither
// and only company-managed projects.
func (p projectInfo) teamManaged() (value, known bool) {
	if p.Simplified != nil {
		return *p.Simplified, true
	}
	if p.Style != "" {
		return p.Style == "next-gen", true
	}
	return false, false
}

// issueScope is where an issue lives: what a decision depends on.
type issueScope struct {
	Project     string
	IssueType   string
	TeamManaged bool
}

var (
	issueKeyRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*-[0-9]+$`)
	issueIDRe    = regexp.MustCompile(`^[0-9]+$`)
	projectKeyRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// normalizeIssueKey checks that key is an issue key ("API-12") or id ("10042") before it goes
// into a URL path.
func normalizeIssueKey(key string) (string, error) {
	k := strings.TrimSpace(key)
	switch {
	case issueKeyRe.MatchString(k):
		return strings.ToUpper(k), nil
	case issueIDRe.MatchString(k):
		return k, nil
	}
	return "", httpx.Errorf(provider, session.CodeInvalid, "%q is not an issue key such as API-12", key)
}

// Discover chooses the field that holds story points for the issue, never by test-writing:
// only fields the issue's editmeta lists are writable, and among number and single-select
// fields it weighs the organizer's earlier pick, the board's estimation field (when boardID is
// not 0; a board that estimates by time is refused with the setting to change), Jira
// Software's story-points type, the (untranslated) name, and last a well-known id. Decisions
// are cached per site, project and issue type.
//
// Scores: organizer's pick 10000, board's estimation field 1000, jsw-story-points type 100,
// "Story Points" or "Story point estimate" as the untranslated name 50 (as the translated name
// only 40), a close variant ("Story-Points", "Story Point", "SP", "Points", "Estimate") 20 (15),
// a well-known id 1. Aggregate and time-tracking fields are never candidates. The writable
// candidate with the highest score wins; when the organizer's pick or the board names a field,
// only that field may be written; equal top scores are a tie for the organizer to settle.
//
// The Decision is filled even when err is not nil, for Check to show. err is an
// *session.Error: CodeConflict with Choices when candidates tie (record the pick with
// RememberChoice or the field option); CodeInvalid with the admin's to-do when no candidate is
// writable; CodeForbidden when the credentials may not edit the issue at all; CodeNotFound for
// an unknown issue.
func (c *Client) Discover(ctx context.Context, issueKey string, boardID int) (Decision, error) {
	key, err := normalizeIssueKey(issueKey)
	if err != nil {
		return Decision{}, err
	}
	scope, err := c.scope(ctx, key)
	if err != nil {
		return Decision{Site: c.site, Issue: key}, err
	}
	return c.discover(ctx, key, scope, boardID, "")
}

// discover is Discover for an issue whose scope is known. stored is the field written before
// for this story (kept with it), "" for none: like the organizer's pick, it is then the only
// field that may be written, unless the organizer picked another.
func (c *Client) discover(ctx context.Context, key string, scope issueScope, boardID int, stored string) (Decision, error) {
	sk := newScopeKey(c.site, scope.Project, scope.IssueType)
	dk := decisionKey{scopeKey: sk, board: boardID, stored: stored}
	if d, ok := c.decisions.get(dk, c.now()); ok {
		d.Issue, d.Cached = key, true
		return d, nil
	}
	base := Decision{Site: c.site, Issue: key, Project: scope.Project, IssueType: scope.IssueType,
		TeamManaged: scope.TeamManaged, Board: boardID}
	fields, err := c.siteFields(ctx)
	if err != nil {
		return base, err
	}
	var board *boardConfig
	if boardID > 0 {
		b, err := c.board(ctx, boardID)
		if err != nil {
			return base, err
		}
		board = &b
		// A board that estimates by time shows no story points: writing them anywhere would
		// show synced while the board the team looks at stays empty.
		if err := timeEstimation(&base, b, fields); err != nil {
			return base, err
		}
	}
	meta, err := c.editMeta(ctx, key)
	if err != nil {
		return base, err
	}
	d, derr := decide(base, fields, meta, board, c.decisions.choice(sk), stored)
	if derr != nil {
		return d, derr
	}
	c.decisions.put(dk, d, c.now())
	return d, nil
}

// timeFields are Jira's time-tracking fields a board may estimate with.
var timeFields = map[string]bool{"timeoriginalestimate": true, "timeestimate": true,
	"aggregatetimeoriginalestimate": true, "aggregatetimeestimate": true, "timespent": true}

// timeEstimation fails when a board estimates by a time-tracking field (Original time
// estimate), or another system field, naming the board setting to change.
func timeEstimation(d *Decision, b boardConfig, fields []fieldInfo) *session.Error {
	id := b.estimationField()
	if id == "" || (!timeFields[id] && strings.HasPrefix(id, "customfield_")) {
		return nil
	}
	name := b.Estimation.Field.DisplayName
	for _, f := range fields {
		if f.ID == id && f.Name != "" {
			name = f.Name
		}
	}
	if name == "" {
		name = id
	}
	boardName := fmt.Sprintf("board %d", d.Board)
	if b.Name != "" {
		boardName = fmt.Sprintf("board %d (%s)", d.Board, b.Name)
	}
	d.Guidance = fmt.Sprintf("A board admin can set Board settings → Estimation → Estimation statistic to Story points, "+
		"or import the stories by JQL or project key instead of board:%d.", d.Board)
	kind := "a time-tracking field"
	if !timeFields[id] {
		kind = "a system field Pokor does not write"
	}
	return httpx.Errorf(provider, session.CodeInvalid,
		"%s estimates by %s (%s), %s: story points written by Pokor would not show on that board. %s",
		boardName, name, id, kind, d.Guidance)
}

// RememberChoice records that fieldID holds story points for issues of the same project and
// type as issueKey, as an organizer picked after a CodeConflict error with Choices. It returns CodeInvalid
// when the field does not exist on the site or cannot hold a number.
func (c *Client) RememberChoice(ctx context.Context, issueKey, fieldID string) error {
	key, err := normalizeIssueKey(issueKey)
	if err != nil {
		return err
	}
	scope, err := c.scope(ctx, key)
	if err != nil {
		return err
	}
	return c.rememberChoice(ctx, scope, fieldID)
}

func (c *Client) rememberChoice(ctx context.Context, scope issueScope, fieldID string) error {
	fieldID = strings.TrimSpace(fieldID)
	fields, err := c.siteFields(ctx)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if f.ID != fieldID && f.Key != fieldID {
			continue
		}
		if !f.isCustom() || f.Schema.Type != "number" {
			return httpx.Errorf(provider, session.CodeInvalid,
				"field %s (%s) cannot hold story points: it is not a custom number field", f.Name, f.ID)
		}
		c.decisions.choose(newScopeKey(c.site, scope.Project, scope.IssueType), f.ID)
		return nil
	}
	return httpx.Errorf(provider, session.CodeInvalid,
		"field %q does not exist on %s or these credentials cannot see it", fieldID, c.base.Host)
}

// decide scores the fields and picks the one to write. It is pure: everything it needs has
// been fetched.
func decide(d Decision, fields []fieldInfo, meta editMeta, board *boardConfig, choice, stored string) (Decision, *session.Error) {
	boardField := ""
	var notes []string
	if board != nil {
		boardField = board.estimationField()
		if board.Estimation.Type != "" && board.Estimation.Type != "field" {
			notes = append(notes, fmt.Sprintf("the board %d estimates by %s, not by a field", d.Board, board.Estimation.Type))
		}
	}

	// Merge the site's fields with editmeta: editmeta may list a field that /field hides.
	all := make([]fieldInfo, 0, len(fields))
	seen := map[string]bool{}
	for _, f := range fields {
		all = append(all, f)
		seen[f.ID] = true
	}
	metaIDs := make([]string, 0, len(meta.Fields))
	for id := range meta.Fields {
		metaIDs = append(metaIDs, id)
	}
	sort.Strings(metaIDs)
	for _, id := range metaIDs {
		if !seen[id] {
			m := meta.Fields[id]
			all = append(all, fieldInfo{ID: id, Key: m.Key, Name: m.Name, Schema: m.Schema, Custom: m.Schema.Custom != ""})
		}
	}

	// A pinned field, the organizer's pick, else the field written before for this story, else
	// the board's estimation field, is the only one that may be written: a value in another
	// field would not show where the team looks.
	storedPin := choice == "" && stored != ""
	var pinned *Candidate
	pinReason := ""
	for _, f := range all {
		isBoard, isChoice, isStored := f.ID == boardField, f.ID == choice, storedPin && f.ID == stored
		if !f.isCustom() {
			if isBoard {
				notes = append(notes, fmt.Sprintf("the board %d estimates with %s (%s), a time-tracking field Pokor does not write", d.Board, f.Name, f.ID))
			}
			continue
		}
		if excludedName(f) && !isBoard && !isChoice && !isStored {
			continue
		}
		m, onScreen := meta.Fields[f.ID]
		c := Candidate{ID: f.ID, Name: f.Name, UntranslatedName: f.UntranslatedName, Schema: f.Schema.Custom,
			Numeric: f.Schema.Type == "number", Select: f.Schema.isSelect()}
		if c.Select && onScreen {
			c.Options = m.options()
		}
		if c.Schema == "" {
			c.Schema = f.Schema.Type
		}
		add := func(points int, reason string) {
			c.Score += points
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s (+%d)", reason, points))
		}
		if isChoice {
			add(scoreChoice, "picked by the organizer")
		}
		if isStored {
			add(scoreChoice, "Pokor wrote this story's estimate to it before")
		}
		if isBoard {
			add(scoreBoard, fmt.Sprintf("the board %d estimates with it", d.Board))
		}
		if f.Schema.Custom == jswStoryPoints {
			add(scoreSchema, "its type is Jira Software's story points (jsw-story-points)")
		}
		if points, reason := nameScore(f); points > 0 {
			add(points, reason)
		}
		if knownIDs[f.ID] {
			add(scoreKnownID, f.ID+" is a common story-points id, a tie-break only")
		}
		if c.Score == 0 {
			continue
		}
		c.Editable = onScreen && m.settable()
		c.Writable = c.Editable && (c.Numeric || c.Select && len(c.Options) > 0)
		switch {
		case !c.Numeric && !c.Select:
			c.Reasons = append(c.Reasons, fmt.Sprintf("holds %s, not a number or a single choice: never written", orUnknown(f.Schema.Type)))
		case c.Select && c.Editable && len(c.Options) == 0:
			c.Reasons = append(c.Reasons, "a select field without options on "+d.Issue)
		case c.Editable && c.Select:
			c.Reasons = append(c.Reasons, "editable on "+d.Issue+", options "+strings.Join(c.Options, ", "))
		case c.Editable:
			c.Reasons = append(c.Reasons, "editable on "+d.Issue)
		default:
			c.Reasons = append(c.Reasons, "not on the edit screen of "+d.Issue)
		}
		d.Candidates = append(d.Candidates, c)
		writable := c.Numeric || c.Select
		switch {
		case isChoice && writable:
			pc := c
			pinned, pinReason = &pc, "the field "+c.Label()+" picked for this session"
		case isStored && writable:
			pc := c
			pinned, pinReason = &pc, "the field "+c.Label()+", which Pokor wrote this story's estimate to before,"
		case isBoard && writable && pinned == nil:
			pc := c
			pinned, pinReason = &pc, fmt.Sprintf("the board %d estimates with %s, which", d.Board, c.Label())
		}
	}
	sort.SliceStable(d.Candidates, func(i, j int) bool {
		a, b := d.Candidates[i], d.Candidates[j]
		if a.Writable != b.Writable {
			return a.Writable
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ID < b.ID
	})

	var allowed []Candidate
	for _, c := range d.Candidates {
		if c.Writable && (pinned == nil || c.ID == pinned.ID) {
			allowed = append(allowed, c)
		}
	}
	if len(allowed) == 0 {
		return d, nothingWritable(&d, meta, pinned, pinReason, notes)
	}
	if len(allowed) > 1 && allowed[0].Score == allowed[1].Score {
		var tied []Candidate
		for _, c := range allowed {
			if c.Score == allowed[0].Score {
				tied = append(tied, c)
			}
		}
		return d, tie(d, tied)
	}
	d.Field = allowed[0]
	d.Reason = fmt.Sprintf("%s has the highest score (%d) among the fields editable on %s: %s",
		d.Field.Label(), d.Field.Score, d.Issue, strings.Join(d.Field.Reasons, "; "))
	if len(notes) > 0 {
		d.Reason += "; " + strings.Join(notes, "; ")
	}
	return d, nil
}

// nothingWritable builds the error that says what an admin must change, in the words of the
// project's kind: team-managed projects switch estimation on as a feature, company-managed ones
// put the field on a screen. pinned is the field that had to be written, if any, and
// pinReason names it in the problem sentence.
func nothingWritable(d *Decision, meta editMeta, pinned *Candidate, pinReason string, notes []string) *session.Error {
	if len(meta.Fields) == 0 {
		d.Guidance = fmt.Sprintf("A Jira admin must give these credentials the Edit Issues permission in project %s.", d.Project)
		return httpx.Errorf(provider, session.CodeForbidden,
			"these credentials cannot edit %s: Jira lists no editable field on it. %s", d.Issue, d.Guidance)
	}
	target := pinned
	if target == nil {
		for i := range d.Candidates {
			if d.Candidates[i].Numeric {
				target = &d.Candidates[i]
				break
			}
		}
	}
	problem := "no story-points field can be set on " + d.Issue + "."
	if pinned != nil {
		problem = pinReason + " cannot be set on " + d.Issue + "."
	}
	if len(notes) > 0 {
		problem += " (" + strings.Join(notes, "; ") + ".)"
	}
	d.Guidance = advice(d.Project, d.IssueType, d.TeamManaged, target)
	return httpx.Errorf(provider, session.CodeInvalid, "%s %s", problem, d.Guidance)
}

// advice says what an admin must do so that target (nil when the site has no story-points
// field) can be written on issues of the project and type.
func advice(project, issueType string, teamManaged bool, target *Candidate) string {
	switch {
	case teamManaged:
		return fmt.Sprintf("%s is a team-managed project: a project admin must turn on Estimation in Project settings → Features, then try again.", project)
	case target != nil:
		return fmt.Sprintf("%s is a company-managed project: a Jira admin must add the field %s to the project's edit screen for %s issues, then try again.",
			project, target.Label(), issueType)
	}
	return fmt.Sprintf("%s is a company-managed project: a Jira admin must add the field Story Points to the project's edit screen for %s issues (this site has no number field for story points yet: create one of type Number first), then try again.",
		project, issueType)
}

// tie asks the organizer to pick among equally good fields instead of guessing.
func tie(d Decision, tied []Candidate) *session.Error {
	labels := make([]string, len(tied))
	choices := make([]session.Choice, len(tied))
	for i, c := range tied {
		labels[i] = c.Label()
		choices[i] = session.Choice{ID: c.ID, Name: c.Name, Reason: strings.Join(c.Reasons, "; ")}
	}
	e := httpx.Errorf(provider, session.CodeConflict,
		"%d fields could hold the story points of %s and nothing tells them apart: %s. Pick one for this session; Pokor will remember it for %s issues of %s.",
		len(tied), d.Issue, strings.Join(labels, ", "), d.IssueType, d.Project)
	e.Choices = choices
	return e
}

// normalizeName lowercases a field name and folds "-", "_" and runs of spaces into one space,
// so "Story-Points" and "story  points" compare equal.
func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ", ".", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// nameScore weighs a field's names, preferring the untranslated one: the translated name
// follows the caller's language and can collide across fields.
func nameScore(f fieldInfo) (int, string) {
	untranslated := f.UntranslatedName
	if untranslated == "" {
		// Data Center and older Cloud sites send no untranslated name: the name is all there is.
		untranslated = f.Name
	}
	u, n := normalizeName(untranslated), normalizeName(f.Name)
	switch {
	case storyPointNames[u]:
		return scoreName, fmt.Sprintf("its name %q is a story-points name", untranslated)
	case storyPointNames[n]:
		return scoreTranslatedName, fmt.Sprintf("its translated name %q is a story-points name", f.Name)
	case variantNames[u]:
		return scoreVariant, fmt.Sprintf("its name %q is a close variant of Story Points", untranslated)
	case variantNames[n]:
		return scoreTranslatedVariant, fmt.Sprintf("its translated name %q is a close variant of Story Points", f.Name)
	}
	return 0, ""
}

// excludedName reports aggregate and time-tracking custom fields by their names.
func excludedName(f fieldInfo) bool {
	for _, name := range []string{f.Name, f.UntranslatedName} {
		n := normalizeName(name)
		if strings.ContainsAny(n, "σ∑") {
			return true
		}
		for _, w := range strings.Fields(n) {
			if excludedWords[w] {
				return true
			}
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown type"
	}
	return s
}

// siteFields returns the site's fields, fetched at most once per fieldsTTL.
func (c *Client) siteFields(ctx context.Context) ([]fieldInfo, error) {
	c.mu.Lock()
	if c.fields != nil && c.now().Sub(c.fieldsAt) < fieldsTTL {
		f := c.fields
		c.mu.Unlock()
		return f, nil
	}
	c.mu.Unlock()
	var fields []fieldInfo
	if err := c.call(ctx, "GET", "rest/api/2/field", nil, nil, &fields, "list the fields of "+c.base.Host); err != nil {
		return nil, err
	}
	if fields == nil {
		fields = []fieldInfo{}
	}
	c.mu.Lock()
	c.fields, c.fieldsAt = fields, c.now()
	c.mu.Unlock()
	return fields, nil
}

// forgetFields makes the next siteFields fetch again, after a write showed the cache stale.
func (c *Client) forgetFields() {
	c.mu.Lock()
	c.fields = nil
	c.mu.Unlock()
}

func (c *Client) editMeta(ctx context.Context, key string) (editMeta, error) {
	var m editMeta
	err := c.call(ctx, "GET", "rest/api/2/issue/"+key+"/editmeta", nil, nil, &m, "read the edit screen of "+key)
	return m, err
}

// board returns a board's configuration, fetched once per client: boards rarely change
// estimation settings within a planning session.
func (c *Client) board(ctx context.Context, id int) (boardConfig, error) {
	c.mu.Lock()
	b, ok := c.boards[id]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	err := c.call(ctx, "GET", "rest/agile/1.0/board/"+strconv.Itoa(id)+"/configuration", nil, nil, &b,
		fmt.Sprintf("read the configuration of board %d", id))
	if err != nil {
		return boardConfig{}, err
	}
	c.mu.Lock()
	c.boards[id] = b
	c.mu.Unlock()
	return b, nil
}

// project returns a project's details, fetched once per client.
func (c *Client) project(ctx context.Context, key string) (projectInfo, error) {
	key = strings.ToUpper(key)
	c.mu.Lock()
	p, ok := c.projects[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	if err := c.call(ctx, "GET", "rest/api/2/project/"+url.PathEscape(key), nil, nil, &p, "read project "+key); err != nil {
		return projectInfo{}, err
	}
	c.mu.Lock()
	c.projects[key] = p
	c.mu.Unlock()
	return p, nil
}

// issueFields is the part of an issue's fields that locates it.
type issueFields struct {
	Project   projectInfo `json:"project"`
	IssueType struct {
		Name string `json:"name"`
	} `json:"issuetype"`
}

// scope returns where an issue lives, from the memo of imported issues or from Jira.
func (c *Client) scope(ctx context.Context, key string) (issueScope, error) {
	c.mu.Lock()
	s, ok := c.issues[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	var issue struct {
		Key    string      `json:"key"`
		Fields issueFields `json:"fields"`
	}
	q := url.Values{"fields": {"project,issuetype"}}
	if err := c.call(ctx, "GET", "rest/api/2/issue/"+key, q, nil, &issue, "read issue "+key); err != nil {
		return issueScope{}, err
	}
	s, err := c.scopeOf(ctx, issue.Fields)
	if err != nil {
		return issueScope{}, err
	}
	c.remember(key, s)
	return s, nil
}

// scopeOf completes an issue's project and type with the project's kind, asking Jira only when
// the issue's project object does not say.
func (c *Client) scopeOf(ctx context.Context, f issueFields) (issueScope, error) {
	s := issueScope{Project: strings.ToUpper(f.Project.Key), IssueType: f.IssueType.Name}
	if tm, known := f.Project.teamManaged(); known {
		s.TeamManaged = tm
		return s, nil
	}
	if s.Project == "" {
		return s, nil
	}
	p, err := c.project(ctx, s.Project)
	if err != nil {
		return issueScope{}, err
	}
	s.TeamManaged, _ = p.teamManaged()
	return s, nil
}

// remember notes where an imported issue lives (project, type, kind of project), which saves
// the write-back a request. Which board it came from is not a fact of Jira but of the story: it
// travels with the story (session.WriteTarget), never in this memo.
func (c *Client) remember(key string, s issueScope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.issues) >= maxRemembered {
		c.issues = map[string]issueScope{}
	}
	c.issues[key] = s
}
