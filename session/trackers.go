package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Connection is a session's own connection to a tracker, entered by an organizer.
type Connection struct {
	SessionID string `json:"-"`
	Tracker   string `json:"tracker"`
	// Sealed holds the credentials encrypted; it is never sent anywhere.
	Sealed string `json:"-"`
	// Options are write-back options, not secret (label prefix, Jira field, comment fallback).
	Options   map[string]string `json:"options"`
	UpdatedAt time.Time         `json:"updated_at"`
	// Fields lists which credential fields are set, without their values, for the room.
	Fields []string `json:"fields"`
}

// tracker returns the tracker named source that imports by query, or an invalid-input error
// that lists the ones there are.
func (s *Service) tracker(source string) (Tracker, error) {
	t, ok := s.trackers.get(source)
	if !ok {
		names := s.trackers.queryable()
		if len(names) == 0 {
			return Tracker{}, invalid("source", "no tracker is set up on this server")
		}
		return Tracker{}, invalid("source", "unknown source %q: use %s", source, strings.Join(names, ", "))
	}
	return t, nil
}

// open returns the client of a tracker for a session: its own connection over the server's
// defaults, and the connection's options.
func (s *Service) open(ctx context.Context, sessionID string, t Tracker) (TrackerClient, map[string]string, error) {
	creds, options, err := s.connection(ctx, sessionID, t.Name)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.trackers.client(t, creds, s.now())
	if err != nil {
		return nil, nil, trackerErr(t.Name, err)
	}
	return c, options, nil
}

// trackerErr makes sure an adapter's failure reaches the room as an *Error: anything else is a
// failure on the way (a cancelled context, a reset connection), worth another try.
func trackerErr(name string, err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return &Error{Code: CodeUnavailable, Message: name + ": the tracker did not answer; try again", Err: err}
}

// list asks a tracker for one page and cleans its stories as an import stores them, so that a
// preview can be added as it is.
func (s *Service) list(ctx context.Context, c TrackerClient, source, query, cursor string) (ExternalPage, error) {
	page, err := c.List(ctx, query, cursor)
	if err != nil {
		err = trackerErr(source, err)
		var e *Error
		if errors.As(err, &e) && e.Code == CodeInvalid && e.Field == "" {
			e.Field = "query"
		}
		return ExternalPage{}, err
	}
	if page.Stories == nil {
		page.Stories = []ExternalStory{}
	}
	for i, es := range page.Stories {
		in := es.Input(source)
		page.Stories[i].Title, page.Stories[i].Description, page.Stories[i].URL = in.Title, in.Description, in.URL
		page.Stories[i].Estimate, page.Stories[i].Target = in.Estimate, in.Target
	}
	return page, nil
}

// SetConnection stores the session's credentials and options for a tracker, encrypted. Only
// organizers may. Credential fields given replace the stored ones; fields left out or blank keep
// theirs (so options can change alone, and a token can change without retyping the site).
func (s *Service) SetConnection(ctx context.Context, a Actor, tracker string, creds Credentials, options map[string]string) (*Connection, error) {
	sess, _, err := s.organizer(ctx, a, "connect trackers")
	if err != nil {
		return nil, err
	}
	if _, err := s.tracker(tracker); err != nil {
		return nil, err
	}
	for k, v := range options {
		if len(k) > 64 || len(v) > 200 {
			return nil, invalid("options", "option %q is too long", k)
		}
	}
	c, err := s.cfg.Store.Connection(ctx, sess.ID, tracker)
	if err != nil && ErrorCode(err) != CodeNotFound {
		return nil, internal("loading the connection", err)
	}
	if c == nil {
		c = &Connection{SessionID: sess.ID, Tracker: tracker}
	}
	// Fields given replace the stored ones and blank fields keep them, since the room never
	// shows a stored credential to edit: changing a Jira token must not forget the site.
	clean := Credentials{}
	for k, v := range creds {
		if len(k) > 64 || len(v) > 4096 {
			return nil, invalid("credentials", "credential %q is too long", k)
		}
		if v = strings.TrimSpace(v); v != "" {
			clean[k] = v
		}
	}
	if len(clean) > 0 {
		merged := Credentials{}
		if old, err := s.credentials(c); err == nil {
			for k, v := range old {
				merged[k] = v
			}
		}
		for k, v := range clean {
			merged[k] = v
		}
		b, _ := json.Marshal(merged)
		c.Sealed = s.cfg.Keys.Seal(string(b))
	}
	if options != nil {
		c.Options = options
	}
	c.UpdatedAt = s.now().UTC()
	if err := s.cfg.Store.SaveConnection(ctx, c); err != nil {
		return nil, internal("saving the connection", err)
	}
	return s.connectionView(c), nil
}

// Connections lists the session's tracker connections without their secrets. Only organizers may.
func (s *Service) Connections(ctx context.Context, a Actor) ([]*Connection, error) {
	sess, _, err := s.organizer(ctx, a, "see tracker connections")
	if err != nil {
		return nil, err
	}
	cs, err := s.cfg.Store.Connections(ctx, sess.ID)
	if err != nil {
		return nil, internal("loading connections", err)
	}
	out := make([]*Connection, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.connectionView(c))
	}
	return out, nil
}

// DeleteConnection forgets the session's credentials for a tracker. Only organizers may.
func (s *Service) DeleteConnection(ctx context.Context, a Actor, tracker string) error {
	sess, _, err := s.organizer(ctx, a, "remove tracker connections")
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteConnection(ctx, sess.ID, tracker); err != nil && ErrorCode(err) != CodeNotFound {
		return internal("removing the connection", err)
	}
	return nil
}

func (s *Service) connectionView(c *Connection) *Connection {
	v := *c
	v.Fields = []string{}
	if creds, err := s.credentials(c); err == nil {
		for k := range creds {
			v.Fields = append(v.Fields, k)
		}
	}
	return &v
}

func (s *Service) credentials(c *Connection) (Credentials, error) {
	if c == nil || c.Sealed == "" {
		return nil, nil
	}
	plain, err := s.cfg.Keys.Open(c.Sealed)
	if err != nil {
		return nil, err
	}
	var creds Credentials
	return creds, json.Unmarshal([]byte(plain), &creds)
}

// connection returns the session's credentials and options for a tracker (nil when none).
func (s *Service) connection(ctx context.Context, sessionID, tracker string) (Credentials, map[string]string, error) {
	c, err := s.cfg.Store.Connection(ctx, sessionID, tracker)
	if ErrorCode(err) == CodeNotFound {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, internal("loading the connection", err)
	}
	creds, err := s.credentials(c)
	if err != nil {
		return nil, nil, &Error{Code: CodeInvalid, Message: tracker + ": the stored credentials cannot be decrypted (was POKOR_SECRET_KEY changed?); enter them again"}
	}
	return creds, c.Options, nil
}

// PreviewImport returns the first page of stories a query selects, so an organizer can check it
// before importing. Only organizers may.
func (s *Service) PreviewImport(ctx context.Context, a Actor, source, query string) (ExternalPage, error) {
	sess, _, err := s.organizer(ctx, a, "import stories")
	if err != nil {
		return ExternalPage{}, err
	}
	t, err := s.tracker(source)
	if err != nil {
		return ExternalPage{}, err
	}
	c, _, err := s.open(ctx, sess.ID, t)
	if err != nil {
		return ExternalPage{}, err
	}
	return s.list(ctx, c, source, strings.TrimSpace(query), "")
}

// ImportResult says what an import did.
type ImportResult struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Query   string `json:"query"`
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	// Total is the number of matching stories when the tracker said, else -1.
	Total int `json:"total"`
}

// ImportProgress is the "import" event the room shows while an import runs.
type ImportProgress struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	State  string `json:"state"` // "running", "done" or "failed"
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	// Added and Updated split Done, so that the room can word the result in its own language.
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	Message string `json:"message,omitempty"`
}

// EvImport reports the progress of an import to the organizers.
const EvImport EventType = "import"

// Import adds every story a tracker query selects to the session, page by page; stories imported
// before are updated, not duplicated. Each page is stored as it arrives and reported to the
// organizers as an "import" event. Only organizers may.
func (s *Service) Import(ctx context.Context, a Actor, source, query string) (ImportResult, error) {
	sess, _, err := s.organizer(ctx, a, "import stories")
	if err != nil {
		return ImportResult{}, err
	}
	t, err := s.tracker(source)
	if err != nil {
		return ImportResult{}, err
	}
	query = strings.TrimSpace(query)
	if query == "" {
		return ImportResult{}, invalid("query", "say what to import from %s, for example: %s", t.Label, t.Query.Example)
	}
	c, _, err := s.open(ctx, sess.ID, t)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{ID: newID(), Source: source, Query: query, Total: -1}
	report := func(state, msg string) {
		s.publish(ctx, Event{Type: EvImport, SessionID: sess.ID, OrganizersOnly: true,
			Data: ImportProgress{ID: res.ID, Source: source, State: state, Done: res.Added + res.Updated, Total: res.Total,
				Added: res.Added, Updated: res.Updated, Message: msg}})
	}
	report("running", "")
	known := s.importedKeys(ctx, sess.ID, source)
	cursor := ""
	for {
		page, err := s.list(ctx, c, source, query, cursor)
		if err != nil {
			report("failed", ErrorMessage(err))
			return res, err
		}
		if page.Total >= 0 {
			res.Total = page.Total
		}
		if len(page.Stories) > 0 {
			if err := s.saveImported(ctx, a, source, page.Stories, known, &res); err != nil {
				report("failed", ErrorMessage(err))
				return res, err
			}
			report("running", "")
		}
		if page.Next == "" || page.Next == cursor {
			break
		}
		cursor = page.Next
	}
	if res.Added+res.Updated == 0 {
		msg := fmt.Sprintf("%s: no stories match %q", source, query)
		report("done", msg)
		return res, nil
	}
	report("done", fmt.Sprintf("imported %d new and updated %d stories from %s", res.Added, res.Updated, source))
	return res, nil
}

// StartImport runs Import in the background and returns at once; the room follows it through
// "import" events. Only organizers may.
func (s *Service) StartImport(ctx context.Context, a Actor, source, query string) error {
	if _, _, err := s.organizer(ctx, a, "import stories"); err != nil {
		return err
	}
	t, err := s.tracker(source)
	if err != nil {
		return err
	}
	if strings.TrimSpace(query) == "" {
		return invalid("query", "say what to import from %s, for example: %s", t.Label, t.Query.Example)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if _, err := s.Import(ctx, a, source, query); err != nil && ErrorCode(err) == CodeInternal {
			s.log.Error("import failed", "session", a.SessionID, "source", source, "err", err)
		}
	}()
	return nil
}

// Input returns the story as a StoryInput from source, cleaned so that it passes the checks of
// AddStories: line ends folded, control characters dropped, title and description cut to their
// limits (the key stands in for a missing title), a link that is not http(s) left out.
func (e ExternalStory) Input(source string) StoryInput {
	title := strings.Join(strings.Fields(printable(e.Title)), " ")
	if title == "" {
		title = strings.Join(strings.Fields(printable(e.Key)), " ")
	}
	in := StoryInput{
		Title:       clip(title, MaxTitleLen),
		Description: clip(strings.TrimSpace(printable(e.Description)), MaxDescriptionLen),
		Key:         strings.TrimSpace(e.Key),
		Target:      e.Target,
	}
	// An estimate that could not be a card (too long, several lines) is left out, not refused:
	// the story is worth importing without it.
	if est := strings.TrimSpace(printable(e.Estimate)); utf8.RuneCountInString(est) <= MaxCardLen && !strings.ContainsAny(est, "\n\t") {
		in.Estimate = est
	}
	if u, err := cleanURL(e.URL); err == nil {
		in.URL = u
	}
	if in.Key != "" {
		in.Source = source
	}
	return in
}

// printable folds CRLF and CR line ends to LF and drops the other control characters, which
// tracker texts carry (GitHub bodies end lines with CRLF) and cleanText refuses.
func printable(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
}

// clip cuts s to max runes, ending with "…" when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:max-1])) + "…"
}

// importedKeys returns the keys of the session's stories already imported from source.
func (s *Service) importedKeys(ctx context.Context, sessionID, source string) map[string]bool {
	known := map[string]bool{}
	if existing, err := s.cfg.Store.Stories(ctx, sessionID); err == nil {
		for _, st := range existing {
			if st.Source == source && st.ExternalKey != "" {
				known[st.ExternalKey] = true
			}
		}
	}
	return known
}

// saveImported stores one batch of imported stories and counts them in res as added or updated.
func (s *Service) saveImported(ctx context.Context, a Actor, source string, stories []ExternalStory, known map[string]bool, res *ImportResult) error {
	in := make([]StoryInput, 0, len(stories))
	for _, st := range stories {
		in = append(in, st.Input(source))
	}
	if _, err := s.AddStories(ctx, a, in); err != nil {
		return err
	}
	for _, st := range in {
		switch {
		case st.Key != "" && known[st.Key]:
			res.Updated++
		default:
			res.Added++
			if st.Key != "" {
				known[st.Key] = true
			}
		}
	}
	return nil
}

// ImportStories adds stories read from a file (a CSV upload) to the session, as from source;
// stories whose key was imported from the same source before are updated, not duplicated.
// Only organizers may.
func (s *Service) ImportStories(ctx context.Context, a Actor, source string, stories []ExternalStory) (ImportResult, error) {
	sess, _, err := s.organizer(ctx, a, "import stories")
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{ID: newID(), Source: source, Total: len(stories)}
	if len(stories) == 0 {
		return res, invalid("stories", "there are no stories to import")
	}
	if err := s.saveImported(ctx, a, source, stories, s.importedKeys(ctx, sess.ID, source), &res); err != nil {
		return res, err
	}
	return res, nil
}

// CheckConnection tests the session's connection to a tracker (or the server's defaults when
// the session has none) against target and returns what the tracker reported. Only organizers
// may.
func (s *Service) CheckConnection(ctx context.Context, a Actor, tracker, target string) (CheckReport, error) {
	sess, _, err := s.organizer(ctx, a, "test tracker connections")
	if err != nil {
		return CheckReport{}, err
	}
	t, err := s.tracker(tracker)
	if err != nil {
		return CheckReport{}, err
	}
	creds, _, err := s.connection(ctx, sess.ID, tracker)
	if err != nil {
		return CheckReport{}, err
	}
	c, err := s.trackers.client(t, creds, s.now())
	if err != nil {
		err = trackerErr(t.Name, err)
		return CheckReport{Provider: t.Name, Facts: []Fact{{Name: "credentials", Text: factText(t.Name, err)}}}, nil
	}
	return CheckWith(ctx, t.Name, c, strings.TrimSpace(target)), nil
}

// CheckTracker tests a tracker with creds over the server's defaults (nil: the defaults
// alone), as `pokor check` does. The report holds every failure as a fact; the error is set
// when the tracker could not be asked at all.
func CheckTracker(ctx context.Context, t Tracker, creds Credentials, target string) (CheckReport, error) {
	if t.Open == nil {
		return CheckReport{}, Errorf(CodeInvalid, "%s has no connection to check", t.Label)
	}
	c, err := t.Open(creds)
	if err != nil {
		err = trackerErr(t.Name, err)
		return CheckReport{Provider: t.Name, Facts: []Fact{{Name: "credentials", Text: factText(t.Name, err)}}}, err
	}
	r, err := c.Check(ctx, strings.TrimSpace(target))
	return fillReport(t.Name, r, err), trackerErr(t.Name, err)
}

// CheckWith runs a client's check and keeps its failure as a fact of the report.
func CheckWith(ctx context.Context, name string, c ConnectionChecker, target string) CheckReport {
	r, err := c.Check(ctx, target)
	return fillReport(name, r, trackerErr(name, err))
}

func fillReport(name string, r CheckReport, err error) CheckReport {
	if r.Provider == "" {
		r.Provider = name
	}
	if r.Facts == nil {
		r.Facts = []Fact{}
	}
	if err != nil {
		if len(r.Facts) == 0 || r.Facts[len(r.Facts)-1].OK {
			r.Facts = append(r.Facts, Fact{Name: "connection", Text: factText(name, err)})
		}
		r.OK = false
	}
	return r
}

// factText is an error as a fact of a report about name: its message without the "name: "
// the report already says.
func factText(name string, err error) string {
	return strings.TrimPrefix(ErrorMessage(err), name+": ")
}
