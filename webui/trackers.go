package webui

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
)

// importInput names what to import: a tracker and a query in its grammar.
type importInput struct {
	Source string `json:"source"`
	Query  string `json:"query"`
}

// connectionInput is a session's connection to a tracker as an organizer enters it. Empty
// credentials keep the stored ones, so options can change alone.
type connectionInput struct {
	Tracker     string              `json:"tracker"`
	Credentials session.Credentials `json:"credentials"`
	Options     map[string]string   `json:"options"`
}

// importStarted answers a started import; its progress arrives as "import" events.
type importStarted struct {
	State  string `json:"state"`
	Source string `json:"source"`
	Query  string `json:"query"`
}

var trackerActions = map[string]actionFunc{
	"import": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in importInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		if err := svc.StartImport(ctx, a, in.Source, in.Query); err != nil {
			return nil, err
		}
		return importStarted{State: "running", Source: in.Source, Query: strings.TrimSpace(in.Query)}, nil
	},
	"preview_import": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in importInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.PreviewImport(ctx, a, in.Source, in.Query)
	},
	"import_csv": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			CSV string `json:"csv"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.ImportFile(ctx, a, "csv", strings.NewReader(in.CSV))
	},
	"connections": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.Connections(ctx, a)
	},
	"set_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in connectionInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.SetConnection(ctx, a, in.Tracker, in.Credentials, in.Options)
	},
	"delete_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in connectionInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return nil, svc.DeleteConnection(ctx, a, in.Tracker)
	},
	"check_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Tracker string `json:"tracker"`
			// Target is what to test access to: a repository, a database, an issue or a project.
			Target string `json:"target"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.CheckConnection(ctx, a, in.Tracker, in.Target)
	},
	"retry_sync": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.RetryWriteBack(ctx, a, r.StoryID)
	},
}

// trackerRoutes mounts the import, connection and write-back endpoints (docs/api.md).
func (s *Server) trackerRoutes(api gin.IRouter) {
	api.POST("/sessions/:id/import", s.actAs("import", http.StatusAccepted))
	api.POST("/sessions/:id/import/preview", s.actAs("preview_import", http.StatusOK))
	api.POST("/sessions/:id/import/csv", s.actAs("import_csv", http.StatusOK))
	api.GET("/sessions/:id/connections", s.actAs("connections", http.StatusOK))
	api.PUT("/sessions/:id/connections/:tracker", s.actAs("set_connection", http.StatusOK))
	api.DELETE("/sessions/:id/connections/:tracker", s.actAs("delete_connection", http.StatusOK))
	api.POST("/sessions/:id/connections/:tracker/check", s.actAs("check_connection", http.StatusOK))
	api.POST("/sessions/:id/stories/:sid/retry-sync", s.actAs("retry_sync", http.StatusOK))
	api.GET("/trackers", s.trackers)
}

// trackers lists the trackers of this server as their descriptors say: name, label, query
// grammar, connection fields and options. The room's import dialog is built from the same list.
func (s *Server) trackers(c *gin.Context) {
	c.JSON(http.StatusOK, map[string]any{"trackers": s.svc.Trackers()})
}
