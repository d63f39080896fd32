package session_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/approvalstest"
)

func TestMemoryApprovals(t *testing.T) {
	approvalstest.Run(t, func(t *testing.T) (session.Approvals, func(time.Duration)) {
		c := &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
		return session.NewMemoryApprovals(c.Now), c.Add
	}, time.Minute)
}

// TestJoinRequests covers the life of a request to join a session that requires approval: it
// runs out, it is answered after it ran out, and closing the session turns waiting joiners away.
func TestJoinRequests(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Settings: &session.Settings{RequireApproval: true}})
	orgRec, _ := e.connect(t, org)

	late := e.join(t, sess.ID, "Late", "")
	lateRec, _ := e.connect(t, late)
	e.clock.Add(session.DefaultApprovalTTL - time.Minute)
	slow := e.join(t, sess.ID, "Slow", "")
	slowRec, _ := e.connect(t, slow)
	if err := e.svc.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lateRec.events(t, session.EvAdmission); len(got) != 0 {
		t.Fatalf("turned away before the request ran out: %s", got)
	}

	e.clock.Add(2 * time.Minute) // Late's request has run out, Slow's has not
	if err := e.svc.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lateRec.events(t, session.EvAdmission); len(got) != 1 || !strings.Contains(string(got[0]), `"admitted":false`) ||
		!strings.Contains(string(got[0]), `"reason":"expired"`) {
		t.Errorf("the joiner whose request ran out was told %s", got)
	}
	if p, err := e.store.Participant(ctx, sess.ID, late.ID); err != nil || p.Status != session.StatusRemoved {
		t.Errorf("the expired joiner is %+v, %v; want removed", p, err)
	}
	if got := orgRec.events(t, session.EvParticipantRm); len(got) != 1 || !strings.Contains(string(got[0]), late.ID) {
		t.Errorf("organizers were told %s", got)
	}
	_, err := e.svc.Admit(ctx, org.Actor, late.ID, true)
	wantError(t, err, session.CodeNotFound)

	// Slow's request runs out before the organizer answers, and before any sweep.
	e.clock.Add(session.DefaultApprovalTTL)
	_, err = e.svc.Admit(ctx, org.Actor, slow.ID, true)
	wantError(t, err, session.CodeConflict, "expired")
	if got := slowRec.events(t, session.EvAdmission); len(got) != 1 || !strings.Contains(string(got[0]), `"reason":"expired"`) {
		t.Errorf("a joiner admitted after the request ran out was told %s", got)
	}
	if p, _ := e.store.Participant(ctx, sess.ID, slow.ID); p.Status != session.StatusRemoved {
		t.Errorf("a joiner admitted after the request ran out is %s, want removed", p.Status)
	}

	// Closing the session turns away whoever still waits.
	w1, w2 := e.join(t, sess.ID, "Waiting 1", ""), e.join(t, sess.ID, "Waiting 2", "")
	r1, _ := e.connect(t, w1)
	r2, _ := e.connect(t, w2)
	if _, err := e.svc.CloseSession(ctx, org.Actor); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{r1, r2} {
		if got := r.events(t, session.EvAdmission); len(got) != 1 || !strings.Contains(string(got[0]), `"reason":"closed"`) {
			t.Errorf("a joiner waiting when the session closed was told %s", got)
		}
	}
	ps, _ := e.store.Participants(ctx, sess.ID)
	for _, p := range ps {
		if p.Status == session.StatusPending {
			t.Errorf("%s still waits after the session closed", p.Name)
		}
	}
	if err := e.svc.ExpireApprovals(ctx); err != nil {
		t.Fatal(err)
	}
}

// failingApprovals is a registry that cannot be reached (Redis down).
type failingApprovals struct{ session.Approvals }

func (failingApprovals) Add(context.Context, string, string, time.Duration) error {
	return errors.New("redis: connection refused")
}

func (failingApprovals) Remove(context.Context, string, string) (bool, error) {
	return false, errors.New("redis: connection refused")
}

func TestJoinRequestsUnreachable(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	reg := session.NewMemoryApprovals(e.clock.Now)
	svc := session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Presence: e.hub, Keys: e.keys,
		Approvals: reg, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	sess, org, _, err := svc.CreateSession(ctx, session.CreateInput{Organizer: "Olga", Settings: &session.Settings{RequireApproval: true}})
	if err != nil {
		t.Fatal(err)
	}
	pat, _, err := svc.Join(ctx, sess.ID, session.JoinInput{Name: "Pat"})
	if err != nil {
		t.Fatal(err)
	}
	down := session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Presence: e.hub, Keys: e.keys,
		Approvals: failingApprovals{reg}, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	before := e.store.writes.Load()
	_, _, err = down.Join(ctx, sess.ID, session.JoinInput{Name: "Quinn"})
	wantError(t, err, session.CodeUnavailable, "try again")
	if e.store.writes.Load() != before {
		t.Error("a join whose request could not be recorded wrote to the store")
	}
	_, err = down.Admit(ctx, session.Actor{SessionID: sess.ID, ParticipantID: org.ID}, pat.ID, true)
	wantError(t, err, session.CodeUnavailable)
	if p, _ := e.store.Participant(ctx, sess.ID, pat.ID); p.Status != session.StatusPending {
		t.Errorf("after a failed admission the joiner is %s, want still pending", p.Status)
	}
	if p, err := svc.Admit(ctx, session.Actor{SessionID: sess.ID, ParticipantID: org.ID}, pat.ID, true); err != nil || p.Status != session.StatusActive {
		t.Errorf("admitting once the registry is back: %+v, %v", p, err)
	}
}
