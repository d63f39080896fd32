package mattermost

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/webuitest"
)

var organizerLink = regexp.MustCompile(`\[Join as organizer\]\((http[^)]+/enter\?t=[^)]+)\)`)

// TestCommand: the documented request creates a session and answers, privately, with the
// organizer's pre-signed link and the Invite channel button.
func TestCommand(t *testing.T) {
	e := newEnv(t, true)
	f := e.form("Sprint 42")
	m := e.command(f)
	if m.ResponseType != "ephemeral" || !m.SkipSlackParsing {
		t.Errorf("response_type %q skip_slack_parsing %v, want an ephemeral Markdown answer", m.ResponseType, m.SkipSlackParsing)
	}
	link := organizerLink.FindStringSubmatch(m.Text)
	if link == nil || !strings.Contains(m.Text, "**Sprint 42** is ready.") {
		t.Fatalf("answer %q, want the title and a Join as organizer link", m.Text)
	}
	ctx := inviteContext(t, m)
	id, _ := ctx["session"].(string)
	sess, err := e.svc.Session(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	o := sess.Origin
	if sess.Title != "Sprint 42" || o.Platform != "mattermost" || o.Team != team || o.Channel != channelID || o.ReplyURL != f.Get("response_url") {
		t.Errorf("session %q from %+v", sess.Title, o)
	}
	if ctx["team"] != team || ctx["channel"] != channelID || ctx["signature"] == "" {
		t.Errorf("button context %v", ctx)
	}

	// The link makes the Mattermost user the organizer, under their user name.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("opening the organizer link: %d", resp.StatusCode)
	}
	if p := e.organizer(id, f); p.Role != session.RoleOrganizer || p.Name != "somename" {
		t.Errorf("the organizer is %q, %s", p.Name, p.Role)
	}
}

// TestCommandRefusesBadTokens: a request without the command's token, or with another, is
// refused with 401 and creates nothing.
func TestCommandRefusesBadTokens(t *testing.T) {
	e := newEnv(t, true)
	tests := []struct {
		name, form, header string
	}{
		{"missing", "", ""},
		{"wrong", "okwexkjpe7ygb8eq1ww58t483x", "Token okwexkjpe7ygb8eq1ww58t483x"},
		{"prefix of the right one", commandToken[:10], ""},
		{"right one with a suffix", commandToken + "a", ""},
		{"wrong in the form, right in the header", "wrong", "Token " + commandToken},
		{"several in one", commandToken + ",another-team-token", ""},
		{"bearer header", "", "Bearer " + commandToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := e.form("Sprint 42")
			f.Set("token", tt.form)
			if tt.form == "" {
				f.Del("token")
			}
			status, out := e.post(CommandsPath, "application/x-www-form-urlencoded", f.Encode(), map[string]string{"Authorization": tt.header})
			if status != http.StatusUnauthorized {
				t.Fatalf("%d %s, want 401", status, out)
			}
			if strings.Contains(string(out), commandToken) {
				t.Errorf("the refusal quotes the token: %s", out)
			}
		})
	}
	if n := e.store.Created(); n != 0 {
		t.Fatalf("%d sessions created by refused requests", n)
	}
	// Each team's command has its own token; any of them is accepted, from the form or, as
	// Mattermost also sends it, the Authorization header alone.
	f := e.form("Sprint 42")
	f.Set("token", "another-team-token")
	e.command(f)
	f.Del("token")
	if status, out := e.post(CommandsPath, "application/x-www-form-urlencoded", f.Encode(), map[string]string{"Authorization": "Token " + commandToken}); status != http.StatusOK {
		t.Fatalf("token in the header: %d %s", status, out)
	}
	if n := e.store.Created(); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

// TestCommandHelp: help and text that does not parse show the grammar and create nothing.
func TestCommandHelp(t *testing.T) {
	e := newEnv(t, false)
	for _, text := range []string{"help", "Sprint 42 from github"} {
		m := e.command(e.form(text))
		if m.ResponseType != "ephemeral" || !strings.Contains(m.Text, "**Start a planning-poker session**") || len(m.Attachments) != 0 {
			t.Errorf("/pokor %s: %+v", text, m)
		}
	}
	if !strings.Contains(e.command(e.form("Sprint 42 from github")).Text, "⚠️ say what to import from github") {
		t.Error("the mistake is not said")
	}
	if n := e.store.Created(); n != 0 {
		t.Fatalf("help created %d sessions", n)
	}
}

// TestImportReported: the answer comes while the tracker is still held, well within the 3
// seconds Pokor promises, and the outcome of the import follows on the response_url.
func TestImportReported(t *testing.T) {
	tests := []struct {
		query string
		says  string
		added int
	}{
		{"acme/api label:ready", "✅ Imported 3 stories from github into **Sprint 42**.", 3},
		{"acme/missing", "⚠️ Could not import stories from github into **Sprint 42**: github: repository acme/missing was not found", 0},
		{"acme/empty", "No stories from github match `acme/empty`", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e := newEnv(t, false)
			gate := make(chan struct{})
			e.trackers.Gate = gate
			f := e.form("Sprint 42 from github " + tt.query)
			start := time.Now()
			m := e.command(f) // returns while the tracker is held: the import comes after
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the answer took %s; Mattermost users were promised 3 s", d)
			}
			if !strings.Contains(m.Text, "Importing stories from github (`"+tt.query+"`)") {
				t.Fatalf("answer %q, want a note that the import runs", m.Text)
			}
			if hooks, _ := e.mm.counts(); hooks != 0 {
				t.Fatal("the outcome was posted before the import ran")
			}
			close(gate)
			id := strings.TrimPrefix(f.Get("response_url"), e.mm.srv.URL+"/hooks/commands/")
			got := e.mm.waitHook(t, id, func(commandResponse) bool { return true })
			if got.ResponseType != "ephemeral" || !strings.Contains(got.Text, tt.says) {
				t.Fatalf("outcome %q (%s), want %q", got.Text, got.ResponseType, tt.says)
			}
			stories, err := e.store.Stories(t.Context(), inviteContext(t, m)["session"].(string))
			if err != nil || len(stories) != tt.added {
				t.Fatalf("%d stories in the session (%v), want %d", len(stories), err, tt.added)
			}
		})
	}
}

// TestInvite: the Invite channel button posts the room link in the channel, as the bot account
// or, without one, through the command's response_url; never the organizer's link.
func TestInvite(t *testing.T) {
	for _, withBot := range []bool{true, false} {
		t.Run(map[bool]string{true: "bot account", false: "response_url"}[withBot], func(t *testing.T) {
			e := newEnv(t, withBot)
			f := e.form("Sprint 42 @channel")
			ctx := inviteContext(t, e.command(f))
			status, r := e.press(f, ctx)
			if status != http.StatusOK || !strings.Contains(r.EphemeralText, "Invited the channel") {
				t.Fatalf("%d %+v", status, r)
			}
			room := e.svc.RoomURL(ctx["session"].(string))
			var text string
			if withBot {
				p := e.mm.waitPost(t, func(sentPost) bool { return true })
				if p.Post.ChannelID != channelID || p.Auth != "Bearer "+botToken {
					t.Errorf("posted to %q with %q", p.Post.ChannelID, p.Auth)
				}
				text = p.Post.Message
			} else {
				id := strings.TrimPrefix(f.Get("response_url"), e.mm.srv.URL+"/hooks/commands/")
				m := e.mm.waitHook(t, id, func(m commandResponse) bool { return m.ResponseType == "in_channel" })
				text = m.Text
			}
			for _, want := range []string{"@somename invites everyone", "**Sprint 42 @\u200bchannel**", "[join the session](" + room + ")"} {
				if !strings.Contains(text, want) {
					t.Errorf("invitation %q does not contain %q", text, want)
				}
			}
			if strings.Contains(text, "/enter?t=") {
				t.Error("the channel got a pre-signed link")
			}
		})
	}
}

// TestInviteRefusesTamperedContext: a press whose context Pokor did not sign, or signed for
// another session or channel, is refused with 401 and posts nothing.
func TestInviteRefusesTamperedContext(t *testing.T) {
	e := newEnv(t, true)
	f := e.form("Sprint 42")
	good := inviteContext(t, e.command(f))
	other := inviteContext(t, e.command(e.form("Other sprint")))
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	sig := good["signature"].(string)
	flipped := []byte(sig)
	flipped[3] ^= 1
	tests := []struct {
		name string
		ctx  map[string]any
		from url.Values
	}{
		{"another session", with("session", other["session"]), f},
		{"another channel in the context", with("channel", "town-square-of-another-team"), f},
		{"pressed in another channel", good, func() url.Values { g := e.form("x"); g.Set("channel_id", "elsewhere00000000000000000"); return g }()},
		{"a changed signature", with("signature", string(flipped)), f},
		{"no signature", with("signature", nil), f},
		{"the signature of another session", with("signature", other["signature"]), f},
		{"no context", nil, f},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, r := e.press(tt.from, tt.ctx)
			if status != http.StatusUnauthorized || r.Error == nil || r.EphemeralText != "" {
				t.Fatalf("%d %+v, want 401 with an error", status, r)
			}
		})
	}
	if hooks, posts := e.mm.counts(); hooks+posts != 0 {
		t.Fatalf("%d posts and %d replies after refused presses", posts, hooks)
	}
	if status, _ := e.press(f, good); status != http.StatusOK {
		t.Fatalf("the untouched context: %d", status)
	}
}

// TestSummaryPosted: the accepted estimate and the end of the session reach the channel, as the
// bot account or through the response_url.
func TestSummaryPosted(t *testing.T) {
	for _, withBot := range []bool{true, false} {
		t.Run(map[bool]string{true: "bot account", false: "response_url"}[withBot], func(t *testing.T) {
			e := newEnv(t, withBot)
			f := e.form("Sprint 42")
			id := inviteContext(t, e.command(f))["session"].(string)
			org := e.organizer(id, f)
			a := session.Actor{SessionID: id, ParticipantID: org.ID}
			ctx := t.Context()
			stories, err := e.svc.AddStories(ctx, a, []session.StoryInput{{Title: "Log in with SSO", URL: "https://github.com/acme/api/issues/1"}, {Title: "Export"}})
			if err != nil {
				t.Fatal(err)
			}
			st := stories[0]
			bob, _, err := e.svc.Join(ctx, id, session.JoinInput{Name: "Bob"})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{org.ID, bob.ID} {
				if _, err := e.svc.Vote(ctx, session.Actor{SessionID: id, ParticipantID: p}, st.ID, session.VoteInput{Card: "5"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.svc.Reveal(ctx, a, st.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Accept(ctx, a, st.ID, "5"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CloseSession(ctx, a); err != nil {
				t.Fatal(err)
			}
			room := e.svc.RoomURL(id)
			want := []string{
				"**Sprint 42**: [Log in with SSO](https://github.com/acme/api/issues/1) estimated at **5**.\nVotes: somename 5, Bob 5\n[Open the room](" + room + ")",
				"**Sprint 42** has ended: 1 of 2 stories estimated, 5 points in all.\n• [Log in with SSO](https://github.com/acme/api/issues/1): **5**\nTook part: somename and Bob.\n[Open the room](" + room + ")",
			}
			for i, w := range want {
				key := []string{"estimated at", "has ended"}[i]
				var got string
				if withBot {
					p := e.mm.waitPost(t, func(p sentPost) bool { return strings.Contains(p.Post.Message, key) })
					if p.Post.ChannelID != channelID {
						t.Errorf("posted to %q", p.Post.ChannelID)
					}
					got = p.Post.Message
				} else {
					hook := strings.TrimPrefix(f.Get("response_url"), e.mm.srv.URL+"/hooks/commands/")
					got = e.mm.waitHook(t, hook, func(m commandResponse) bool { return strings.Contains(m.Text, key) }).Text
				}
				// The votes come in the store's order, which this test does not fix.
				got = strings.Replace(got, "Votes: Bob 5, somename 5", "Votes: somename 5, Bob 5", 1)
				if got != w {
					t.Errorf("summary\n%q\nwant\n%q", got, w)
				}
			}
		})
	}
}

// TestPostChannelFailures: when nothing can be posted, the error says why and what to do.
func TestPostChannelFailures(t *testing.T) {
	e := newEnv(t, true)
	e.mm.forbidden.Store("private", true)
	e.mm.hookStatus.Store(http.StatusNotFound)
	o := session.Origin{Platform: "mattermost", Team: team, Channel: "private", ReplyURL: e.mm.hookURL("x"), ReplyExpires: time.Now().Add(time.Minute)}
	err := e.bot.PostChannel(t.Context(), o, bots.Message{Text: "hello"})
	for _, want := range []string{"add it to the team and the channel", "replying to /pokor failed: Mattermost answered 404"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), botToken) || strings.Contains(err.Error(), "/hooks/")) {
		t.Errorf("the error leaks a credential: %v", err)
	}
	o.ReplyExpires = time.Now().Add(-time.Minute)
	o.Channel = channelID
	e.bot.cfg.BotToken = "revoked"
	if err := e.bot.PostChannel(t.Context(), o, bots.Message{Text: "hello"}); err == nil || !strings.Contains(err.Error(), "MATTERMOST_BOT_TOKEN is not valid") {
		t.Errorf("err = %v", err)
	}
	noBot := newEnv(t, false)
	if err := noBot.bot.PostChannel(t.Context(), o, bots.Message{Text: "hello"}); err == nil || !strings.Contains(err.Error(), "set MATTERMOST_URL and MATTERMOST_BOT_TOKEN") {
		t.Errorf("err = %v", err)
	}
}

// TestPostPerson: a reminder is a direct message from the bot account.
func TestPostPerson(t *testing.T) {
	e := newEnv(t, true)
	err := e.bot.PostPerson(t.Context(), session.Origin{}, "mattermost:"+team+":"+userID, bots.Message{Text: "Your vote, please", Link: &bots.Link{Label: "Vote", URL: "http://pokor/s/1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := e.mm.waitPost(t, func(sentPost) bool { return true })
	if p.Post.ChannelID != "dm"+userID || p.Post.Message != "Your vote, please\n[Vote](http://pokor/s/1)" {
		t.Errorf("posted %+v", p.Post)
	}
	if len(e.mm.dms) != 1 || e.mm.dms[0][0] != botUserID || e.mm.dms[0][1] != userID {
		t.Errorf("direct channels opened: %v", e.mm.dms)
	}
	for _, bad := range []string{"slack:T1:U1", "mattermost:", "mattermost:team"} {
		if err := e.bot.PostPerson(t.Context(), session.Origin{}, bad, bots.Message{Text: "x"}); err == nil {
			t.Errorf("PostPerson(%q) succeeded", bad)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	svc := session.NewService(session.Config{})
	for _, cfg := range []Config{
		{Service: svc},
		{CommandTokens: []string{"t"}},
		{CommandTokens: []string{"t"}, Service: svc, ServerURL: "chat.acme.com"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	for raw, want := range map[string]string{"https://chat.acme.com/": "https://chat.acme.com", "https://chat.acme.com/api/v4": "https://chat.acme.com", "": ""} {
		if got, err := ServerURL(raw); err != nil || got != want {
			t.Errorf("ServerURL(%q) = %q, %v", raw, got, err)
		}
	}
}

func TestCheck(t *testing.T) {
	mm := newFakeMattermost(t)
	id, err := Check(t.Context(), mm.srv.URL, botToken, nil)
	if err != nil || id.BotUser != "pokor" || id.BotUserID != botUserID || !id.IsBot || !strings.HasPrefix(id.Version, "10.5.0") {
		t.Fatalf("Check = %+v, %v", id, err)
	}
	if _, err := Check(t.Context(), mm.srv.URL, "wrong", nil); err == nil || !strings.Contains(err.Error(), "MATTERMOST_BOT_TOKEN is not valid") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := Check(t.Context(), "", botToken, nil); err == nil || !strings.Contains(err.Error(), "MATTERMOST_URL is not set") {
		t.Errorf("no URL: %v", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := Check(t.Context(), down.URL, botToken, nil); err == nil || !errors.Is(err, err) || !strings.Contains(err.Error(), "could not be reached") {
		t.Errorf("server down: %v", err)
	}
}

// BenchmarkCommand measures one /pokor Sprint 42 through the server's handler: the router, the
// token check, parsing, the session and its organizer written to SQLite, the signed link and
// button context, and the JSON answer. Mattermost users were promised an answer within 3 s.
func BenchmarkCommand(b *testing.B) {
	var bot *Bot
	srv := webuitest.Start(b, webuitest.Options{Mount: func(s *webuitest.Server) {
		var err error
		if bot, err = New(Config{CommandTokens: []string{commandToken}, BaseURL: s.URL, Service: s.Service, Logger: slog.New(slog.DiscardHandler)}); err != nil {
			b.Fatal(err)
		}
		bot.Mount(s.Web.Router())
	}})
	defer bot.Close()
	h := srv.Web.Handler()
	body := url.Values{"token": {commandToken}, "team_id": {team}, "channel_id": {channelID}, "user_id": {userID}, "user_name": {"somename"},
		"command": {"/pokor"}, "text": {"Sprint 42"}, "response_url": {"http://localhost:8065/hooks/commands/x"}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, CommandsPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Join as organizer") {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// TestRemind: a reminder to vote, worded once for every platform, reaches a Mattermost user as
// a direct message from the bot account.
func TestRemind(t *testing.T) {
	e := newEnv(t, true)
	chats := bots.Chats{Platform.Name: {Platform: Platform, Bot: e.bot}}
	sess := &session.Session{Title: "Sprint @channel", Origin: session.Origin{Platform: "mattermost", Team: team, Channel: channelID}}
	story := &session.Story{Title: "Log in", ExternalKey: "API-1", URL: "https://acme.atlassian.net/browse/API-1"}
	if err := chats.Remind(t.Context(), sess, story, "mattermost:"+team+":"+userID, "Olga_x", "http://pokor/s/1"); err != nil {
		t.Fatal(err)
	}
	p := e.mm.waitPost(t, func(sentPost) bool { return true })
	want := "⏳ Olga\\_x is waiting for your vote on [API-1 Log in](https://acme.atlassian.net/browse/API-1) in **Sprint @\u200bchannel**.\n[Vote now](http://pokor/s/1)"
	if p.Post.ChannelID != "dm"+userID || p.Post.Message != want {
		t.Errorf("posted %q to %q, want %q to the direct channel", p.Post.Message, p.Post.ChannelID, want)
	}
	if err := chats.Remind(t.Context(), sess, story, "slack:T1:U1", "Olga", "http://pokor/s/1"); err == nil || !strings.Contains(err.Error(), "slack is not configured") {
		t.Errorf("a Slack user through a server without Slack: %v", err)
	}
}
