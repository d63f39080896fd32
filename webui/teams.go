package webui

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/i18n"
)

// teamActions are the room's team actions: which team the session is in, and the similar past
// stories of a revealed story.
var teamActions = map[string]actionFunc{
	"team": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		tv, err := svc.SessionTeam(ctx, a)
		if err != nil || tv == nil {
			return gin.H{"team": nil}, err
		}
		return gin.H{"team": tv}, nil
	},
	"set_team": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.TeamInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		tv, err := svc.SetTeam(ctx, a, in)
		if err != nil {
			return nil, err
		}
		return gin.H{"team": tv}, nil
	},
	"leave_team": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return gin.H{"team": nil}, svc.LeaveTeam(ctx, a)
	},
	"similar": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.SimilarStories(ctx, a, r.StoryID)
	},
}

// teamCookie names the cookie that lets a browser see one team's page.
func teamCookie(teamID string) string { return "pokor_team_" + teamID }

// teamCookieMaxAge keeps a browser on the team page as long as the link it came with worked.
const teamCookieMaxAge = session.TeamLinkTTL

func (s *Server) teamRoutes(r *gin.Engine, api *gin.RouterGroup) {
	r.GET("/t/:id", s.teamPage)
	r.GET("/t/:id/enter", s.enterTeam)
	api.GET("/sessions/:id/team", s.act("team"))
	api.PUT("/sessions/:id/team", s.act("set_team"))
	api.DELETE("/sessions/:id/team", s.act("leave_team"))
	api.GET("/sessions/:id/stories/:sid/similar", s.act("similar"))
	api.GET("/teams/:id", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		return gin.H{"team": t, "page_url": s.svc.TeamPageURL(t.ID), "team_url": s.svc.TeamLinkURL(t)}, nil
	}))
	api.PATCH("/teams/:id", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		var in session.TeamUpdate
		if err := decodeJSON(c, &in); err != nil {
			return nil, err
		}
		t, err := s.svc.UpdateTeam(c.Request.Context(), t, in)
		return gin.H{"team": t}, err
	}))
	api.POST("/teams/:id/link/rotate", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		url, err := s.svc.RotateTeamLink(c.Request.Context(), t)
		if err != nil {
			return nil, err
		}
		// The browser that replaced the link keeps its access.
		if _, cookie, err := s.svc.EnterTeam(c.Request.Context(), tokenOf(url)); err == nil {
			s.setTeamCookie(c, t.ID, cookie)
		}
		return gin.H{"team_url": url}, nil
	}))
	api.GET("/teams/:id/insight", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		return s.svc.TeamInsight(c.Request.Context(), t)
	}))
	api.GET("/teams/:id/export", s.teamExport)
}

// tokenOf is the token of a pre-signed URL ("…/enter?t=TOKEN").
func tokenOf(url string) string {
	_, tok, _ := strings.Cut(url, "?t=")
	return tok
}

func (s *Server) setTeamCookie(c *gin.Context, teamID, value string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: teamCookie(teamID), Value: value, Path: "/",
		MaxAge: int(teamCookieMaxAge / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// team checks the request's team cookie for the team in the path.
func (s *Server) team(c *gin.Context) (*session.Team, error) {
	id := c.Param("id")
	cookie, _ := c.Cookie(teamCookie(id))
	return s.svc.TeamAccess(c.Request.Context(), id, cookie)
}

// teamAPI wraps a team endpoint: access by the team cookie, the answer as JSON.
func (s *Server) teamAPI(f func(c *gin.Context, t *session.Team) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		t, err := s.team(c)
		if err != nil {
			writeError(c, err)
			return
		}
		out, err := f(c, t)
		if err != nil {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, out)
	}
}

// enterTeam redeems a team link: it sets the team cookie and redirects to the clean team page.
func (s *Server) enterTeam(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	t, cookie, err := s.svc.EnterTeam(c.Request.Context(), c.Query("t"))
	if err == nil && t.ID != c.Param("id") {
		err = session.ErrLinkInvalid
	}
	if err != nil {
		l := s.lang(c)
		c.Status(httpStatus[session.ErrorCode(err)])
		// The message of an error other than a bad signature is the domain's, in English.
		data := pageData{L: l, Title: l.T("team.link_broken.title"), Message: session.ErrorMessage(err), Hint: l.T("team.link_broken.hint")}
		if err == session.ErrLinkInvalid {
			data.Message = l.T("error.invalid.message")
		}
		s.page(c, "error.html", data)
		return
	}
	s.setTeamCookie(c, t.ID, cookie)
	c.Redirect(http.StatusSeeOther, "/t/"+t.ID)
}

// teamPage renders a team's history and insight, charts included, on the server, in the
// request's language.
func (s *Server) teamPage(c *gin.Context) {
	l := s.lang(c)
	t, err := s.team(c)
	if err != nil {
		c.Status(httpStatus[session.ErrorCode(err)])
		s.page(c, "error.html", pageData{L: l, Title: l.T("team.page_error.title"), Message: session.ErrorMessage(err),
			Hint: l.T("team.page_error.hint")})
		return
	}
	in, err := s.svc.TeamInsight(c.Request.Context(), t)
	if err != nil {
		writePageError(s, c, l, err)
		return
	}
	data := newTeamPage(l, in, s.svc.TeamLinkURL(t))
	s.page(c, "team.html", pageData{L: l, Title: t.Name, Team: &data})
}

func writePageError(s *Server, c *gin.Context, l *i18n.Catalog, err error) {
	if session.ErrorCode(err) == session.CodeInternal {
		slogFrom(c).Error("request failed", "path", c.Request.URL.Path, "err", err)
	}
	c.Status(httpStatus[session.ErrorCode(err)])
	s.page(c, "error.html", pageData{L: l, Title: l.T("team.page_error.failed"), Message: session.ErrorMessage(err)})
}

// teamExport downloads the team's insight: JSON (everything) or CSV (one row per estimated story).
func (s *Server) teamExport(c *gin.Context) {
	t, err := s.team(c)
	if err != nil {
		writeError(c, err)
		return
	}
	in, err := s.svc.TeamInsight(c.Request.Context(), t)
	if err != nil {
		writeError(c, err)
		return
	}
	name := "pokor-team-" + slug(t.Name)
	c.Header("Cache-Control", "no-store")
	switch c.DefaultQuery("format", "json") {
	case "json":
		c.Header("Content-Disposition", `attachment; filename="`+name+`.json"`)
		c.JSON(http.StatusOK, in)
	case "csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		if err := writeInsightCSV(c.Writer, in); err != nil {
			s.log.Error("writing the team's CSV export", "err", err)
		}
	default:
		writeError(c, &session.Error{Code: session.CodeInvalid, Field: "format", Message: "format must be csv or json"})
	}
}

// insightCSVHeader are the columns of the team's CSV export.
var insightCSVHeader = []string{"session", "sprint", "story", "key", "url", "estimate", "estimated_at", "rounds",
	"seconds_in_room", "votes", "consensus", "spread_steps", "cycle_hours", "spent_hours", "far_off"}

func writeInsightCSV(w http.ResponseWriter, in *session.Insight) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(insightCSVHeader); err != nil {
		return err
	}
	sprint := map[string]string{}
	for _, se := range in.Sessions {
		sprint[se.ID] = se.Sprint
	}
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', 2, 64)
	}
	for _, st := range in.Stories {
		at, cycle, spent := "", "", ""
		if st.EstimatedAt != nil {
			at = st.EstimatedAt.UTC().Format(time.RFC3339)
		}
		if st.Outcome != nil {
			cycle, spent = num(st.Outcome.CycleHours), num(st.Outcome.SpentHours)
		}
		row := []string{st.SessionTitle, sprint[st.SessionID], st.Title, st.Key, st.URL, st.Estimate, at,
			strconv.Itoa(st.Rounds), strconv.FormatFloat(st.Seconds, 'f', 0, 64), strconv.Itoa(st.Votes),
			strconv.FormatBool(st.Consensus), strconv.Itoa(st.Spread), cycle, spent, st.FarOff}
		for i, cell := range row {
			row[i] = guardFormula(cell)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// guardFormula keeps a spreadsheet from running a cell as a formula (CSV injection, OWASP):
// a cell starting with = + - @ or a tab or carriage return gets a leading single quote.
func guardFormula(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
