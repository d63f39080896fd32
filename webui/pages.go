package webui

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// pageData is what every template receives. Values are escaped by html/template.
type pageData struct {
	Title     string
	Message   string
	Hint      string
	SessionID string
	Session   *session.Session
	Decks     []deckOption
	// SignIn is set on the landing page when organizers must sign in (OIDC); Organizer is who is.
	SignIn    bool
	Organizer *Organizer
	Emojis    []string
	// Trackers are the descriptors the room's import dialog is built from; TrackersJSON is the
	// same list for its script.
	Trackers     []session.Tracker
	TrackersJSON string
	// Team is the team page's insight, for team.html.
	Team *teamPage
	// Member tells the room's script whether the visitor's cookie already makes it a participant,
	// so that a newcomer sees the join form without a refused request first.
	Member bool
	// L is the page's language (i18n); Languages are those the picker offers.
	L         *i18n.Catalog
	Languages []*i18n.Catalog
}

// T is the text of key in the page's language: {{.T "landing.create"}}.
func (d pageData) T(key string, pairs ...string) string { return d.L.T(key, pairs...) }

// Messages is the page's catalog for its scripts (static/i18n.js). json.Marshal escapes <, > and
// &, so the catalog cannot end the script element.
func (d pageData) Messages() template.JS { return template.JS(d.L.JSON()) }

type deckOption struct {
	Kind  session.DeckKind
	Label string
	Cards string
}

// lang picks the language of a page: ?lang= (which the picker sends without JavaScript, and
// which is then remembered in a cookie), the remembered choice, then Accept-Language.
func (s *Server) lang(c *gin.Context) *i18n.Catalog {
	l := s.langs.ForRequest(c.Request)
	if picked := c.Query("lang"); picked != "" && l.Tag != "" {
		http.SetCookie(c.Writer, &http.Cookie{Name: i18n.Cookie, Value: l.Tag, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: s.secure, SameSite: http.SameSiteLaxMode})
	}
	return l
}

func (s *Server) page(c *gin.Context, name string, data pageData) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	// The language depends on the request's headers and cookie.
	c.Header("Vary", "Accept-Language, Cookie")
	if data.L == nil {
		data.L = s.lang(c)
	}
	data.Languages = s.langs.Languages()
	if err := s.tmpl.ExecuteTemplate(c.Writer, name, data); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
	}
}

func (s *Server) landing(c *gin.Context) {
	l := s.lang(c)
	var decks []deckOption
	for _, k := range session.DeckKinds {
		opt := deckOption{Kind: k, Label: l.T("deck." + string(k))}
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
	org, _ := s.signedIn(c)
	s.page(c, "landing.html", pageData{Title: "Pokor", Decks: decks, SignIn: s.auth != nil, Organizer: org, L: l})
}

// room renders the room shell; the script fills it from the snapshot sent on the WebSocket.
func (s *Server) room(c *gin.Context) {
	l := s.lang(c)
	sess, err := s.svc.Session(c.Request.Context(), c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.not_found.title"), Message: l.T("error.not_found.message"), Hint: l.T("error.not_found.hint")})
		return
	}
	trackers := s.svc.Trackers()
	js, _ := json.Marshal(trackers)
	_, err = s.actor(c)
	// The room and its join form speak the request's language; their scripts take their texts
	// from the same catalog, which the page carries (Messages).
	s.page(c, "room.html", pageData{L: l, Title: sess.Title, SessionID: sess.ID, Session: sess, Emojis: session.Emojis,
		Trackers: trackers, TrackersJSON: string(js), Member: err == nil})
}

// enter redeems a pre-signed link: it sets the participant cookie and redirects to the clean room
// URL, so the token leaves the address bar and the browser history.
func (s *Server) enter(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	l := s.lang(c)
	if ok, retry := s.guard.joins.allow(c.ClientIP(), time.Now()); !ok {
		s.guard.refused.WithLabelValues("joins").Inc()
		c.Header("Retry-After", strconv.Itoa(retrySeconds(retry)))
		c.Status(http.StatusTooManyRequests)
		s.page(c, "error.html", pageData{L: l, Title: l.T("room.join.too_many"), Message: session.ErrorMessage(rateLimited("joins", retry))})
		return
	}
	p, token, err := s.svc.JoinWithLink(c.Request.Context(), c.Query("t"))
	switch {
	case err == session.ErrLinkExpired:
		c.Status(http.StatusGone)
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.expired.title"), Message: l.T("error.expired.message"), Hint: l.T("error.expired.hint")})
		return
	case err == session.ErrLinkRotated:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.rotated.title"), Message: l.T("error.rotated.message"), Hint: l.T("error.rotated.hint")})
		return
	case err == session.ErrLinkNotOrganizer:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.not_organizer.title"), Message: l.T("error.not_organizer.message"), Hint: l.T("error.not_organizer.hint")})
		return
	case err == session.ErrLinkInvalid:
		c.Status(http.StatusForbidden)
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.invalid.title"), Message: l.T("error.invalid.message"), Hint: l.T("error.invalid.hint")})
		return
	case err != nil:
		c.Status(httpStatus[session.ErrorCode(err)])
		s.page(c, "error.html", pageData{L: l, Title: l.T("error.cannot_join.title"), Message: session.ErrorMessage(err)})
		return
	}
	s.setIdentity(c, p.SessionID, token)
	c.Redirect(http.StatusSeeOther, "/s/"+p.SessionID)
}
