package webui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTeamWebhookAPI: whoever holds a team's link sets the team's webhook through the team API
// (a stranger may not), and the webhook receives the events of the team's sessions, signed with
// the secret shown once; once removed it receives nothing.
func TestTeamWebhookAPI(t *testing.T) {
	_, recv, setSecret, got, client := webhookServer(t)
	call, stranger := client(), client()
	var created struct{ Session struct{ ID string } }
	if st := call("POST", "/api/v1/sessions", `{"name":"Olga"}`, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	base := "/api/v1/sessions/" + created.Session.ID
	var ta struct {
		Team struct {
			ID      string `json:"id"`
			TeamURL string `json:"team_url"`
		} `json:"team"`
	}
	if st := call("PUT", base+"/team", `{"name":"Core"}`, &ta); st != http.StatusOK || ta.Team.TeamURL == "" {
		t.Fatalf("set team: %d %+v", st, ta)
	}
	// The team's link gives this browser the team's cookie.
	if st := call("GET", ta.Team.TeamURL, "", nil); st != http.StatusOK {
		t.Fatalf("team link: %d", st)
	}
	hookPath := "/api/v1/teams/" + ta.Team.ID + "/webhook"
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		body := ""
		if m == "PUT" {
			body = `{"url":"` + recv.URL + `/evil"}`
		}
		if st := stranger(m, hookPath, body, nil); st != http.StatusForbidden {
			t.Errorf("%s of the team's webhook without its link: %d", m, st)
		}
	}
	if st := call("GET", hookPath, "", nil); st != http.StatusNotFound {
		t.Errorf("no webhook yet: %d", st)
	}
	if st := call("PUT", hookPath, `{"url":"gopher://x"}`, nil); st != http.StatusBadRequest {
		t.Errorf("a gopher URL: %d", st)
	}
	if st := call("PUT", hookPath, `{"url":"http://10.1.2.3/hook"}`, nil); st != http.StatusBadRequest {
		t.Errorf("a private address not allowed by the administrator: %d", st)
	}
	var hook struct {
		URL, Secret string
		Events      []string
	}
	if st := call("PUT", hookPath, `{"url":"`+recv.URL+`/team"}`, &hook); st != http.StatusOK || !strings.HasPrefix(hook.Secret, "whsec_") || len(hook.Events) != 3 {
		t.Fatalf("set: %d %+v", st, hook)
	}
	setSecret(hook.Secret)
	var again map[string]any
	if st := call("GET", hookPath, "", &again); st != http.StatusOK || again["url"] != recv.URL+"/team" || again["secret"] != nil {
		t.Errorf("GET: %d %v", st, again)
	}

	var stories []struct{ ID string }
	call("POST", base+"/stories", `{"title":"Login page"}`, &stories)
	sid := stories[0].ID
	call("POST", base+"/stories/"+sid+"/select", "", nil)
	call("PUT", base+"/stories/"+sid+"/vote", `{"card":"8"}`, nil)
	call("POST", base+"/stories/"+sid+"/reveal", "", nil)
	if st := call("POST", base+"/stories/"+sid+"/accept", `{"value":"8"}`, nil); st != http.StatusOK {
		t.Fatalf("accept: %d", st)
	}
	select {
	case b := <-got:
		if b["type"] != "estimate.accepted" || b["estimate"].(map[string]any)["value"] != "8" || b["session"].(map[string]any)["id"] != created.Session.ID {
			t.Errorf("delivered %v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the team's webhook got nothing")
	}
	if st := call("DELETE", hookPath, "", nil); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	if st := call("DELETE", hookPath, "", nil); st != http.StatusNotFound {
		t.Errorf("delete again: %d", st)
	}
	call("POST", base+"/close", "", nil)
	select {
	case b := <-got:
		t.Errorf("a removed webhook got %v", b)
	case <-time.After(300 * time.Millisecond):
	}
}
