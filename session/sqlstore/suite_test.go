package sqlstore

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// t0 is the time the tests start at; the store keeps milliseconds, so every time used is whole.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

const testSecret = "store-test-secret-0123456789-abcdefghijklmnop"

func testKeys(t *testing.T) *session.Keys {
	t.Helper()
	k, err := session.NewKeys(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openSQLiteFile opens (or reopens) the SQLite store at path and closes it when the test ends.
func openSQLiteFile(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), "sqlite:"+path, testKeys(t))
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	return openSQLiteFile(t, filepath.Join(t.TempDir(), "pokor.db"))
}

func TestSQLite(t *testing.T) { runStoreSuite(t, openSQLite) }

// runStoreSuite checks the session.Store contract. open must return an empty, migrated store
// that seals secrets with a session.Keys and is closed when the test ends; the subtests run in
// parallel, each on its own store. A PostgreSQL run passes an opener that creates a fresh database
// (or schema) per call.
func runStoreSuite(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"Ping", testPing},
		{"Sessions", testSessions},
		{"Participants", testParticipants},
		{"RemovedParticipants", testRemovedParticipants},
		{"Stories", testStories},
		{"ImportedStoriesUpsert", testImportedStoriesUpsert},
		{"StoryLimit", testStoryLimit},
		{"ReorderStories", testReorderStories},
		{"DeleteStoryCascades", testDeleteStoryCascades},
		{"Votes", testVotes},
		{"ConcurrentVotes", testConcurrentVotes},
		{"VotesRacingReveal", testVotesRacingReveal},
		{"NoVoteAfterReveal", testNoVoteAfterReveal},
		{"VotesRacingDeleteStory", testVotesRacingDeleteStory},
		{"ConcurrentReveal", testConcurrentReveal},
		{"StartRound", testStartRound},
		{"RoundAnonymity", testRoundAnonymity},
		{"OrganizerLinkEpoch", testOrganizerLinkEpoch},
		{"Accept", testAccept},
		{"Outbox", testOutbox},
		{"ConcurrentClaims", testConcurrentClaims},
		{"Connections", testConnections},
		{"DeleteIdleSessions", testDeleteIdleSessions},
		{"SlackInstallations", testSlackInstallations},
		{"Timers", testTimers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// Helpers.

func createSession(t *testing.T, s *Store, mod func(*session.Session)) (*session.Session, *session.Participant) {
	t.Helper()
	deck, err := session.NewDeck(session.DeckFibonacci, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess := &session.Session{ID: newID(), Title: "Sprint 42", Deck: deck, Settings: session.DefaultSettings, CreatedAt: t0, UpdatedAt: t0}
	if mod != nil {
		mod(sess)
	}
	org := &session.Participant{ID: newID(), SessionID: sess.ID, Name: "Olga", Role: session.RoleOrganizer,
		Status: session.StatusActive, CreatedAt: sess.CreatedAt}
	if err := s.CreateSession(t.Context(), sess, org, tokenOf(org)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess, org
}

// tokenOf is the token hash the helpers give a participant.
func tokenOf(p *session.Participant) string { return "hash-" + p.ID }

// addParticipant stores p (an active voter unless said otherwise) with the token tokenOf(p).
func addParticipant(t *testing.T, s *Store, p *session.Participant) *session.Participant {
	t.Helper()
	if p.ID == "" {
		p.ID = newID()
	}
	if p.Role == "" {
		p.Role = session.RoleVoter
	}
	if p.Status == "" {
		p.Status = session.StatusActive
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = t0
	}
	if err := s.AddParticipant(t.Context(), p, tokenOf(p)); err != nil {
		t.Fatalf("AddParticipant %s: %v", p.Name, err)
	}
	return p
}

// voters adds n voters who joined one second apart after t0.
func voters(t *testing.T, s *Store, sessionID string, n int) []*session.Participant {
	t.Helper()
	out := make([]*session.Participant, n)
	for i := range out {
		out[i] = addParticipant(t, s, &session.Participant{SessionID: sessionID, Name: fmt.Sprintf("Voter %d", i+1),
			CreatedAt: t0.Add(time.Duration(i+1) * time.Second)})
	}
	return out
}

func addStories(t *testing.T, s *Store, sessionID string, titles ...string) []*session.Story {
	t.Helper()
	sts := make([]*session.Story, len(titles))
	for i, title := range titles {
		sts[i] = &session.Story{Title: title, CreatedAt: t0}
	}
	if err := s.SaveStories(t.Context(), sessionID, sts); err != nil {
		t.Fatalf("SaveStories: %v", err)
	}
	return sts
}

func importStory(t *testing.T, s *Store, sessionID, source, key string) *session.Story {
	t.Helper()
	st := &session.Story{Title: "Imported " + key, Source: source, ExternalKey: key, CreatedAt: t0}
	if err := s.SaveStories(t.Context(), sessionID, []*session.Story{st}); err != nil {
		t.Fatalf("SaveStories: %v", err)
	}
	return st
}

func castVote(t *testing.T, s *Store, storyID string, round int, p *session.Participant, card string) {
	t.Helper()
	v := &session.Vote{StoryID: storyID, Round: round, ParticipantID: p.ID, Card: card, CastAt: t0.Add(time.Minute)}
	if err := s.CastVote(t.Context(), v); err != nil {
		t.Fatalf("CastVote %s by %s: %v", card, p.Name, err)
	}
}

func reveal(t *testing.T, s *Store, storyID string, round int) {
	t.Helper()
	ok, err := s.Reveal(t.Context(), storyID, round, t0.Add(10*time.Minute), false)
	if err != nil || !ok {
		t.Fatalf("Reveal round %d: %v, %v", round, ok, err)
	}
}

func outboxFor(st *session.Story, value string, at time.Time) *session.Outbox {
	return &session.Outbox{ID: newID(), SessionID: st.SessionID, StoryID: st.ID, Source: st.Source, ExternalKey: st.ExternalKey,
		Value: value, State: session.OutboxPending, NextAttempt: at, CreatedAt: at}
}

func accept(t *testing.T, s *Store, st *session.Story, round int, value string, wb *session.Outbox) {
	t.Helper()
	ok, err := s.Accept(t.Context(), st.ID, round, value, wb)
	if err != nil || !ok {
		t.Fatalf("Accept %s: %v, %v", value, ok, err)
	}
}

func getStory(t *testing.T, s *Store, sessionID, id string) *session.Story {
	t.Helper()
	st, err := s.Story(t.Context(), sessionID, id)
	if err != nil {
		t.Fatalf("Story: %v", err)
	}
	return st
}

// cards returns the votes as participant id → card.
func cards(votes []session.Vote) map[string]string {
	out := make(map[string]string, len(votes))
	for _, v := range votes {
		out[v.ParticipantID] = v.Card
	}
	return out
}

func getVotes(t *testing.T, s *Store, storyID string, round int) map[string]string {
	t.Helper()
	vs, err := s.Votes(t.Context(), storyID, round)
	if err != nil {
		t.Fatalf("Votes: %v", err)
	}
	return cards(vs)
}

// count runs a COUNT query on the database itself, past the store's methods.
func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(t.Context(), s.q(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if session.ErrorCode(err) != session.CodeNotFound {
		t.Errorf("%s: got %v, want not found", what, err)
	}
}

func sameTime(a, b time.Time) bool { return a.Equal(b) }

func samePtrTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func checkSession(t *testing.T, got, want *session.Session) {
	t.Helper()
	if got.ID != want.ID || got.Title != want.Title || got.CurrentStoryID != want.CurrentStoryID || got.Settings != want.Settings {
		t.Errorf("session = %+v, want %+v", got, want)
	}
	if got.Deck.Kind != want.Deck.Kind || !slices.Equal(got.Deck.Cards, want.Deck.Cards) {
		t.Errorf("deck = %+v, want %+v", got.Deck, want.Deck)
	}
	g, w := got.Origin, want.Origin
	if g.Platform != w.Platform || g.Team != w.Team || g.Channel != w.Channel || g.ReplyURL != w.ReplyURL || !g.ReplyExpires.Equal(w.ReplyExpires) {
		t.Errorf("origin = %+v, want %+v", g, w)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) || !samePtrTime(got.ClosedAt, want.ClosedAt) {
		t.Errorf("times = %v %v %v, want %v %v %v", got.CreatedAt, got.UpdatedAt, got.ClosedAt, want.CreatedAt, want.UpdatedAt, want.ClosedAt)
	}
}

func checkParticipant(t *testing.T, got, want *session.Participant) {
	t.Helper()
	if got.ID != want.ID || got.SessionID != want.SessionID || got.Name != want.Name || got.Role != want.Role ||
		got.Status != want.Status || got.ChatID != want.ChatID || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("participant = %+v, want %+v", got, want)
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func participantIDs(ps []*session.Participant) []string {
	return ids(ps, func(p *session.Participant) string { return p.ID })
}

func storyIDs(sts []*session.Story) []string {
	return ids(sts, func(st *session.Story) string { return st.ID })
}

// The tests.

func testPing(t *testing.T, s *Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func testSessions(t *testing.T, s *Store) {
	ctx := t.Context()
	origin := session.Origin{Platform: "slack", Team: "T1", Channel: "C1",
		ReplyURL: "https://hooks.slack.com/commands/T1/42/s3cr3t-reply", ReplyExpires: t0.Add(30 * time.Minute)}
	sess, org := createSession(t, s, func(x *session.Session) {
		x.Origin = origin
		x.Settings.AutoReveal = true
	})

	got, err := s.Session(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, got, sess)

	rawOrigin := func() string {
		t.Helper()
		var raw string
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT origin FROM sessions WHERE id = ?`), sess.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if raw := rawOrigin(); raw == "" || strings.Contains(raw, "hooks.slack.com") || strings.Contains(raw, "s3cr3t") {
		t.Errorf("the origin column holds %q: the reply URL must be sealed at rest", raw)
	}

	p, err := s.ParticipantByToken(ctx, sess.ID, tokenOf(org))
	if err != nil {
		t.Fatalf("the organizer's token: %v", err)
	}
	checkParticipant(t, p, org)

	plain, _ := createSession(t, s, nil)
	got, err = s.Session(ctx, plain.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, got, plain)

	_, err = s.Session(ctx, "no-such-session")
	wantNotFound(t, "Session of an unknown id", err)

	closed := t0.Add(2 * time.Hour)
	shirt, _ := session.NewDeck(session.DeckTShirt, nil)
	sess.Title = "Sprint 43"
	sess.Deck = shirt
	sess.Settings = session.Settings{Async: true, Anonymous: true, RequireApproval: true}
	sess.UpdatedAt = t0.Add(time.Hour)
	if err := s.UpdateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	// The current story moves by compare-and-set: a stale expectation changes nothing.
	stale := "not-the-current-story"
	if ok, err := s.SetCurrentStory(ctx, sess.ID, "story-y", &stale, t0.Add(time.Hour)); err != nil || ok {
		t.Fatalf("SetCurrentStory from a stale story = %v, %v; want false", ok, err)
	}
	empty := ""
	if ok, err := s.SetCurrentStory(ctx, sess.ID, "story-x", &empty, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("SetCurrentStory from the current story = %v, %v; want true", ok, err)
	}
	sess.CurrentStoryID = "story-x"
	if err := s.CloseSession(ctx, sess.ID, closed); err != nil {
		t.Fatal(err)
	}
	sess.ClosedAt, sess.UpdatedAt = &closed, closed
	wantNotFound(t, "CloseSession of an unknown session", s.CloseSession(ctx, "no-such-session", closed))
	got, err = s.Session(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, got, sess)
	if raw := rawOrigin(); strings.Contains(raw, "s3cr3t") || strings.Contains(raw, "hooks.slack.com") {
		t.Errorf("after UpdateSession the origin column holds %q: the reply URL must stay sealed", raw)
	}

	wantNotFound(t, "UpdateSession of an unknown session", s.UpdateSession(ctx, &session.Session{ID: "no-such-session", Deck: shirt}))
}

func testParticipants(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, org := createSession(t, s, nil)
	other, otherOrg := createSession(t, s, nil)

	ann := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Ann", ChatID: "slack:T1:U2", CreatedAt: t0.Add(time.Second)})
	sam := &session.Participant{ID: newID(), SessionID: sess.ID, Name: "Sam", Role: session.RoleSpectator, Status: session.StatusPending, CreatedAt: t0.Add(2 * time.Second)}
	if err := s.AddParticipant(ctx, sam, ""); err != nil {
		t.Fatalf("a participant without a token: %v", err)
	}
	if err := s.AddToken(ctx, ann.ID, "hash-ann-phone"); err != nil {
		t.Fatal(err)
	}

	for _, h := range []string{tokenOf(ann), "hash-ann-phone"} {
		p, err := s.ParticipantByToken(ctx, sess.ID, h)
		if err != nil {
			t.Fatalf("token %s: %v", h, err)
		}
		checkParticipant(t, p, ann)
	}
	for name, tc := range map[string][2]string{
		"another session's token": {other.ID, tokenOf(ann)},
		"empty token":             {sess.ID, ""},
		"unknown token":           {sess.ID, "hash-unknown"},
		"token of other session":  {sess.ID, tokenOf(otherOrg)},
	} {
		_, err := s.ParticipantByToken(ctx, tc[0], tc[1])
		wantNotFound(t, "ParticipantByToken with "+name, err)
	}
	if err := s.AddToken(ctx, sam.ID, tokenOf(ann)); err == nil {
		t.Error("AddToken accepted a token hash that belongs to someone else")
	}
	if p, err := s.ParticipantByToken(ctx, sess.ID, tokenOf(ann)); err != nil || p.ID != ann.ID {
		t.Errorf("Ann's token after a clash: %v, %v", p, err)
	}

	p, err := s.ParticipantByChatID(ctx, sess.ID, "slack:T1:U2")
	if err != nil {
		t.Fatal(err)
	}
	checkParticipant(t, p, ann)
	_, err = s.ParticipantByChatID(ctx, other.ID, "slack:T1:U2")
	wantNotFound(t, "ParticipantByChatID in another session", err)
	_, err = s.ParticipantByChatID(ctx, sess.ID, "slack:T1:U3")
	wantNotFound(t, "ParticipantByChatID of an unknown chat user", err)

	p, err = s.Participant(ctx, sess.ID, sam.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkParticipant(t, p, sam)
	_, err = s.Participant(ctx, other.ID, ann.ID)
	wantNotFound(t, "Participant of another session", err)

	ps, err := s.Participants(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := participantIDs(ps), []string{org.ID, ann.ID, sam.ID}; !slices.Equal(got, want) {
		t.Errorf("Participants = %v, want %v in joining order", got, want)
	}
	ps, err = s.Participants(ctx, other.ID)
	if err != nil || len(ps) != 1 || ps[0].ID != otherOrg.ID {
		t.Errorf("Participants of the other session = %v, %v", ps, err)
	}

	ann.Name, ann.Role, ann.Status = "Annie", session.RoleOrganizer, session.StatusActive
	if err := s.UpdateParticipant(ctx, ann); err != nil {
		t.Fatal(err)
	}
	p, err = s.Participant(ctx, sess.ID, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkParticipant(t, p, ann)

	wantNotFound(t, "UpdateParticipant of an unknown participant",
		s.UpdateParticipant(ctx, &session.Participant{ID: "nobody", SessionID: sess.ID, Name: "X", Role: session.RoleVoter, Status: session.StatusActive}))
	moved := *ann
	moved.SessionID, moved.Name = other.ID, "Hijacked"
	wantNotFound(t, "UpdateParticipant through another session", s.UpdateParticipant(ctx, &moved))
	if p, _ := s.Participant(ctx, sess.ID, ann.ID); p.Name != "Annie" {
		t.Errorf("name = %q after an update through another session", p.Name)
	}
}

func testRemovedParticipants(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, org := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	ann := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Ann", ChatID: "discord:G1:U7", CreatedAt: t0.Add(time.Second)})
	bob := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Bob", CreatedAt: t0.Add(2 * time.Second)})
	sts := addStories(t, s, sess.ID, "Still voting", "Revealed")
	castVote(t, s, sts[0].ID, 1, ann, "3")
	castVote(t, s, sts[0].ID, 1, bob, "5")
	castVote(t, s, sts[1].ID, 1, ann, "8")
	reveal(t, s, sts[1].ID, 1)

	if err := s.RemoveParticipant(ctx, sess.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	p, err := s.Participant(ctx, sess.ID, ann.ID)
	if err != nil || p.Status != session.StatusRemoved {
		t.Errorf("Participant of a removed participant = %+v, %v; want it with status removed", p, err)
	}
	ps, _ := s.Participants(ctx, sess.ID)
	if got, want := participantIDs(ps), []string{org.ID, bob.ID}; !slices.Equal(got, want) {
		t.Errorf("Participants = %v, want %v", got, want)
	}
	_, err = s.ParticipantByToken(ctx, sess.ID, tokenOf(ann))
	wantNotFound(t, "the token of a removed participant", err)
	if n := count(t, s, `SELECT COUNT(*) FROM participant_tokens WHERE participant_id = ?`, ann.ID); n != 0 {
		t.Errorf("%d tokens of a removed participant are still stored", n)
	}
	_, err = s.ParticipantByChatID(ctx, sess.ID, "discord:G1:U7")
	wantNotFound(t, "the chat id of a removed participant", err)
	if got := getVotes(t, s, sts[0].ID, 1); len(got) != 1 || got[bob.ID] != "5" {
		t.Errorf("votes of the open round = %v, want only Bob's", got)
	}
	if got := getVotes(t, s, sts[1].ID, 1); got[ann.ID] != "8" {
		t.Errorf("votes of the revealed round = %v, want Ann's kept in the history", got)
	}

	wantNotFound(t, "removing an unknown participant", s.RemoveParticipant(ctx, sess.ID, "nobody"))
	wantNotFound(t, "removing through another session", s.RemoveParticipant(ctx, other.ID, bob.ID))
	if p, _ := s.Participant(ctx, sess.ID, bob.ID); p.Status != session.StatusActive {
		t.Errorf("Bob's status = %s after a removal through another session", p.Status)
	}
	if _, err := s.ParticipantByToken(ctx, sess.ID, tokenOf(bob)); err != nil {
		t.Errorf("Bob's token after a removal through another session: %v", err)
	}
}

func testStories(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	sts := []*session.Story{
		{Title: "A", Description: "As a user…\nI want", URL: "https://example.com/a", CreatedAt: t0},
		{Title: "B", CreatedAt: t0.Add(time.Second)},
		{Title: "C", CreatedAt: t0.Add(2 * time.Second)},
	}
	if err := s.SaveStories(ctx, sess.ID, sts); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, st := range sts {
		if st.ID == "" || seen[st.ID] || st.SessionID != sess.ID || st.Position != i+1 || st.Round != 1 ||
			st.RoundState != session.RoundVoting || st.Status != session.StoryOpen {
			t.Errorf("story %d as stored: %+v", i, st)
		}
		seen[st.ID] = true
	}
	list, err := s.Stories(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := storyIDs(list), storyIDs(sts); !slices.Equal(got, want) {
		t.Errorf("Stories = %v, want %v", got, want)
	}
	got := getStory(t, s, sess.ID, sts[0].ID)
	if got.Title != "A" || got.Description != sts[0].Description || got.URL != sts[0].URL || !got.CreatedAt.Equal(t0) ||
		got.Position != 1 || got.Round != 1 || got.RoundState != session.RoundVoting || got.Status != session.StoryOpen {
		t.Errorf("Story = %+v", got)
	}
	_, err = s.Story(ctx, other.ID, sts[0].ID)
	wantNotFound(t, "Story through another session", err)
	if list, err := s.Stories(ctx, other.ID); err != nil || len(list) != 0 {
		t.Errorf("Stories of another session = %v, %v", list, err)
	}

	rounds, err := s.Rounds(ctx, sts[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 1 || rounds[0].Number != 1 || rounds[0].State != session.RoundVoting || rounds[0].RevealedAt != nil ||
		!rounds[0].StartedAt.Equal(sts[1].CreatedAt) || rounds[0].StoryID != sts[1].ID {
		t.Errorf("Rounds of a new story = %+v, want round 1 voting", rounds)
	}

	upd := *got
	upd.Title, upd.Description, upd.URL = "A (split)", "", "https://example.com/a2"
	if err := s.UpdateStory(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	if got := getStory(t, s, sess.ID, upd.ID); got.Title != "A (split)" || got.Description != "" || got.URL != "https://example.com/a2" {
		t.Errorf("after UpdateStory: %+v", got)
	}
	wantNotFound(t, "UpdateStory of an unknown story", s.UpdateStory(ctx, &session.Story{ID: "nope", SessionID: sess.ID, Title: "X"}))
	moved := upd
	moved.SessionID, moved.Title = other.ID, "Hijacked"
	wantNotFound(t, "UpdateStory through another session", s.UpdateStory(ctx, &moved))
}

func testImportedStoriesUpsert(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	ann := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Ann"})

	first := []*session.Story{
		{Title: "Login page", Description: "old", URL: "https://github.com/acme/api/issues/42", Source: "github", ExternalKey: "acme/api#42", CreatedAt: t0},
		{Title: "Typed by hand", CreatedAt: t0},
	}
	if err := s.SaveStories(ctx, sess.ID, first); err != nil {
		t.Fatal(err)
	}
	imported := first[0]
	castVote(t, s, imported.ID, 1, ann, "5")
	reveal(t, s, imported.ID, 1)
	accept(t, s, imported, 1, "5", nil)

	again := []*session.Story{
		{Title: "Login page, v2", Description: "new", URL: "https://github.com/acme/api/issues/42#v2", Source: "github", ExternalKey: "acme/api#42", CreatedAt: t0.Add(time.Hour)},
		{Title: "Same key, other tracker", Source: "jira", ExternalKey: "acme/api#42", CreatedAt: t0.Add(time.Hour)},
		{Title: "Next issue", Source: "github", ExternalKey: "acme/api#43", CreatedAt: t0.Add(time.Hour)},
	}
	if err := s.SaveStories(ctx, sess.ID, again); err != nil {
		t.Fatal(err)
	}
	up := again[0]
	if up.ID != imported.ID || up.Title != "Login page, v2" || up.Description != "new" || up.URL != "https://github.com/acme/api/issues/42#v2" ||
		up.Position != 1 || up.Status != session.StoryEstimated || up.Estimate != "5" || up.Round != 1 || up.RoundState != session.RoundRevealed {
		t.Errorf("re-imported story as returned: %+v; want the same story, updated, with its estimate", up)
	}
	if got := getStory(t, s, sess.ID, imported.ID); got.Title != "Login page, v2" || got.Estimate != "5" || got.Status != session.StoryEstimated {
		t.Errorf("re-imported story as stored: %+v", got)
	}
	if got := getVotes(t, s, imported.ID, 1); got[ann.ID] != "5" {
		t.Errorf("re-importing lost the story's votes: %v", got)
	}
	if again[1].ID == imported.ID || again[1].Position != 3 || again[2].Position != 4 {
		t.Errorf("new imported stories: %+v, %+v", again[1], again[2])
	}
	list, _ := s.Stories(ctx, sess.ID)
	if len(list) != 4 {
		t.Errorf("%d stories after re-importing, want 4", len(list))
	}

	elsewhere := importStory(t, s, other.ID, "github", "acme/api#42")
	if elsewhere.ID == imported.ID {
		t.Error("importing a key into another session updated this session's story")
	}

	twice := []*session.Story{
		{Title: "first", Source: "notion", ExternalKey: "page-1", CreatedAt: t0},
		{Title: "second", Source: "notion", ExternalKey: "page-1", CreatedAt: t0},
	}
	if err := s.SaveStories(ctx, sess.ID, twice); err != nil {
		t.Fatalf("a key twice in one import: %v", err)
	}
	if twice[0].ID != twice[1].ID || getStory(t, s, sess.ID, twice[0].ID).Title != "second" {
		t.Errorf("a key twice in one import made %+v and %+v", twice[0], twice[1])
	}
	if list, _ := s.Stories(ctx, sess.ID); len(list) != 5 {
		t.Errorf("%d stories, want 5", len(list))
	}
}

func testStoryLimit(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	n := 0
	batch := func(k int) []*session.Story {
		out := make([]*session.Story, k)
		for i := range out {
			n++
			out[i] = &session.Story{Title: fmt.Sprintf("Story %d", n), CreatedAt: t0}
		}
		return out
	}
	stored := func() int {
		t.Helper()
		list, err := s.Stories(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	many := batch(session.MaxStories - 1)
	many[0].Source, many[0].ExternalKey = "github", "acme/api#1"
	if err := s.SaveStories(ctx, sess.ID, many); err != nil {
		t.Fatal(err)
	}
	err := s.SaveStories(ctx, sess.ID, batch(2))
	if session.ErrorCode(err) != session.CodeInvalid || !strings.Contains(session.ErrorMessage(err), "1000") {
		t.Errorf("two stories past 999: got %v, want invalid naming the limit", err)
	}
	if got := stored(); got != session.MaxStories-1 {
		t.Errorf("%d stories after a refused batch, want %d: a batch is all or nothing", got, session.MaxStories-1)
	}
	if err := s.SaveStories(ctx, sess.ID, batch(1)); err != nil {
		t.Fatalf("the 1000th story: %v", err)
	}
	err = s.SaveStories(ctx, sess.ID, batch(1))
	if session.ErrorCode(err) != session.CodeInvalid {
		t.Errorf("the 1001st story: got %v, want invalid", err)
	}
	if got := stored(); got != session.MaxStories {
		t.Errorf("%d stories, want %d", got, session.MaxStories)
	}
	reimport := []*session.Story{{Title: "Renamed upstream", Source: "github", ExternalKey: "acme/api#1", CreatedAt: t0}}
	if err := s.SaveStories(ctx, sess.ID, reimport); err != nil {
		t.Errorf("updating an imported story of a full session: %v", err)
	}
	if reimport[0].ID != many[0].ID {
		t.Errorf("re-import made a new story in a full session")
	}
	other, _ := createSession(t, s, nil)
	if err := s.SaveStories(ctx, other.ID, batch(1)); err != nil {
		t.Errorf("the limit is per session: %v", err)
	}
}

func testReorderStories(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	sts := addStories(t, s, sess.ID, "A", "B", "C", "D")
	foreign := addStories(t, s, other.ID, "X")[0]
	order := []string{sts[3].ID, sts[1].ID, sts[0].ID, sts[2].ID}
	if err := s.ReorderStories(ctx, sess.ID, order); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Stories(ctx, sess.ID)
	if got := storyIDs(list); !slices.Equal(got, order) {
		t.Errorf("after reordering: %v, want %v", got, order)
	}
	for i, st := range list {
		if st.Position != i+1 {
			t.Errorf("story %s at position %d, want %d", st.Title, st.Position, i+1)
		}
	}
	e := addStories(t, s, sess.ID, "E")[0]
	list, _ = s.Stories(ctx, sess.ID)
	if last := list[len(list)-1]; last.ID != e.ID || e.Position != 5 {
		t.Errorf("a story added after reordering is at position %d, last is %s", e.Position, last.Title)
	}
	// A story of another session named in the list is left where it is.
	if err := s.ReorderStories(ctx, sess.ID, []string{foreign.ID}); err != nil {
		t.Fatal(err)
	}
	if got := getStory(t, s, other.ID, foreign.ID); got.Position != 1 {
		t.Errorf("reordering moved another session's story to %d", got.Position)
	}
}

func testDeleteStoryCascades(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	ann := addParticipant(t, s, &session.Participant{SessionID: sess.ID, Name: "Ann"})
	gone := importStory(t, s, sess.ID, "github", "acme/api#7")
	kept := addStories(t, s, sess.ID, "Kept")[0]
	castVote(t, s, gone.ID, 1, ann, "3")
	reveal(t, s, gone.ID, 1)
	if ok, err := s.StartRound(ctx, gone.ID, 1, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	castVote(t, s, gone.ID, 2, ann, "5")
	reveal(t, s, gone.ID, 2)
	accept(t, s, gone, 2, "5", outboxFor(gone, "5", t0))
	castVote(t, s, kept.ID, 1, ann, "8")

	wantNotFound(t, "DeleteStory through another session", s.DeleteStory(ctx, other.ID, gone.ID))
	if err := s.DeleteStory(ctx, sess.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Story(ctx, sess.ID, gone.ID)
	wantNotFound(t, "Story after DeleteStory", err)
	for _, table := range []string{"rounds", "votes", "outbox"} {
		if n := count(t, s, `SELECT COUNT(*) FROM `+table+` WHERE story_id = ?`, gone.ID); n != 0 {
			t.Errorf("%d rows of the deleted story left in %s", n, table)
		}
	}
	if rs, _ := s.Rounds(ctx, gone.ID); len(rs) != 0 {
		t.Errorf("Rounds of a deleted story: %v", rs)
	}
	if vs, _ := s.StoryVotes(ctx, gone.ID); len(vs) != 0 {
		t.Errorf("StoryVotes of a deleted story: %v", vs)
	}
	if rs, _ := s.Rounds(ctx, kept.ID); len(rs) != 1 {
		t.Errorf("the other story has %d rounds, want 1", len(rs))
	}
	if got := getVotes(t, s, kept.ID, 1); got[ann.ID] != "8" {
		t.Errorf("the other story's votes: %v", got)
	}
	wantNotFound(t, "DeleteStory twice", s.DeleteStory(ctx, sess.ID, gone.ID))
}

func testVotes(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	vs := voters(t, s, sess.ID, 3)
	ann, bob, carl := vs[0], vs[1], vs[2]
	sts := addStories(t, s, sess.ID, "A", "B")
	a, b := sts[0], sts[1]

	castVote(t, s, a.ID, 1, ann, "3")
	replaced := &session.Vote{StoryID: a.ID, Round: 1, ParticipantID: ann.ID, Card: "5", Confidence: session.ConfidenceHigh,
		Rationale: "the API is new to us", CastAt: t0.Add(2 * time.Minute)}
	if err := s.CastVote(ctx, replaced); err != nil {
		t.Fatal(err)
	}
	castVote(t, s, a.ID, 1, bob, "8")
	list, err := s.Votes(ctx, a.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("votes = %+v, want Ann's replaced vote and Bob's", list)
	}
	for _, v := range list {
		if v.ParticipantID == ann.ID && (v.Card != "5" || v.Confidence != session.ConfidenceHigh || v.Rationale != replaced.Rationale ||
			!v.CastAt.Equal(replaced.CastAt) || v.StoryID != a.ID || v.Round != 1) {
			t.Errorf("Ann's replaced vote = %+v, want %+v", v, *replaced)
		}
	}

	if err := s.RetractVote(ctx, a.ID, 1, bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := getVotes(t, s, a.ID, 1); len(got) != 1 || got[bob.ID] != "" {
		t.Errorf("after Bob retracts: %v", got)
	}
	castVote(t, s, a.ID, 1, bob, "13")
	castVote(t, s, b.ID, 1, ann, "1")
	cur, err := s.CurrentVotes(ctx, sess.ID)
	if err != nil || len(cur) != 3 {
		t.Errorf("CurrentVotes = %v, %v; want 3", cur, err)
	}

	won, err := s.Reveal(ctx, a.ID, 1, t0.Add(10*time.Minute), false)
	if err != nil || !won {
		t.Fatalf("Reveal: %v, %v", won, err)
	}
	if st := getStory(t, s, sess.ID, a.ID); st.RoundState != session.RoundRevealed || st.Round != 1 {
		t.Errorf("story after reveal: round %d %s", st.Round, st.RoundState)
	}
	rounds, _ := s.Rounds(ctx, a.ID)
	if len(rounds) != 1 || rounds[0].State != session.RoundRevealed || rounds[0].RevealedAt == nil || !rounds[0].RevealedAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("rounds after reveal: %+v", rounds)
	}
	if won, err := s.Reveal(ctx, a.ID, 1, t0.Add(20*time.Minute), false); err != nil || won {
		t.Errorf("a second Reveal = %v, %v; want false", won, err)
	}
	if rounds, _ := s.Rounds(ctx, a.ID); !rounds[0].RevealedAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("a second Reveal moved the reveal time to %v", rounds[0].RevealedAt)
	}

	closed := []struct {
		name string
		v    session.Vote
	}{
		{"replace after reveal", session.Vote{StoryID: a.ID, Round: 1, ParticipantID: ann.ID, Card: "1"}},
		{"first vote after reveal", session.Vote{StoryID: a.ID, Round: 1, ParticipantID: carl.ID, Card: "1"}},
		{"round not opened", session.Vote{StoryID: a.ID, Round: 2, ParticipantID: carl.ID, Card: "1"}},
		{"unknown story", session.Vote{StoryID: "nope", Round: 1, ParticipantID: carl.ID, Card: "1"}},
	}
	for _, tc := range closed {
		v := tc.v
		v.CastAt = t0.Add(11 * time.Minute)
		if err := s.CastVote(ctx, &v); !errors.Is(err, session.ErrRoundClosed) {
			t.Errorf("%s: got %v, want ErrRoundClosed", tc.name, err)
		}
	}
	if err := s.RetractVote(ctx, a.ID, 1, ann.ID); err != nil {
		t.Errorf("RetractVote after reveal: %v", err)
	}
	if got := getVotes(t, s, a.ID, 1); len(got) != 2 || got[ann.ID] != "5" || got[bob.ID] != "13" {
		t.Errorf("revealed votes changed after the reveal: %v", got)
	}
	if won, err := s.Reveal(ctx, a.ID, 2, t0, false); err != nil || won {
		t.Errorf("Reveal of a round not opened = %v, %v", won, err)
	}

	if ok, err := s.StartRound(ctx, a.ID, 1, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.CastVote(ctx, &session.Vote{StoryID: a.ID, Round: 1, ParticipantID: carl.ID, Card: "2", CastAt: t0}); !errors.Is(err, session.ErrRoundClosed) {
		t.Errorf("a vote for the round before a re-vote: %v", err)
	}
	castVote(t, s, a.ID, 2, carl, "2")
	cur, _ = s.CurrentVotes(ctx, sess.ID)
	if got := len(cur); got != 2 {
		t.Errorf("CurrentVotes after a re-vote = %+v; want Carl's on A and Ann's on B", cur)
	}
	all, _ := s.StoryVotes(ctx, a.ID)
	if len(all) != 3 || all[0].Round != 1 || all[2].Round != 2 {
		t.Errorf("StoryVotes = %+v, want 2 of round 1 then 1 of round 2", all)
	}
	everything, _ := s.SessionVotes(ctx, sess.ID)
	if len(everything) != 4 {
		t.Errorf("SessionVotes = %d votes, want 4", len(everything))
	}
}

func testConcurrentVotes(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "Busy")[0]
	const n = 50
	ps := voters(t, s, sess.ID, n)
	deck := sess.Deck.Cards
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			<-start
			errs[i] = s.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: p.ID, Card: deck[i%len(deck)], CastAt: t0})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("vote %d: %v", i, err)
		}
	}
	got := getVotes(t, s, st.ID, 1)
	if len(got) != n {
		t.Errorf("%d votes stored, want %d", len(got), n)
	}
	for i, p := range ps {
		if got[p.ID] != deck[i%len(deck)] {
			t.Errorf("%s's vote = %q, want %q", p.Name, got[p.ID], deck[i%len(deck)])
		}
	}
}

// testVotesRacingReveal casts votes while the round is revealed: every acknowledged vote is in
// the revealed round, and every refused one is not.
func testVotesRacingReveal(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "Race")[0]
	const n = 50
	ps := voters(t, s, sess.ID, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			<-start
			errs[i] = s.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: p.ID, Card: "8", CastAt: t0})
		})
	}
	wg.Go(func() {
		<-start
		if _, err := s.Reveal(ctx, st.ID, 1, t0.Add(time.Minute), false); err != nil {
			t.Errorf("Reveal: %v", err)
		}
	})
	close(start)
	wg.Wait()
	got := getVotes(t, s, st.ID, 1)
	for i, p := range ps {
		switch {
		case errs[i] == nil && got[p.ID] != "8":
			t.Errorf("vote %d was acknowledged but is not stored", i)
		case errs[i] != nil && !errors.Is(errs[i], session.ErrRoundClosed):
			t.Errorf("vote %d: %v", i, errs[i])
		case errs[i] != nil && got[p.ID] != "":
			t.Errorf("vote %d was refused but is stored", i)
		}
	}
}

// testNoVoteAfterReveal has voters change their votes as fast as they can while the round is
// revealed: the votes the reveal shows are the votes the round keeps. A vote that passed its
// "round is voting" check before the reveal but committed after it would change a revealed round
// (on PostgreSQL the vote locks the round row FOR SHARE, so the two are ordered).
func testNoVoteAfterReveal(t *testing.T, s *Store) {
	testNoVoteAfterRevealOn(t, s, s)
}

// testNoVoteAfterRevealOn runs the check with votes going through two stores on one database
// (two instances) and the reveal through the first.
func testNoVoteAfterRevealOn(t *testing.T, s, other *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ps := voters(t, s, sess.ID, 12)
	for round := range 8 {
		st := addStories(t, s, sess.ID, fmt.Sprint("Race ", round))[0]
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			acked = map[string]string{} // the last card each voter had acknowledged
		)
		start := make(chan struct{})
		for i, p := range ps {
			store := s
			if i%2 == 1 {
				store = other
			}
			wg.Go(func() {
				<-start
				for n := 0; ; n++ {
					card := []string{"1", "2", "3", "5", "8", "13"}[n%6]
					err := store.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: p.ID, Card: card, CastAt: t0})
					if errors.Is(err, session.ErrRoundClosed) {
						return
					}
					if err != nil {
						t.Errorf("CastVote: %v", err)
						return
					}
					mu.Lock()
					acked[p.ID] = card
					mu.Unlock()
				}
			})
		}
		close(start)
		time.Sleep(time.Duration(5+round*3) * time.Millisecond)
		if ok, err := s.Reveal(ctx, st.ID, 1, t0.Add(time.Minute), false); err != nil || !ok {
			t.Fatalf("Reveal: %v, %v", ok, err)
		}
		shown := getVotes(t, s, st.ID, 1)
		wg.Wait()
		kept := getVotes(t, s, st.ID, 1)
		if !maps.Equal(shown, kept) {
			t.Fatalf("round %d: the reveal showed %v but the round keeps %v: a vote landed after the reveal", round, shown, kept)
		}
		mu.Lock()
		if !maps.Equal(acked, kept) {
			t.Errorf("round %d: acknowledged votes %v, stored %v", round, acked, kept)
		}
		mu.Unlock()
	}
}

// testVotesRacingDeleteStory deletes stories while they are voted on: a vote is stored or refused
// as closed, never lost in an error (on PostgreSQL the two may deadlock, and the vote is retried).
func testVotesRacingDeleteStory(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ps := voters(t, s, sess.ID, 8)
	for i := range 10 {
		st := addStories(t, s, sess.ID, fmt.Sprint("Doomed ", i))[0]
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, p := range ps {
			wg.Go(func() {
				<-start
				for range 20 {
					err := s.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: p.ID, Card: "3", CastAt: t0})
					if errors.Is(err, session.ErrRoundClosed) {
						return
					}
					if err != nil {
						t.Errorf("a vote racing the story's deletion: %v", err)
						return
					}
				}
			})
		}
		close(start)
		time.Sleep(time.Millisecond)
		if err := s.DeleteStory(ctx, sess.ID, st.ID); err != nil {
			t.Fatalf("DeleteStory: %v", err)
		}
		wg.Wait()
	}
}

// testConcurrentClaims has several workers claim the outbox at once: each entry goes to exactly
// one of them.
func testConcurrentClaims(t *testing.T, s *Store) {
	testConcurrentClaimsOn(t, s, s)
}

func testConcurrentClaimsOn(t *testing.T, s, other *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	want := map[string]bool{}
	for i := range 40 {
		st := importStory(t, s, sess.ID, "github", fmt.Sprintf("acme/api#%d", i+1))
		castVote(t, s, st.ID, 1, ann, "5")
		reveal(t, s, st.ID, 1)
		e := outboxFor(st, "5", t0)
		accept(t, s, st, 1, "5", e)
		want[e.ID] = true
	}
	var (
		mu      sync.Mutex
		claimed = map[string][]string{} // entry → owners that claimed it
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for w := range 8 {
		store := s
		if w%2 == 1 {
			store = other
		}
		owner := fmt.Sprint("worker-", w)
		wg.Go(func() {
			<-start
			for {
				got, err := store.ClaimOutbox(ctx, owner, 3, t0.Add(time.Second), time.Hour)
				if err != nil {
					t.Errorf("ClaimOutbox: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, o := range got {
					claimed[o.ID] = append(claimed[o.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	for id := range want {
		if owners := claimed[id]; len(owners) != 1 {
			t.Errorf("entry %s claimed by %v, want exactly one worker", id, owners)
		}
	}
	if len(claimed) != len(want) {
		t.Errorf("%d entries claimed, want %d", len(claimed), len(want))
	}
}

func testConcurrentReveal(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	st := addStories(t, s, sess.ID, "Reveal me")[0]
	castVote(t, s, st.ID, 1, voters(t, s, sess.ID, 1)[0], "3")
	const n = 20
	won := make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			won[i], err = s.Reveal(ctx, st.ID, 1, t0.Add(time.Duration(i)*time.Second), false)
			if err != nil {
				t.Errorf("Reveal %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for _, w := range won {
		if w {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent reveals won, want exactly 1", winners, n)
	}
	if got := getStory(t, s, sess.ID, st.ID); got.RoundState != session.RoundRevealed {
		t.Errorf("round state %s", got.RoundState)
	}
}

func testStartRound(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	st := addStories(t, s, sess.ID, "Again")[0]
	castVote(t, s, st.ID, 1, ann, "3")
	reveal(t, s, st.ID, 1)

	if ok, err := s.StartRound(ctx, st.ID, 1, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("StartRound: %v, %v", ok, err)
	}
	got := getStory(t, s, sess.ID, st.ID)
	if got.Round != 2 || got.RoundState != session.RoundVoting || got.Status != session.StoryOpen {
		t.Errorf("after StartRound: round %d %s %s", got.Round, got.RoundState, got.Status)
	}
	rounds, _ := s.Rounds(ctx, st.ID)
	if len(rounds) != 2 || rounds[0].State != session.RoundRevealed || rounds[1].Number != 2 || rounds[1].State != session.RoundVoting ||
		!rounds[1].StartedAt.Equal(t0.Add(time.Hour)) || rounds[1].RevealedAt != nil {
		t.Errorf("rounds = %+v", rounds)
	}
	if ok, err := s.StartRound(ctx, st.ID, 1, t0.Add(2*time.Hour)); err != nil || ok {
		t.Errorf("a second StartRound after round 1 = %v, %v; want false", ok, err)
	}
	if got := getStory(t, s, sess.ID, st.ID); got.Round != 2 {
		t.Errorf("a losing StartRound moved the story to round %d", got.Round)
	}
	if got := getVotes(t, s, st.ID, 1); got[ann.ID] != "3" {
		t.Errorf("round 1 votes after a re-vote: %v", got)
	}

	// Concurrent re-votes from a round still voting: one wins and closes that round.
	const n = 10
	won := make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			if won[i], err = s.StartRound(ctx, st.ID, 2, t0.Add(3*time.Hour)); err != nil {
				t.Errorf("StartRound %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if c := len(slices.DeleteFunc(won, func(w bool) bool { return !w })); c != 1 {
		t.Errorf("%d concurrent StartRound calls won, want 1", c)
	}
	rounds, _ = s.Rounds(ctx, st.ID)
	if len(rounds) != 3 || rounds[1].State != session.RoundRevealed || rounds[1].RevealedAt == nil || rounds[2].State != session.RoundVoting {
		t.Errorf("rounds = %+v", rounds)
	}

	reveal(t, s, st.ID, 3)
	accept(t, s, st, 3, "5", nil)
	if ok, err := s.StartRound(ctx, st.ID, 3, t0.Add(4*time.Hour)); err != nil || !ok {
		t.Fatalf("StartRound on an estimated story: %v, %v", ok, err)
	}
	if got := getStory(t, s, sess.ID, st.ID); got.Status != session.StoryOpen || got.Round != 4 || got.RoundState != session.RoundVoting {
		t.Errorf("a re-vote did not reopen the estimated story: %+v", got)
	}
}

func testAccept(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	local := addStories(t, s, sess.ID, "Local")[0]
	imported := importStory(t, s, sess.ID, "jira", "API-7")
	third := importStory(t, s, sess.ID, "jira", "API-8")
	outboxRows := func(st *session.Story) int {
		t.Helper()
		return count(t, s, `SELECT COUNT(*) FROM outbox WHERE story_id = ?`, st.ID)
	}

	castVote(t, s, local.ID, 1, ann, "5")
	if ok, err := s.Accept(ctx, local.ID, 1, "5", nil); err != nil || ok {
		t.Errorf("Accept before reveal = %v, %v; want false", ok, err)
	}
	if got := getStory(t, s, sess.ID, local.ID); got.Status != session.StoryOpen || got.Estimate != "" {
		t.Errorf("a refused Accept changed the story: %+v", got)
	}
	reveal(t, s, local.ID, 1)
	accept(t, s, local, 1, "5", nil)
	if got := getStory(t, s, sess.ID, local.ID); got.Status != session.StoryEstimated || got.Estimate != "5" || got.SyncState != session.SyncNone {
		t.Errorf("accepted local story: %+v", got)
	}
	if n := outboxRows(local); n != 0 {
		t.Errorf("%d write-backs for a story accepted without one", n)
	}

	reveal(t, s, imported.ID, 1)
	wb := outboxFor(imported, "8", t0)
	if ok, err := s.Accept(ctx, imported.ID, 2, "8", wb); err != nil || ok {
		t.Errorf("Accept of a round that is not the story's = %v, %v; want false", ok, err)
	}
	if n := outboxRows(imported); n != 0 {
		t.Errorf("a refused Accept queued %d write-backs", n)
	}
	accept(t, s, imported, 1, "8", wb)
	if got := getStory(t, s, sess.ID, imported.ID); got.Status != session.StoryEstimated || got.Estimate != "8" || got.SyncState != session.SyncPending {
		t.Errorf("accepted imported story: %+v", got)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM outbox WHERE story_id = ? AND value = '8' AND state = 'pending'`, imported.ID); n != 1 {
		t.Errorf("%d pending write-backs of 8, want 1", n)
	}

	// The estimate and its write-back are one transaction: when the write-back cannot be stored
	// (here its id clashes), the estimate is not stored either.
	reveal(t, s, third.ID, 1)
	clash := outboxFor(third, "3", t0)
	clash.ID = wb.ID
	if ok, err := s.Accept(ctx, third.ID, 1, "3", clash); err == nil {
		t.Errorf("Accept with an unstorable write-back = %v, nil; want an error", ok)
	}
	if got := getStory(t, s, sess.ID, third.ID); got.Status != session.StoryOpen || got.Estimate != "" || got.SyncState != session.SyncNone {
		t.Errorf("the estimate was stored without its write-back: %+v", got)
	}

	// A newer estimate replaces a write-back not yet delivered nor being delivered.
	accept(t, s, imported, 1, "13", outboxFor(imported, "13", t0.Add(time.Minute)))
	if n, m := outboxRows(imported), count(t, s, `SELECT COUNT(*) FROM outbox WHERE story_id = ? AND value = '13'`, imported.ID); n != 1 || m != 1 {
		t.Errorf("%d write-backs after a newer estimate (%d of 13), want only the newer", n, m)
	}
	// One being delivered (leased) is left to finish; the newer one follows it.
	if got, err := s.ClaimOutbox(ctx, "w1", 10, t0.Add(2*time.Minute), time.Minute); err != nil || len(got) != 1 {
		t.Fatalf("ClaimOutbox: %v, %v", got, err)
	}
	accept(t, s, imported, 1, "21", outboxFor(imported, "21", t0.Add(150*time.Second)))
	if n := outboxRows(imported); n != 2 {
		t.Errorf("%d write-backs, want the leased one and the newer one", n)
	}
}

func testOutbox(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	var sts []*session.Story
	var es []*session.Outbox
	for i, due := range []time.Time{t0, t0, t0.Add(time.Hour)} {
		st := importStory(t, s, sess.ID, "github", fmt.Sprintf("acme/api#%d", i+1))
		castVote(t, s, st.ID, 1, ann, "5")
		reveal(t, s, st.ID, 1)
		e := outboxFor(st, fmt.Sprint(i+3), due)
		accept(t, s, st, 1, e.Value, e)
		sts, es = append(sts, st), append(es, e)
	}
	claim := func(owner string, n int, now time.Time) []*session.Outbox {
		t.Helper()
		got, err := s.ClaimOutbox(ctx, owner, n, now, time.Minute)
		if err != nil {
			t.Fatalf("ClaimOutbox: %v", err)
		}
		return got
	}
	claimedIDs := func(os []*session.Outbox) []string {
		out := ids(os, func(o *session.Outbox) string { return o.ID })
		slices.Sort(out)
		return out
	}
	sortedIDs := func(os ...*session.Outbox) []string { return claimedIDs(os) }

	got := claim("w1", 10, t0)
	if !slices.Equal(claimedIDs(got), sortedIDs(es[0], es[1])) {
		t.Fatalf("claimed %v, want the two due entries %v", claimedIDs(got), sortedIDs(es[0], es[1]))
	}
	for _, o := range got {
		want := es[0]
		if o.ID == es[1].ID {
			want = es[1]
		}
		if o.SessionID != want.SessionID || o.StoryID != want.StoryID || o.Source != "github" || o.ExternalKey != want.ExternalKey ||
			o.Value != want.Value || o.State != session.OutboxPending || o.Attempts != 0 || !o.NextAttempt.Equal(want.NextAttempt) || !o.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("claimed %+v, want %+v", o, want)
		}
	}
	if got := claim("w2", 10, t0.Add(30*time.Second)); len(got) != 0 {
		t.Errorf("claimed %d leased entries", len(got))
	}
	if err := s.ReleaseOutbox(ctx, "w2"); err != nil {
		t.Fatal(err)
	}
	if got := claim("w2", 10, t0.Add(30*time.Second)); len(got) != 0 {
		t.Errorf("releasing w2 released %d entries of w1", len(got))
	}
	if err := s.ReleaseOutbox(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	a := claim("w2", 1, t0.Add(30*time.Second))
	b := claim("w3", 1, t0.Add(30*time.Second))
	if len(a) != 1 || len(b) != 1 || a[0].ID == b[0].ID {
		t.Errorf("after w1 released: w2 claimed %v, w3 claimed %v; want one each", claimedIDs(a), claimedIDs(b))
	}
	// The leases of w2 and w3 run out at t0+90s: a crashed worker's entries are claimable again.
	if got := claim("w4", 10, t0.Add(90*time.Second)); len(got) != 0 {
		t.Errorf("claimed %d entries whose lease ends just now", len(got))
	}
	if got := claim("w4", 10, t0.Add(91*time.Second)); !slices.Equal(claimedIDs(got), sortedIDs(es[0], es[1])) {
		t.Errorf("after the leases ran out, claimed %v", claimedIDs(got))
	}

	delivered := *es[0]
	delivered.State, delivered.Attempts, delivered.Result = session.OutboxDelivered, 1, "story points of acme/api#1 set to 3"
	if err := s.FinishOutbox(ctx, &delivered); err != nil {
		t.Fatal(err)
	}
	if st := getStory(t, s, sess.ID, sts[0].ID); st.SyncState != session.SyncSynced || st.SyncedValue != "3" || st.SyncError != "" {
		t.Errorf("story after delivery: %+v", st)
	}

	retry := *es[1]
	retry.State, retry.Attempts, retry.LastError, retry.NextAttempt = session.OutboxPending, 1, "github: 502 Bad Gateway", t0.Add(5*time.Minute)
	if err := s.FinishOutbox(ctx, &retry); err != nil {
		t.Fatal(err)
	}
	if st := getStory(t, s, sess.ID, sts[1].ID); st.SyncState != session.SyncPending || st.SyncError != "github: 502 Bad Gateway" {
		t.Errorf("story after a failed attempt: %+v", st)
	}
	if got := claim("w5", 10, t0.Add(4*time.Minute)); len(got) != 0 {
		t.Errorf("claimed %v before the retry is due", claimedIDs(got))
	}
	got = claim("w5", 10, t0.Add(5*time.Minute))
	if len(got) != 1 || got[0].ID != es[1].ID || got[0].Attempts != 1 || got[0].LastError != "github: 502 Bad Gateway" {
		t.Errorf("claimed the retry as %+v", got)
	}

	failed := retry
	failed.State, failed.Attempts, failed.LastError = session.OutboxFailed, 5, "github: 404 Not Found"
	if err := s.FinishOutbox(ctx, &failed); err != nil {
		t.Fatal(err)
	}
	if st := getStory(t, s, sess.ID, sts[1].ID); st.SyncState != session.SyncFailed || st.SyncError != "github: 404 Not Found" {
		t.Errorf("story after failing for good: %+v", st)
	}
	if got := claim("w6", 10, t0.Add(2*time.Hour)); !slices.Equal(claimedIDs(got), sortedIDs(es[2])) {
		t.Errorf("claimed %v; want only the entry due at t0+1h (not the delivered nor the failed one)", claimedIDs(got))
	}
	done := *es[2]
	done.State, done.Attempts = session.OutboxDelivered, 1
	if err := s.FinishOutbox(ctx, &done); err != nil {
		t.Fatal(err)
	}

	if ok, err := s.RequeueOutbox(ctx, sess.ID, sts[1].ID, t0.Add(3*time.Hour)); err != nil || !ok {
		t.Fatalf("RequeueOutbox of a failed entry = %v, %v", ok, err)
	}
	if st := getStory(t, s, sess.ID, sts[1].ID); st.SyncState != session.SyncPending || st.SyncError != "" {
		t.Errorf("story after requeue: %+v", st)
	}
	got = claim("w7", 10, t0.Add(3*time.Hour))
	if len(got) != 1 || got[0].ID != es[1].ID || got[0].Attempts != 0 || got[0].LastError != "" {
		t.Errorf("claimed the requeued entry as %+v", got)
	}
	for name, tc := range map[string][2]string{
		"a delivered entry":        {sess.ID, sts[0].ID},
		"an entry being delivered": {sess.ID, sts[1].ID},
		"another session's story":  {"other-session", sts[1].ID},
	} {
		if ok, err := s.RequeueOutbox(ctx, tc[0], tc[1], t0.Add(4*time.Hour)); err != nil || ok {
			t.Errorf("RequeueOutbox of %s = %v, %v; want false", name, ok, err)
		}
	}

	// An entry superseded meanwhile leaves the story alone.
	gone := session.Outbox{ID: "superseded", StoryID: sts[0].ID, State: session.OutboxFailed, LastError: "too late"}
	if err := s.FinishOutbox(ctx, &gone); err != nil {
		t.Fatal(err)
	}
	if st := getStory(t, s, sess.ID, sts[0].ID); st.SyncState != session.SyncSynced {
		t.Errorf("a superseded entry changed the story: %+v", st)
	}
}

func testConnections(t *testing.T, s *Store) {
	ctx := t.Context()
	sess, _ := createSession(t, s, nil)
	other, _ := createSession(t, s, nil)
	jira := &session.Connection{SessionID: sess.ID, Tracker: "jira", Sealed: "v1:sealed-jira",
		Options: map[string]string{"field": "customfield_10016"}, UpdatedAt: t0}
	gh := &session.Connection{SessionID: sess.ID, Tracker: "github", Sealed: "v1:sealed-github", Options: map[string]string{}, UpdatedAt: t0}
	for _, c := range []*session.Connection{jira, gh} {
		if err := s.SaveConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Connection(ctx, sess.ID, "jira")
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionID != sess.ID || got.Tracker != "jira" || got.Sealed != "v1:sealed-jira" || got.Options["field"] != "customfield_10016" || !got.UpdatedAt.Equal(t0) {
		t.Errorf("Connection = %+v", got)
	}
	_, err = s.Connection(ctx, other.ID, "jira")
	wantNotFound(t, "Connection of another session", err)

	jira.Sealed, jira.Options, jira.UpdatedAt = "v1:rotated", map[string]string{"comment": "true"}, t0.Add(time.Hour)
	if err := s.SaveConnection(ctx, jira); err != nil {
		t.Fatal(err)
	}
	list, err := s.Connections(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Tracker != "github" || list[1].Tracker != "jira" || list[1].Sealed != "v1:rotated" ||
		list[1].Options["comment"] != "true" || list[1].Options["field"] != "" || !list[1].UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Connections after replacing jira's = %+v", list)
	}
	if list, err := s.Connections(ctx, other.ID); err != nil || len(list) != 0 {
		t.Errorf("Connections of another session = %v, %v", list, err)
	}

	wantNotFound(t, "DeleteConnection through another session", s.DeleteConnection(ctx, other.ID, "jira"))
	if err := s.DeleteConnection(ctx, sess.ID, "jira"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Connection(ctx, sess.ID, "jira")
	wantNotFound(t, "Connection after DeleteConnection", err)
	wantNotFound(t, "DeleteConnection twice", s.DeleteConnection(ctx, sess.ID, "jira"))
	if _, err := s.Connection(ctx, sess.ID, "github"); err != nil {
		t.Errorf("the other connection: %v", err)
	}
}

func testDeleteIdleSessions(t *testing.T, s *Store) {
	ctx := t.Context()
	old, oldOrg := createSession(t, s, nil)
	fresh, freshOrg := createSession(t, s, func(x *session.Session) { x.UpdatedAt = t0.Add(2 * time.Hour) })
	ann := addParticipant(t, s, &session.Participant{SessionID: old.ID, Name: "Ann"})
	st := importStory(t, s, old.ID, "github", "acme/api#9")
	castVote(t, s, st.ID, 1, ann, "5")
	reveal(t, s, st.ID, 1)
	accept(t, s, st, 1, "5", outboxFor(st, "5", t0))
	freshStory := addStories(t, s, fresh.ID, "Fresh")[0]
	if err := s.SaveConnection(ctx, &session.Connection{SessionID: old.ID, Tracker: "github", Sealed: "v1:x", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	n, err := s.DeleteIdleSessions(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteIdleSessions = %d, %v; want 1", n, err)
	}
	_, err = s.Session(ctx, old.ID)
	wantNotFound(t, "an idle session after deletion", err)
	_, err = s.ParticipantByToken(ctx, old.ID, tokenOf(oldOrg))
	wantNotFound(t, "a token of a deleted session", err)
	for query, arg := range map[string]string{
		`SELECT COUNT(*) FROM participants WHERE session_id = ?`:              old.ID,
		`SELECT COUNT(*) FROM participant_tokens WHERE participant_id IN (?)`: ann.ID,
		`SELECT COUNT(*) FROM stories WHERE session_id = ?`:                   old.ID,
		`SELECT COUNT(*) FROM rounds WHERE story_id = ?`:                      st.ID,
		`SELECT COUNT(*) FROM votes WHERE story_id = ?`:                       st.ID,
		`SELECT COUNT(*) FROM outbox WHERE session_id = ?`:                    old.ID,
		`SELECT COUNT(*) FROM connections WHERE session_id = ?`:               old.ID,
	} {
		if c := count(t, s, query, arg); c != 0 {
			t.Errorf("%s: %d rows of the deleted session left", query, c)
		}
	}

	if _, err := s.Session(ctx, fresh.ID); err != nil {
		t.Errorf("a recent session was deleted: %v", err)
	}
	if _, err := s.ParticipantByToken(ctx, fresh.ID, tokenOf(freshOrg)); err != nil {
		t.Errorf("a recent session's organizer: %v", err)
	}
	getStory(t, s, fresh.ID, freshStory.ID)
	if n, err := s.DeleteIdleSessions(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteIdleSessions again = %d, %v; want 0", n, err)
	}
}
