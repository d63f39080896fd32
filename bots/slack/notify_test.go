package slack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// estimate runs a round in the session the Slack user of form organizes: a second participant
// joins, both vote 5, the organizer reveals and accepts 5. It returns the organizer's actor.
func (e *env) estimate(id string, org *session.Participant, title string) session.Actor {
	e.t.Helper()
	ctx := e.t.Context()
	a := session.Actor{SessionID: id, ParticipantID: org.ID}
	stories, err := e.svc.AddStories(ctx, a, []session.StoryInput{{Title: title}})
	if err != nil {
		e.t.Fatal(err)
	}
	st := stories[0]
	bob, _, err := e.svc.Join(ctx, id, session.JoinInput{Name: "Bob"})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, voter := range []string{org.ID, bob.ID} {
		if _, err := e.svc.Vote(ctx, session.Actor{SessionID: id, ParticipantID: voter}, st.ID, session.VoteInput{Card: "5"}); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.svc.Reveal(ctx, a, st.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.Accept(ctx, a, st.ID, "5"); err != nil {
		e.t.Fatalf("accepting: %v (a chat problem must never block the room)", err)
	}
	return a
}

// TestSummaries: the accepted estimate and the end of the session reach the channel /pokor was
// typed in, through the best way available.
func TestSummaries(t *testing.T) {
	tests := []struct {
		name      string
		team      string
		configure func(*Config)
		install   bool
		token     string // the bot token chat.postMessage must get; empty: the response_url
	}{
		{"workspace installed through OAuth", installedTeam, nil, true, installedToken},
		{"single workspace with SLACK_BOT_TOKEN", "T0001", func(c *Config) { c.BotToken = envBotToken }, false, envBotToken},
		{"no token: the response_url of /pokor", "T0001", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var configure []func(*Config)
			if tt.configure != nil {
				configure = append(configure, tt.configure)
			}
			e := newEnv(t, configure...)
			if tt.install {
				c := browser()
				state := e.startInstall(c)
				if resp, body := get(t, c, e.callbackURL(map[string][]string{"code": {installCode}, "state": {state}})); resp.StatusCode != http.StatusOK {
					t.Fatalf("install: %d %s", resp.StatusCode, body)
				}
			}
			form := e.commandForm("Sprint 42")
			form.Set("team_id", tt.team)
			m := e.command(form)
			invite, _ := m.button(actionInvite)
			id := invite.Value
			room := e.svc.RoomURL(id)
			a := e.estimate(id, e.organizer(id, form), "Log in with SSO")

			estimated := "*Sprint 42*: “Log in with SSO” estimated at *5*."
			ended := "*Sprint 42* has ended: 1 of 1 story estimated, 5 points in all.\n• “Log in with SSO”: *5*"
			check := func(text, blocks string, want string) {
				t.Helper()
				if !strings.Contains(text, want) || !strings.Contains(text, room) || !strings.Contains(blocks, room) {
					t.Errorf("summary %q (blocks %s), want %q and the link %s", text, blocks, want, room)
				}
				if strings.Contains(text+blocks, "/enter?t=") {
					t.Errorf("the channel got a pre-signed link")
				}
			}
			if tt.token != "" {
				p := e.slack.waitChat(t, func(p chatPost) bool { return strings.Contains(p.Text, "estimated at") })
				if p.Token != tt.token || p.Channel != "C2147483705" {
					t.Errorf("posted with token %.10q… to %q, want %.10q… to C2147483705", p.Token, p.Channel, tt.token)
				}
				check(p.Text, p.Blocks, estimated)
			} else {
				path := strings.TrimPrefix(form.Get("response_url"), e.slack.srv.URL+"/hooks/")
				h := e.slack.waitHook(t, path, func(h hookPost) bool { return strings.Contains(h.Msg.Text, "estimated at") })
				if h.Msg.ResponseType != "in_channel" {
					t.Errorf("response_type %q, want in_channel", h.Msg.ResponseType)
				}
				check(h.Msg.Text, h.Raw, estimated)
			}

			if _, err := e.svc.CloseSession(t.Context(), a); err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				p := e.slack.waitChat(t, func(p chatPost) bool { return strings.Contains(p.Text, "has ended") })
				check(p.Text, p.Blocks, ended)
			} else {
				path := strings.TrimPrefix(form.Get("response_url"), e.slack.srv.URL+"/hooks/")
				h := e.slack.waitHook(t, path, func(h hookPost) bool { return strings.Contains(h.Msg.Text, "has ended") })
				check(h.Msg.Text, h.Raw, ended)
			}
		})
	}
}

// organizerInbox is a room connection of an organizer, collecting what it is sent.
type organizerInbox chan []byte

func (o organizerInbox) Send(msg []byte) bool {
	select {
	case o <- msg:
	default:
	}
	return true
}

func (o organizerInbox) Kick(string) {}

// TestSummaryFailures: when nothing can be posted, the organizers are told why in the room, and
// the estimate is accepted all the same.
func TestSummaryFailures(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*Config)
		setup     func(e *env)
		says      string
	}{
		{"bot not in the channel, reply link expired", func(c *Config) { c.BotToken = envBotToken },
			func(e *env) { e.slack.postError = "not_in_channel"; e.clock.Advance(31 * time.Minute) },
			"not_in_channel: the Pokor app is not in this channel; invite it with /invite @Pokor"},
		{"bot not in the channel, reply link refused", func(c *Config) { c.BotToken = envBotToken },
			func(e *env) { e.slack.postError = "not_in_channel"; e.slack.hookStatus = http.StatusNotFound },
			"replying to /pokor failed: Slack answered 404 Not Found"},
		{"no token and the reply link expired", nil,
			func(e *env) { e.clock.Advance(31 * time.Minute) },
			"/slack/install) or set SLACK_BOT_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var configure []func(*Config)
			if tt.configure != nil {
				configure = append(configure, tt.configure)
			}
			e := newEnv(t, configure...)
			_, form, id := e.startSession("Sprint 42")
			org := e.organizer(id, form)
			inbox := make(organizerInbox, 64)
			member := &session.Member{Sub: inbox, ParticipantID: org.ID}
			member.SetRole(true, false)
			defer e.hub.Join(id, member)()
			e.slack.mu.Lock()
			tt.setup(e)
			e.slack.mu.Unlock()

			e.estimate(id, org, "Log in with SSO")
			deadline := time.After(5 * time.Second)
			for {
				select {
				case msg := <-inbox:
					if strings.Contains(string(msg), `"type":"notice"`) {
						if !strings.Contains(string(msg), "Could not post the summary to slack") || !strings.Contains(string(msg), tt.says) {
							t.Fatalf("notice %s, want %q", msg, tt.says)
						}
						if strings.Contains(string(msg), "/hooks/") {
							t.Fatalf("the notice quotes the response_url: %s", msg)
						}
						return
					}
				case <-deadline:
					t.Fatal("the organizers were not told that the summary failed")
				}
			}
		})
	}
}

func TestSummaryText(t *testing.T) {
	sess := &session.Session{Title: "R&D <sprint>"}
	many := make([]*session.Story, 0, 20)
	for i := range 20 {
		many = append(many, &session.Story{Title: "Story", Status: session.StoryEstimated, Estimate: "M"})
		if i == 19 {
			many[i].Status = session.StoryOpen
		}
	}
	tests := []struct {
		name string
		n    session.Notice
		want []string
	}{
		{"estimated, linked to the tracker", session.Notice{Kind: "estimated", Session: sess,
			Story: &session.Story{Title: "Fix <login>", URL: "https://github.com/acme/api/issues/1", Estimate: "8"}},
			[]string{"*R&amp;D &lt;sprint&gt;*: <https://github.com/acme/api/issues/1|Fix &lt;login&gt;> estimated at *8*."}},
		{"closed, T-shirt sizes, long", session.Notice{Kind: "closed", Session: sess, Stories: many},
			[]string{"has ended: 19 of 20 stories estimated.\n", "• “Story”: *M*", "…and 4 more in the session."}},
		{"closed, nothing estimated", session.Notice{Kind: "closed", Session: sess, Stories: nil},
			[]string{"has ended: 0 of 0 stories estimated."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bots.Summarize(tt.n).Render(Markup)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary:\n%s\nwant it to contain %q", got, w)
				}
			}
			if strings.Count(got, "•") > bots.MaxListed {
				t.Errorf("%d stories listed, want at most %d", strings.Count(got, "•"), bots.MaxListed)
			}
		})
	}
}
