package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// BenchmarkVoteRoundTrip measures one vote through the whole server over real WebSockets:
// a voter sends it, the service checks and stores it durably (group commit on SQLite), the hub
// fans the voted event out, and the operation ends when all 10 members of the room have it.
// Latency under load is measured by `make bench` (docs/performance.md), not here.
func BenchmarkVoteRoundTrip(b *testing.B) {
	ctx := context.Background()
	keys, err := session.NewKeys(testSecret)
	if err != nil {
		b.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "pokor.db"), keys)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	hub := session.NewHub()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	svc := session.NewService(session.Config{Store: store, Bus: session.LocalBus{Hub: hub}, Presence: hub, Keys: keys, BaseURL: base, Logger: log})
	hub.OnPresence(svc.PresenceChanged)
	web, err := New(Config{Service: svc, Hub: hub, BaseURL: base, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	hs.Config.Handler = web.Handler()
	hs.Start()
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		web.Shutdown(sctx)
		hs.CloseClientConnections()
		hs.Close()
	}()

	post := func(path, cookie string, body any, out any) string {
		bb, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, hs.URL+path, bytes.NewReader(bb))
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		rb, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			b.Fatalf("POST %s: %s %s", path, res.Status, rb)
		}
		if out != nil {
			if err := json.Unmarshal(rb, out); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range res.Cookies() {
			if strings.HasPrefix(c.Name, "pokor_") {
				return c.Name + "=" + c.Value
			}
		}
		return ""
	}

	// A room of 10: the organizer and 9 voters, every one connected.
	var created joinedResponse
	cookies := []string{post("/api/v1/sessions", "", map[string]any{"title": "Bench", "name": "Olga"}, &created)}
	sid := created.Session.ID
	var stories []session.Story
	post("/api/v1/sessions/"+sid+"/stories", cookies[0], map[string]any{"title": "Story"}, &stories)
	for i := 1; i < 10; i++ {
		cookies = append(cookies, post("/api/v1/sessions/"+sid+"/participants", "", map[string]any{"name": fmt.Sprintf("Voter %d", i), "role": "voter"}, nil))
	}
	type member struct {
		ws    *websocket.Conn
		voted chan struct{}
	}
	members := make([]*member, len(cookies))
	wsURL := "ws" + strings.TrimPrefix(hs.URL, "http") + "/s/" + sid + "/ws"
	for i, ck := range cookies {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Cookie": {ck}})
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		m := &member{ws: ws, voted: make(chan struct{}, 1024)}
		members[i] = m
		go func() {
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if bytes.HasPrefix(msg, []byte(`{"type":"voted"`)) {
					m.voted <- struct{}{}
				}
			}
		}()
	}
	// Presence events of the members connecting may still be in flight; they are not counted.
	vote := func(i int) {
		v := members[1+i%9]
		msg := fmt.Sprintf(`{"id":"%d","type":"vote","story_id":%q,"data":{"card":"5"}}`, i, stories[0].ID)
		if err := v.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			b.Fatal(err)
		}
		for _, m := range members {
			select {
			case <-m.voted:
			case <-time.After(10 * time.Second):
				b.Fatal("a member did not receive the voted event within 10 s")
			}
		}
	}
	vote(0) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vote(i + 1)
	}
}
