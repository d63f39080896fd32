package webui

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
)

// cookieName is per session, so one browser can be in several sessions at once.
func cookieName(sessionID string) string { return "pokor_" + sessionID }

const cookieMaxAge = 90 * 24 * time.Hour

// setIdentity gives the browser the participant's token as an HttpOnly, SameSite cookie.
func (s *Server) setIdentity(c *gin.Context, sessionID, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: cookieName(sessionID), Value: token, Path: "/",
		MaxAge: int(cookieMaxAge / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// actor authenticates the request's cookie for the session in the path.
func (s *Server) actor(c *gin.Context) (session.Actor, error) {
	a, _, err := s.authenticate(c)
	return a, err
}

// authenticate is actor with the participant as the cookie was checked.
func (s *Server) authenticate(c *gin.Context) (session.Actor, *session.Participant, error) {
	id := c.Param("id")
	token, _ := c.Cookie(cookieName(id))
	p, err := s.svc.Authenticate(c.Request.Context(), id, token)
	if err != nil {
		if _, lerr := s.svc.Session(c.Request.Context(), id); lerr != nil {
			return session.Actor{}, nil, lerr
		}
		return session.Actor{}, nil, err
	}
	return session.Actor{SessionID: id, ParticipantID: p.ID}, p, nil
}

type createRequest struct {
	Title    string            `json:"title"`
	Deck     session.DeckKind  `json:"deck"`
	Cards    []string          `json:"cards"`
	Settings *session.Settings `json:"settings"`
	Name     string            `json:"name"`
}

type joinedResponse struct {
	Session     *session.Session     `json:"session"`
	Participant *session.Participant `json:"participant"`
	URL         string               `json:"url"`
	// OrganizerURL is the organizer's own link, in the answer to create: opened on another
	// device, it makes that device the same organizer.
	OrganizerURL string `json:"organizer_url,omitempty"`
}

// createSession creates a session; the caller becomes its organizer. Settings left out of a
// partial "settings" object take their defaults.
func (s *Server) createSession(c *gin.Context) {
	if !s.guard.check(c, s.guard.sessions, c.ClientIP(), "new sessions") {
		return
	}
	signedIn, ok := s.signedIn(c)
	if !ok {
		writeError(c, session.Errorf(session.CodeForbidden, "creating a session on this server requires signing in: open %s/auth/login (joining a room does not)", strings.TrimRight(s.cfg.BaseURL, "/")))
		return
	}
	settings := session.DefaultSettings
	in := createRequest{Settings: &settings} // decoding fills in only the keys the body has
	if err := decodeJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if in.Name == "" && signedIn != nil {
		in.Name = signedIn.Name
	}
	sess, org, token, err := s.svc.CreateSession(c.Request.Context(), session.CreateInput{
		Title: in.Title, Deck: in.Deck, Cards: in.Cards, Settings: in.Settings, Organizer: in.Name, Origin: session.Origin{},
	})
	if err != nil {
		writeError(c, err)
		return
	}
	link, err := s.svc.OrganizerLink(c.Request.Context(), session.Actor{SessionID: sess.ID, ParticipantID: org.ID})
	if err != nil {
		writeError(c, err)
		return
	}
	s.setIdentity(c, sess.ID, token)
	c.JSON(http.StatusCreated, joinedResponse{Session: sess, Participant: org, URL: s.svc.RoomURL(sess.ID), OrganizerURL: link})
}

type joinRequest struct {
	Name string       `json:"name"`
	Role session.Role `json:"role"`
}

// join adds the caller to a session through the room link.
func (s *Server) join(c *gin.Context) {
	if !s.guard.check(c, s.guard.joins, c.ClientIP(), "joins") {
		return
	}
	var in joinRequest
	if err := decodeJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	id := c.Param("id")
	p, token, err := s.svc.Join(c.Request.Context(), id, session.JoinInput{Name: in.Name, Role: in.Role})
	if err != nil {
		writeError(c, err)
		return
	}
	s.setIdentity(c, id, token)
	sess, _ := s.svc.Session(c.Request.Context(), id)
	c.JSON(http.StatusCreated, joinedResponse{Session: sess, Participant: p, URL: s.svc.RoomURL(id)})
}
