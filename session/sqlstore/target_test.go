package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// TestWriteTargets runs on SQLite and PostgreSQL: a story keeps its imported estimate and its
// write target; importing again refreshes the estimate, replaces the target when one is given
// and keeps it otherwise; a delivered write stores the target it reports.
func TestWriteTargets(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *Store{"SQLite": openSQLite, "PostgreSQL": openPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			sess, org := createSession(t, s, nil)
			st := &session.Story{Title: "Export", Source: "jira", ExternalKey: "API-12", CreatedAt: t0,
				ImportedEstimate: "5", Target: session.WriteTarget{"board": "84"}}
			if err := s.SaveStories(ctx, sess.ID, []*session.Story{st}); err != nil {
				t.Fatal(err)
			}
			got := getStory(t, s, sess.ID, st.ID)
			if got.ImportedEstimate != "5" || !reflect.DeepEqual(got.Target, session.WriteTarget{"board": "84"}) {
				t.Fatalf("stored story = %+v", got)
			}

			again := &session.Story{Title: "Export", Source: "jira", ExternalKey: "API-12", CreatedAt: t0, ImportedEstimate: "8"}
			if err := s.SaveStories(ctx, sess.ID, []*session.Story{again}); err != nil {
				t.Fatal(err)
			}
			if got := getStory(t, s, sess.ID, st.ID); got.ImportedEstimate != "8" || got.Target["board"] != "84" {
				t.Errorf("after importing again without a target: %+v", got)
			}

			castVote(t, s, st.ID, 1, org, "3")
			reveal(t, s, st.ID, 1)
			now := time.Now().UTC()
			wb := outboxFor(st, "3", now)
			accept(t, s, st, 1, "3", wb)
			claimed, err := s.ClaimOutbox(ctx, "w", 1, now, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v, %d", err, len(claimed))
			}
			o := claimed[0]
			o.State, o.Attempts = session.OutboxDelivered, 1
			o.Target = session.WriteTarget{"board": "84", "field": "customfield_10026"}
			if err := s.FinishOutbox(ctx, o); err != nil {
				t.Fatal(err)
			}
			got = getStory(t, s, sess.ID, st.ID)
			if got.SyncState != session.SyncSynced || got.Target["field"] != "customfield_10026" || got.ImportedEstimate != "8" || got.Estimate != "3" {
				t.Errorf("after the delivery: %+v", got)
			}

			other := &session.Story{Title: "Export", Source: "jira", ExternalKey: "API-12", CreatedAt: t0, Target: session.WriteTarget{"board": "90"}}
			if err := s.SaveStories(ctx, sess.ID, []*session.Story{other}); err != nil {
				t.Fatal(err)
			}
			if got := getStory(t, s, sess.ID, st.ID); !reflect.DeepEqual(got.Target, session.WriteTarget{"board": "90"}) {
				t.Errorf("importing again from another board keeps %v", got.Target)
			}
		})
	}
}
