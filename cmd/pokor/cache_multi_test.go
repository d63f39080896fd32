package main

import (
	"net/http"
	"testing"
)

// TestCacheAcrossInstances: green caches sessions and participants, and blue changes them. Once
// green has delivered the event that announces a change, green serves the new role or setting at
// once, with no wait and no retry: the announcement of the change reaches green's cache before
// the event (sqlstore.Store.ShareCache). Each step first makes green read the row, so that what
// it would serve stale is in its cache.
func TestCacheAcrossInstances(t *testing.T) {
	blue, green := startCluster(t)
	org := createSession(t, blue, "Olga", nil)
	ann := joinSession(t, green, org.sid, "Ann")
	org.connect(blue)
	annWS := watch(t, green, ann)
	voteOn := func(st string) int {
		t.Helper()
		return ann.api(green, "PUT", "/api/v1/sessions/"+org.sid+"/stories/"+st+"/vote", map[string]any{"card": "3"}, nil)
	}
	for i := range 5 {
		st := addStory(t, org, blue, "Story")
		if code := voteOn(st); code != http.StatusOK {
			t.Fatalf("round %d: Ann votes on green: %d", i, code)
		}

		// A role: voter → spectator → voter.
		for _, role := range []string{"spectator", "voter"} {
			m := annWS.mark()
			if code := org.api(blue, "PATCH", "/api/v1/sessions/"+org.sid+"/participants/"+ann.id, map[string]any{"role": role}, nil); code != http.StatusOK {
				t.Fatalf("round %d: making Ann %s on blue: %d", i, role, code)
			}
			annWS.find(m, "snapshot", func(d map[string]any) bool { return d["me"].(map[string]any)["role"] == role })
			code := voteOn(st)
			if role == "spectator" && code != http.StatusForbidden {
				t.Fatalf("round %d: green let Ann vote as a spectator (%d): a stale role", i, code)
			}
			if role == "voter" && code != http.StatusOK {
				t.Fatalf("round %d: green refused Ann's vote as a voter again (%d): a stale role", i, code)
			}
		}

		// A setting: who may reveal. Ann, a voter, tries to reveal on green (reading the session
		// there) right after she learns that everyone may.
		if code := ann.api(green, "POST", "/api/v1/sessions/"+org.sid+"/stories/"+st+"/reveal", nil, nil); code != http.StatusForbidden {
			t.Fatalf("round %d: green let a voter reveal with reveal=organizers: %d", i, code)
		}
		for _, who := range []string{"everyone", "organizers"} {
			m := annWS.mark()
			if code := org.api(blue, "PATCH", "/api/v1/sessions/"+org.sid, map[string]any{"settings": map[string]any{"reveal": who}}, nil); code != http.StatusOK {
				t.Fatalf("round %d: reveal=%s on blue: %d", i, who, code)
			}
			annWS.find(m, "session", func(d map[string]any) bool {
				s, _ := d["settings"].(map[string]any)
				return s["reveal"] == who
			})
			want := map[string]int{"everyone": http.StatusOK, "organizers": http.StatusForbidden}[who]
			if code := ann.api(green, "POST", "/api/v1/sessions/"+org.sid+"/stories/"+st+"/reveal", nil, nil); code != want {
				t.Fatalf("round %d: with reveal=%s, a voter's reveal on green answered %d, want %d: a stale setting", i, who, code, want)
			}
		}
	}
}
