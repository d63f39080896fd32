package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
	"github.com/pokor/pokor/session/sqlstore"
)

// The tests in this file run two `pokor serve` processes, blue and green, on one PostgreSQL
// database and one Redis, as docker-compose.yml and the Kubernetes manifests do, and drive them
// the way browsers behind a load balancer would: a participant's cookie goes with it to
// whichever instance it lands on.

// clusterEnv is the configuration every instance of a test shares.
func clusterEnv(t *testing.T) map[string]string {
	t.Helper()
	db := sessiontest.Postgres(t)
	redisURL, prefix := sessiontest.Redis(t)
	return map[string]string{
		"POKOR_DATABASE_URL":   db,
		"POKOR_REDIS_URL":      redisURL,
		"POKOR_REDIS_PREFIX":   prefix,
		"POKOR_SECRET_KEY":     clusterSecretKey,
		"POKOR_BASE_URL":       "http://pokor.test",
		"POKOR_SHUTDOWN_DELAY": "1s",
		// The tests script an organizer far faster than a person clicks; the abuse limits have
		// their own tests (webui/limits_test.go).
		"POKOR_RATE_MESSAGES": "1000/s",
	}
}

func startCluster(t *testing.T) (blue, green *proc) {
	t.Helper()
	env := clusterEnv(t)
	blue, green = startPokor(t, "blue", env), startPokor(t, "green", env)
	blue.waitReady()
	green.waitReady()
	return blue, green
}

// addStory adds a story and makes it the current one.
func addStory(t *testing.T, org *person, p *proc, title string) string {
	t.Helper()
	var out []struct {
		ID string `json:"id"`
	}
	if st := org.api(p, "POST", "/api/v1/sessions/"+org.sid+"/stories", map[string]any{"title": title}, &out); st != http.StatusOK || len(out) != 1 {
		t.Fatalf("adding a story: %d %v", st, out)
	}
	if st := org.api(p, "POST", "/api/v1/sessions/"+org.sid+"/stories/"+out[0].ID+"/select", nil, nil); st != http.StatusOK {
		t.Fatalf("selecting the story: %d", st)
	}
	return out[0].ID
}

func vote(c *person, storyID, card string) {
	c.t.Helper()
	c.request("vote", map[string]any{"story_id": storyID, "data": map[string]any{"card": card}})
}

// revealedCards returns participant → card of a revealed event's data.
func revealedCards(d map[string]any) map[string]string {
	out := map[string]string{}
	votes, _ := d["votes"].([]any)
	for _, v := range votes {
		m, _ := v.(map[string]any)
		id, _ := m["participant_id"].(string)
		card, _ := m["card"].(string)
		out[id] = card
	}
	return out
}

// TestSplitRoom: the members of one room are connected to two instances; they vote, and every one
// of them sees every vote arrive and the same reveal, once.
func TestSplitRoom(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, blue, "Olga", nil)
	ann := joinSession(t, blue, org.sid, "Ann")
	bob := joinSession(t, green, org.sid, "Bob")
	cid := joinSession(t, green, org.sid, "Cid")
	st := addStory(t, org, green, "Login page")
	org.connect(blue)
	ann.connect(blue)
	bob.connect(green)
	snap := cid.connect(green)
	if d, _ := snap["data"].(map[string]any); len(d["participants"].([]any)) != 4 {
		t.Errorf("the snapshot on green lists %d participants, want 4", len(d["participants"].([]any)))
	}
	everyone := []*person{org, ann, bob, cid}
	cards := map[*person]string{ann: "3", bob: "5", cid: "5"}
	for _, v := range []*person{ann, bob, cid} {
		vote(v, st, cards[v])
	}
	for _, c := range everyone {
		c.waitCount("voted", st, 3)
	}
	org.request("reveal", map[string]any{"story_id": st})
	for _, c := range everyone {
		c.waitCount("revealed", st, 1)
	}
	time.Sleep(300 * time.Millisecond) // a second reveal would have arrived by now
	want := map[string]string{ann.id: "3", bob.id: "5", cid.id: "5"}
	for _, c := range everyone {
		if n := c.count("revealed", st); n != 1 {
			t.Errorf("%s saw %d reveals", c.name, n)
		}
		if got := revealedCards(c.lastData("revealed", st)); !equalMaps(got, want) {
			t.Errorf("%s saw the reveal %v, want %v", c.name, got, want)
		}
	}
	// The room on each instance knows who is connected to the other.
	for _, c := range []*person{ann, bob} {
		snap := c.request("snapshot", nil)
		res, _ := snap["result"].(map[string]any)
		for _, p := range res["participants"].([]any) {
			if m := p.(map[string]any); m["connected"] != true {
				t.Errorf("%s's snapshot shows %s disconnected", c.name, m["name"])
			}
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestConcurrentRevealAcrossInstances: two organizers, on two instances, press reveal at the same
// moment. Both get an answer; the room sees one reveal.
func TestConcurrentRevealAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	olga := createSession(t, blue, "Olga", nil)
	oscar := joinSession(t, green, olga.sid, "Oscar")
	if st := olga.api(blue, "PATCH", "/api/v1/sessions/"+olga.sid+"/participants/"+oscar.id, map[string]any{"role": "organizer"}, nil); st != http.StatusOK {
		t.Fatalf("promoting Oscar: %d", st)
	}
	ann := joinSession(t, blue, olga.sid, "Ann")
	bob := joinSession(t, green, olga.sid, "Bob")
	olga.connect(blue)
	oscar.connect(green)
	ann.connect(blue)
	bob.connect(green)
	everyone := []*person{olga, oscar, ann, bob}
	for i := range 5 {
		st := addStory(t, olga, blue, fmt.Sprint("Story ", i+1))
		vote(ann, st, "8")
		vote(bob, st, "13")
		for _, c := range everyone {
			c.waitCount("voted", st, 2)
		}
		a := olga.send("reveal", map[string]any{"story_id": st})
		b := oscar.send("reveal", map[string]any{"story_id": st})
		ra, rb := olga.answer(a), oscar.answer(b)
		for _, r := range []map[string]any{ra, rb} {
			res, _ := r["result"].(map[string]any)
			if res["round_state"] != "revealed" || len(revealedCards(res)) != 2 {
				t.Errorf("story %d: a reveal answered %v", i+1, res)
			}
		}
		for _, c := range everyone {
			c.waitCount("revealed", st, 1)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, c := range everyone {
		if n := c.count("revealed", ""); n != 5 {
			t.Errorf("%s saw %d reveals for 5 stories", c.name, n)
		}
	}
}

// TestJoinApprovalAcrossInstances: a joiner waits on one instance, the organizer answers on the
// other.
func TestJoinApprovalAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, blue, "Olga", map[string]any{"require_approval": true, "allow_spectators": true})
	org.connect(blue)
	pat := joinSession(t, green, org.sid, "Pat")
	den := joinSession(t, green, org.sid, "Den")
	pat.connect(green)
	den.connect(green)
	org.waitCount("participant", "", 2) // organizers hear of waiting joiners
	org.request("admit", map[string]any{"participant_id": pat.id, "data": map[string]any{"admit": true}})
	org.request("admit", map[string]any{"participant_id": den.id, "data": map[string]any{"admit": false}})
	if d := pat.expect("admission")["data"].(map[string]any); d["admitted"] != true {
		t.Errorf("Pat was told %v", d)
	}
	if d := den.expect("admission")["data"].(map[string]any); d["admitted"] != false || d["reason"] != "denied" {
		t.Errorf("Den was told %v", d)
	}
	snap := pat.connect(green) // the room page reconnects once admitted
	if me := snap["data"].(map[string]any)["me"].(map[string]any); me["status"] != "active" {
		t.Errorf("Pat after admission: %v", me)
	}
	if st := den.api(blue, "GET", "/api/v1/sessions/"+org.sid, nil, nil); st != http.StatusForbidden {
		t.Errorf("Den, turned away, reads the session: %d", st)
	}
}

// TestRollingRestart stops one instance with SIGTERM in the middle of a round with auto-reveal on.
// It turns unready first, then tells its clients to reconnect; they land on the other instance
// as themselves, with their votes; nobody is reported gone, the round is not revealed early, and
// it ends with every vote.
func TestRollingRestart(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, green, "Olga", map[string]any{"auto_reveal": true, "allow_spectators": true})
	a1 := joinSession(t, blue, org.sid, "Ann")
	a2 := joinSession(t, blue, org.sid, "Abe")
	b1 := joinSession(t, green, org.sid, "Bob")
	st := addStory(t, org, green, "Checkout")
	org.connect(green)
	a1.connect(blue)
	a2.connect(blue)
	b1.connect(green)
	vote(a1, st, "3")
	vote(b1, st, "5")
	org.waitCount("voted", st, 2)

	blue.terminate()
	// Readiness goes first, while the clients are still connected, so the load balancer stops
	// sending new ones before the old ones move.
	deadline := time.Now().Add(time.Second)
	for {
		code, body := blue.get("/readyz")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blue's /readyz during shutdown: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a1.count("reconnect", "") != 0 {
		t.Error("clients were moved away before the instance turned unready")
	}
	for _, c := range []*person{a1, a2} {
		c.expect("reconnect")
		c.closed()
	}
	if err := blue.wait(20 * time.Second); err != nil {
		t.Errorf("blue exited with %v after SIGTERM, want 0", err)
	}

	for _, c := range []*person{a1, a2} {
		snap := c.connect(green)["data"].(map[string]any)
		me := snap["me"].(map[string]any)
		if me["id"] != c.id || me["role"] != "voter" || me["status"] != "active" {
			t.Errorf("%s came back as %v", c.name, me)
		}
		mine, _ := snap["my_votes"].(map[string]any)
		if c == a1 {
			if v, _ := mine[st].(map[string]any); v["card"] != "3" {
				t.Errorf("Ann's vote after the move: %v", mine)
			}
		}
		for _, s := range snap["stories"].([]any) {
			s := s.(map[string]any)
			if s["id"] == st {
				voters := toStrings(s["voters"])
				if s["round_state"] != "voting" || !slices.Contains(voters, a1.id) || !slices.Contains(voters, b1.id) {
					t.Errorf("the story after the move: %v", s)
				}
			}
		}
	}
	if n := org.count("revealed", st); n != 0 {
		t.Fatal("the round was revealed while Abe, who had not voted, moved to the other instance")
	}
	for _, ev := range org.seenOf("presence") {
		if d := ev["data"].(map[string]any); d["connected"] == false {
			t.Errorf("the organizer saw %v leave during the move", d["id"])
		}
	}

	vote(a2, st, "8") // the last voter: auto-reveal
	want := map[string]string{a1.id: "3", a2.id: "8", b1.id: "5"}
	for _, c := range []*person{org, a1, a2, b1} {
		c.waitCount("revealed", st, 1)
		if got := revealedCards(c.lastData("revealed", st)); !equalMaps(got, want) {
			t.Errorf("%s saw the reveal %v, want %v", c.name, got, want)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// seenOf returns the events of a type received so far.
func (c *person) seenOf(typ string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, ev := range c.seen {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

// TestRedisOutageInstance takes Redis away from a running instance: /readyz says so, its members
// keep voting, and when Redis returns they are told to reconnect for a fresh snapshot.
func TestRedisOutageInstance(t *testing.T) {
	env := clusterEnv(t)
	relay, viaRelay := sessiontest.RedisRelay(t, env["POKOR_REDIS_URL"])
	env["POKOR_REDIS_URL"] = viaRelay
	blue := startPokor(t, "blue", env)
	blue.waitReady()
	org := createSession(t, blue, "Olga", nil)
	ann := joinSession(t, blue, org.sid, "Ann")
	st := addStory(t, org, blue, "Outage")
	org.connect(blue)
	ann.connect(blue)

	relay.Cut()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := blue.get("/readyz")
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, "event bus unavailable") {
				t.Errorf("/readyz without Redis: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz without Redis: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	vote(ann, st, "5")
	org.waitCount("voted", st, 1)

	relay.Restore()
	blue.waitReady()
	org.expect("reconnect")
	ann.expect("reconnect")
	snap := org.connect(blue)["data"].(map[string]any)
	for _, s := range snap["stories"].([]any) {
		if s := s.(map[string]any); s["id"] == st && !slices.Contains(toStrings(s["voters"]), ann.id) {
			t.Errorf("the fresh snapshot misses the vote cast during the outage: %v", s)
		}
	}
}

// TestOutboxDeliveredOnce accepts an estimate of a GitHub issue with both instances' write-back
// workers running against one fake GitHub: the label is written once.
func TestOutboxDeliveredOnce(t *testing.T) {
	gh := newFakeGitHubAPI(t)
	env := clusterEnv(t)
	env["GITHUB_TOKEN"], env["GITHUB_API_URL"] = githubToken, gh.URL
	blue, green := startPokor(t, "blue", env), startPokor(t, "green", env)
	blue.waitReady()
	green.waitReady()
	org := createSession(t, blue, "Olga", nil)
	api := "/api/v1/sessions/" + org.sid
	if st := org.api(green, "PUT", api+"/connections/github", map[string]any{"options": map[string]string{"mode": "label"}}, nil); st != http.StatusOK {
		t.Fatalf("connecting GitHub: %d", st)
	}
	var stories []struct{ ID string }
	if st := org.api(blue, "POST", api+"/stories", map[string]string{"title": "Login fails", "source": "github", "key": "acme/api#1"}, &stories); st != http.StatusOK {
		t.Fatalf("adding the issue: %d", st)
	}
	sid := stories[0].ID
	org.api(green, "PUT", api+"/stories/"+sid+"/vote", map[string]string{"card": "5"}, nil)
	org.api(blue, "POST", api+"/stories/"+sid+"/reveal", nil, nil)
	if st := org.api(green, "POST", api+"/stories/"+sid+"/accept", map[string]string{"value": "5"}, nil); st != http.StatusOK {
		t.Fatalf("accepting: %d", st)
	}
	gh.waitWrites(t, 15*time.Second)
	time.Sleep(5 * time.Second) // both workers poll every 2 s: a second delivery would be here by now
	gh.mu.Lock()
	writes := slices.Clone(gh.writes)
	gh.mu.Unlock()
	if len(writes) != 1 || writes[0] != "labels estimate: 5" {
		t.Errorf("GitHub saw %v; want the label written once", writes)
	}
	var got struct {
		Stories []struct {
			ID        string `json:"id"`
			SyncState string `json:"sync_state"`
		} `json:"stories"`
	}
	org.api(blue, "GET", api, nil, &got)
	for _, st := range got.Stories {
		if st.ID == sid && st.SyncState != "synced" {
			t.Errorf("the story's sync state is %q, want synced", st.SyncState)
		}
	}
}

// countingTrackers is a tracker that counts the estimates written to each item.
type countingTrackers struct {
	mu     sync.Mutex
	writes map[string]int
}

// trackers describes c as the tracker "github".
func (c *countingTrackers) trackers() []session.Tracker {
	return []session.Tracker{{Name: "github", WritesBack: true,
		Open: func(session.Credentials) (session.TrackerClient, error) { return c, nil }}}
}

func (c *countingTrackers) List(context.Context, string, string) (session.ExternalPage, error) {
	return session.ExternalPage{}, nil
}

func (c *countingTrackers) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{}, nil
}

func (c *countingTrackers) WriteEstimate(ctx context.Context, key string, wb session.WriteBack) (session.WriteResult, error) {
	select {
	case <-time.After(15 * time.Millisecond): // a tracker takes its time
	case <-ctx.Done():
		return session.WriteResult{}, ctx.Err()
	}
	c.mu.Lock()
	c.writes[key]++
	c.mu.Unlock()
	return session.WriteResult{Detail: "story points set to " + wb.Value}, nil
}

// TestOutboxExactlyOnce runs the write-back workers of two instances on one PostgreSQL database,
// with many entries, and stops one of them half-way: every queued estimate reaches the tracker
// exactly once. The two instances run in this process, each with its own Service and connection
// pool, so that the test can stop one worker at a chosen moment and count every write.
func TestOutboxExactlyOnce(t *testing.T) {
	url := sessiontest.Postgres(t)
	keys, err := session.NewKeys(clusterSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	tracker := &countingTrackers{writes: map[string]int{}}
	type instance struct {
		store *sqlstore.Store
		svc   *session.Service
		stop  context.CancelFunc
		done  chan struct{}
	}
	start := func(owner string) *instance {
		st, err := sqlstore.Open(t.Context(), url, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		in := &instance{store: st, done: make(chan struct{})}
		in.svc = session.NewService(session.Config{Store: st, Keys: keys, Trackers: tracker.trackers(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		in.stop = cancel
		go func() { defer close(in.done); in.svc.RunWriteBack(ctx, owner) }()
		t.Cleanup(func() { cancel(); <-in.done })
		return in
	}

	// The estimates are accepted through the store, as the service does, before the workers start.
	seed, err := sqlstore.Open(t.Context(), url, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	svc := session.NewService(session.Config{Store: seed, Keys: keys, Trackers: tracker.trackers()})
	sess, org, _, err := svc.CreateSession(t.Context(), session.CreateInput{Organizer: "Olga"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var stories []*session.Story
	for i := range n {
		stories = append(stories, &session.Story{Title: fmt.Sprint("Issue ", i+1), Source: "github", ExternalKey: fmt.Sprintf("acme/api#%d", i+1), CreatedAt: time.Now()})
	}
	if err := seed.SaveStories(t.Context(), sess.ID, stories); err != nil {
		t.Fatal(err)
	}
	actor := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	for _, st := range stories {
		if _, err := svc.SelectStory(t.Context(), actor, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Vote(t.Context(), actor, st.ID, session.VoteInput{Card: "5"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reveal(t.Context(), actor, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Accept(t.Context(), actor, st.ID, "5"); err != nil {
			t.Fatal(err)
		}
	}

	blue, green := start("blue"), start("green")
	// Blue is stopped (SIGTERM) once a few estimates are written: what it had claimed goes to green.
	for {
		tracker.mu.Lock()
		done := len(tracker.writes)
		tracker.mu.Unlock()
		if done >= 5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	blue.stop()
	<-blue.done
	deadline := time.Now().Add(30 * time.Second)
	for {
		all, err := green.store.Stories(t.Context(), sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		synced := 0
		for _, st := range all {
			if st.SyncState == session.SyncSynced {
				synced++
			}
		}
		if synced == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d estimates written back", synced, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	var twice []string
	for key, w := range tracker.writes {
		if w != 1 {
			twice = append(twice, fmt.Sprintf("%s×%d", key, w))
		}
	}
	sort.Strings(twice)
	if len(tracker.writes) != n || len(twice) > 0 {
		t.Errorf("%d items written, want %d, each once; written more than once: %v", len(tracker.writes), n, twice)
	}
}
