package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// pokorCmd runs a `pokor` sub-command as its own process with env and returns its output.
func pokorCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(pokorBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestBackupUnderLoad takes `pokor backup` of a running server while voters keep voting through
// the JSON API, restores it with `pokor restore` after the server stopped, and finds in the
// restored database every vote acknowledged before the backup began, with its card. The secret
// key generated beside the database travels with the backup.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "data", "pokor.db")
	env := map[string]string{"POKOR_DATABASE_URL": db}
	srv := startPokor(t, "pokor", env)
	org := createSession(t, srv, "Olga", map[string]any{"async": true})
	const nStories, nVoters = 30, 6
	var titles []map[string]any
	for i := range nStories {
		titles = append(titles, map[string]any{"title": fmt.Sprintf("Story %d", i)})
	}
	var added []struct{ ID string }
	if code := org.api(srv, "POST", "/api/v1/sessions/"+org.sid+"/stories", map[string]any{"stories": titles}, &added); code != http.StatusOK || len(added) != nStories {
		t.Fatalf("adding the stories: %d, %d", code, len(added))
	}
	stories := make([]string, nStories)
	for i, st := range added {
		stories[i] = st.ID
	}
	cards := []string{"1", "2", "3", "5", "8", "13"}

	type key struct{ story, voter string }
	var mu sync.Mutex
	acked := map[key]string{}
	var wg sync.WaitGroup
	for v := range nVoters {
		p := joinSession(t, srv, org.sid, fmt.Sprintf("Voter %d", v))
		wg.Go(func() {
			for i, sid := range stories {
				card := cards[(i+v)%len(cards)]
				if code := p.api(srv, "PUT", "/api/v1/sessions/"+org.sid+"/stories/"+sid+"/vote", map[string]any{"card": card}, nil); code != http.StatusOK {
					t.Errorf("vote: %d", code)
					return
				}
				mu.Lock()
				acked[key{sid, p.id}] = card
				mu.Unlock()
				time.Sleep(60 * time.Millisecond) // under POKOR_RATE_MESSAGES (20/s)
			}
		})
	}
	// Take the backup once about a third of the votes are in, while the rest flow.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= nStories*nVoters/3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := make(map[key]string, len(acked))
	for k, v := range acked {
		before[k] = v
	}
	mu.Unlock()
	backup := filepath.Join(dir, "pokor-backup.db")
	out, err := pokorCmd(t, env, "backup", backup)
	if err != nil {
		t.Fatalf("pokor backup: %v\n%s", err, out)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	wg.Wait()
	t.Logf("%d votes acknowledged before the backup, %d while it ran, %d in all\n%s", len(before), during, len(acked), out)
	if _, err := os.Stat(backup + ".key"); err != nil {
		t.Errorf("the generated secret key was not copied beside the backup: %v", err)
	}

	if out, err := pokorCmd(t, env, "restore", backup); err == nil || !strings.Contains(out, "in use") {
		t.Fatalf("restore while the server runs: %v\n%s", err, out)
	}
	srv.stop()
	// Restore where a new machine would: a fresh data directory, no secret key yet.
	env2 := map[string]string{"POKOR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "new", "pokor.db")}
	if out, err := pokorCmd(t, env2, "restore", backup); err != nil {
		t.Fatalf("pokor restore: %v\n%s", err, out)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "new", "secret.key"))
	if err != nil {
		t.Fatalf("restore did not install the secret key: %v", err)
	}
	keys, err := session.NewKeys(strings.TrimSpace(string(secret)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(t.Context(), env2["POKOR_DATABASE_URL"], keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	restored := map[key]string{}
	for _, sid := range stories {
		vs, err := s.Votes(t.Context(), sid, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			restored[key{sid, v.ParticipantID}] = v.Card
		}
	}
	for k, card := range before {
		if restored[k] != card {
			t.Errorf("acknowledged vote %s by %s: restored %q, want %q", k.story, k.voter, restored[k], card)
		}
	}
	for k, card := range restored {
		if acked[k] != card {
			t.Errorf("restored vote %s by %s = %q was never acknowledged as such (%q)", k.story, k.voter, card, acked[k])
		}
	}
	if len(restored) < len(before) {
		t.Errorf("%d votes restored, %d acknowledged before the backup", len(restored), len(before))
	}
	// The restored database serves: the session is there.
	srv2 := startPokor(t, "restored", env2)
	if code, body := srv2.get("/api/v1/sessions/" + org.sid); code != http.StatusForbidden && code != http.StatusUnauthorized && code != http.StatusOK {
		t.Errorf("the restored session: %d %s", code, body)
	}
}
