package webui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

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

// WriteCSV writes one row per story: estimate, rounds and the votes of the last revealed round.
func WriteCSV(w interface{ Write([]byte) (int, error) }, ex *session.Export) error {
	names := map[string]string{}
	for _, p := range ex.Participants {
		names[p.ID] = p.Name
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"key", "title", "description", "url", "estimate", "status", "rounds", "votes", "sync_state", "sync_error"}); err != nil {
		return err
	}
	for _, st := range ex.Stories {
		votes := ""
		for i := len(st.Rounds) - 1; i >= 0; i-- {
			if st.Rounds[i].Votes == nil {
				continue
			}
			parts := make([]string, 0, len(st.Rounds[i].Votes))
			for _, v := range st.Rounds[i].Votes {
				who := names[v.ParticipantID]
				if v.ParticipantID == "" {
					who = "anonymous"
				} else if who == "" {
					who = "(removed)"
				}
				part := who + "=" + v.Card
				if v.Confidence != "" {
					part += " (" + string(v.Confidence) + ")"
				}
				parts = append(parts, part)
			}
			votes = strings.Join(parts, "; ")
			break
		}
		row := []string{st.ExternalKey, st.Title, st.Description, st.URL, st.Estimate, string(st.Status), strconv.Itoa(len(st.Rounds)), votes, string(st.SyncState), st.SyncError}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell keeps spreadsheets from running a cell as a formula (CSV injection).
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
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
