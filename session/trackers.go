package session

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ExternalStory is a story as a tracker lists it.
type ExternalStory struct {
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	Type        string `json:"type,omitempty"`
	Estimate    string `json:"estimate,omitempty"`
}

// ExternalPage is one page of a tracker's answer to a query.
type ExternalPage struct {
	Stories []ExternalStory `json:"stories"`
	// Next is the cursor of the next page, empty on the last one.
	Next string `json:"next,omitempty"`
	// Total is the number of matching stories when the tracker says, else -1.
	Total int `json:"total"`
}

// Credentials are the settings of a connection to a tracker ("token", "base_url", "email"...).
// They are stored sealed and never leave the server.
type Credentials map[string]string

// WriteBack is an accepted estimate on its way to a tracker.
type WriteBack struct {
	Value        string
	Deck         []string
	SessionTitle string
	SessionURL   string
	// Options are the session's write-back options for the tracker (label prefix, field...).
	Options map[string]string
}

// Trackers reaches the issue trackers; package integrations implements it over the adapters.
// Errors it returns are *Error with a message safe to show an organizer.
type Trackers interface {
	// Has reports whether a tracker of this name exists (its credentials may still be missing).
	Has(source string) bool
	// List returns the page after cursor of the stories matching query. creds is the session's
	// connection to the tracker, or nil for the server's default credentials.
	List(ctx context.Context, source string, creds Credentials, query, cursor string) (ExternalPage, error)
	// Write writes an accepted estimate to one item and says what it wrote.
	Write(ctx context.Context, source string, creds Credentials, key string, wb WriteBack) (string, error)
	// Retry tells whether a failed Write is worth another attempt, and the least wait the
	// tracker asked for.
	Retry(err error) (bool, time.Duration)
}

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

func (s *Service) trackers(source string) error {
	if s.cfg.Trackers == nil || !s.cfg.Trackers.Has(source) {
		return invalid("source", "unknown source %q: use github, jira or notion", source)
	}
	return nil
}

// SetConnection stores the session's credentials and options for a tracker, encrypted. Only
// organizers may. Credential fields given replace the stored ones; fields left out or blank keep
// theirs (so options can change alone, and a token can change without retyping the site).
func (s *Service) SetConnection(ctx context.Context, a Actor, tracker string, creds Credentials, options map[string]string) (*Connection, error) {
	sess, _, err := s.organizer(ctx, a, "connect trackers")
	if err != nil {
		return nil, err
	}
	if err := s.trackers(tracker); err != nil {
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
	if err := s.trackers(source); err != nil {
		return ExternalPage{}, err
	}
	creds, _, err := s.connection(ctx, sess.ID, source)
	if err != nil {
		return ExternalPage{}, err
	}
	return s.cfg.Trackers.List(ctx, source, creds, strings.TrimSpace(query), "")
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
	ID      string `json:"id"`
	Source  string `json:"source"`
	State   string `json:"state"` // "running", "done" or "failed"
	Done    int    `json:"done"`
	Total   int    `json:"total"`
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
	if err := s.trackers(source); err != nil {
		return ImportResult{}, err
	}
	query = strings.TrimSpace(query)
	if query == "" {
		return ImportResult{}, invalid("query", "say what to import from %s", source)
	}
	creds, _, err := s.connection(ctx, sess.ID, source)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{ID: newID(), Source: source, Query: query, Total: -1}
	report := func(state, msg string) {
		s.publish(ctx, Event{Type: EvImport, SessionID: sess.ID, OrganizersOnly: true,
			Data: ImportProgress{ID: res.ID, Source: source, State: state, Done: res.Added + res.Updated, Total: res.Total, Message: msg}})
	}
	report("running", "")
	known := s.importedKeys(ctx, sess.ID, source)
	cursor := ""
	for {
		page, err := s.cfg.Trackers.List(ctx, source, creds, query, cursor)
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
	if err := s.trackers(source); err != nil {
		return err
	}
	if strings.TrimSpace(query) == "" {
		return invalid("query", "say what to import from %s", source)
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

// TrackerChecker is implemented by Trackers that can test a connection, for the room's "Test
// connection" button.
type TrackerChecker interface {
	// Check tests the connection to a tracker with creds merged over the server's defaults,
	// against target (a repository, database, issue or project; empty for the credentials
	// alone). The report is JSON-encodable and holds no credential; the error, an *Error, is set
	// when the tracker could not be asked at all.
	Check(ctx context.Context, source string, creds Credentials, target string) (any, error)
}

// CheckConnection tests the session's connection to a tracker (or the server's defaults when
// the session has none) and returns what the tracker reported. Only organizers may.
func (s *Service) CheckConnection(ctx context.Context, a Actor, tracker, target string) (any, error) {
	sess, _, err := s.organizer(ctx, a, "test tracker connections")
	if err != nil {
		return nil, err
	}
	if err := s.trackers(tracker); err != nil {
		return nil, err
	}
	ch, ok := s.cfg.Trackers.(TrackerChecker)
	if !ok {
		return nil, Errorf(CodeInvalid, "%s connections cannot be tested on this server", tracker)
	}
	creds, _, err := s.connection(ctx, sess.ID, tracker)
	if err != nil {
		return nil, err
	}
	return ch.Check(ctx, tracker, creds, strings.TrimSpace(target))
}
