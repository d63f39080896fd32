package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeFetchesGitLabAndAzureOutcomes runs the server as wired in main with GitLab and Azure
// DevOps pointed at fakes serving their documented payloads: an estimate accepted for an issue
// (a work item) of a team's session leads to its outcome on the team's insight.
func TestServeFetchesGitLabAndAzureOutcomes(t *testing.T) {
	gitlabIssue := `{"id":1007,"iid":7,"project_id":3,"title":"Export PDF","state":"closed","labels":["estimate::5"],"issue_type":"issue",` +
		`"web_url":"https://gitlab.example.com/acme/api/-/issues/7","references":{"full":"acme/api#7"},"moved_to_id":null,"duplicated_to_id":null,` +
		`"created_at":"2025-03-01T09:00:00.000Z","closed_at":"2025-03-06T15:00:00.000Z",` +
		`"time_stats":{"time_estimate":0,"total_time_spent":18000,"human_time_estimate":null,"human_total_time_spent":"5h"}}`
	gl := http.NewServeMux()
	gl.HandleFunc("GET /api/v4/projects/{project}/issues/7", func(w http.ResponseWriter, r *http.Request) { answerJSON(w, 200, gitlabIssue) })
	gl.HandleFunc("PUT /api/v4/projects/{project}/issues/7", func(w http.ResponseWriter, r *http.Request) { answerJSON(w, 200, gitlabIssue) })
	gl.HandleFunc("GET /api/v4/projects/{project}/issues/7/resource_label_events", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, `[{"id":142,"user":{"id":1,"name":"Administrator","username":"root"},"created_at":"2025-03-04T09:00:00.000Z",`+
			`"resource_type":"Issue","resource_id":1007,"label":{"id":73,"name":"workflow::in progress","color":"#34495E","description":""},"action":"add"}]`)
	})
	glSrv := httptest.NewServer(gl)
	defer glSrv.Close()

	az := http.NewServeMux()
	az.HandleFunc("GET /fabrikam/_apis/wit/workitems/42", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, `{"id":42,"rev":7,"fields":{"System.State":"Closed","System.CreatedDate":"2025-03-01T09:00:00.000Z",`+
			`"System.StateChangeDate":"2025-03-06T15:00:00.000Z","Microsoft.VSTS.Common.ActivatedDate":"2025-03-05T09:00:00.000Z",`+
			`"Microsoft.VSTS.Common.ClosedDate":"2025-03-06T15:00:00.000Z","Microsoft.VSTS.Scheduling.CompletedWork":4},`+
			`"url":"https://dev.azure.com/fabrikam/_apis/wit/workItems/42"}`)
	})
	azSrv := httptest.NewServer(az)
	defer azSrv.Close()

	_, call := serveWired(t, map[string]string{"GITLAB_TOKEN": "glpat-secret", "GITLAB_URL": glSrv.URL,
		"AZURE_DEVOPS_ORG_URL": azSrv.URL + "/fabrikam", "AZURE_DEVOPS_TOKEN": "pat-secret"})
	teamID := estimateInTeam(call, map[string]string{"title": "Export PDF", "source": "gitlab", "key": "acme/api#7"},
		map[string]string{"title": "Export CSV", "source": "azure", "key": "42"})

	// GitLab: in progress 4 March 09:00, closed 6 March 15:00: 54 hours, 5 hours logged.
	// Azure DevOps: active 5 March 09:00, closed 6 March 15:00: 30 hours, 4 hours of completed work.
	want := map[string]string{
		"Export PDF": `54 5 closed 2025-03-06; labeled "workflow::in progress" 2025-03-04`,
		"Export CSV": `30 4 closed 2025-03-06; active since 2025-03-05`,
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var in struct {
			Stories []struct {
				Title   string `json:"title"`
				Outcome *struct {
					CycleHours float64 `json:"cycle_hours"`
					SpentHours float64 `json:"spent_hours"`
					Detail     string  `json:"detail"`
				} `json:"outcome"`
			} `json:"stories"`
		}
		call("GET", "/api/v1/teams/"+teamID+"/insight", nil, &in)
		got := map[string]string{}
		for _, st := range in.Stories {
			if o := st.Outcome; o != nil {
				got[st.Title] = strings.TrimSpace(strings.Join([]string{ftoa(o.CycleHours), ftoa(o.SpentHours), o.Detail}, " "))
			}
		}
		if len(got) == 2 {
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: outcome %q, want %q", k, got[k], v)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outcomes after 15 s: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// answerJSON answers a fake tracker's request.
func answerJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// estimateInTeam creates a session in a new team, estimates each story (title, source, key) at 5,
// and opens the team's page; it returns the team's id.
func estimateInTeam(call func(method, path string, body, out any), stories ...map[string]string) string {
	var created struct {
		Session struct{ ID string }
	}
	call("POST", "/api/v1/sessions", map[string]string{"name": "Ann"}, &created)
	api := "/api/v1/sessions/" + created.Session.ID
	var team struct {
		Team struct {
			ID      string `json:"id"`
			TeamURL string `json:"team_url"`
		}
	}
	call("PUT", api+"/team", map[string]string{"name": "Exports"}, &team)
	for _, s := range stories {
		var added []struct{ ID string }
		call("POST", api+"/stories", s, &added)
		sid := added[len(added)-1].ID
		call("POST", api+"/stories/"+sid+"/select", nil, nil)
		call("PUT", api+"/stories/"+sid+"/vote", map[string]string{"card": "5"}, nil)
		call("POST", api+"/stories/"+sid+"/reveal", nil, nil)
		call("POST", api+"/stories/"+sid+"/accept", map[string]string{"value": "5"}, nil)
	}
	// POKOR_BASE_URL is the default here: open the link's path on this server (call follows
	// the redirect and keeps the team cookie).
	call("GET", team.Team.TeamURL[strings.Index(team.Team.TeamURL, "/t/"):], nil, nil)
	return team.Team.ID
}
