package webui

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/integrations/csv"
	"github.com/pokor/pokor/session"
)

// export downloads the session as CSV (one row per story) or JSON (everything).
func (s *Server) export(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ex, err := s.svc.ExportSession(c.Request.Context(), a)
	if err != nil {
		writeError(c, err)
		return
	}
	name := "pokor-" + slug(ex.Session.Title)
	switch c.DefaultQuery("format", "json") {
	case "json":
		c.Header("Content-Disposition", `attachment; filename="`+name+`.json"`)
		c.JSON(http.StatusOK, ex)
	case "csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		if err := WriteCSV(c.Writer, ex); err != nil {
			s.log.Error("writing CSV export", "err", err)
		}
	default:
		writeError(c, &session.Error{Code: session.CodeInvalid, Field: "format", Message: "format must be csv or json"})
	}
}

// WriteCSV writes one row per story: key, title, description, link, final estimate, status,
// number of rounds, the votes of the last revealed round and the sync state. It is the one CSV
// writer of Pokor (integrations/csv.Write), shared by the room's download and `pokor export`, so
// an export can be imported into another session. Credentials are never part of an export.
func WriteCSV(w io.Writer, ex *session.Export) error {
	names := map[string]string{}
	for _, p := range ex.Participants {
		names[p.ID] = p.Name
	}
	rows := make([]csv.ExportStory, 0, len(ex.Stories))
	for _, st := range ex.Stories {
		row := csv.ExportStory{
			Key: st.ExternalKey, Title: st.Title, Description: st.Description, URL: st.URL, Estimate: st.Estimate,
			Status: string(st.Status), SyncState: string(st.SyncState), SyncError: st.SyncError,
			Rounds: make([]csv.ExportRound, 0, len(st.Rounds)),
		}
		for _, r := range st.Rounds {
			er := csv.ExportRound{Number: r.Number, Revealed: r.State == session.RoundRevealed}
			for _, v := range r.Votes {
				who := ""
				if v.ParticipantID != "" {
					if who = names[v.ParticipantID]; who == "" {
						who = "(removed)"
					}
				}
				er.Votes = append(er.Votes, csv.ExportVote{Participant: who, Card: v.Card, Confidence: string(v.Confidence), Rationale: v.Rationale})
			}
			row.Rounds = append(row.Rounds, er)
		}
		rows = append(rows, row)
	}
	return csv.Write(w, rows)
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return fmt.Sprint("session")
	}
	return out
}
