package webui

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
)

// pageData is what every template receives. Values are escaped by html/template.
type pageData struct {
	Title     string
	Message   string
	Hint      string
	SessionID string
	Session   *session.Session
	Decks     []deckOption
	Emojis    []string
	// Trackers are the descriptors the room's import dialog is built from; TrackersJSON is the
	// same list for its script.
	Trackers     []session.Tracker
	TrackersJSON string
}

type deckOption struct {
	Kind  session.DeckKind
	Label string
	Cards string
}

var deckLabels = map[session.DeckKind]string{
	session.DeckFibonacci:         "Fibonacci",
	session.DeckModifiedFibonacci: "Modified Fibonacci",
	session.DeckTShirt:            "T-shirt sizes",
	session.DeckPowersOfTwo:       "Powers of two",
	session.DeckCustom:            "Custom cards",
}

func (s *Server) page(c *gin.Context, name string, data pageData) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	if err := s.tmpl.ExecuteTemplate(c.Writer, name, data); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
	}
}

func (s *Server) landing(c *gin.Context) {
	var decks []deckOption
	for _, k := range session.DeckKinds {
		opt := deckOption{Kind: k, Label: deckLabels[k]}
		if d, err := session.NewDeck(k, nil); err == nil {
			for i, card := range d.Cards {
				if i > 0 {
					opt.Cards += " "
				}
				opt.Cards += card
			}
		}
		decks = append(decks, opt)
	}
	s.page(c, "landing.html", pageData{Title: "Pokor", Decks: decks})
}

// room renders the room shell; the script fills it from the snapshot sent on the WebSocket.
func (s *Server) room(c *gin.Context) {
	sess, err := s.svc.Session(c.Request.Context(), c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		s.page(c, "error.html", pageData{Title: "Session not found", Message: "This session does not exist, or it was deleted after a long time without use.", Hint: "Ask the organizer for a new link, or start a new session."})
		return
	}
	trackers := s.svc.Trackers()
	js, _ := json.Marshal(trackers)
	s.page(c, "room.html", pageData{Title: sess.Title, SessionID: sess.ID, Session: sess, Emojis: session.Emojis,
		Trackers: trackers, TrackersJSON: string(js)})
}

// enter redeems a pre-signed link: it sets the participant cookie and redirects to the clean room
// URL, so the token leaves the address bar and the browser history.
func (s *Server) enter(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	p, token, err := s.svc.JoinWithLink(c.Request.Context(), c.Query("t"))
	switch {
	case err == session.ErrLinkExpired:
		c.Status(http.StatusGone)
		s.page(c, "error.html", pageData{Title: "This link has expired", Message: "Join links are valid for a limited time so that an old chat message cannot be used by someone else.",
			Hint: "Run /pokor again in your chat to get a fresh link, or ask the organizer for the room link."})
		return
	case err == session.ErrLinkRotated:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{Title: "This organizer link was replaced", Message: "An organizer of this session made a new organizer link, which turns the old ones off.",
			Hint: "Ask an organizer for the current link: it is in the room, under “Your organizer link”."})
		return
	case err == session.ErrLinkNotOrganizer:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{Title: "This organizer link no longer works", Message: "The person it belongs to is not an organizer of this session any more.",
			Hint: "Open the room link to join as a voter, or ask an organizer to promote you again."})
		return
	case err == session.ErrLinkInvalid:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{Title: "This link is not valid", Message: "It was changed after it was made, or it was made by another Pokor server.",
			Hint: "Copy the whole link from the chat message again, or run /pokor to get a new one."})
		return
	case err != nil:
		c.Status(httpStatus[session.ErrorCode(err)])
		s.page(c, "error.html", pageData{Title: "Cannot join", Message: session.ErrorMessage(err)})
		return
	}
	s.setIdentity(c, p.SessionID, token)
	c.Redirect(http.StatusSeeOther, "/s/"+p.SessionID)
}
