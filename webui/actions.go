package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
)

// request is one room action, from the JSON API (path parameters and body) or the WebSocket
// (fields of the message). Both transports run the same action table, so they cannot drift.
type request struct {
	StoryID       string
	ParticipantID string
	Data          json.RawMessage
}

// decode reads the action's JSON payload into v; an absent payload leaves v as it is.
func (r request) decode(v any) error {
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &session.Error{Code: session.CodeInvalid, Message: "the data of this request is not valid: " + err.Error()}
	}
	return nil
}

type actionFunc func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error)

// actions is the table of everything a participant can do in a room: the room's own actions
// and the tracker actions (trackers.go), so the WebSocket and the JSON API run the same code.
var actions = joinActions(roomActions, trackerActions)

// joinActions merges action tables.
func joinActions(tables ...map[string]actionFunc) map[string]actionFunc {
	out := map[string]actionFunc{}
	for _, t := range tables {
		for name, f := range t {
			out[name] = f
		}
	}
	return out
}

// roomActions are the actions of the room itself.
var roomActions = map[string]actionFunc{
	"snapshot": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.Snapshot(ctx, a)
	},
	"update_session": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Title    *string         `json:"title"`
			Settings json.RawMessage `json:"settings"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		upd := session.SettingsInput{Title: in.Title}
		if len(in.Settings) > 0 && string(in.Settings) != "null" {
			// A partial settings object changes the keys it has and keeps the others.
			sess, err := svc.Session(ctx, a.SessionID)
			if err != nil {
				return nil, err
			}
			st := sess.Settings
			if err := (request{Data: in.Settings}).decode(&st); err != nil {
				return nil, err
			}
			upd.Settings = &st
		}
		return svc.UpdateSession(ctx, a, upd)
	},
	"organizer_link": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		link, err := svc.OrganizerLink(ctx, a)
		return organizerLink{link}, err
	},
	"rotate_organizer_link": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		link, err := svc.RotateOrganizerLinks(ctx, a)
		return organizerLink{link}, err
	},
	"close_session": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.CloseSession(ctx, a)
	},
	"update_participant": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.ParticipantInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.UpdateParticipant(ctx, a, r.ParticipantID, in)
	},
	"remove_participant": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return nil, svc.RemoveParticipant(ctx, a, r.ParticipantID)
	},
	"admit": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Admit *bool `json:"admit"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		if in.Admit == nil {
			return nil, &session.Error{Code: session.CodeInvalid, Field: "admit", Message: `say {"admit": true} to let them in or {"admit": false} to turn them away`}
		}
		return svc.Admit(ctx, a, r.ParticipantID, *in.Admit)
	},
	"throw": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Emoji string `json:"emoji"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return nil, svc.Throw(ctx, a, r.ParticipantID, in.Emoji)
	},
	"add_stories": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		// One story as an object, or several as {"stories": [...]}.
		in := struct {
			session.StoryInput
			Stories []session.StoryInput `json:"stories"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		list := in.Stories
		if len(list) == 0 {
			list = []session.StoryInput{in.StoryInput}
		}
		return svc.AddStories(ctx, a, list)
	},
	"update_story": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.StoryInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.UpdateStory(ctx, a, r.StoryID, in)
	},
	"remove_story": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return nil, svc.RemoveStory(ctx, a, r.StoryID)
	},
	"reorder": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			IDs []string `json:"ids"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return nil, svc.ReorderStories(ctx, a, in.IDs)
	},
	"select_story": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.SelectStory(ctx, a, r.StoryID)
	},
	"vote": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.VoteInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.Vote(ctx, a, r.StoryID, in)
	},
	"retract": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return nil, svc.RetractVote(ctx, a, r.StoryID)
	},
	"reveal": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.Reveal(ctx, a, r.StoryID)
	},
	"revote": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.Revote(ctx, a, r.StoryID)
	},
	"accept": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Value string `json:"value"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.Accept(ctx, a, r.StoryID, in.Value)
	},
	"history": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.History(ctx, a, r.StoryID)
	},
	"start_timer": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.TimerInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		if in.StoryID == "" {
			in.StoryID = r.StoryID
		}
		return svc.StartTimer(ctx, a, in)
	},
	"stop_timer": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.StopTimer(ctx, a)
	},
	"check_timer": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		v, err := svc.CheckTimer(ctx, a)
		if v == nil && err == nil {
			return map[string]any{"timer": nil}, nil
		}
		return v, err
	},
	"nudge": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.NudgeVoters(ctx, a, r.StoryID, r.ParticipantID)
	},
}

type organizerLink struct {
	URL string `json:"organizer_url"`
}

// act returns the HTTP handler of a room action: authenticate by cookie, run, answer JSON (200,
// or 204 when the action returns nothing).
func (s *Server) act(name string) gin.HandlerFunc { return s.actAs(name, http.StatusOK) }

// actAs is act with a chosen success status (202 for an import that runs on). A tracker named
// in the path joins the body, so PUT /connections/github takes the same data as the socket's
// set_connection.
func (s *Server) actAs(name string, status int) gin.HandlerFunc {
	run := actions[name]
	return func(c *gin.Context) {
		actor, err := s.actor(c)
		if err != nil {
			writeError(c, err)
			return
		}
		var raw json.RawMessage
		if err := decodeJSON(c, &raw); err != nil {
			writeError(c, err)
			return
		}
		if tracker := c.Param("tracker"); tracker != "" {
			if raw, err = withField(raw, "tracker", tracker); err != nil {
				writeError(c, err)
				return
			}
		}
		res, err := s.run(c.Request.Context(), name, run, actor, request{StoryID: c.Param("sid"), ParticipantID: c.Param("pid"), Data: raw})
		if err != nil {
			writeError(c, err)
			return
		}
		if res == nil {
			c.Status(http.StatusNoContent)
			return
		}
		c.JSON(status, res)
	}
}

// withField sets one field of a JSON object body, the path winning over the body.
func withField(raw json.RawMessage, key, value string) (json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, &session.Error{Code: session.CodeInvalid, Message: "the request body must be a JSON object"}
		}
	}
	v, _ := json.Marshal(value)
	obj[key] = v
	return json.Marshal(obj)
}

// run executes an action and counts it.
func (s *Server) run(ctx context.Context, name string, f actionFunc, a session.Actor, r request) (any, error) {
	res, err := f(ctx, s.svc, a, r)
	s.metrics.action(name, err)
	return res, err
}

func slogFrom(*gin.Context) *slog.Logger { return slog.Default() }
