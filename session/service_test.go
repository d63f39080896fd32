package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// recorder is a room connection that keeps every byte it is sent.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) Send(msg []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, bytes.Clone(msg))
	return true
}

func (r *recorder) Kick(string) {}

// mark returns a position to read from later with since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// since returns every byte received after mark m.
func (r *recorder) since(m int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.msgs[m:], []byte("\n"))
}

type wireEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// events returns the data of the events of type typ received so far.
func (r *recorder) events(t *testing.T, typ session.EventType) []json.RawMessage {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []json.RawMessage
	for _, m := range r.msgs {
		var ev wireEvent
		if err := json.Unmarshal(m, &ev); err != nil {
			t.Fatalf("undecodable event %s: %v", m, err)
		}
		if ev.Type == string(typ) {
			out = append(out, ev.Data)
		}
	}
	return out
}

// clock is the service's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore counts the calls that change the store, to check that a refused request
// changed nothing.
type countingStore struct {
	session.Store
	writes atomic.Int64
}

func (c *countingStore) w() { c.writes.Add(1) }

func (c *countingStore) CreateSession(ctx context.Context, s *session.Session, o *session.Participant, h string) error {
	c.w()
	return c.Store.CreateSession(ctx, s, o, h)
}

func (c *countingStore) UpdateSession(ctx context.Context, s *session.Session) error {
	c.w()
	return c.Store.UpdateSession(ctx, s)
}

func (c *countingStore) AddParticipant(ctx context.Context, p *session.Participant, h string) error {
	c.w()
	return c.Store.AddParticipant(ctx, p, h)
}

func (c *countingStore) AddToken(ctx context.Context, id, h string) error {
	c.w()
	return c.Store.AddToken(ctx, id, h)
}

func (c *countingStore) UpdateParticipant(ctx context.Context, p *session.Participant) error {
	c.w()
	return c.Store.UpdateParticipant(ctx, p)
}

func (c *countingStore) RemoveParticipant(ctx context.Context, sid, id string) error {
	c.w()
	return c.Store.RemoveParticipant(ctx, sid, id)
}

func (c *countingStore) SaveStories(ctx context.Context, sid string, sts []*session.Story) error {
	c.w()
	return c.Store.SaveStories(ctx, sid, sts)
}

func (c *countingStore) UpdateStory(ctx context.Context, st *session.Story) error {
	c.w()
	return c.Store.UpdateStory(ctx, st)
}

func (c *countingStore) DeleteStory(ctx context.Context, sid, id string) error {
	c.w()
	return c.Store.DeleteStory(ctx, sid, id)
}

func (c *countingStore) ReorderStories(ctx context.Context, sid string, ids []string) error {
	c.w()
	return c.Store.ReorderStories(ctx, sid, ids)
}

func (c *countingStore) CastVote(ctx context.Context, v *session.Vote) error {
	c.w()
	return c.Store.CastVote(ctx, v)
}

// CastCurrentVote counts only a stored vote: a refused one changes nothing.
func (c *countingStore) CastCurrentVote(ctx context.Context, sid string, v *session.Vote) error {
	err := c.Store.CastCurrentVote(ctx, sid, v)
	if err == nil {
		c.w()
	}
	return err
}

func (c *countingStore) RetractVote(ctx context.Context, sid string, r int, pid string) error {
	c.w()
	return c.Store.RetractVote(ctx, sid, r, pid)
}

func (c *countingStore) Reveal(ctx context.Context, sid string, r int, at time.Time, anonymous bool) (bool, error) {
	c.w()
	return c.Store.Reveal(ctx, sid, r, at, anonymous)
}

func (c *countingStore) StartRound(ctx context.Context, sid string, r int, at time.Time) (bool, error) {
	c.w()
	return c.Store.StartRound(ctx, sid, r, at)
}

func (c *countingStore) Accept(ctx context.Context, sid string, r int, v string, wb *session.Outbox) (bool, error) {
	c.w()
	return c.Store.Accept(ctx, sid, r, v, wb)
}

func (c *countingStore) SaveConnection(ctx context.Context, conn *session.Connection) error {
	c.w()
	return c.Store.SaveConnection(ctx, conn)
}

func (c *countingStore) DeleteConnection(ctx context.Context, sid, tracker string) error {
	c.w()
	return c.Store.DeleteConnection(ctx, sid, tracker)
}

// env is a service over a real SQLite store and a real hub.
type env struct {
	svc   *session.Service
	store *countingStore
	hub   *session.Hub
	keys  *session.Keys
	clock *clock
}

func newEnv(t *testing.T, opts ...func(*session.Config)) *env {
	t.Helper()
	keys := mustKeys(t, testSecret)
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "pokor.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{store: &countingStore{Store: st}, hub: session.NewHub(), keys: keys,
		clock: &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}}
	cfg := session.Config{
		Store:    e.store,
		Bus:      session.LocalBus{Hub: e.hub},
		Presence: e.hub,
		Keys:     keys,
		BaseURL:  "https://poker.example.com",
		Logger:   slog.New(slog.DiscardHandler),
		Now:      e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.svc = session.NewService(cfg)
	e.hub.OnPresence(e.svc.PresenceChanged)
	return e
}

// member is a participant and what it acts with.
type member struct {
	session.Actor
	*session.Participant
	token string
}

func (e *env) create(t *testing.T, in session.CreateInput) (*session.Session, member) {
	t.Helper()
	if in.Organizer == "" {
		in.Organizer = "Olga"
	}
	sess, org, token, err := e.svc.CreateSession(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess, member{session.Actor{SessionID: sess.ID, ParticipantID: org.ID}, org, token}
}

func (e *env) join(t *testing.T, sessionID, name string, role session.Role) member {
	t.Helper()
	p, token, err := e.svc.Join(t.Context(), sessionID, session.JoinInput{Name: name, Role: role})
	if err != nil {
		t.Fatalf("Join %s: %v", name, err)
	}
	return member{session.Actor{SessionID: sessionID, ParticipantID: p.ID}, p, token}
}

// promote makes m an organizer, by org.
func (e *env) promote(t *testing.T, org, m member) {
	t.Helper()
	r := session.RoleOrganizer
	if _, err := e.svc.UpdateParticipant(t.Context(), org.Actor, m.ID, session.ParticipantInput{Role: &r}); err != nil {
		t.Fatalf("promoting %s: %v", m.Name, err)
	}
}

// connect opens a room connection for m that records what it is sent; leave closes it.
func (e *env) connect(t *testing.T, m member) (rec *recorder, leave func()) {
	t.Helper()
	p, err := e.store.Participant(t.Context(), m.Actor.SessionID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec = &recorder{}
	mem := &session.Member{Sub: rec, ParticipantID: m.ID}
	mem.SetRole(p.Role == session.RoleOrganizer, p.Status == session.StatusPending)
	leave = e.hub.Join(m.Actor.SessionID, mem)
	t.Cleanup(leave)
	return rec, leave
}

func (e *env) addStories(t *testing.T, org member, titles ...string) []*session.Story {
	t.Helper()
	in := make([]session.StoryInput, len(titles))
	for i, title := range titles {
		in[i] = session.StoryInput{Title: title}
	}
	sts, err := e.svc.AddStories(t.Context(), org.Actor, in)
	if err != nil {
		t.Fatalf("AddStories: %v", err)
	}
	return sts
}

func (e *env) vote(t *testing.T, m member, storyID string, in session.VoteInput) {
	t.Helper()
	if _, err := e.svc.Vote(t.Context(), m.Actor, storyID, in); err != nil {
		t.Fatalf("%s votes %s: %v", m.Name, in.Card, err)
	}
}

func (e *env) story(t *testing.T, sessionID, id string) *session.Story {
	t.Helper()
	st, err := e.store.Story(t.Context(), sessionID, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *env) session(t *testing.T, id string) *session.Session {
	t.Helper()
	s, err := e.store.Session(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roundVotes returns the stored votes of a story's current round as participant id → card.
func (e *env) roundVotes(t *testing.T, sessionID, storyID string) map[string]string {
	t.Helper()
	st := e.story(t, sessionID, storyID)
	vs, err := e.store.Votes(t.Context(), st.ID, st.Round)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range vs {
		out[v.ParticipantID] = v.Card
	}
	return out
}

func card(c string) session.VoteInput { return session.VoteInput{Card: c} }

func ref[T any](v T) *T { return &v }

// quoted returns each string as a JSON string, so that a search cannot match inside a random id.
func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + s + `"`
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundStateMachine(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Title: "Sprint 42"})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", session.RoleVoter)
	sts := e.addStories(t, org, "A", "B", "C")
	a, b := sts[0], sts[1]
	if cur := e.session(t, sess.ID).CurrentStoryID; cur != a.ID {
		t.Fatalf("current story = %q, want the first added", cur)
	}
	rec, _ := e.connect(t, ann)

	e.vote(t, ann, a.ID, card("3"))
	e.vote(t, bob, a.ID, card("5"))
	_, err := e.svc.Vote(ctx, ann.Actor, b.ID, card("3"))
	wantError(t, err, session.CodeConflict, "another story")
	_, err = e.svc.Accept(ctx, org.Actor, a.ID, "5")
	wantError(t, err, session.CodeConflict, "reveal the votes")
	_, err = e.svc.Revote(ctx, org.Actor, a.ID)
	wantError(t, err, session.CodeConflict, "still open")

	view, err := e.svc.Reveal(ctx, org.Actor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if view.RoundState != session.RoundRevealed || len(view.Votes) != 2 || view.Stats == nil || *view.Stats.Average != 4 {
		t.Errorf("revealed view = %+v", view)
	}
	again, err := e.svc.Reveal(ctx, org.Actor, a.ID)
	if err != nil || len(again.Votes) != 2 {
		t.Errorf("revealing twice = %+v, %v; want the same result", again, err)
	}
	if n := len(rec.events(t, session.EvRevealed)); n != 1 {
		t.Errorf("%d revealed events after revealing twice, want 1", n)
	}
	_, err = e.svc.Vote(ctx, ann.Actor, a.ID, card("8"))
	wantError(t, err, session.CodeConflict, "revealed")

	st, err := e.svc.Revote(ctx, org.Actor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Round != 2 || st.RoundState != session.RoundVoting {
		t.Errorf("after a re-vote: round %d %s", st.Round, st.RoundState)
	}
	if n := len(rec.events(t, session.EvRound)); n != 1 {
		t.Errorf("%d round events, want 1", n)
	}
	e.vote(t, ann, a.ID, card("5"))
	e.vote(t, bob, a.ID, session.VoteInput{Card: "5", Confidence: session.ConfidenceHigh, Rationale: "same as last sprint"})

	hist, err := e.svc.History(ctx, ann.Actor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("history has %d rounds, want 2", len(hist))
	}
	if h := hist[0]; h.Number != 1 || h.State != session.RoundRevealed || len(h.Votes) != 2 || h.Stats == nil || h.RevealedAt == nil {
		t.Errorf("round 1 in history: %+v", h)
	}
	wantVoters := []string{ann.ID, bob.ID}
	slices.Sort(wantVoters)
	got := slices.Sorted(slices.Values(hist[1].Voters))
	if h := hist[1]; h.Number != 2 || h.State != session.RoundVoting || h.Votes != nil || h.Stats != nil || !slices.Equal(got, wantVoters) {
		t.Errorf("round 2 in history before reveal: %+v", h)
	}

	view, err = e.svc.Reveal(ctx, org.Actor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !view.Stats.Consensus || view.Stats.Suggestion != "5" {
		t.Errorf("round 2 stats: %+v", view.Stats)
	}
	for bad, msg := range map[string]string{"?": `"?" is not an estimate`, "☕": `"☕" is not an estimate`,
		"huge": `"huge" is not an estimate`, "": "value must not be empty", "123456789": "value is 9 characters long"} {
		_, err := e.svc.Accept(ctx, org.Actor, a.ID, bad)
		wantError(t, err, session.CodeInvalid, msg)
	}
	accepted, err := e.svc.Accept(ctx, org.Actor, a.ID, "5")
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Status != session.StoryEstimated || accepted.Estimate != "5" {
		t.Errorf("accepted story: %+v", accepted)
	}
	if cur := e.session(t, sess.ID).CurrentStoryID; cur != b.ID {
		t.Errorf("current story after accepting A = %q, want B %q", cur, b.ID)
	}
	if n := len(rec.events(t, session.EvAccepted)); n != 1 {
		t.Errorf("%d accepted events, want 1", n)
	}
	hist, _ = e.svc.History(ctx, ann.Actor, a.ID)
	if len(hist) != 2 || hist[1].State != session.RoundRevealed || len(hist[1].Votes) != 2 {
		t.Errorf("history after accepting: %+v", hist)
	}
	// A number that is not a card may be accepted (teams split the difference).
	e.vote(t, ann, b.ID, card("3"))
	if _, err := e.svc.Reveal(ctx, org.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := e.svc.Accept(ctx, org.Actor, b.ID, "4"); err != nil || st.Estimate != "4" {
		t.Errorf("accepting 4: %+v, %v", st, err)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{})
	ann := e.join(t, sess.ID, "Ann", session.RoleVoter)
	sam := e.join(t, sess.ID, "Sam", session.RoleSpectator)
	sts := e.addStories(t, org, "A", "B")
	a, b := sts[0], sts[1]
	e.vote(t, ann, a.ID, card("3"))

	organizerOnly := map[string]func(m member) error{
		"reveal":  func(m member) error { _, err := e.svc.Reveal(ctx, m.Actor, a.ID); return err },
		"accept":  func(m member) error { _, err := e.svc.Accept(ctx, m.Actor, a.ID, "3"); return err },
		"re-vote": func(m member) error { _, err := e.svc.Revote(ctx, m.Actor, a.ID); return err },
		"reorder": func(m member) error { return e.svc.ReorderStories(ctx, m.Actor, []string{b.ID, a.ID}) },
		"remove a participant": func(m member) error {
			return e.svc.RemoveParticipant(ctx, m.Actor, org.ID)
		},
		"remove a story": func(m member) error { return e.svc.RemoveStory(ctx, m.Actor, a.ID) },
		"add stories": func(m member) error {
			_, err := e.svc.AddStories(ctx, m.Actor, []session.StoryInput{{Title: "X"}})
			return err
		},
		"edit a story": func(m member) error {
			_, err := e.svc.UpdateStory(ctx, m.Actor, a.ID, session.StoryInput{Title: "X"})
			return err
		},
		"pick the story": func(m member) error { _, err := e.svc.SelectStory(ctx, m.Actor, b.ID); return err },
		"change settings": func(m member) error {
			_, err := e.svc.UpdateSession(ctx, m.Actor, session.SettingsInput{Settings: &session.Settings{AutoReveal: true}})
			return err
		},
		"rename the session": func(m member) error {
			_, err := e.svc.UpdateSession(ctx, m.Actor, session.SettingsInput{Title: ref("Mine")})
			return err
		},
		"rename someone else": func(m member) error {
			other := ann.ID
			if m.ID == ann.ID {
				other = sam.ID
			}
			_, err := e.svc.UpdateParticipant(ctx, m.Actor, other, session.ParticipantInput{Name: ref("X")})
			return err
		},
		"promote themself": func(m member) error {
			_, err := e.svc.UpdateParticipant(ctx, m.Actor, m.ID, session.ParticipantInput{Role: ref(session.RoleOrganizer)})
			return err
		},
		"admit": func(m member) error { _, err := e.svc.Admit(ctx, m.Actor, ann.ID, true); return err },
		"end the session": func(m member) error {
			_, err := e.svc.CloseSession(ctx, m.Actor)
			return err
		},
	}
	for _, m := range []member{ann, sam} {
		for name, act := range organizerOnly {
			t.Run(string(m.Role)+" cannot "+name, func(t *testing.T) {
				before := e.store.writes.Load()
				wantError(t, act(m), session.CodeForbidden)
				if after := e.store.writes.Load(); after != before {
					t.Errorf("a refused request wrote to the store %d times", after-before)
				}
			})
		}
	}
	if st := e.story(t, sess.ID, a.ID); st.RoundState != session.RoundVoting || st.Title != "A" {
		t.Errorf("story A changed by refused requests: %+v", st)
	}

	_, err := e.svc.Vote(ctx, sam.Actor, a.ID, card("5"))
	wantError(t, err, session.CodeForbidden, "spectators")
	if votes := e.roundVotes(t, sess.ID, a.ID); len(votes) != 1 {
		t.Errorf("votes after a spectator tried: %v", votes)
	}

	// Organizers promote, rename, demote and remove.
	e.promote(t, org, ann)
	if _, err := e.svc.Reveal(ctx, ann.Actor, a.ID); err != nil {
		t.Errorf("a promoted organizer reveals: %v", err)
	}
	p, err := e.svc.UpdateParticipant(ctx, org.Actor, sam.ID, session.ParticipantInput{Name: ref("Samantha"), Role: ref(session.RoleVoter)})
	if err != nil || p.Name != "Samantha" || p.Role != session.RoleVoter {
		t.Errorf("renaming and making Sam a voter: %+v, %v", p, err)
	}
	p, err = e.svc.UpdateParticipant(ctx, org.Actor, ann.ID, session.ParticipantInput{Role: ref(session.RoleVoter)})
	if err != nil || p.Role != session.RoleVoter {
		t.Errorf("demoting Ann: %+v, %v", p, err)
	}

	// The last organizer can be neither demoted nor removed.
	_, err = e.svc.UpdateParticipant(ctx, org.Actor, org.ID, session.ParticipantInput{Role: ref(session.RoleVoter)})
	wantError(t, err, session.CodeConflict, "organizer")
	wantError(t, e.svc.RemoveParticipant(ctx, org.Actor, org.ID), session.CodeConflict, "organizer")
	if p, _ := e.store.Participant(ctx, sess.ID, org.ID); p.Role != session.RoleOrganizer || p.Status != session.StatusActive {
		t.Errorf("the last organizer is now %s %s", p.Role, p.Status)
	}

	// With another organizer, the first may leave; then it can do nothing more.
	e.promote(t, org, ann)
	if err := e.svc.RemoveParticipant(ctx, org.Actor, org.ID); err != nil {
		t.Fatalf("an organizer leaves while another stays: %v", err)
	}
	_, err = e.svc.Reveal(ctx, org.Actor, b.ID)
	wantError(t, err, session.CodeForbidden, "removed")
	_, err = e.svc.Authenticate(ctx, sess.ID, org.token)
	wantError(t, err, session.CodeForbidden)

	if err := e.svc.RemoveParticipant(ctx, ann.Actor, sam.ID); err != nil {
		t.Fatalf("removing Sam: %v", err)
	}
	_, err = e.svc.Vote(ctx, sam.Actor, b.ID, card("5"))
	wantError(t, err, session.CodeForbidden, "removed")
	_, err = e.svc.Snapshot(ctx, sam.Actor)
	wantError(t, err, session.CodeForbidden)
	ps, _ := e.store.Participants(ctx, sess.ID)
	if len(ps) != 1 || ps[0].ID != ann.ID {
		t.Errorf("participants left: %+v", ps)
	}
	wantError(t, e.svc.RemoveParticipant(ctx, ann.Actor, ann.ID), session.CodeConflict, "organizer")
}

func TestPendingParticipants(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{RequireApproval: true, AllowSpectators: true}})
	st := e.addStories(t, org, "A")[0]
	orgRec, _ := e.connect(t, org)

	pat := e.join(t, sess.ID, "Pat", "")
	if pat.Status != session.StatusPending {
		t.Fatalf("joined as %s, want pending", pat.Status)
	}
	patRec, _ := e.connect(t, pat)
	if n := len(orgRec.events(t, session.EvParticipant)); n != 1 {
		t.Errorf("organizers got %d participant events for a pending joiner, want 1", n)
	}

	waiting := map[string]func() error{
		"vote": func() error { _, err := e.svc.Vote(ctx, pat.Actor, st.ID, card("5")); return err },
		"rename": func() error {
			_, err := e.svc.UpdateParticipant(ctx, pat.Actor, pat.ID, session.ParticipantInput{Name: ref("P")})
			return err
		},
		"history": func() error { _, err := e.svc.History(ctx, pat.Actor, st.ID); return err },
		"export":  func() error { _, err := e.svc.ExportSession(ctx, pat.Actor); return err },
		"throw":   func() error { return e.svc.Throw(ctx, pat.Actor, org.ID, "👍") },
	}
	for name, act := range waiting {
		t.Run("pending cannot "+name, func(t *testing.T) {
			before := e.store.writes.Load()
			wantError(t, act(), session.CodeForbidden, "admitted")
			if e.store.writes.Load() != before {
				t.Error("a refused request wrote to the store")
			}
		})
	}
	snap, err := e.svc.Snapshot(ctx, pat.Actor)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Session.ID != sess.ID || snap.Me.ID != pat.ID || len(snap.Participants) != 0 || len(snap.Stories) != 0 {
		t.Errorf("a pending participant's snapshot shows more than the session and itself: %+v", snap)
	}

	p, err := e.svc.Admit(ctx, org.Actor, pat.ID, true)
	if err != nil || p.Status != session.StatusActive {
		t.Fatalf("Admit: %+v, %v", p, err)
	}
	if got := patRec.events(t, session.EvAdmission); len(got) != 1 || !strings.Contains(string(got[0]), `"admitted":true`) {
		t.Errorf("the admitted participant was told %s", got)
	}
	_, err = e.svc.Admit(ctx, org.Actor, pat.ID, true)
	wantError(t, err, session.CodeConflict, "not waiting")
	e.vote(t, pat, st.ID, card("5"))
	patRec, _ = e.connect(t, pat) // reconnects as an active participant

	den := e.join(t, sess.ID, "Den the Pending", session.RoleSpectator)
	denRec, _ := e.connect(t, den)
	if strings.Contains(string(patRec.since(0)), "Den the Pending") {
		t.Error("a voter learned of a participant still waiting for approval")
	}
	p, err = e.svc.Admit(ctx, org.Actor, den.ID, false)
	if err != nil || p.Status != session.StatusRemoved {
		t.Fatalf("denying: %+v, %v", p, err)
	}
	if got := denRec.events(t, session.EvAdmission); len(got) != 1 || !strings.Contains(string(got[0]), `"admitted":false`) {
		t.Errorf("the denied participant was told %s", got)
	}
	_, err = e.svc.Authenticate(ctx, sess.ID, den.token)
	wantError(t, err, session.CodeForbidden)
	_, err = e.svc.Snapshot(ctx, den.Actor)
	wantError(t, err, session.CodeForbidden)
	ps, _ := e.store.Participants(ctx, sess.ID)
	for _, p := range ps {
		if p.ID == den.ID {
			t.Errorf("a denied participant is still listed: %+v", p)
		}
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{})
	ann := e.join(t, sess.ID, "Ann", "")
	a := e.addStories(t, org, "A", "B")[0]
	e.vote(t, ann, a.ID, session.VoteInput{Card: "3", Rationale: "small"})

	closedSess, closedOrg := e.create(t, session.CreateInput{Title: "Revealed"})
	cy := e.join(t, closedSess.ID, "Cy", "")
	r := e.addStories(t, closedOrg, "R")[0]
	e.vote(t, cy, r.ID, card("5"))
	if _, err := e.svc.Reveal(ctx, closedOrg.Actor, r.ID); err != nil {
		t.Fatal(err)
	}

	state := func() string {
		t.Helper()
		var b strings.Builder
		for _, id := range []string{sess.ID, closedSess.ID} {
			ex, err := e.svc.ExportByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(mustJSON(t, ex))
		}
		b.Write(mustJSON(t, e.roundVotes(t, sess.ID, a.ID)))
		b.Write(mustJSON(t, e.roundVotes(t, closedSess.ID, r.ID)))
		return b.String()
	}

	tests := []struct {
		name string
		do   func() error
		code session.Code
		msg  []string
	}{
		{"join with an empty name", func() error { _, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: ""}); return err },
			session.CodeInvalid, []string{"name must not be empty"}},
		{"join with a blank name", func() error { _, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: " \t "}); return err },
			session.CodeInvalid, []string{"name must not be empty"}},
		{"join with a 200-character name", func() error {
			_, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: strings.Repeat("n", 200)})
			return err
		}, session.CodeInvalid, []string{"name is 200 characters long", "limit is 40"}},
		{"join with a two-line name", func() error { _, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: "Ann\nBob"}); return err },
			session.CodeInvalid, []string{"name", "single line"}},
		{"join with a control character", func() error { _, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: "An\x07n"}); return err },
			session.CodeInvalid, []string{"name", "control characters"}},
		{"join as an organizer", func() error {
			_, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: "Eve", Role: session.RoleOrganizer})
			return err
		}, session.CodeInvalid, []string{"role must be voter or spectator"}},
		{"create with a custom deck of 100 cards", func() error {
			_, _, _, err := e.svc.CreateSession(ctx, session.CreateInput{Organizer: "Olga", Deck: session.DeckCustom, Cards: numberedCards(100)})
			return err
		}, session.CodeInvalid, []string{"at most 30 cards", "100"}},
		{"create with a 9-character card", func() error {
			_, _, _, err := e.svc.CreateSession(ctx, session.CreateInput{Organizer: "Olga", Deck: session.DeckCustom, Cards: []string{"1", "123456789"}})
			return err
		}, session.CodeInvalid, []string{`"123456789"`, "longer than 8"}},
		{"create with an unknown deck", func() error {
			_, _, _, err := e.svc.CreateSession(ctx, session.CreateInput{Organizer: "Olga", Deck: "tarot"})
			return err
		}, session.CodeInvalid, []string{`"tarot"`}},
		{"create without an organizer name", func() error {
			_, _, _, err := e.svc.CreateSession(ctx, session.CreateInput{Title: "T"})
			return err
		}, session.CodeInvalid, []string{"name must not be empty"}},
		{"create with a 201-character title", func() error {
			_, _, _, err := e.svc.CreateSession(ctx, session.CreateInput{Organizer: "Olga", Title: strings.Repeat("t", 201)})
			return err
		}, session.CodeInvalid, []string{"title is 201 characters long"}},
		{"vote an unknown card", func() error { _, err := e.svc.Vote(ctx, ann.Actor, a.ID, card("42")); return err },
			session.CodeInvalid, []string{`"42" is not a card`}},
		{"vote a bad confidence", func() error {
			_, err := e.svc.Vote(ctx, ann.Actor, a.ID, session.VoteInput{Card: "5", Confidence: "very"})
			return err
		}, session.CodeInvalid, []string{"confidence must be low, medium or high"}},
		{"vote with a 300-character rationale", func() error {
			_, err := e.svc.Vote(ctx, ann.Actor, a.ID, session.VoteInput{Card: "5", Rationale: strings.Repeat("r", 300)})
			return err
		}, session.CodeInvalid, []string{"rationale is 300 characters long", "limit is 280"}},
		{"vote on a revealed round", func() error { _, err := e.svc.Vote(ctx, cy.Actor, r.ID, card("8")); return err },
			session.CodeConflict, []string{"revealed"}},
		{"retract on a revealed round", func() error { return e.svc.RetractVote(ctx, cy.Actor, r.ID) },
			session.CodeConflict, []string{"revealed"}},
		{"vote on an unknown story", func() error { _, err := e.svc.Vote(ctx, ann.Actor, "nope", card("5")); return err },
			session.CodeConflict, []string{"another story"}},
		{"accept an abstention", func() error { _, err := e.svc.Accept(ctx, closedOrg.Actor, r.ID, "?"); return err },
			session.CodeInvalid, []string{`"?" is not an estimate`}},
		{"add a story without a title", func() error {
			_, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{{Title: "  "}})
			return err
		}, session.CodeInvalid, []string{"title must not be empty"}},
		{"add a story with a script link", func() error {
			_, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{{Title: "X", URL: "javascript:alert(1)"}})
			return err
		}, session.CodeInvalid, []string{"http:// or https://"}},
		{"add two stories, the second bad", func() error {
			_, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{{Title: "Fine"}, {Title: ""}})
			return err
		}, session.CodeInvalid, []string{"story 2", "title must not be empty"}},
		{"add no stories", func() error { _, err := e.svc.AddStories(ctx, org.Actor, nil); return err },
			session.CodeInvalid, []string{"no stories"}},
		{"reorder with an unknown story", func() error { return e.svc.ReorderStories(ctx, org.Actor, []string{a.ID, "nope"}) },
			session.CodeInvalid, []string{`"nope" is not in this session`}},
		{"reorder with a story twice", func() error { return e.svc.ReorderStories(ctx, org.Actor, []string{a.ID, a.ID}) },
			session.CodeInvalid, []string{"listed twice"}},
		{"reorder leaving a story out", func() error { return e.svc.ReorderStories(ctx, org.Actor, []string{a.ID}) },
			session.CodeInvalid, []string{"list every story"}},
		{"rename to nothing", func() error {
			_, err := e.svc.UpdateParticipant(ctx, ann.Actor, ann.ID, session.ParticipantInput{Name: ref("")})
			return err
		}, session.CodeInvalid, []string{"name must not be empty"}},
		{"rename the session to 201 characters", func() error {
			_, err := e.svc.UpdateSession(ctx, org.Actor, session.SettingsInput{Title: ref(strings.Repeat("t", 201))})
			return err
		}, session.CodeInvalid, []string{"title is 201 characters long"}},
		{"throw an unknown emoji", func() error { return e.svc.Throw(ctx, ann.Actor, org.ID, "💩") },
			session.CodeInvalid, []string{"emoji must be one of"}},
		{"select an unknown story", func() error { _, err := e.svc.SelectStory(ctx, org.Actor, "nope"); return err },
			session.CodeNotFound, []string{"story not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, writes := state(), e.store.writes.Load()
			wantError(t, tt.do(), tt.code, tt.msg...)
			if w := e.store.writes.Load(); w != writes {
				t.Errorf("a refused request wrote to the store %d times", w-writes)
			}
			if after := state(); after != before {
				t.Errorf("a refused request changed the session:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestVoteSecrecy records every byte each room connection receives: before reveal nobody
// receives another participant's card or rationale; after reveal everyone does.
func TestVoteSecrecy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Deck: session.DeckCustom, Cards: []string{"c7x", "q9z", "k3m", "w5v", "?"}})
	vera := e.join(t, sess.ID, "Vera", "")
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	cy := e.join(t, sess.ID, "Cy", "")
	st := e.addStories(t, org, "Secret story")[0]

	everyone := []member{org, vera, ann, bob, cy}
	recs := map[string]*recorder{}
	marks := map[string]int{}
	for _, m := range everyone {
		recs[m.ID], _ = e.connect(t, m)
		marks[m.ID] = recs[m.ID].mark()
	}
	secrets := map[string][]string{ // what each participant's vote holds
		vera.ID: {"w5v", "rationale-vera-1"},
		ann.ID:  {"c7x", "rationale-ann-2"},
		bob.ID:  {"q9z", "rationale-bob-3"},
		cy.ID:   {"k3m", "rationale-cy-4"},
	}
	e.vote(t, ann, st.ID, session.VoteInput{Card: "q9z", Rationale: "changed my mind"})
	for _, m := range []member{vera, ann, bob, cy} {
		e.vote(t, m, st.ID, session.VoteInput{Card: secrets[m.ID][0], Confidence: session.ConfidenceLow, Rationale: secrets[m.ID][1]})
	}
	if _, err := e.svc.UpdateStory(ctx, org.Actor, st.ID, session.StoryInput{Title: "Secret story, edited"}); err != nil {
		t.Fatal(err)
	}

	for _, m := range everyone {
		got := recs[m.ID].since(marks[m.ID])
		for owner, sec := range secrets {
			if owner == m.ID {
				continue
			}
			for _, s := range quoted(sec) {
				if bytes.Contains(got, []byte(s)) {
					t.Errorf("before reveal, %s received %s of another participant", m.Name, s)
				}
			}
		}
		if bytes.Contains(got, []byte("changed my mind")) {
			t.Errorf("before reveal, %s received a replaced rationale", m.Name)
		}
		voted := map[string]bool{}
		for _, d := range recs[m.ID].events(t, session.EvVoted) {
			var v struct {
				ParticipantID string `json:"participant_id"`
			}
			_ = json.Unmarshal(d, &v)
			voted[v.ParticipantID] = true
		}
		if len(voted) != 4 {
			t.Errorf("%s learned that %d participants voted, want 4", m.Name, len(voted))
		}
	}

	for _, m := range everyone {
		snap, err := e.svc.Snapshot(ctx, m.Actor)
		if err != nil {
			t.Fatal(err)
		}
		own, voted := secrets[m.ID]
		if voted && (len(snap.MyVotes) != 1 || snap.MyVotes[st.ID].Card != own[0] || snap.MyVotes[st.ID].Rationale != own[1]) {
			t.Errorf("%s's snapshot has my_votes %+v, want its own vote only", m.Name, snap.MyVotes)
		}
		if !voted && len(snap.MyVotes) != 0 {
			t.Errorf("%s did not vote but its snapshot has my_votes %+v", m.Name, snap.MyVotes)
		}
		if len(snap.Stories) != 1 || snap.Stories[0].Votes != nil || snap.Stories[0].Stats != nil || len(snap.Stories[0].Voters) != 4 {
			t.Errorf("%s's snapshot story before reveal: %+v", m.Name, snap.Stories)
		}
		raw := mustJSON(t, snap)
		for owner, sec := range secrets {
			// The deck lists every card once; the viewer's own vote adds its card once more.
			wantCard, wantRationale := 1, 0
			if owner == m.ID {
				wantCard, wantRationale = 2, 1
			}
			if n := bytes.Count(raw, []byte(`"`+sec[0]+`"`)); n != wantCard {
				t.Errorf("%s's snapshot holds %q %d times, want %d", m.Name, sec[0], n, wantCard)
			}
			if n := bytes.Count(raw, []byte(sec[1])); n != wantRationale {
				t.Errorf("%s's snapshot holds %q %d times, want %d", m.Name, sec[1], n, wantRationale)
			}
		}
	}

	if _, err := e.svc.Reveal(ctx, org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range everyone {
		if n := len(recs[m.ID].events(t, session.EvRevealed)); n != 1 {
			t.Errorf("%s received %d revealed events, want 1", m.Name, n)
		}
		got := recs[m.ID].since(marks[m.ID])
		for _, sec := range secrets {
			for _, s := range quoted(sec) {
				if !bytes.Contains(got, []byte(s)) {
					t.Errorf("after reveal, %s has not received %s", m.Name, s)
				}
			}
		}
	}
	snap, err := e.svc.Snapshot(ctx, vera.Actor)
	if err != nil {
		t.Fatal(err)
	}
	if votes := snap.Stories[0].Votes; len(votes) != 4 {
		t.Errorf("snapshot after reveal has votes %+v", votes)
	}
}

func TestAnonymousReveal(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{Anonymous: true}})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	st := e.addStories(t, org, "A")[0]
	rec, _ := e.connect(t, ann)
	e.vote(t, ann, st.ID, session.VoteInput{Card: "3", Rationale: "quick"})
	e.clock.Add(time.Minute)
	e.vote(t, bob, st.ID, session.VoteInput{Card: "13", Rationale: "risky"})

	view, err := e.svc.Reveal(ctx, org.Actor, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Who voted was public before the reveal, so the order in which votes were cast would tell
	// who voted what: neither the voter nor the time of a vote may show.
	checkAnonymous := func(where string, votes []session.Vote) {
		t.Helper()
		if len(votes) != 2 {
			t.Errorf("%s: %d votes, want 2", where, len(votes))
		}
		for _, v := range votes {
			if v.ParticipantID != "" || !v.CastAt.IsZero() {
				t.Errorf("%s: an anonymous vote shows its voter or its time: %+v", where, v)
			}
		}
	}
	checkAnonymous("Reveal", view.Votes)
	if view.Stats == nil || view.Stats.Votes != 2 {
		t.Errorf("anonymous stats: %+v", view.Stats)
	}

	evs := rec.events(t, session.EvRevealed)
	if len(evs) != 1 {
		t.Fatalf("%d revealed events", len(evs))
	}
	var data struct {
		Votes []json.RawMessage `json:"votes"`
	}
	if err := json.Unmarshal(evs[0], &data); err != nil {
		t.Fatal(err)
	}
	for _, v := range data.Votes {
		if bytes.Contains(v, []byte(ann.ID)) || bytes.Contains(v, []byte(bob.ID)) || bytes.Contains(v, []byte("participant_id")) {
			t.Errorf("a revealed anonymous vote names its voter: %s", v)
		}
	}
	snap, err := e.svc.Snapshot(ctx, ann.Actor)
	if err != nil {
		t.Fatal(err)
	}
	checkAnonymous("Snapshot", snap.Stories[0].Votes)
	hist, err := e.svc.History(ctx, ann.Actor, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkAnonymous("History", hist[0].Votes)
	ex, err := e.svc.ExportSession(ctx, ann.Actor)
	if err != nil {
		t.Fatal(err)
	}
	checkAnonymous("Export", ex.Stories[0].Rounds[0].Votes)
}

func TestConcurrentRevealPublishesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, olga := e.create(t, session.CreateInput{})
	oscar := e.join(t, sess.ID, "Oscar", "")
	e.promote(t, olga, oscar)
	ann := e.join(t, sess.ID, "Ann", "")
	st := e.addStories(t, olga, "A")[0]
	rec, _ := e.connect(t, ann)

	for round := 1; round <= 5; round++ {
		e.vote(t, ann, st.ID, card("5"))
		start := make(chan struct{})
		var wg sync.WaitGroup
		views := make([]session.StoryView, 2)
		errs := make([]error, 2)
		for i, org := range []member{olga, oscar} {
			wg.Go(func() {
				<-start
				views[i], errs[i] = e.svc.Reveal(ctx, org.Actor, st.ID)
			})
		}
		close(start)
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil || views[i].RoundState != session.RoundRevealed || len(views[i].Votes) != 1 {
				t.Errorf("round %d, reveal %d: %+v, %v", round, i, views[i], errs[i])
			}
		}
		if n := len(rec.events(t, session.EvRevealed)); n != round {
			t.Fatalf("after %d rounds revealed by two organizers at once, %d revealed events; want one per round", round, n)
		}
		if _, err := e.svc.Revote(ctx, olga.Actor, st.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAutoReveal(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{AutoReveal: true, AllowSpectators: true}})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	cy := e.join(t, sess.ID, "Cy", "")
	sam := e.join(t, sess.ID, "Sam", session.RoleSpectator)
	st := e.addStories(t, org, "A")[0]
	rec, _ := e.connect(t, ann)
	e.connect(t, bob)
	e.connect(t, org)
	e.connect(t, sam)
	// Cy is not connected.

	state := func() session.RoundState { t.Helper(); return e.story(t, sess.ID, st.ID).RoundState }
	e.vote(t, ann, st.ID, card("3"))
	if state() != session.RoundVoting {
		t.Fatal("revealed while Bob, connected, has not voted")
	}
	e.vote(t, bob, st.ID, card("5"))
	if state() != session.RoundRevealed {
		t.Fatal("not revealed once every connected voter voted (Cy is away; the organizer and the spectator are not waited for)")
	}
	if n := len(rec.events(t, session.EvRevealed)); n != 1 {
		t.Errorf("%d revealed events, want 1", n)
	}

	if _, err := e.svc.Revote(ctx, org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	_, cyLeaves := e.connect(t, cy)
	e.vote(t, ann, st.ID, card("3"))
	e.vote(t, bob, st.ID, card("3"))
	if state() != session.RoundVoting {
		t.Fatal("revealed while Cy, now connected, has not voted")
	}
	cyLeaves()
	if state() != session.RoundRevealed {
		t.Fatal("not revealed when the last connected voter who had not voted left")
	}
	if n := len(rec.events(t, session.EvRevealed)); n != 2 {
		t.Errorf("%d revealed events, want 2", n)
	}

	// Turning auto-reveal on when everyone has voted reveals at once.
	if _, err := e.svc.Revote(ctx, org.Actor, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateSession(ctx, org.Actor, session.SettingsInput{Settings: &session.Settings{AllowSpectators: true}}); err != nil {
		t.Fatal(err)
	}
	e.vote(t, ann, st.ID, card("8"))
	e.vote(t, bob, st.ID, card("8"))
	if state() != session.RoundVoting {
		t.Fatal("revealed with auto-reveal off")
	}
	if _, err := e.svc.UpdateSession(ctx, org.Actor, session.SettingsInput{Settings: &session.Settings{AutoReveal: true, AllowSpectators: true}}); err != nil {
		t.Fatal(err)
	}
	if state() != session.RoundRevealed {
		t.Error("turning auto-reveal on did not reveal a round where every connected voter had voted")
	}
}

func TestAsyncMode(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{Async: true, AutoReveal: true}})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	sts := e.addStories(t, org, "A", "B", "C")
	a, b, c := sts[0], sts[1], sts[2]
	e.connect(t, ann)
	e.connect(t, bob)

	e.vote(t, ann, b.ID, card("5"))
	e.vote(t, bob, b.ID, card("8"))
	e.vote(t, ann, a.ID, card("1"))
	e.vote(t, bob, a.ID, card("1"))
	for _, st := range []*session.Story{a, b} {
		if got := e.story(t, sess.ID, st.ID); got.RoundState != session.RoundVoting {
			t.Errorf("story %s was auto-revealed in async mode", got.Title)
		}
	}
	if got := e.roundVotes(t, sess.ID, b.ID); len(got) != 2 {
		t.Errorf("votes on a story that is not current: %v", got)
	}
	if _, err := e.svc.Reveal(ctx, org.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Accept(ctx, org.Actor, b.ID, "8"); err != nil {
		t.Fatal(err)
	}
	if cur := e.session(t, sess.ID).CurrentStoryID; cur != a.ID {
		t.Errorf("accepting in async mode moved the room to %q", cur)
	}
	e.vote(t, ann, c.ID, card("3"))
}

func TestJoinWithLink(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{})
	link := session.Link{SessionID: sess.ID, Role: session.RoleOrganizer, ChatID: "slack:T1:U2", Name: "Ann from Slack",
		Expires: e.clock.Now().Add(time.Hour).Unix()}
	token := e.keys.SignLink(link)
	if u := e.svc.LinkURL(link); !strings.HasPrefix(u, "https://poker.example.com/s/"+sess.ID+"/enter?t=") {
		t.Errorf("LinkURL = %q", u)
	}

	p, tok1, err := e.svc.JoinWithLink(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != session.RoleOrganizer || p.Name != "Ann from Slack" || p.ChatID != "slack:T1:U2" || p.Status != session.StatusActive {
		t.Errorf("joined through a link as %+v", p)
	}
	p2, tok2, err := e.svc.JoinWithLink(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if p2.ID != p.ID || tok2 == tok1 {
		t.Errorf("second use made participant %s (first %s), token reused: %v", p2.ID, p.ID, tok2 == tok1)
	}
	for _, tok := range []string{tok1, tok2} {
		if got, err := e.svc.Authenticate(ctx, sess.ID, tok); err != nil || got.ID != p.ID {
			t.Errorf("a link token authenticates %v, %v", got, err)
		}
	}
	if ps, _ := e.store.Participants(ctx, sess.ID); len(ps) != 2 {
		t.Errorf("%d participants after using one link twice, want 2", len(ps))
	}
	// An organizer link gives the role back to a chat user who was demoted.
	ann := member{session.Actor{SessionID: sess.ID, ParticipantID: p.ID}, p, tok1}
	if _, err := e.svc.UpdateParticipant(ctx, org.Actor, ann.ID, session.ParticipantInput{Role: ref(session.RoleVoter)}); err != nil {
		t.Fatal(err)
	}
	if p3, _, err := e.svc.JoinWithLink(ctx, token); err != nil || p3.ID != p.ID || p3.Role != session.RoleOrganizer {
		t.Errorf("organizer link after a demotion: %+v, %v", p3, err)
	}

	payload, sig, _ := strings.Cut(token, ".")
	forged := link
	forged.ChatID, forged.Name = "slack:T1:U9", "Mallory"
	raw, _ := json.Marshal(forged)
	refused := []struct {
		name  string
		token string
		want  error
	}{
		{"other payload", base64.RawURLEncoding.EncodeToString(raw) + "." + sig, session.ErrLinkInvalid},
		{"payload changed", replaceAt(payload, 3) + "." + sig, session.ErrLinkInvalid},
		{"signature changed", payload + "." + replaceAt(sig, 0), session.ErrLinkInvalid},
		{"other key", mustKeys(t, otherSecret).SignLink(link), session.ErrLinkInvalid},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := e.store.writes.Load()
			_, _, err := e.svc.JoinWithLink(ctx, tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if e.store.writes.Load() != before {
				t.Error("a refused link wrote to the store")
			}
		})
	}

	// Names from a chat are cleaned to fit, not refused: the chat user cannot retype them.
	names := map[string]string{
		strings.Repeat("Ä", 50): strings.Repeat("Ä", session.MaxNameLen),
		"Ann\nSecond line":      "Ann Second line",
	}
	i := 0
	for in, want := range names {
		i++
		l := session.Link{SessionID: sess.ID, Role: session.RoleVoter, ChatID: "discord:G1:U" + string(rune('0'+i)), Name: in,
			Expires: e.clock.Now().Add(time.Hour).Unix()}
		p, _, err := e.svc.JoinWithLink(ctx, e.keys.SignLink(l))
		if err != nil {
			t.Errorf("name %q: %v", in, err)
			continue
		}
		if p.Name != want {
			t.Errorf("name %q became %q, want %q", in, p.Name, want)
		}
	}

	e.clock.Add(time.Hour + time.Second)
	before := e.store.writes.Load()
	_, _, err = e.svc.JoinWithLink(ctx, token)
	if !errors.Is(err, session.ErrLinkExpired) || !strings.Contains(session.ErrorMessage(err), "expired") {
		t.Errorf("an expired link: %v", err)
	}
	if e.store.writes.Load() != before {
		t.Error("an expired link wrote to the store")
	}

	unknown := session.Link{SessionID: "no-such-session", Role: session.RoleVoter, Expires: e.clock.Now().Add(time.Hour).Unix()}
	_, _, err = e.svc.JoinWithLink(ctx, e.keys.SignLink(unknown))
	wantError(t, err, session.CodeNotFound)

	if _, err := e.svc.CloseSession(ctx, org.Actor); err != nil {
		t.Fatal(err)
	}
	fresh := link
	fresh.Expires = e.clock.Now().Add(time.Hour).Unix()
	_, _, err = e.svc.JoinWithLink(ctx, e.keys.SignLink(fresh))
	wantError(t, err, session.CodeConflict, "ended")
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1",
		ReplyURL: "https://hooks.slack.com/commands/T1/secret-reply-url"}})
	ann := e.join(t, sess.ID, "Ann", "")
	bob := e.join(t, sess.ID, "Bob", "")
	sts := e.addStories(t, org, "Revealed", "Still voting")
	a, b := sts[0], sts[1]
	e.vote(t, ann, a.ID, session.VoteInput{Card: "3", Rationale: "rationale-of-a-revealed-vote"})
	e.vote(t, bob, a.ID, card("5"))
	if _, err := e.svc.Reveal(ctx, org.Actor, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Accept(ctx, org.Actor, a.ID, "5"); err != nil {
		t.Fatal(err)
	}
	e.vote(t, ann, b.ID, session.VoteInput{Card: "8", Rationale: "rationale-still-secret"})
	e.vote(t, bob, b.ID, card("13"))

	mine, err := e.svc.ExportSession(ctx, ann.Actor)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := e.svc.ExportByID(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, ex := range map[string]*session.Export{"ExportSession": mine, "ExportByID": byID} {
		if len(ex.Stories) != 2 || len(ex.Participants) != 3 {
			t.Fatalf("%s: %d stories, %d participants", name, len(ex.Stories), len(ex.Participants))
		}
		ra := ex.Stories[0]
		if ra.Estimate != "5" || len(ra.Rounds) != 1 || len(ra.Rounds[0].Votes) != 2 || ra.Rounds[0].Stats == nil {
			t.Errorf("%s: revealed story %+v", name, ra)
		}
		rb := ex.Stories[1].Rounds
		if len(rb) != 1 || rb[0].Votes != nil || rb[0].Stats != nil || len(rb[0].Voters) != 2 {
			t.Errorf("%s: the round still voting is exported as %+v; want who voted, not the votes", name, rb)
		}
		raw := mustJSON(t, ex)
		if !bytes.Contains(raw, []byte("rationale-of-a-revealed-vote")) {
			t.Errorf("%s lacks a revealed vote's rationale", name)
		}
		for _, secret := range []string{"rationale-still-secret", "secret-reply-url", "hooks.slack.com", ann.token, org.token} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s contains %q", name, secret)
			}
		}
	}
}

// TestClosedSession checks that nothing changes in a session once it has ended, and that it can
// still be read and exported.
func TestClosedSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{})
	ann := e.join(t, sess.ID, "Ann", "")
	st := e.addStories(t, org, "A")[0]
	e.vote(t, ann, st.ID, card("3"))
	if _, err := e.svc.CloseSession(ctx, org.Actor); err != nil {
		t.Fatal(err)
	}
	refused := map[string]func() error{
		"vote":    func() error { _, err := e.svc.Vote(ctx, ann.Actor, st.ID, card("5")); return err },
		"retract": func() error { return e.svc.RetractVote(ctx, ann.Actor, st.ID) },
		"reveal":  func() error { _, err := e.svc.Reveal(ctx, org.Actor, st.ID); return err },
		"add": func() error {
			_, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{{Title: "B"}})
			return err
		},
		"join": func() error { _, _, err := e.svc.Join(ctx, sess.ID, session.JoinInput{Name: "Late"}); return err },
		"rename": func() error {
			_, err := e.svc.UpdateParticipant(ctx, ann.Actor, ann.ID, session.ParticipantInput{Name: ref("A")})
			return err
		},
		"close again": func() error { _, err := e.svc.CloseSession(ctx, org.Actor); return err },
	}
	for name, act := range refused {
		t.Run(name, func(t *testing.T) {
			before := e.store.writes.Load()
			wantError(t, act(), session.CodeConflict, "ended")
			if e.store.writes.Load() != before {
				t.Error("a request to an ended session wrote to the store")
			}
		})
	}
	if got := e.roundVotes(t, sess.ID, st.ID); got[ann.ID] != "3" {
		t.Errorf("votes of the ended session: %v", got)
	}
	if _, err := e.svc.Snapshot(ctx, ann.Actor); err != nil {
		t.Errorf("Snapshot of an ended session: %v", err)
	}
	if _, err := e.svc.ExportSession(ctx, ann.Actor); err != nil {
		t.Errorf("ExportSession of an ended session: %v", err)
	}
}

func TestStories(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{})
	ann := e.join(t, sess.ID, "Ann", "")
	rec, _ := e.connect(t, ann)
	sts, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{
		{Title: "Login\npage", Description: "As a user…", URL: "https://example.com/1"},
		{Title: "Signup"},
		{Title: "Imported", Source: "github", Key: "acme/api#3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := sts[0], sts[1], sts[2]
	if a.Title != "Login page" {
		t.Errorf("a title with a line break became %q", a.Title)
	}
	if n := len(rec.events(t, session.EvStory)); n != 3 {
		t.Errorf("%d story events, want 3", n)
	}

	again, err := e.svc.AddStories(ctx, org.Actor, []session.StoryInput{{Title: "Imported, renamed", Source: "github", Key: "acme/api#3"}})
	if err != nil || again[0].ID != c.ID {
		t.Errorf("importing the same key again: %+v, %v; want the same story", again, err)
	}

	st, err := e.svc.UpdateStory(ctx, org.Actor, b.ID, session.StoryInput{Title: "Sign-up", URL: "https://example.com/2"})
	if err != nil || st.Title != "Sign-up" || st.URL != "https://example.com/2" {
		t.Errorf("UpdateStory: %+v, %v", st, err)
	}

	order := []string{c.ID, a.ID, b.ID}
	if err := e.svc.ReorderStories(ctx, org.Actor, order); err != nil {
		t.Fatal(err)
	}
	list, _ := e.store.Stories(ctx, sess.ID)
	for i, st := range list {
		if st.ID != order[i] {
			t.Errorf("story %d is %s after reordering", i, st.Title)
		}
	}
	if n := len(rec.events(t, session.EvOrder)); n != 1 {
		t.Errorf("%d order events, want 1", n)
	}

	if _, err := e.svc.SelectStory(ctx, org.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	e.vote(t, ann, b.ID, card("8"))
	if err := e.svc.RetractVote(ctx, ann.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.roundVotes(t, sess.ID, b.ID); len(got) != 0 {
		t.Errorf("votes after retracting: %v", got)
	}
	voted := rec.events(t, session.EvVoted)
	if len(voted) != 2 || !strings.Contains(string(voted[1]), `"voted":false`) {
		t.Errorf("voted events: %s", voted)
	}

	// Removing the current story moves the room to the next open one.
	if err := e.svc.RemoveStory(ctx, org.Actor, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Story(ctx, sess.ID, b.ID); session.ErrorCode(err) != session.CodeNotFound {
		t.Errorf("a removed story is still there: %v", err)
	}
	if cur := e.session(t, sess.ID).CurrentStoryID; cur != c.ID {
		t.Errorf("current story after removing it = %q, want the first open one %q", cur, c.ID)
	}
	wantError(t, e.svc.RemoveStory(ctx, org.Actor, b.ID), session.CodeNotFound)
}
