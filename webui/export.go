package webui

import (
	"fmt"
	"net/http"
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
		f, ok := s.svc.FileFormat("csv")
		if !ok || f.Write == nil {
			writeError(c, &session.Error{Code: session.CodeInvalid, Field: "format", Message: "this server does not export CSV"})
			return
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		if err := f.Write(c.Writer, ex); err != nil {
			s.log.Error("writing CSV export", "err", err)
		}
	default:
		writeError(c, &session.Error{Code: session.CodeInvalid, Field: "format", Message: "format must be csv or json"})
	}
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
