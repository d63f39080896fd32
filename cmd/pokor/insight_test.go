package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestServeFetchesOutcomes runs the server as wired in main: an estimate accepted for a GitHub
// issue of a team's session is written back, then the outcome is read from GitHub's
// documented issue and timeline payloads, and the team's insight shows its cycle time.
func TestServeFetchesOutcomes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/acme/api/issues/7", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, `{"id":1007,"number":7,"title":"Export PDF","state":"closed","state_reason":"completed","html_url":"https://github.com/acme/api/issues/7",`+
			`"labels":[],"created_at":"2025-03-01T09:00:00Z","closed_at":"2025-03-06T15:00:00Z"}`)
	})
	mux.HandleFunc("GET /repos/acme/api/issues/7/timeline", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, `[{"id":1,"node_id":"LE_1","event":"labeled","actor":{"login":"octocat","id":1},"commit_id":null,"commit_url":null,`+
			`"created_at":"2025-03-04T09:00:00Z","label":{"name":"in progress","color":"fbca04"},"performed_via_github_app":null}]`)
	})
	mux.HandleFunc("GET /repos/acme/api/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/labels#get-a-label"}`)
	})
	mux.HandleFunc("POST /repos/acme/api/labels", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 201, `{"id":9,"name":"estimate: 5","color":"c5def5"}`)
	})
	mux.HandleFunc("POST /repos/acme/api/issues/7/labels", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, `[{"id":9,"name":"estimate: 5"}]`)
	})
	mux.HandleFunc("POST /repos/acme/api/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 201, `{"id":1,"body":"estimate"}`)
	})
	mux.HandleFunc("GET /repos/acme/api/issues/7/comments", func(w http.ResponseWriter, r *http.Request) { answerJSON(w, 200, `[]`) })
	gh := httptest.NewServer(mux)
	defer gh.Close()

	_, call := serveWired(t, map[string]string{"GITHUB_TOKEN": githubToken, "GITHUB_API_URL": gh.URL})
	teamID := estimateInTeam(call, map[string]string{"title": "Export PDF", "source": "github", "key": "acme/api#7"})

	// In progress 4 March 09:00, closed 6 March 15:00: 54 hours.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var in struct {
			Stories []struct {
				Outcome *struct {
					CycleHours float64 `json:"cycle_hours"`
					Detail     string  `json:"detail"`
				} `json:"outcome"`
			} `json:"stories"`
		}
		call("GET", "/api/v1/teams/"+teamID+"/insight", nil, &in)
		if len(in.Stories) == 1 && in.Stories[0].Outcome != nil {
			if o := in.Stories[0].Outcome; o.CycleHours != 54 || o.Detail != `closed 2025-03-06; labeled "in progress" 2025-03-04` {
				t.Errorf("outcome = %+v, want 54 hours", o)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outcome never arrived")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
